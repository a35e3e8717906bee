import Conformance
import Runners
import HarnessKVM
import Foundation

/// The gate's report as JSON, JUnit XML and Markdown.
extension GateReport {
    /// The terminal summary `conform gate` prints: verdict, surface diff, rules per entry, boots,
    /// regressions.
    public var summaryLines: [String] {
        let r = self
        var out: [String] = []
        out.append("gate \(r.passed ? "PASS" : "FAIL"): \(r.new.label)\(r.baseline.map { " against \($0.label)" } ?? "") (\(String(format: "%.1f", r.elapsed.seconds)) s)")
        if let n = r.new.payloadNote { out.append("  payload ELF not read: \(n)") }
        if r.baseline != nil {
            out.append("\nsurface diff: \(r.changes.count) change\(r.changes.count == 1 ? "" : "s") (\(r.changes.impactCounts))")
            for l in r.changes.lines { out.append("  " + l) }
        }
        out.append("\nrules (reference loader on the new kernel):")
        for run in r.ruleRuns {
            if let why = run.refused { out.append("  \(run.heading): refused: \(why)"); continue }
            let p = run.verdicts.filter { $0.outcome == .pass }.count, f = run.verdicts.filter { $0.outcome == .fail }.count
            let w = run.verdicts.filter { $0.outcome == .warn }.count
            out.append("  \(run.heading): \(p) pass, \(w) warn, \(f) fail, \(run.verdicts.count - p - w - f) n/a")
        }
        out.append("\nboot to userspace:")
        if let s = r.bootSkipped { out.append("  \(s)") }
        for b in r.boots { out += bootResultLines(b) }
        if !r.regressions.isEmpty { out.append("\nregressions:"); for x in r.regressions { out.append("  ✗ \(x)") } }
        return out
    }


    // MARK: JSON

    public var json: [String: Any] {
        var d: [String: Any] = ["passed": passed, "new": kernelJSON(new), "regressions": regressions, "elapsedSeconds": elapsed.seconds]
        if let baseline { d["baseline"] = kernelJSON(baseline) }
        d["surfaceChanges"] = changes.json
        d["rules"] = ruleRuns.map { r -> [String: Any] in
            var x: [String: Any] = ["entry": r.name, "verdicts": r.verdicts.map { ["rule": $0.rule.rawValue, "outcome": $0.outcome.rawValue, "evidence": $0.evidence] }]
            if let why = r.refused { x["refused"] = why }
            if let b = r.baseline { x["baselineFailures"] = b.filter { $0.outcome == .fail }.map(\.rule.rawValue) }
            return x
        }
        d["boots"] = boots.map { b -> [String: Any] in
            var x: [String: Any] = ["path": b.path.rawValue, "passed": b.passed, "outcome": b.outcome,
                                    "checks": b.checks.map { ["kind": $0.kind.rawValue, "field": $0.field, "outcome": $0.outcome.rawValue, "expected": $0.expected, "found": $0.found, "note": $0.note] }]
            if let t = b.toMarker { x["toMarkerSeconds"] = t.seconds }
            if let e = b.reportError { x["reportError"] = e }
            return x
        }
        if let bootSkipped { d["bootSkipped"] = bootSkipped }
        return d
    }

    func kernelJSON(_ k: GateKernel) -> [String: Any] {
        var d: [String: Any] = ["given": k.given, "image": k.image, "label": k.label, "format": k.formatName, "surface": Dictionary(k.surface.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })]
        if let n = k.payloadNote { d["payloadNote"] = n }
        return d
    }

    // MARK: JUnit XML

    /// One <testsuite> per part (surface, rules per entry, boot per path); a regression (a
    /// breaking surface change) is a <failure>, a rule that does not apply is <skipped/>, a
    /// needs-attention or informational surface change passes with its class and reason in
    /// <system-out>, and the build noise is one test case.
    public var junitXML: String {
        struct Case { var name: String; var classname: String; var failure: (String, String)? = nil; var skipped: String? = nil; var out: String? = nil; var time = 0.0 }
        var suites: [(String, [Case])] = []
        var surface: [Case] = [Case(name: "decode \(new.label)", classname: "gate.surface", out: "\(new.surface.count) surface items")]
        for c in changes.significant {
            var k = Case(name: c.key, classname: "gate.surface")
            let text = "\(c.impact.rawValue): \(c.old ?? "-") → \(c.new ?? "-"): \(c.reason)"
            if c.impact == .breaking { k.failure = ("surface regression: \(c.key)", text) } else { k.out = text }
            surface.append(k)
        }
        if !changes.noise.isEmpty {
            surface.append(Case(name: "build noise (\(changes.noise.count) changes)", classname: "gate.surface",
                                out: changes.noise.map { "\($0.key): \($0.old ?? "-") → \($0.new ?? "-")" }.joined(separator: "\n")))
        }
        suites.append(("surface" + (baseline.map { " (\($0.label) → \(new.label))" } ?? ""), surface))
        for r in ruleRuns {
            var cs: [Case] = []
            let cls = "gate.rules.\(r.name.replacingOccurrences(of: " ", with: "-"))"
            if let why = r.refused { cs.append(Case(name: "load", classname: cls, failure: ("the reference loader refuses the image", why))) }
            for v in r.verdicts {
                var k = Case(name: "\(v.rule) \(RuleCatalogue.rule(v.rule)?.title ?? ImageRuleCatalogue.rule(v.rule)?.title ?? "")", classname: cls)
                switch v.outcome {
                case .fail: k.failure = ("\(v.rule) fails", v.evidence)
                case .notApplicable: k.skipped = v.evidence.isEmpty ? "not applicable" : v.evidence
                case .warn: k.out = v.evidence   // "warning: …"; a warning passes the gate
                default: k.out = v.evidence
                }
                cs.append(k)
            }
            suites.append(("rules (\(r.heading))", cs))
        }
        for b in boots {
            let cls = "gate.boot.\(b.path.rawValue)"
            var cs = [Case(name: "userspace marker", classname: cls, out: b.outcome, time: b.elapsed.seconds)]
            if let e = b.reportError { cs[0].failure = ("no userspace report", e + "\n" + b.outcome) }
            for c in b.checks {
                var k = Case(name: "\(c.kind.rawValue): \(c.field)", classname: cls)
                let text = "loader: \(c.expected)\nkernel: \(c.found)\n\(c.note)"
                if c.outcome == .fail { k.failure = ("\(c.kind.rawValue) mismatch", text) } else { k.out = text }
                cs.append(k)
            }
            suites.append(("boot (\(b.path.rawValue))", cs))
        }
        if let bootSkipped { suites.append(("boot", [Case(name: "boot", classname: "gate.boot", skipped: bootSkipped)])) }

        let all = suites.flatMap(\.1)
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"conform gate\" tests=\"\(all.count)\" failures=\"\(all.filter { $0.failure != nil }.count)\" errors=\"0\" skipped=\"\(all.filter { $0.skipped != nil }.count)\" time=\(String(format: "\"%.3f\"", elapsed.seconds))>\n"
        for (name, cases) in suites {
            x += "  <testsuite name=\"\(xmlEscape(name))\" tests=\"\(cases.count)\" failures=\"\(cases.filter { $0.failure != nil }.count)\" errors=\"0\" skipped=\"\(cases.filter { $0.skipped != nil }.count)\" time=\(String(format: "\"%.3f\"", cases.reduce(0) { $0 + $1.time }))>\n"
            for c in cases {
                x += "    <testcase classname=\"\(xmlEscape(c.classname))\" name=\"\(xmlEscape(c.name))\" time=\(String(format: "\"%.3f\"", c.time))>"
                if let (m, t) = c.failure { x += "\n      <failure message=\"\(xmlEscape(m))\" type=\"regression\">\(xmlEscape(t))</failure>\n    " }
                else if let s = c.skipped { x += "\n      <skipped message=\"\(xmlEscape(s))\"/>\n    " }
                else if let o = c.out, !o.isEmpty { x += "\n      <system-out>\(xmlEscape(o))</system-out>\n    " }
                x += "</testcase>\n"
            }
            x += "  </testsuite>\n"
        }
        return x + "</testsuites>\n"
    }

    // MARK: Markdown

    public var markdown: String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var m = "# conform gate: \(passed ? "PASS" : "FAIL")\n\n"
        m += "- New: `\(new.label)` (\(new.formatName))\n"
        if let baseline { m += "- Baseline: `\(baseline.label)` (\(baseline.formatName))\n" }
        if let n = new.payloadNote { m += "- Payload ELF not read: \(n)\n" }
        m += "- Time: \(String(format: "%.1f", elapsed.seconds)) s\n\n"
        if !regressions.isEmpty { m += "## Regressions\n\n" + regressions.map { "- \(cell($0))" }.joined(separator: "\n") + "\n\n" }
        if baseline != nil {
            m += "## Protocol-visible surface: \(changes.count) change\(changes.count == 1 ? "" : "s")\n\n\(changes.impactCounts).\n\n"
            m += changes.markdown
        }
        m += "## Rules (reference loader on the new kernel)\n\n| Entry | Pass | Fail | n/a | Failures |\n|---|---|---|---|---|\n"
        for r in ruleRuns {
            if let why = r.refused { m += "| \(r.name) | – | – | – | refused: \(cell(why)) |\n"; continue }
            let f = r.failures.map { "\($0.verdict.rule)\($0.new ? " (new)" : "")" }.joined(separator: ", ")
            m += "| \(r.name) | \(r.verdicts.filter { $0.outcome == .pass }.count) | \(r.verdicts.filter { $0.outcome == .fail }.count) | \(r.verdicts.filter { $0.outcome == .notApplicable }.count) | \(f.isEmpty ? "none" : f) |\n"
        }
        m += "\n## Boot to userspace\n\n"
        if let bootSkipped { m += "Boot \(bootSkipped).\n" }
        if !boots.isEmpty {
            m += "| Path | Result | To marker | Checks passed | Outcome |\n|---|---|---|---|---|\n"
            for b in boots {
                m += "| \(b.path.rawValue) | \(b.passed ? "pass" : "FAIL") | \(b.toMarker.map { String(format: "%.2f s", $0.seconds) } ?? "—") | \(b.checks.count - b.failedChecks.count)/\(b.checks.count) | \(cell(b.outcome)) |\n"
            }
            let observed = boots.compactMap { b in b.report.map { LoaderDifferential.Observed(name: b.path.rawValue, report: $0, entry: b.load?.entry.entryPoint) } }
            if observed.count >= 2 {
                var header: SetupHeader? = nil
                if case .bzImage(let bz) = new.parsed { header = bz.header }
                m += "\n### What each kernel observed\n\n| Field | " + observed.map(\.name).joined(separator: " | ") + " |\n|---|" + observed.map { _ in "---|" }.joined() + "\n"
                for r in LoaderDifferential.rows(observed, header: header) {
                    m += "| \(cell(r.field))\(r.rule.map { " [\($0)]" } ?? "") | " + r.sides.map { s in (s.outcome == .pass ? "✓ " : s.outcome == .fail ? "✗ " : "") + cell(s.value) }.joined(separator: " | ") + " |\n"
                }
            }
        }
        return m
    }
}
