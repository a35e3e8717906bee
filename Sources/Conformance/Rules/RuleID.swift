/// A rule of the spec digest (`shared/spec/x86-boot-protocol.md`, BP-01…BP-77) or of the EFI
/// entries (docs/EFI.md, BP-80…BP-91): "BP-27".
///
/// An open set of raw values, so an id the catalogue does not know (a manifest's typo, a
/// newer report) stays representable and can be named in an error. Codable and printed as its
/// string, so JSON and text keep the "BP-27" form; string literals write one directly.
public struct RuleID: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    /// "BP-27" for 27.
    public init(number: Int) { rawValue = "BP-" + (number < 10 ? "0" : "") + String(number) }
    public var description: String { rawValue }
    /// 27 for "BP-27"; nil for anything not of the form BP-nn.
    public var number: Int? { rawValue.hasPrefix("BP-") ? Int(rawValue.dropFirst(3)) : nil }
    /// Catalogue order: by number, then by spelling.
    public static func < (a: Self, b: Self) -> Bool { (a.number ?? .max, a.rawValue) < (b.number ?? .max, b.rawValue) }
}
