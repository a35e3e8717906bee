/// Why the loader could not place something, or enter the way it was asked: the rule of
/// `shared/spec/x86-boot-protocol.md` it would break, the header field or option that decides
/// it, that field's byte offset in the image file when it is a header field, what the rule
/// asks for and what was found (the pattern of `ImageError`).
public struct PlacementError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rule: RuleID
    public let field: String
    /// The field's offset in the image file; nil for a load option or a guest range.
    public let offset: UInt64?
    public let expected: String
    public let found: String

    public init(rule: RuleID, field: String, offset: UInt64? = nil, expected: String, found: String) {
        self.rule = rule; self.field = field; self.offset = offset; self.expected = expected; self.found = found
    }
    public var description: String {
        "\(rule): \(field)\(offset.map { " at offset \(hex($0))" } ?? ""): expected \(expected), found \(found)"
    }
}

/// Why the loader refused. Wraps the lower layer's error. Every refusal of the image or of
/// the load asked for names its rule (`rule`); only a host that cannot read the file
/// (`source`) or reserve the guest memory asked for (`memory`) is no rule's business.
public enum LoadError: Error, Equatable, Sendable, CustomStringConvertible {
    case image(ImageError)
    case placement(PlacementError)
    /// BP-27: the command line cannot be passed as given.
    case commandLine(CommandLineError)
    case source(SourceError)
    case memory(GuestMemoryError)

    /// A placement or entry obligation that cannot be met.
    static func refuse(_ rule: RuleID, _ field: String, offset: UInt64? = nil, expected: String, found: String) -> LoadError {
        .placement(PlacementError(rule: rule, field: field, offset: offset, expected: expected, found: found))
    }

    /// The rule the refusal names; nil only for `source` and `memory`.
    public var rule: RuleID? {
        switch self {
        case .image(let e): e.rule
        case .placement(let e): e.rule
        case .commandLine(let e): e.rule
        case .source, .memory: nil
        }
    }
    /// The field (or option) the refusal names, and its offset in the image file when it has one.
    public var field: (name: String, offset: UInt64?)? {
        switch self {
        case .image(let e): (e.field, e.offset)
        case .placement(let e): (e.field, e.offset)
        case .commandLine(let e): (e.field, e.offset)
        case .source, .memory: nil
        }
    }
    public var description: String {
        switch self {
        case .image(let e): e.description
        case .placement(let e): e.description
        case .commandLine(let e): e.description
        case .source(let e): e.description
        case .memory(let e): e.description
        }
    }
}
