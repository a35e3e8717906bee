import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors from guest-memory access. Each names the guest range that was asked for.
public enum GuestMemoryError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No RAM slot holds the whole range.
    case outsideRAM(address: UInt64, length: UInt64, what: String)
    /// The requested guest size cannot be reserved on this host.
    case reservationFailed(size: UInt64, errno: Int32)
    case badSize(UInt64, reason: String)

    public var description: String {
        switch self {
        case let .outsideRAM(a, l, what):
            return "\(what): guest range [\(hex(a)), +\(hex(l))) is not inside guest RAM"
        case let .reservationFailed(s, e):
            return "cannot reserve \(hex(s)) bytes of guest memory: \(String(cString: strerror(e))) (errno \(e))"
        case let .badSize(s, r):
            return "guest memory size \(hex(s)): \(r)"
        }
    }
}

/// Read-only view of guest memory, so the rules judge our loader's memory and memory captured
/// from someone else's guest (a probe report, a snapshot file) the same way.
public protocol GuestMemoryReading: Sendable {
    /// The bytes of [address, address+count), or nil where the view does not hold them all.
    func bytes(at address: UInt64, count: Int) -> [UInt8]?
    /// SHA-256 of [address, address+length), or nil where the view does not hold it.
    func sha256(at address: UInt64, length: UInt64) -> String?
    /// True when every byte of the range is zero; nil when not held.
    func isZero(at address: UInt64, length: UInt64) -> Bool?
    /// True when the view holds only what someone reported (a probe's pieces, a snapshot
    /// file): a range it lacks was not seen, which says nothing about the guest.
    var isPartialView: Bool { get }
    /// The guest-physical ranges memory actually backs (the RAM slots a VMM registers), or nil
    /// where the view does not know them: a probe's report or a snapshot file holds what was
    /// read, not what the guest was given (BP-92).
    var backedRanges: [AddressRange]? { get }
}

extension GuestMemoryReading {
    public var isPartialView: Bool { false }
    public var backedRanges: [AddressRange]? { nil }
}

/// Guest physical memory: one anonymous, lazily committed mapping per RAM slot.
///
/// A slot reserves address space only; the host commits a page when it is first written, so a
/// 64 GiB guest with a kernel and an initrd costs what those bytes cost. Every access is
/// bounds-checked against the slots; nothing reads or writes outside them.
public final class GuestMemory: GuestMemoryReading, @unchecked Sendable {
    // @unchecked: the mappings are owned by this object and freed in deinit. Writers are the
    // loader, single-threaded while it builds; readers only read.
    public struct Slot: @unchecked Sendable {
        // @unchecked: `host` points into a mapping owned by the enclosing GuestMemory.
        public let range: AddressRange
        public let host: UnsafeMutableRawPointer
        public var guestBase: UInt64 { range.start }
        public var size: UInt64 { range.length }
    }

    public let slots: [Slot]
    /// Total RAM bytes across the slots.
    public var ramSize: UInt64 { slots.reduce(0) { $0 + $1.size } }

    /// The largest guest this tool will reserve: 1 TiB of address space.
    public static let maximumSize: UInt64 = 1 << 40 // 1 TiB

    /// Reserves the given guest-physical RAM ranges (page-aligned, non-overlapping).
    public init(ranges: [AddressRange]) throws(GuestMemoryError) {
        var made: [Slot] = []
        for r in ranges.sorted() where !r.isEmpty {
            guard r.start % 4096 == 0, r.length % 4096 == 0 else {
                throw .badSize(r.length, reason: "slot \(r) is not page-aligned")
            }
            if let last = made.last, last.range.overlaps(r) { throw .badSize(r.length, reason: "slot \(r) overlaps \(last.range)") }
            let p = mmap(nil, Int(r.length), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            guard let p, p != MAP_FAILED else {
                let e = errno
                for s in made { munmap(s.host, Int(s.size)) }
                throw .reservationFailed(size: r.length, errno: e)
            }
            made.append(Slot(range: r, host: p))
        }
        slots = made
    }

    deinit { for s in slots { munmap(s.host, Int(s.size)) } }

    /// The host pointer for [address, address+length), which must lie within one slot.
    public func hostPointer(_ address: UInt64, length: UInt64, what: String = "access") throws(GuestMemoryError) -> UnsafeMutableRawPointer {
        guard let r = AddressRange.make(address, length: length) else {
            throw .outsideRAM(address: address, length: length, what: what)
        }
        for s in slots where s.range.contains(r) {
            return s.host + Int(address - s.guestBase)
        }
        throw .outsideRAM(address: address, length: length, what: what)
    }

    public func contains(_ r: AddressRange) -> Bool { slots.contains { $0.range.contains(r) } }

    public var backedRanges: [AddressRange]? { slots.map(\.range) }

    public func write(_ data: [UInt8], at address: UInt64, what: String = "write") throws(GuestMemoryError) {
        guard !data.isEmpty else { return }
        let p = try hostPointer(address, length: UInt64(data.count), what: what)
        data.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    public func bytes(at address: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0 else { return nil }
        if count == 0 { return [] }
        guard let p = try? hostPointer(address, length: UInt64(count)) else { return nil }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: count))
    }

    public func sha256(at address: UInt64, length: UInt64) -> String? {
        guard let p = try? hostPointer(address, length: length) else { return nil }
        var h = RegionHasher()
        var off: UInt64 = 0
        while off < length {   // chunks keep Int conversions small on huge regions
            let n = min(length - off, 1 << 30)
            h.update(UnsafeRawBufferPointer(start: p + Int(off), count: Int(n)))
            off += n
        }
        return h.finalizeHex()
    }

    public func isZero(at address: UInt64, length: UInt64) -> Bool? {
        guard let p = try? hostPointer(address, length: length) else { return nil }
        // Compared with a zero page by memcmp, a page at a time: an ELF's BSS can be most of
        // the guest, and a byte-by-byte scan of it cost more than the whole load.
        return ZeroBytes.page.withUnsafeBytes { zero in
            var off = 0, n = Int(length)
            while off < n {
                let k = min(n - off, zero.count)
                if memcmp(p + off, zero.baseAddress!, k) != 0 { return false }
                off += k
            }
            return true
        }
    }

    /// Fills every byte of RAM outside `keep` with the little-endian 8-byte `pattern` (the
    /// pattern is laid from address 0, so a byte's value depends only on its address). This is
    /// memory a loader did not write: a kernel must not assume it is zero.
    ///
    /// Whole 2 MiB chunks are not written: a private mapping of one 2 MiB chunk of the pattern
    /// (an unlinked file in /dev/shm) is placed over each, so a guest reads the pattern and its
    /// writes go to private copies; only the pages it touches cost host memory. A 1 GiB guest
    /// is poisoned in about a millisecond, and an 8 GiB one costs no 8 GiB. The partial chunks
    /// at the ends of each range are written byte by byte, as are all of them when no chunk
    /// file can be made.
    public func poison(pattern: UInt64, keep: [AddressRange]) {
        let kept = keep.filter { !$0.isEmpty }.sorted()
        let chunkFile = PoisonChunk.file(pattern: pattern)
        for s in slots {
            var at = s.range.start
            for k in kept where k.end > at && k.start < s.range.end {
                if let gap = try? AddressRange(start: at, end: k.start), !gap.isEmpty { poison(s, gap, pattern, chunkFile) }
                at = max(at, k.end)
            }
            if let rest = try? AddressRange(start: at, end: s.range.end), !rest.isEmpty { poison(s, rest, pattern, chunkFile) }
        }
    }

    private func poison(_ s: Slot, _ r: AddressRange, _ pattern: UInt64, _ chunkFile: Int32?) {
        let size = PoisonChunk.size
        guard let fd = chunkFile, let first = r.start.alignedUp(size), first < r.end, r.end - first >= size,
              let head = try? AddressRange(start: r.start, end: first), let tail = try? AddressRange(start: r.end & ~(size - 1), end: r.end) else { fill(s, r, pattern); return }
        let last = tail.start
        fill(s, head, pattern)
        var a = first
        while a < last {
            let host = s.host + Int(a - s.guestBase)
            if mmap(host, Int(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED, let chunk = AddressRange.make(a, length: size) { fill(s, chunk, pattern) }
            a += size
        }
        fill(s, tail, pattern)
    }

    private func fill(_ s: Slot, _ r: AddressRange, _ pattern: UInt64) {
        guard !r.isEmpty else { return }
        let base = s.host + Int(r.start - s.guestBase)
        var a = r.start
        // Unaligned head and tail byte by byte; the aligned middle a word at a time.
        while a < r.end && a & 7 != 0 { base.storeBytes(of: UInt8(truncatingIfNeeded: pattern >> (8 * (a & 7))), toByteOffset: Int(a - r.start), as: UInt8.self); a += 1 }
        let words = Int((r.end - a) / 8)
        if words > 0 {
            (base + Int(a - r.start)).bindMemory(to: UInt64.self, capacity: words).update(repeating: pattern.littleEndian, count: words)
            a += UInt64(words) * 8
        }
        while a < r.end { base.storeBytes(of: UInt8(truncatingIfNeeded: pattern >> (8 * (a & 7))), toByteOffset: Int(a - r.start), as: UInt8.self); a += 1 }
    }

    /// Host bytes actually committed for the guest (pages resident), measured with mincore(2).
    public func residentBytes() -> UInt64 {
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        var total: UInt64 = 0
        for s in slots {
            let pages = Int((s.size + page - 1) / page)
            var vec = [UInt8](repeating: 0, count: pages)
            if mincore(s.host, Int(s.size), &vec) == 0 {
                total += UInt64(vec.reduce(0) { $0 + Int($1 & 1) }) * page
            }
        }
        return total
    }
}

/// Memory held as separate captured ranges: a probe's report, or regions read back from a
/// snapshot file. Judged by the same rules as `GuestMemory`.
public struct CapturedMemory: GuestMemoryReading {
    public var pieces: [(start: UInt64, bytes: [UInt8])]
    /// Hashes known for ranges whose bytes were not captured (a snapshot file keeps only hashes).
    public var hashes: [AddressRange: String]
    /// The RAM the guest was given, where whoever captured the pieces knows it (the VMM that
    /// ran the probe); nil otherwise.
    public var backedRanges: [AddressRange]?
    public init(pieces: [(start: UInt64, bytes: [UInt8])] = [], hashes: [AddressRange: String] = [:], backed: [AddressRange]? = nil) {
        self.pieces = pieces; self.hashes = hashes; self.backedRanges = backed
    }
    public var isPartialView: Bool { true }
    public func bytes(at address: UInt64, count: Int) -> [UInt8]? {
        for p in pieces {
            guard address >= p.start else { continue }
            let off = address - p.start
            if off <= UInt64(p.bytes.count), UInt64(count) <= UInt64(p.bytes.count) - off {
                return Array(p.bytes[Int(off)..<Int(off) + count])
            }
        }
        return nil
    }
    public func sha256(at address: UInt64, length: UInt64) -> String? {
        if let r = AddressRange.make(address, length: length), let h = hashes[r] { return h }
        guard length <= UInt64(Int.max), let b = bytes(at: address, count: Int(length)) else { return nil }
        return sha256Hex(b)
    }
    public func isZero(at address: UInt64, length: UInt64) -> Bool? {
        guard length <= UInt64(Int.max), let b = bytes(at: address, count: Int(length)) else { return nil }
        return !b.contains { $0 != 0 }
    }
}

/// 4 KiB of zero bytes to compare guest memory with (GuestMemory.isZero; not the boot zero page).
enum ZeroBytes {
    static let page = [UInt8](repeating: 0, count: 4096)
}

/// One 2 MiB chunk of a poison pattern in an unlinked tmpfs file, made once per pattern and
/// kept open for the life of the process (GuestMemory.poison maps it privately).
enum PoisonChunk {
    static let size: UInt64 = 2 << 20
    nonisolated(unsafe) private static var files: [UInt64: Int32] = [:]
    private static let lock = NSLock()

    static func file(pattern: UInt64) -> Int32? {
        lock.lock(); defer { lock.unlock() }
        if let fd = files[pattern] { return fd }
        var name = Array("/dev/shm/conform-poison-XXXXXX".utf8CString)
        let fd = name.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { return nil }
        name.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let words = [UInt64](repeating: pattern.littleEndian, count: Int(size / 8))
        let wrote = words.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard wrote == Int(size) else { close(fd); return nil }
        files[pattern] = fd
        return fd
    }
}
