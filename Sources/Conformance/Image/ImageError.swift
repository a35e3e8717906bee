/// Why an image was rejected: the field, its byte offset in the file, what was expected, what
/// was found, and the rule of `shared/spec/x86-boot-protocol.md` it breaks.
public struct ImageError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rule: RuleID
    public let field: String
    public let offset: UInt64
    public let expected: String
    public let found: String

    public init(rule: RuleID, field: String, offset: UInt64, expected: String, found: String) {
        self.rule = rule; self.field = field; self.offset = offset; self.expected = expected; self.found = found
    }
    public var description: String {
        "\(rule): \(field) at offset \(hex(offset)): expected \(expected), found \(found)"
    }
}

/// A warning the parser or loader wants a user to see (never silently dropped).
public struct Warning: Equatable, Hashable, Sendable, CustomStringConvertible, Codable {
    public let rule: RuleID
    public let message: String
    public init(rule: RuleID, message: String) { self.rule = rule; self.message = message }
    public var description: String { "warning \(rule): \(message)" }
}
