#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors opening or reading an input file.
public enum SourceError: Error, Equatable, CustomStringConvertible, Sendable {
    case cannotOpen(path: String, errno: Int32)
    case notRegularFile(path: String)
    case readFailed(path: String, offset: UInt64, wanted: Int, got: Int, errno: Int32)

    public var description: String {
        switch self {
        case let .cannotOpen(p, e): return "\(p): cannot open: \(String(cString: strerror(e)))"
        case let .notRegularFile(p): return "\(p): not a regular file"
        case let .readFailed(p, o, w, g, e):
            return "\(p): short read at offset \(hex(o)): wanted \(w) bytes, got \(g)" + (e != 0 ? " (\(String(cString: strerror(e))))" : " (file shrank?)")
        }
    }
}

/// Where image or initrd bytes come from: a file read with pread(2), or bytes in memory
/// (synthetic corpus images). Large payloads are copied straight into guest memory.
public protocol ByteSource: Sendable {
    var name: String { get }
    var size: UInt64 { get }
    /// Reads [offset, offset+count); the caller has bounds-checked against `size`.
    func read(at offset: UInt64, count: Int) throws(SourceError) -> [UInt8]
    /// Copies [offset, offset+count) to `destination`.
    func copy(at offset: UInt64, count: Int, into destination: UnsafeMutableRawPointer) throws(SourceError)
}

public struct MemorySource: ByteSource {
    public let name: String
    public let bytes: [UInt8]
    public init(name: String, bytes: [UInt8]) { self.name = name; self.bytes = bytes }
    public var size: UInt64 { UInt64(bytes.count) }
    public func read(at offset: UInt64, count: Int) throws(SourceError) -> [UInt8] {
        guard offset <= size, UInt64(count) <= size - offset else {
            throw .readFailed(path: name, offset: offset, wanted: count, got: 0, errno: 0)
        }
        return Array(bytes[Int(offset)..<Int(offset) + count])
    }
    public func copy(at offset: UInt64, count: Int, into destination: UnsafeMutableRawPointer) throws(SourceError) {
        guard offset <= size, UInt64(count) <= size - offset else {
            throw .readFailed(path: name, offset: offset, wanted: count, got: 0, errno: 0)
        }
        bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + Int(offset), byteCount: count) }
    }
}

/// A file opened read-only. The descriptor is closed when the last copy goes away.
public final class FileSource: ByteSource, @unchecked Sendable {
    // @unchecked: fd is immutable after init; pread is safe to call concurrently.
    public let name: String
    public let size: UInt64
    private let fd: Int32

    public init(path: String) throws(SourceError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd); throw .notRegularFile(path: path)
        }
        self.fd = fd; self.name = path; self.size = UInt64(st.st_size)
    }
    deinit { close(fd) }

    public func read(at offset: UInt64, count: Int) throws(SourceError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return out }
        var failure: SourceError? = nil
        out.withUnsafeMutableBytes { b in
            do throws(SourceError) { try copy(at: offset, count: count, into: b.baseAddress!) } catch { failure = error }
        }
        if let failure { throw failure }
        return out
    }

    public func copy(at offset: UInt64, count: Int, into destination: UnsafeMutableRawPointer) throws(SourceError) {
        var done = 0
        while done < count {
            let n = pread(fd, destination + done, min(count - done, 1 << 30), off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; throw .readFailed(path: name, offset: offset, wanted: count, got: done, errno: errno) }
            if n == 0 { throw .readFailed(path: name, offset: offset, wanted: count, got: done, errno: 0) }
            done += n
        }
    }
}
