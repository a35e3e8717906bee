/// Errors building a kernel command line (BP-27).
public enum CommandLineError: Error, Equatable, Sendable, CustomStringConvertible {
    case containsNUL(position: Int)
    case tooLong(length: Int, limit: UInt32, field: String)
    case notASCIIPrintable(position: Int, byte: UInt8)

    public var description: String {
        switch self {
        case let .containsNUL(p): return "BP-27: command line has a NUL byte at position \(p); the kernel would cut it there"
        case let .tooLong(l, lim, f): return "BP-27: command line is \(l) bytes; the kernel accepts at most \(lim) (\(f)) excluding the NUL"
        case let .notASCIIPrintable(p, b): return "BP-27: command line byte \(hex(b)) at position \(p) is a control character"
        }
    }
}

/// A validated kernel command line: the bytes the loader writes, NUL included.
public struct KernelCommandLine: Sendable, Equatable {
    /// The command line without its terminating NUL.
    public let text: [UInt8]
    /// The bytes placed in guest memory: text plus the NUL.
    public var terminated: [UInt8] { text + [0] }

    /// Validates `string` against `limit` (cmdline_size, or 255 before protocol 2.06). Nothing
    /// is truncated: an overlong line is an error, so what the user gave is never silently cut.
    public init(_ string: String, limit: UInt32, limitField: String = "cmdline_size") throws(CommandLineError) {
        let bytes = Array(string.utf8)
        if let i = bytes.firstIndex(of: 0) { throw .containsNUL(position: i) }
        if let i = bytes.firstIndex(where: { $0 < 0x20 && $0 != 0x09 }) { throw .notASCIIPrintable(position: i, byte: bytes[i]) }
        guard UInt64(bytes.count) <= UInt64(limit) else { throw .tooLong(length: bytes.count, limit: limit, field: limitField) }
        text = bytes
    }
}
