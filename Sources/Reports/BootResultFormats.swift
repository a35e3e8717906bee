import Conformance
import Foundation
import HarnessKVM
import Runners

/// A real kernel's boot to userspace: the outcome, the marker time, why there is no report
/// (with what a software KVM means for it), and each group of kernel-observed checks.
public func bootResultLines(_ r: KernelBootResult) -> [String] {
    var out: [String] = []
    let verdict = r.passed ? "PASS" : "FAIL"
    out.append("\(verdict) \(r.path.rawValue): \(r.outcome)")
    if let t = r.toMarker { out.append("  userspace marker after \(String(format: "%.2f", t.seconds)) s") }
    if let e = r.reportError {
        out.append("  no kernel report: \(e)")
        if let h = r.harness, h.flavor.kind != .hardware {
            let lines = h.serialText.split(whereSeparator: { $0.isNewline })
            out.append("  this KVM is not hardware virtualization: guest code runs at about a microsecond per instruction, so Linux")
            out.append("  does not reach userspace in useful time; the reference loader's image is booted under QEMU instead (--path reference-bundle).")
            out.append("  last console line: \(lines.last.map(String.init) ?? "(none; add earlyprintk=ttyS0 to --cmdline to see the early boot)")")
        }
    }
    for kind in ObservedCheck.Kind.allCases {
        let cs = r.checks.filter { $0.kind == kind }
        guard !cs.isEmpty else { continue }
        let failed = cs.filter { $0.outcome == .fail }
        out.append("  \(kind.rawValue): \(cs.count - failed.count)/\(cs.count) checks pass")
        for c in cs where c.outcome == .fail || !c.note.isEmpty && c.note.hasPrefix("changed") {
            out.append("    \(c.outcome == .fail ? "✗" : "~") \(c.field): loader \(c.expected); kernel \(c.found)\(c.note.isEmpty ? "" : " — " + c.note)\(c.rule.map { " [\($0)]" } ?? "")")
        }
    }
    return out
}

/// The loader differential as a table: one row per field, one column per loader path, then
/// each failing side with its evidence.
public func differentialLines(_ rows: [DifferentialRow], names: [String]) -> [String] {
    var out: [String] = []
    out.append("\nloader differential (what each kernel observed):")
    let width = 44
    out.append("  " + "field".rightPad(width) + names.map { $0.rightPad(36) }.joined())
    for r in rows {
        let cells = r.sides.map { s -> String in
            let mark = s.outcome == .pass ? "✓ " : s.outcome == .fail ? "✗ " : ""
            let v = s.value.count > 32 ? String(s.value.prefix(31)) + "…" : s.value
            return (mark + v).rightPad(36)
        }
        out.append("  " + (r.field + (r.rule.map { " [\($0)]" } ?? "")).rightPad(width) + cells.joined() + (r.differs ? "" : "  (same)"))
    }
    for r in rows { for (n, s) in zip(names, r.sides) where s.outcome == .fail { out.append("  ✗ \(r.field) on \(n): \(s.evidence)") } }
    return out
}
