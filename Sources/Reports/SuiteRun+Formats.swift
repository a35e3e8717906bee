import Conformance
import ConformanceFixtures
import Foundation
import Runners

extension SuiteRun {
    /// The document `conform --json` prints and `conform` writes to its results file.
    public var json: [String: Any] {
        let cases: [[String: Any]] = synthetic.map { r in
            var o: [String: Any] = ["id": r.corpusCase.id, "about": r.corpusCase.about, "asExpected": r.problems.isEmpty, "problems": r.problems, "verdicts": verdictJSON(r.verdicts)]
            if let e = r.error { o["rejected"] = e.description }
            if let res = r.result { o["placement"] = placementJSON(res) }
            return o
        }
        let real: [[String: Any]] = (self.real ?? []).map { r in
            var o: [String: Any] = ["name": r.kernel.name, "entry": r.entry.rawValue, "sha256": r.kernel.sha256, "verdicts": verdictJSON(r.verdicts)]
            if let e = r.error { o["error"] = e }
            if let res = r.result { o["placement"] = placementJSON(res) }
            return o
        }
        let boots: [[String: Any]] = self.boots.map { b in
            if let r = b.result { var o = bootResultJSON(r); o["name"] = b.kernel.name; return o }
            return ["name": b.kernel.name, "path": b.path.rawValue, "error": b.error ?? ""]
        }
        var summary: [String: Any] = ["cases": synthetic.count, "deviations": syntheticDeviations.count, "realFailures": realFailures.count, "bootFailures": bootFailures.count]
        if let s = bootsSkipped { summary["bootsSkipped"] = s }
        return ["format": "conform-run/1", "synthetic": cases, "real": real, "boots": boots, "summary": summary]
    }

    /// Today's per-case detail (`conform --verbose`): every case, every real kernel's entries,
    /// every boot, each with its verdicts.
    public func detailedText(showAllVerdicts: Bool) -> [String] {
        var out = ["Synthetic corpus: \(synthetic.count) cases (\(corpus)/synthetic/manifest.json)", ""]
        for r in synthetic {
            let c = r.corpusCase
            out.append("\(r.problems.isEmpty ? "ok  " : "DIFF") \(c.id) — \(c.about)")
            if let e = r.error { out.append("     rejected: \(e)") }
            if let res = r.result {
                out.append("     reference loader placed: " + placementJSON(res).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                for f in c.faults { out.append("     then fault \(f.name): \(f.about)") }
                for w in res.warnings { out.append("     \(w)") }
                var expected: Set<RuleID> = []
                if case let .loads(_, fail, _, _, _) = c.expectation { expected = fail.rules }
                out += verdictLines(r.verdicts, indent: "     ", showAll: showAllVerdicts, expectedFailures: expected)
            }
            for p in r.problems { out.append("     ✗ not as the manifest says: \(p)") }
        }
        if let real {
            out += ["", "Real kernels: \(Set(real.map(\.kernel.name)).count) images (\(corpus)/real/manifest.json)", ""]
            for r in real {
                out.append("\(r.failed ? "FAIL" : "ok  ") \(r.kernel.name) (\(r.kernel.format), entry \(r.entry.rawValue))")
                if let e = r.error { out.append("     error: \(e)") }
                if let res = r.result, r.error == nil {
                    out.append("     loaded: " + placementJSON(res).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                    out += verdictLines(r.verdicts, indent: "     ", showAll: showAllVerdicts)
                }
            }
        } else {
            out += ["", "Real kernels: not built — run tools/build-corpus.sh to fetch the Debian 6.1 and 6.12 kernels."]
        }
        if !boots.isEmpty {
            out += ["", "Real kernels to userspace: \(boots.count) boots, QEMU -accel \(accel), initramfs \(initramfs ?? "")", ""]
            for b in boots { out += bootLines(b) }
        } else if let s = bootsSkipped, real != nil {
            out += ["", "Real kernels to userspace: skipped — \(s)"]
        }
        out += ["", summaryLine]
        return out
    }

    /// The main job's terminal output: one line per group, every failure in full.
    public func compactText() -> [String] {
        var out: [String] = []
        let dev = syntheticDeviations
        out.append("\(dev.isEmpty ? "ok  " : "FAIL") synthetic corpus: \(synthetic.count - dev.count) of \(synthetic.count) cases as the manifest says")
        for r in dev {
            out.append("     \(r.corpusCase.id) — \(r.corpusCase.about)")
            for p in r.problems { out.append("       ✗ \(p)") }
        }
        if let real {
            let f = realFailures
            out.append("\(f.isEmpty ? "ok  " : "FAIL") real kernels: \(Set(real.map(\.kernel.name)).count) images, \(real.count - f.count) of \(real.count) loads pass every rule of their entry")
            for r in f {
                out.append("     \(r.kernel.name) entry \(r.entry.rawValue)" + (r.error.map { ": \($0)" } ?? ""))
                for v in r.verdicts where v.outcome == .fail { out.append("       ✗ \(v.rule) \(RuleCatalogue.rule(v.rule)?.title ?? ""): \(v.evidence)") }
            }
        } else {
            out.append("--   real kernels: not built (run tools/build-corpus.sh)")
        }
        if !boots.isEmpty {
            let f = bootFailures
            out.append("\(f.isEmpty ? "ok  " : "FAIL") boots to userspace: \(boots.count - f.count) of \(boots.count) reach the init and pass every kernel-observed check (QEMU -accel \(accel))")
            for b in f { out += bootLines(b).map { "  " + $0 } }
        } else if let s = bootsSkipped, real != nil {
            out.append("--   boots to userspace: not run, \(s)")
        }
        return out
    }

    public var summaryLine: String {
        "Summary: \(synthetic.count - syntheticDeviations.count) of \(synthetic.count) synthetic cases as expected"
            + (real.map { ", \(Set($0.map(\.kernel.name)).count) real kernels: \(realFailures.count) runs with failures" } ?? "")
            + (boots.isEmpty ? "" : ", \(boots.count) boots to userspace: \(bootFailures.count) failed")
    }

    func bootLines(_ b: UserspaceBoot) -> [String] {
        guard let r = b.result else { return ["FAIL \(b.kernel.name) by \(b.path.rawValue): \(b.error ?? "")"] }
        var out = ["\(r.passed ? "ok  " : "FAIL") \(b.kernel.name) by \(b.path.rawValue): " + (r.toMarker.map { String(format: "userspace after %.2f s, ", $0.seconds) } ?? "")
                   + "\(r.checks.count - r.failedChecks.count)/\(r.checks.count) kernel-observed checks pass"]
        if let e = r.reportError { out.append("     \(e); \(r.outcome)") }
        for c in r.failedChecks { out.append("     ✗ \(c.kind.rawValue) \(c.field): loader \(c.expected); kernel \(c.found) \(c.note)") }
        return out
    }
}
