import Conformance
import Foundation
import Runners

/// The report maintainers read (issue 15), as one self-contained HTML file: inline CSS and
/// inline SVG only, no script, no external asset, no web font. It is also well-formed XML
/// (XHTML), so tests parse it strictly. Sections, each present when its input is:
///
/// - for each kernel and entry, guest memory as the reference loader laid it out (`MemoryPicture`);
/// - the kernel × rule matrix (a cell per rule and kernel entry, the evidence as its tooltip);
/// - the loader × rule matrix of a real-loader run (`conform matrix --json`);
/// - the surface diffs with impact classes, build noise collapsed in a `<details>`;
/// - the release history's plots and changes (`conform history --json`).
public struct HTMLReport: Sendable {
    /// A kernel and the reference loader's load of it at each entry it offers.
    public struct Kernel: Sendable {
        public let label: String
        public let format: String
        public let loads: [EntryLoad]
        /// Why the payload ELF could not be read, when it could not.
        public let note: String?
        public init(label: String, format: String, loads: [EntryLoad], note: String? = nil) {
            self.label = label; self.format = format; self.loads = loads; self.note = note
        }
        /// A gate kernel with `KernelGate.loads`.
        public init(_ k: GateKernel, initrd: [UInt8], commandLine: String = KernelBoot.defaultCommandLine) {
            self.init(label: k.label, format: k.formatName, loads: KernelGate.loads(k, initrd: initrd, commandLine: commandLine), note: k.payloadNote)
        }
    }

    public struct SurfaceDiff: Sendable {
        public let from: String, to: String
        public let changes: [SurfaceChange]
        public init(from: String, to: String, changes: [SurfaceChange]) { self.from = from; self.to = to; self.changes = changes }
    }

    public var title: String
    /// Lines under the title (the gate's verdict, its regressions).
    public var summary: [String] = []
    public var kernels: [Kernel] = []
    public var diffs: [SurfaceDiff] = []
    public var matrix: MatrixReport?
    public var history: KernelHistory?

    public init(title: String) { self.title = title }

    /// The gate's report: its verdict and regressions, the candidate and the baseline, the diff.
    public init(gate r: GateReport, kernels: [Kernel]) {
        self.init(title: "conform gate: \(r.passed ? "PASS" : "FAIL"): \(r.new.label)\(r.baseline.map { " against \($0.label)" } ?? "")")
        summary = r.summaryLines.filter { !$0.isEmpty }.prefix(1).map { $0 } + r.regressions.map { "regression: " + $0 }
        self.kernels = kernels
        if let b = r.baseline { diffs = [SurfaceDiff(from: b.label, to: r.new.label, changes: r.changes)] }
    }

    static let style = """
        body { font-family: sans-serif; margin: 1.5em; color: #222; }
        h1 { font-size: 1.4em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
        table { border-collapse: collapse; font-size: 12px; }
        th, td { border: 1px solid #ccc; padding: 2px 5px; text-align: left; vertical-align: top; }
        th { background: #f3f3f3; }
        td.v { text-align: center; min-width: 2.5em; }
        .pass { background: #d8f0d8; } .fail { background: #f4c7c3; } .warn { background: #fde9b8; }
        .na { background: #f5f5f5; color: #888; } .none { background: white; color: #bbb; } .known { background: #f9ddd0; }
        .breaking { background: #f4c7c3; } .needs-attention { background: #fde9b8; } .informational { background: #eef; }
        code, .mono { font-family: monospace; }
        .legend span { display: inline-block; padding: 1px 6px; margin-right: 4px; border: 1px solid #ccc; }
        svg { display: block; margin: 0.5em 0; }
        """

    // MARK: the document

    public var html: String {
        var b = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
        b += "<title>\(xmlEscape(title))</title>\n<style>\n\(Self.style)</style>\n</head>\n<body>\n"
        b += "<h1>\(xmlEscape(title))</h1>\n"
        for l in summary { b += "<p>\(xmlEscape(l))</p>\n" }
        var contents: [(String, String)] = []
        if !kernels.isEmpty { contents += [("memory", "Guest memory as the reference loader laid it out"), ("rules", "Kernel × rule")] }
        if matrix != nil { contents.append(("loaders", "Loader × rule")) }
        if !diffs.isEmpty { contents.append(("surface", "Protocol-visible surface")) }
        if history != nil { contents.append(("history", "Release history")) }
        b += "<ul>\n" + contents.map { "<li><a href=\"#\($0.0)\">\(xmlEscape($0.1))</a></li>\n" }.joined() + "</ul>\n"
        if !kernels.isEmpty { b += memorySection + kernelMatrixSection }
        if let matrix { b += Self.loaderMatrixSection(matrix) }
        if !diffs.isEmpty { b += surfaceSection }
        if let history { b += Self.historySection(history) }
        return b + "</body>\n</html>\n"
    }

    static func cell(_ o: Outcome?) -> (cls: String, text: String) {
        switch o {
        case .pass?: ("pass", "✓")
        case .fail?: ("fail", "✗")
        case .warn?: ("warn", "!")
        case .notApplicable?: ("na", "n/a")
        case nil: ("none", "—")
        }
    }

    static let legend = "<p class=\"legend\"><span class=\"pass\">✓ pass</span><span class=\"fail\">✗ fail</span><span class=\"warn\">! warn</span><span class=\"na\">n/a</span><span class=\"none\">— not judged</span> Hover over a cell for the evidence.</p>\n"

    /// The rules of every family the verdicts name (BP when they name none), in catalogue
    /// order: the x86 catalogue, then the A64 and RV rules of the Image rows; then any others
    /// the verdicts name.
    static func ruleIDs(_ seen: [RuleID]) -> [RuleID] {
        var families = Set(seen.compactMap(\.family))
        if families.isEmpty { families = [.x86] }
        var ids = (RuleCatalogue.all.map(\.id) + ImageRuleCatalogue.all.map(\.id)).filter { $0.family.map(families.contains) ?? false }
        for r in Set(seen).subtracting(ids).sorted() { ids.append(r) }
        return ids
    }


    // MARK: memory

    var memorySection: String {
        var b = "<h2 id=\"memory\">Guest memory as the reference loader laid it out</h2>\n"
        b += "<p>Log₂ address axis, low memory at the bottom. Lanes: the e820 map the loader passed; W, the kernel's claimed range (init_size from the load address L, BP-22); what the loader wrote. Hover over a rectangle for its range.</p>\n"
        for k in kernels {
            b += "<h3>\(xmlEscape(k.label)) (\(xmlEscape(k.format)))</h3>\n"
            if let n = k.note { b += "<p>Payload ELF not read: \(xmlEscape(n))</p>\n" }
            for l in k.loads {
                guard let r = l.load else {
                    b += "<p><strong>\(xmlEscape(l.entry.rawValue)) entry</strong>: the reference loader refuses the image: \(xmlEscape(l.refused ?? "no load"))</p>\n"
                    continue
                }
                let cmd = String(decoding: r.commandLine.bytes.prefix { $0 != 0 }, as: UTF8.self)
                b += "<p><strong>\(xmlEscape(l.entry.rawValue)) entry</strong> at \(hex(r.entry.rip)); L = \(hex(r.kernelAddress)); W = \(r.kernelWindow); command line at \(hex(r.commandLine.address)): <code>\(xmlEscape(cmd))</code></p>\n"
                b += MemoryPicture(title: "\(k.label): \(l.entry.rawValue) entry", load: r).svg
                if !r.warnings.isEmpty { b += "<ul>\n" + r.warnings.map { "<li>\(xmlEscape($0.description))</li>\n" }.joined() + "</ul>\n" }
            }
        }
        return b
    }

    // MARK: kernel × rule

    var kernelMatrixSection: String {
        let columns = kernels.flatMap { k in k.loads.map { (k, $0) } }
        var b = "<h2 id=\"rules\">Kernel × rule (reference loader)</h2>\n" + Self.legend
        b += "<table class=\"matrix\" id=\"kernel-rules\">\n<tr><th>Rule</th><th>Title</th>"
        for (k, l) in columns { b += "<th title=\"\(xmlEscape(k.label))\">\(xmlEscape(Self.short(k.label)))<br/>\(xmlEscape(l.entry.rawValue)) entry</th>" }
        b += "</tr>\n"
        let tables = columns.map { (_, l) in Dictionary(l.verdicts.map { ($0.rule, $0) }, uniquingKeysWith: { a, _ in a }) }
        for id in Self.ruleIDs(columns.flatMap { $0.1.verdicts.map(\.rule) }) {
            b += "<tr data-rule=\"\(id)\"><td class=\"mono\">\(id)</td><td>\(xmlEscape(RuleCatalogue.rule(id)?.title ?? ""))</td>"
            for ((k, l), t) in zip(columns, tables) {
                let v = t[id], c = Self.cell(v?.outcome)
                let why = v.map { "\(id) \($0.outcome.rawValue): \($0.evidence)" } ?? "\(id): not judged (\(l.refused.map { "the reference loader refused the image: \($0)" } ?? "no verdict"))"
                b += "<td class=\"v \(c.cls)\" title=\"\(xmlEscape(k.label + ", " + l.entry.rawValue + " entry: " + why))\">\(c.text)</td>"
            }
            b += "</tr>\n"
        }
        return b + "</table>\n"
    }

    /// The file name of a label ("linux-image-….deb → boot/vmlinuz-6.12" → "vmlinuz-6.12").
    static func short(_ label: String) -> String {
        let last = label.components(separatedBy: " → ").last ?? label
        return (last as NSString).lastPathComponent
    }

    // MARK: loader × rule

    static func loaderMatrixSection(_ m: MatrixReport) -> String {
        var b = "<h2 id=\"loaders\">Loader × rule (real loaders, conform matrix)</h2>\n"
        b += "<p>\(m.results.count) boots of the probe variants. A cell counts the variants on which the loader's handoff passes, fails or warns on the rule; <span class=\"known\">✗ known</span> is a failure a recorded deviation explains. Hover for the variants and evidence.</p>\n" + legend
        b += "<table class=\"matrix\" id=\"loader-rules\">\n<tr><th>Rule</th>"
        for l in m.loaders { b += "<th title=\"\(xmlEscape("\(l.id) \(l.version) (\(l.package))"))\">\(xmlEscape(l.id))</th>" }
        b += "</tr>\n<tr><td>reports</td>"
        for l in m.loaders {
            let mine = m.results.filter { $0.loader == l.id }
            if let why = l.skipped { b += "<td class=\"v none\" title=\"\(xmlEscape("skipped: " + why))\">skipped</td>"; continue }
            b += "<td class=\"v\" title=\"\(xmlEscape(mine.filter { !$0.report }.map { "\($0.variant): \($0.booted ? "no report" : "refused") \($0.notes.joined(separator: "; "))" }.joined(separator: "\n")))\">\(mine.filter(\.report).count)/\(mine.count)</td>"
        }
        b += "</tr>\n"
        let seen = m.results.flatMap { $0.fail + $0.pass + $0.warn + $0.na }.map { RuleID($0) }
        for id in ruleIDs(seen) {
            let r = id.rawValue
            b += "<tr data-rule=\"\(r)\"><td class=\"mono\" title=\"\(xmlEscape(ruleTitle(id)))\">\(r)</td>"
            for l in m.loaders {
                let mine = m.results.filter { $0.loader == l.id }
                let fails = mine.filter { $0.fail.contains(r) }, warns = mine.filter { $0.warn.contains(r) }
                let passes = mine.filter { $0.pass.contains(r) }.count, nas = mine.filter { $0.na.contains(r) }.count
                var why: [String] = []
                for x in fails {
                    let evidence = x.failures.first { $0.rule == id }?.evidence ?? x.notes.first { $0.hasPrefix(r + ":") }.map { String($0.dropFirst(r.count + 1)).trimmingCharacters(in: .whitespaces) } ?? ""
                    why.append("fails on \(x.variant)\(x.explained[r] != nil ? " (known)" : ""): \(evidence)")
                }
                for x in warns { why.append("warns on \(x.variant)") }
                if passes > 0 { why.append("passes on \(passes) variant\(passes == 1 ? "" : "s")") }
                if nas > 0 { why.append("n/a on \(nas)") }
                let (cls, text): (String, String)
                if !fails.isEmpty { (cls, text) = fails.allSatisfy({ $0.explained[r] != nil }) ? ("known", "✗ \(fails.count) known") : ("fail", "✗ \(fails.count)") }
                else if !warns.isEmpty { (cls, text) = ("warn", "! \(warns.count)") }
                else if passes > 0 { (cls, text) = ("pass", "✓ \(passes)") }
                else if nas > 0 { (cls, text) = ("na", "n/a") }
                else { (cls, text) = ("none", "—") }
                b += "<td class=\"v \(cls)\" title=\"\(xmlEscape("\(l.id), \(r): " + (why.isEmpty ? "not judged" : why.joined(separator: "\n"))))\">\(text)</td>"
            }
            b += "</tr>\n"
        }
        b += "</table>\n"
        let c = m.changes
        if !c.isEmpty { b += "<h3>Changes from the recorded deviations</h3>\n<ul>\n" + c.map { "<li>\(xmlEscape($0))</li>\n" }.joined() + "</ul>\n" }
        return b
    }

    // MARK: surface

    static func changesTable(_ cs: [SurfaceChange], release: Bool = false, releases: [String] = []) -> String {
        var b = "<table class=\"surface\">\n<tr>\(release ? "<th>Release</th>" : "")<th>Impact</th><th>Item</th><th>Before</th><th>After</th><th>Why it matters to a loader</th></tr>\n"
        for (i, c) in cs.enumerated() {
            b += "<tr class=\"\(c.impact.rawValue)\">\(release ? "<td>\(xmlEscape(releases[i]))</td>" : "")<td>\(c.impact.rawValue)</td><td class=\"mono\">\(xmlEscape(c.key))</td><td class=\"mono\">\(xmlEscape(c.old ?? "—"))</td><td class=\"mono\">\(xmlEscape(c.new ?? "—"))</td><td>\(xmlEscape(c.reason))</td></tr>\n"
        }
        return b + "</table>\n"
    }

    static func noiseBlock(_ noise: [SurfaceChange]) -> String {
        guard !noise.isEmpty else { return "" }
        var b = "<details><summary>Build noise: \(noise.count) change\(noise.count == 1 ? "" : "s") (sizes, addresses and IDs that change with every build)</summary>\n"
        b += "<table>\n<tr><th>Item</th><th>Before</th><th>After</th></tr>\n"
        for c in noise { b += "<tr><td class=\"mono\">\(xmlEscape(c.key))</td><td class=\"mono\">\(xmlEscape(c.old ?? "—"))</td><td class=\"mono\">\(xmlEscape(c.new ?? "—"))</td></tr>\n" }
        return b + "</table>\n</details>\n"
    }

    var surfaceSection: String {
        var b = "<h2 id=\"surface\">Protocol-visible surface</h2>\n"
        for d in diffs {
            b += "<h3>\(xmlEscape(d.from)) → \(xmlEscape(d.to))</h3>\n<p>\(d.changes.count) change\(d.changes.count == 1 ? "" : "s"): \(xmlEscape(d.changes.impactCounts)).</p>\n"
            if !d.changes.significant.isEmpty { b += Self.changesTable(d.changes.significant) }
            b += Self.noiseBlock(d.changes.noise)
        }
        return b
    }

    // MARK: history

    static func historySection(_ h: KernelHistory) -> String {
        var b = "<h2 id=\"history\">Release history</h2>\n<p>\(xmlEscape(h.summaryLine)).</p>\n"
        for p in h.plots {
            // The plot files are whole SVG documents; inline, the XML declaration goes.
            var svg = p.svg
            if svg.hasPrefix("<?xml"), let end = svg.range(of: "?>\n") { svg.removeSubrange(svg.startIndex..<end.upperBound) }
            b += svg
        }
        let significant = h.changes.filter { !$0.change.noise }
        if !significant.isEmpty {
            b += "<h3>Changes, at the release where each first appeared</h3>\n"
            b += changesTable(significant.map(\.change), release: true, releases: significant.map { "\($0.release) (from \($0.previous))" })
        }
        b += noiseBlock(h.changes.filter(\.change.noise).map(\.change))
        return b
    }
}
