import Conformance
import Runners
import HarnessKVM
import Foundation

extension MatrixReport {
    /// "loader-matrix/1" (issue 13): loaders, then one result per (loader, variant).
    public func json() -> [String: Any] {
        // Exactly issue 13's shape; a loader that did not run adds "skipped" (its reason), and
        // a rule that warns is listed under "pass" with a note (the shape has no "warn").
        ["format": "loader-matrix/1",
         "loaders": loaders.map { l -> [String: Any] in
             var o: [String: Any] = ["id": l.id, "version": l.version, "package": l.package]
             if let s = l.skipped { o["skipped"] = s }
             return o
         },
         "results": results.map { r -> [String: Any] in
             var notes = r.notes
             for w in r.warn { notes.append("\(w) warns") }
             for f in r.failures { notes.append("\(f.rule): \(f.evidence)" + (r.explained[f.rule.rawValue].map { " — known \($0.loader) deviation: \($0.what) [\($0.evidence)]" } ?? "")) }
             return ["loader": r.loader, "variant": r.variant, "entry": r.entry, "booted": r.booted, "report": r.report, "seconds": (r.seconds * 100).rounded() / 100,
                     "fail": r.fail, "pass": (r.pass + r.warn).sorted(), "na": r.na, "notes": notes]
         }]
    }

    public func jsonData() throws -> Data { try JSONSerialization.data(withJSONObject: json(), options: [.prettyPrinted, .sortedKeys]) }

    /// Reads a "loader-matrix/1" file back (for `--merge`): the loaders and each result's
    /// verdict lists and notes.
    public static func read(_ data: Data, name: String) throws(HostToolError) -> MatrixReport {
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any], o["format"] as? String == "loader-matrix/1",
              let ls = o["loaders"] as? [[String: Any]], let rs = o["results"] as? [[String: Any]] else { throw HostToolError("\(name): not a loader-matrix/1 document") }
        var m = MatrixReport()
        // The document has no wall time: a report read back counts its boots' time, summed.
        m.seconds = (rs.compactMap { $0["seconds"] as? Double }).reduce(0, +)
        m.loaders = ls.map { MatrixLoader(id: $0["id"] as? String ?? "", version: $0["version"] as? String ?? "", package: $0["package"] as? String ?? "", skipped: $0["skipped"] as? String) }
        for (i, r) in rs.enumerated() {
            guard let loader = r["loader"] as? String, let variant = r["variant"] as? String else { throw HostToolError("\(name): results[\(i)] lacks loader or variant") }
            var x = MatrixResult(loader: loader, variant: variant)
            x.entry = r["entry"] as? String ?? ""; x.booted = r["booted"] as? Bool ?? false; x.report = r["report"] as? Bool ?? false
            x.seconds = r["seconds"] as? Double ?? 0
            x.fail = r["fail"] as? [String] ?? []; x.pass = r["pass"] as? [String] ?? []; x.na = r["na"] as? [String] ?? []
            x.notes = r["notes"] as? [String] ?? []
            x.warn = x.notes.compactMap { $0.hasSuffix(" warns") ? String($0.dropLast(6)) : nil }
            x.pass.removeAll { x.warn.contains($0) }
            // A merged failure keeps its explanation: the notes say "known … deviation".
            for f in x.fail where x.notes.contains(where: { $0.hasPrefix(f + ":") && $0.contains("known ") }) {
                if let d = KnownDeviations.all.first(where: { $0.loader == loader && $0.rule.rawValue == f }) { x.explained[f] = d }
            }
            // A boot without a report that a recorded deviation explains says so in its notes.
            if !x.report, let d = KnownDeviations.all.first(where: { d in d.loader == loader && d.preventsReport && x.notes.contains { $0.contains(d.what) } }) { x.explained[d.rule.rawValue] = d }
            m.results.append(x)
        }
        return m
    }

    /// Joins shards: loaders by id, every result.
    public static func merge(_ parts: [MatrixReport]) -> MatrixReport {
        var m = MatrixReport()
        for p in parts {
            for l in p.loaders where !m.loaders.contains(where: { $0.id == l.id }) { m.loaders.append(l) }
            m.results += p.results
            m.seconds += p.seconds   // read back, a report's seconds are its boots' summed
        }
        return m
    }

    /// Loader × outcome summary for the terminal and Markdown: per loader, the variants booted,
    /// reported, and each failing rule with how many variants it failed on, known or new.
    public func summaryRows() -> [(loader: String, version: String, booted: String, failing: String)] {
        loaders.map { l in
            guard l.skipped == nil else { return (l.id, l.version, "skipped", l.skipped!) }
            let mine = results.filter { $0.loader == l.id }
            var counts: [String: (n: Int, known: Bool)] = [:]
            for r in mine { for f in r.fail { counts[f, default: (0, true)].n += 1; if r.explained[f] == nil { counts[f]!.known = false } } }
            let noReport = mine.filter { $0.booted && !$0.report }.count, refused = mine.filter { !$0.booted }.count
            var parts = counts.keys.sorted().map { "\($0)×\(counts[$0]!.n)\(counts[$0]!.known ? " (known)" : " (NEW)")" }
            if noReport > 0 { parts.append("no report ×\(noReport)") }
            if refused > 0 { parts.append("refused ×\(refused)") }
            return (l.id, l.version, "\(mine.filter(\.report).count)/\(mine.count) reported", parts.isEmpty ? "none" : parts.joined(separator: ", "))
        }
    }

    public func markdown() -> String {
        var s = "# Loader matrix\n\n\(results.count) boots in \(String(format: "%.1f", seconds)) s.\n\n| Loader | Version | Reports | Failing rules (variants) |\n|---|---|---|---|\n"
        for r in summaryRows() { s += "| `\(r.loader)` | \(r.version) | \(r.booted) | \(r.failing) |\n" }
        s += "\n## Every boot\n\n| Loader | Variant | Entry | Report | Seconds | Failing | Notes |\n|---|---|---|---|---|---|---|\n"
        for r in results {
            let fails = r.fail.map { $0 + (r.explained[$0] != nil ? " (known)" : "") }.joined(separator: ", ")
            s += "| `\(r.loader)` | `\(r.variant)` | \(r.entry) | \(r.report ? "yes" : "no") | \(String(format: "%.2f", r.seconds)) | \(fails) | \(r.notes.joined(separator: "; ").replacingOccurrences(of: "|", with: "\\\\|")) |\n"
        }
        let c = changes
        if !c.isEmpty { s += "\n## Changes from the recorded deviations\n\n" + c.map { "- \($0)" }.joined(separator: "\n") + "\n" }
        return s
    }

    /// JUnit XML: a testsuite per loader, a testcase per variant; a failure per unexplained
    /// failing rule, a skipped element for a loader that did not run.
    public func junit() -> String {
        let x = xmlEscape
        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"loader-matrix\">\n"
        for l in loaders {
            let mine = results.filter { $0.loader == l.id }
            let failures = mine.filter { !$0.unexplained.isEmpty || ($0.booted && !$0.report && $0.explained.isEmpty) }.count
            s += "  <testsuite name=\"\(x(l.id))\" tests=\"\(max(mine.count, 1))\" failures=\"\(failures)\">\n"
            if let why = l.skipped { s += "    <testcase name=\"\(x(l.id))\"><skipped message=\"\(x(why))\"/></testcase>\n" }
            for r in mine {
                s += "    <testcase name=\"\(x(r.variant))\" time=\"\(String(format: "%.2f", r.seconds))\">"
                for f in r.unexplained { s += "<failure message=\"\(x(f))\">\(x(r.failures.first { $0.rule.rawValue == f }?.evidence ?? ""))</failure>" }
                if r.booted && !r.report && r.explained.isEmpty { s += "<failure message=\"no report\">\(x(r.notes.joined(separator: "; ")))</failure>" }
                s += "</testcase>\n"
            }
            s += "  </testsuite>\n"
        }
        return s + "</testsuites>\n"
    }
}
