/// A rule of the spec digest (`shared/spec/x86-boot-protocol.md`, BP-01…BP-77), of the EFI
/// entries (docs/EFI.md, BP-80…BP-91), or of the arm64 and riscv64 Image boot protocols
/// (docs/IMAGE-RULES.md, A64-nn and RV-nn): "BP-27", "A64-05", "RV-10".
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
    public init(number: Int) { self.init(family: .x86, number: number) }
    /// "A64-05" for (.arm64, 5): the number written with at least two digits.
    public init(family: Family, number: Int) { rawValue = family.rawValue + "-" + (number < 10 ? "0" : "") + String(number) }
    public var description: String { rawValue }

    /// The id families, in catalogue order: x86 (BP), arm64 (A64), riscv64 (RV).
    public enum Family: String, Sendable, CaseIterable {
        case x86 = "BP", arm64 = "A64", riscv64 = "RV"
    }
    /// The family of an id of the form FAMILY-nn; nil for anything else.
    public var family: Family? {
        Family.allCases.first { rawValue.hasPrefix($0.rawValue + "-") && Int(rawValue.dropFirst($0.rawValue.count + 1)) != nil }
    }
    /// 27 for "BP-27"; nil for anything not of the form BP-nn (the x86 catalogue's ids).
    public var number: Int? { family == .x86 ? familyNumber : nil }
    /// 5 for "A64-05", "RV-05" or "BP-05"; nil for anything not of the form FAMILY-nn.
    public var familyNumber: Int? { family.flatMap { Int(rawValue.dropFirst($0.rawValue.count + 1)) } }
    /// Catalogue order: by family (BP, A64, RV), by number within it, then by spelling.
    public static func < (a: Self, b: Self) -> Bool { (a.familyRank, a.familyNumber ?? .max, a.rawValue) < (b.familyRank, b.familyNumber ?? .max, b.rawValue) }
    private var familyRank: Int { family.flatMap { Family.allCases.firstIndex(of: $0) } ?? Family.allCases.count }
}
