/// A loader obligation of the arm64 or riscv64 boot protocol (A64-nn, RV-nn), as a checkable
/// value judged on an `ImageBootSnapshot`. The x86 `Rule` judges a `BootSnapshot`; both give
/// `Verdict`s of the same form.
public struct ImageRule: Sendable, Identifiable {
    public let id: RuleID
    public let title: String
    /// The obligation in our words.
    public let statement: String
    /// The document and section that state it (booting.rst, boot.rst, boot-image-header.rst
    /// from Debian's linux-source-6.12, or the Devicetree Specification v0.4).
    public let reference: String
    let check: @Sendable (ImageRuleContext) -> Judgement

    public init(_ id: RuleID, _ title: String, reference: String, statement: String, check: @escaping @Sendable (ImageRuleContext) -> Judgement) {
        self.id = id; self.title = title; self.reference = reference; self.statement = statement; self.check = check
    }

    /// arm64 for A64-nn, riscv64 for RV-nn.
    public var architecture: ImageBootSnapshot.Architecture { id.family == .riscv64 ? .riscv64 : .arm64 }

    public func judge(_ c: ImageRuleContext) -> Verdict {
        guard c.s.architecture == architecture else {
            return Verdict(rule: id, outcome: .notApplicable, evidence: "applies to \(architecture) Images; this is \(c.s.architecture)")
        }
        let j = check(c)
        return Verdict(rule: id, outcome: j.outcome, evidence: j.evidence)
    }
}

/// Every arm64 (A64-01…A64-19) and riscv64 (RV-01…RV-14) rule, in id order
/// (docs/IMAGE-RULES.md lists them with their sources).
public enum ImageRuleCatalogue {
    public static let all: [ImageRule] = (arm64 + riscv64).sorted { $0.id < $1.id }
    public static func rules(for a: ImageBootSnapshot.Architecture) -> [ImageRule] { all.filter { $0.architecture == a } }
    public static func rule(_ id: RuleID) -> ImageRule? { all.first { $0.id == id } }
}

/// Judges an Image snapshot by the rules of its architecture (or by `rules`).
public func judge(_ snapshot: ImageBootSnapshot, rules: [ImageRule]? = nil) -> [Verdict] {
    let c = ImageRuleContext(snapshot)
    return (rules ?? ImageRuleCatalogue.rules(for: snapshot.architecture)).map { $0.judge(c) }
}
