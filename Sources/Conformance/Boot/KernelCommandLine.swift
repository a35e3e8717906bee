/// Errors building a kernel command line (BP-27), typed like `PlacementError`: the field that
/// decides it, that field's offset in the image file when it is a header field, what BP-27
/// asks for and what the line holds.
public enum CommandLineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A NUL at byte `position` of the line.
    case containsNUL(position: Int)
    /// `length` bytes against `limit`, which `source` sets: a header field at `offset` in the
    /// image file (cmdline_size at 0x238), or, with no offset, the protocol ("255 before
    /// protocol 2.06") or the kernel ("COMMAND_LINE_SIZE − 1").
    case tooLong(length: Int, limit: UInt32, source: String, offset: UInt64? = nil)
    /// A control character `byte` at byte `position` of the line.
    case notASCIIPrintable(position: Int, byte: UInt8)

    public var rule: RuleID { "BP-27" }
    /// The field the refusal names: the header field that sets the limit when there is one,
    /// else the command line itself (with the byte at fault in `position`).
    public var field: String {
        if case let .tooLong(_, _, f, o) = self, o != nil { return f }
        return "command line"
    }
    /// The limit field's offset in the image file; nil for a limit that is not a header field
    /// and for the line's own bytes.
    public var offset: UInt64? {
        if case let .tooLong(_, _, _, o) = self { return o }
        return nil
    }
    /// The byte of the command line at fault; nil for a line that is only too long.
    public var position: Int? {
        switch self {
        case let .containsNUL(p), let .notASCIIPrintable(p, _): p
        case .tooLong: nil
        }
    }
    public var expected: String {
        switch self {
        case let .tooLong(_, lim, f, o): "at most \(lim) bytes excluding the NUL" + (o == nil ? " (\(f))" : "")
        case .containsNUL: "no NUL inside the line (the kernel would cut it there)"
        case .notASCIIPrintable: "printable bytes (tab allowed), no control characters"
        }
    }
    public var found: String {
        switch self {
        case let .tooLong(l, _, _, _): "\(l) bytes"
        case let .containsNUL(p): "NUL at byte \(p)"
        case let .notASCIIPrintable(p, b): "\(hex(b)) at byte \(p)"
        }
    }
    public var description: String {
        "\(rule): \(field)\(offset.map { " at offset \(hex($0))" } ?? ""): expected \(expected), found \(found)"
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
    public init(_ string: String, limit: UInt32, limitField: String = "cmdline_size", limitOffset: UInt64? = nil) throws(CommandLineError) {
        let bytes = Array(string.utf8)
        if let i = bytes.firstIndex(of: 0) { throw .containsNUL(position: i) }
        if let i = bytes.firstIndex(where: { $0 < 0x20 && $0 != 0x09 }) { throw .notASCIIPrintable(position: i, byte: bytes[i]) }
        guard UInt64(bytes.count) <= UInt64(limit) else { throw .tooLong(length: bytes.count, limit: limit, source: limitField, offset: limitOffset) }
        text = bytes
    }
}
