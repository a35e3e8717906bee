/// A verdict's outcome. `warn`: the obligation is met, but in a way the spec advises against
/// (a de facto recommendation, such as BP-35's sorted e820); it is not a failure.
public enum Outcome: String, Sendable, Hashable, Comparable {
    case pass, fail, warn
    case notApplicable = "n/a"
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    var rank: Int { switch self { case .fail: 0; case .warn: 1; case .pass: 2; case .notApplicable: 3 } }
}

/// One rule's judgement of one snapshot, with the evidence (addresses, values) behind it.
public struct Verdict: Sendable, Hashable, CustomStringConvertible {
    public let rule: RuleID
    public let outcome: Outcome
    public let evidence: String
    public init(rule: RuleID, outcome: Outcome, evidence: String) { self.rule = rule; self.outcome = outcome; self.evidence = evidence }
    public var description: String { "\(rule) \(outcome.rawValue): \(evidence)" }
}

/// What a rule's check returns.
public struct Judgement: Sendable {
    public let outcome: Outcome
    public let evidence: String
    public static func pass(_ e: String) -> Judgement { Judgement(outcome: .pass, evidence: e) }
    public static func fail(_ e: String) -> Judgement { Judgement(outcome: .fail, evidence: e) }
    public static func na(_ e: String) -> Judgement { Judgement(outcome: .notApplicable, evidence: e) }
    /// Met, but against the spec's advice; the evidence starts "warning: ".
    public static func warn(_ e: String) -> Judgement { Judgement(outcome: .warn, evidence: "warning: " + e) }
    /// Fails with every broken condition listed; passes with `ok`.
    public static func check(_ conditions: [(Bool, String)], ok: String) -> Judgement {
        let broken = conditions.filter { !$0.0 }.map(\.1)
        return broken.isEmpty ? .pass(ok) : .fail(broken.joined(separator: "; "))
    }
}

/// A loader obligation of the boot protocol, as a checkable value.
public struct Rule: Sendable, Identifiable {
    /// "BP-12", as in `shared/spec/x86-boot-protocol.md`.
    public let id: RuleID
    public let title: String
    /// The obligation in our words.
    public let statement: String
    /// Where the spec digest states it (section and sources).
    public let reference: String
    /// The entry points this rule applies to (RuleEntries); on any other entry it is n/a.
    public let entries: Set<EntryPoint>
    /// The image formats and protocol versions it applies to (RuleScope); on any other image it
    /// is n/a.
    public let scope: RuleScope
    let check: @Sendable (RuleContext) -> Judgement
    /// "applies to the 32 and 64 entries", made once: every n/a-by-entry verdict says it.
    let appliesTo: String

    public init(_ id: RuleID, _ title: String, reference: String, statement: String, check: @escaping @Sendable (RuleContext) -> Judgement) {
        self.id = id; self.title = title; self.reference = reference; self.statement = statement; self.check = check
        self.entries = RuleEntries.of(id)
        self.scope = RuleScope.of(id)
        self.appliesTo = "applies to the \(RuleEntries.list(entries)) \(entries.count == 1 ? "entry" : "entries")"
    }

    public func judge(_ c: RuleContext) -> Verdict {
        guard entries.contains(c.entryPoint) else {
            let why = RuleEntries.reason(id, at: c.entryPoint) ?? "\(appliesTo); this boot entered at \(c.entryPoint.rawValue)"
            return Verdict(rule: id, outcome: .notApplicable, evidence: why)
        }
        if let why = scope.exclusion(format: c.s.image.format, version: ProtocolVersion(rawValue: c.version)) {
            return Verdict(rule: id, outcome: .notApplicable, evidence: why)
        }
        let j = check(c)
        return Verdict(rule: id, outcome: j.outcome, evidence: j.evidence)
    }
}

/// Judges a snapshot by every rule of the catalogue.
public func judge(_ snapshot: BootSnapshot, rules: [Rule] = RuleCatalogue.all) -> [Verdict] {
    let c = RuleContext(snapshot)
    return rules.map { $0.judge(c) }
}
