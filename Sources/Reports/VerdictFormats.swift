import Conformance
import Foundation
import Runners

/// "N pass, N warn, N fail (K of them known LOADER deviations), N n/a".
public func verdictSummary(_ v: [Verdict], loader: String?, explained: Int) -> String {
    let f = v.filter { $0.outcome == .fail }.count
    return "\(v.filter { $0.outcome == .pass }.count) pass, \(v.filter { $0.outcome == .warn }.count) warn, \(f) fail\(loader == nil || f == 0 ? "" : " (\(explained) of them known \(loader!) deviations)"), \(v.filter { $0.outcome == .notApplicable }.count) n/a"
}

/// "pass 45: BP-01 BP-02 …" lines, one per outcome, then each failure and warning with its
/// evidence (every verdict with `showAll`). A failure in `expectedFailures` is marked expected.
public func verdictLines(_ verdicts: [Verdict], indent: String = "  ", showAll: Bool = false, expectedFailures: Set<RuleID> = []) -> [String] {
    var out: [String] = []
    for o in [Outcome.pass, .warn, .fail, .notApplicable] {
        let ids = verdicts.filter { $0.outcome == o }.map(\.rule.rawValue)
        if !ids.isEmpty { out.append("\(indent)\(o.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)) \(String(ids.count).leftPad(2)): \(ids.joined(separator: " "))") }
    }
    for v in verdicts where v.outcome == .fail || v.outcome == .warn || showAll {
        let title = ruleTitle(v.rule)
        let mark = v.outcome == .fail ? (expectedFailures.contains(v.rule) ? "✗ (expected)" : "✗") : v.outcome == .pass ? "✓" : v.outcome == .warn ? "!" : "-"
        out.append("\(indent)  \(mark) \(v.rule) \(title): \(v.evidence)")
    }
    return out
}

/// A rule's title from whichever catalogue holds it (BP-nn: `RuleCatalogue`; A64-nn, RV-nn:
/// `ImageRuleCatalogue`), or "" for an id neither knows.
public func ruleTitle(_ id: RuleID) -> String { RuleCatalogue.rule(id)?.title ?? ImageRuleCatalogue.rule(id)?.title ?? "" }

/// Verdicts as JSON: [{rule, outcome, evidence}].
public func verdictJSON(_ v: [Verdict]) -> [[String: String]] { v.map { ["rule": $0.rule.rawValue, "outcome": $0.outcome.rawValue, "evidence": $0.evidence] } }

/// Where the reference loader put things, as hex strings by name.
public func placementJSON(_ r: LoadResult) -> [String: String] {
    var p = ["kernel": hex(r.kernelAddress), "entry": "\(r.entry.entryPoint.rawValue)@\(hex(r.entry.rip))", "cmdline": hex(r.commandLine.address), "window": r.kernelWindow.description]
    if let b = r.bootParams { p["zeroPage"] = hex(b) }
    if let s = r.startInfo { p["startInfo"] = hex(s) }
    if let i = r.initrd { p["initrd"] = i.description }
    return p
}

/// A real kernel's boot to userspace as JSON.
public func bootResultJSON(_ r: KernelBootResult) -> [String: Any] {
    var d: [String: Any] = ["path": r.path.rawValue, "passed": r.passed, "outcome": r.outcome, "elapsedSeconds": r.elapsed.seconds]
    if let t = r.toMarker { d["toMarkerSeconds"] = t.seconds }
    if let e = r.reportError { d["reportError"] = e }
    if let k = r.report { d["kernelRelease"] = k.release }
    d["checks"] = r.checks.map { c -> [String: Any] in
        ["kind": c.kind.rawValue, "field": c.field, "expected": c.expected, "found": c.found, "outcome": c.outcome.rawValue, "note": c.note, "rule": c.rule?.rawValue ?? ""]
    }
    return d
}

/// One row of the loader differential as JSON.
public func differentialRowJSON(_ r: DifferentialRow) -> [String: Any] {
    ["field": r.field, "rule": r.rule?.rawValue ?? "", "differs": r.differs, "sides": r.sides.map { ["value": $0.value, "outcome": $0.outcome.rawValue, "evidence": $0.evidence] }]
}

/// Pretty, key-sorted JSON bytes with a final newline.
public func jsonData(_ object: Any) -> Data {
    ((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()) + Data("\n".utf8)
}

extension String {
    public func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    public func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
