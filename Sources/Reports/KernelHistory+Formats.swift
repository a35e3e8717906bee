import Conformance
import Foundation
import Runners

/// The release history as a timeline table, a change list, JSON (kernel-history/1) and SVG plots.
extension KernelHistory {
    public static let jsonFormat = "kernel-history/1"

    /// The timeline: one row per surface key that changes, one column per release in version
    /// order. A cell is a letter naming the row's value (A for the first value seen, B for the
    /// next, "-" where the release lacks the key); under each row its letters are spelled out.
    /// Keys whose every change is build noise are left out and named in one collapsed line.
    public var timelineLines: [String] {
        let noise = noiseKeys
        let rows = timeline.filter { !noise.contains($0.key) }
        let width = max(releases.map(\.release.count).max() ?? 0, 1)
        let keyWidth = max(rows.map(\.key.count).max() ?? 0, "release".count)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var out = [pad("release", keyWidth) + "  " + releases.map { pad($0.release, width) }.joined(separator: " ")]
        out.append(pad("suite", keyWidth) + "  " + releases.map { pad(String($0.suite.prefix(width)), width) }.joined(separator: " "))
        for (key, values) in rows {
            var letters: [String: String] = [:]
            var legend: [String] = []
            for v in values.compactMap({ $0 }) where letters[v] == nil {
                let l = Self.letter(letters.count)
                letters[v] = l
                legend.append("\(l) = \(v)")
            }
            out.append(pad(key, keyWidth) + "  " + values.map { pad($0.flatMap { letters[$0] } ?? "-", width) }.joined(separator: " "))
            for l in legend { out.append(pad("", keyWidth) + "    " + l) }
        }
        if !noise.isEmpty {
            out.append("build noise (changes with every build, not in the table): " + timeline.map(\.key).filter { noise.contains($0) }.joined(separator: ", "))
        }
        return out
    }

    /// "A"…"Z", then "AA", "AB"….
    static func letter(_ i: Int) -> String {
        let a = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return i < a.count ? String(a[i]) : letter(i / a.count - 1) + String(a[i % a.count])
    }

    /// Each release that changed something, with its changes (the surface diff's lines:
    /// most urgent first, build noise collapsed to one line).
    public var changeLines: [String] {
        var out: [String] = []
        for r in releases {
            let here = changes.filter { $0.release == r.release }
            guard let from = here.first?.previous else { continue }
            let c = here.map(\.change)
            out.append("\(r.release) (\(r.suite), from \(from)): \(c.impactCounts)")
            out += c.lines.map { "  " + $0 }
        }
        return out
    }

    /// "12 releases, 6.1.158 … 7.3-rc7: 1 breaking, 4 needs-attention, 9 informational, 120 build noise".
    public var summaryLine: String {
        guard let first = releases.first, let last = releases.last else { return "no releases" }
        return "\(releases.count) release\(releases.count == 1 ? "" : "s"), \(first.release) … \(last.release): \(changes.map(\.change).impactCounts)"
    }

    /// {"format":"kernel-history/1","releases":[{"release","suite","package","version","imageSize","surface":{…}}],
    ///  "changes":[{"release","previous","key","old","new","impact","noise","reason"}]}.
    public var json: [String: Any] {
        let rs: [[String: Any]] = releases.map { r in
            var o: [String: Any] = ["release": r.release, "suite": r.suite, "package": r.package, "version": r.version.description, "imageSize": r.imageSize,
                                    "surface": Dictionary(r.surface.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })]
            if let n = r.payloadNote { o["payloadNote"] = n }
            return o
        }
        let cs: [[String: Any]] = zip(changes, changes.map(\.change).json).map { h, c in
            c.merging(["release": h.release, "previous": h.previous]) { a, _ in a }
        }
        return ["format": Self.jsonFormat, "releases": rs, "changes": cs]
    }

    /// Reads a kernel-history/1 document back (`conform report --history`). The releases are
    /// diffed again, so the changes are today's classification; a release's surface items come
    /// back in key order (the JSON object keeps no other).
    public static func read(_ data: Data, name: String) throws(HostToolError) -> KernelHistory {
        guard let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw HostToolError("\(name): not a JSON object") }
        guard o["format"] as? String == jsonFormat else { throw HostToolError("\(name): format is \(o["format"].map { "\($0)" } ?? "missing"), expected \(jsonFormat)") }
        guard let rs = o["releases"] as? [[String: Any]] else { throw HostToolError("\(name): releases: expected an array of objects") }
        var releases: [HistoryRelease] = []
        for (i, r) in rs.enumerated() {
            guard let release = r["release"] as? String, let v = r["version"] as? String, let version = DebianVersion(v),
                  let surface = r["surface"] as? [String: String] else {
                throw HostToolError("\(name): releases[\(i)]: expected release, version (a Debian version) and surface (strings by key)")
            }
            let size = (r["imageSize"] as? NSNumber)?.uint64Value ?? 0
            releases.append(HistoryRelease(release: release, version: version, suite: r["suite"] as? String ?? "", package: r["package"] as? String ?? "", imageSize: size,
                                           surface: surface.keys.sorted().map { SurfaceItem($0, surface[$0]!) }, payloadNote: r["payloadNote"] as? String))
        }
        return KernelHistory(releases: releases)
    }

    /// A numeric surface value of a release, read from a bzImage's payload ELF or an ELF vmlinux.
    static func number(_ r: HistoryRelease, _ key: String) -> UInt64? {
        (r.value(key) ?? r.value("payload." + key)).flatMap(parseNumber)
    }

    /// The plots: init_size, image size and entry offsets by release, as (file name, SVG text).
    public var plots: [(name: String, svg: String)] {
        let names = releases.map(\.release)
        let entry: [HistoryPlot.Series] = [
            .init(name: "e_entry - lowest p_paddr", values: releases.map { r in
                guard let e = Self.number(r, "elf.entry"), let p = Self.number(r, "elf.physical_start"), e >= p else { return nil }
                return e - p
            }),
            .init(name: "e_entry offset into its PT_LOAD", values: releases.map { Self.number($0, "size.elf.entry.offset") }),
            .init(name: "handover_offset", values: releases.map { Self.number($0, "header.handover_offset") }),
        ]
        return [
            ("init_size.svg", HistoryPlot(title: "init_size (header, BP-22) by release", releases: names,
                                          series: [.init(name: "init_size", values: releases.map { Self.number($0, "header.init_size") })]).svg),
            ("image-size.svg", HistoryPlot(title: "Image size by release", releases: names, series: [.init(name: "vmlinuz bytes", values: releases.map(\.imageSize))]).svg),
            ("entry-offsets.svg", HistoryPlot(title: "Entry offsets by release", releases: names, series: entry).svg),
        ]
    }
}

/// A line plot of values by release as self-contained SVG text (no external assets, no
/// scripts): one circle (class "point", with a <title> naming release and value) per release
/// that has a value, joined by a polyline per series; a linear y axis from 0 in hex.
public struct HistoryPlot: Sendable {
    public struct Series: Sendable {
        public let name: String
        public let values: [UInt64?]
        public init(name: String, values: [UInt64?]) { self.name = name; self.values = values }
    }
    public let title: String
    public let releases: [String]
    public let series: [Series]
    public init(title: String, releases: [String], series: [Series]) { self.title = title; self.releases = releases; self.series = series }

    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]

    public var svg: String {
        let left = 110.0, right = 20.0, top = 40.0, plotHeight = 300.0, bottom = 110.0
        let step = 36.0, plotWidth = max(step * Double(max(releases.count - 1, 1)), 200)
        let width = left + plotWidth + right, height = top + plotHeight + bottom + 20 * Double(series.count)
        let top0 = series.flatMap { $0.values.compactMap { $0 } }.max() ?? 0
        let yMax = Double(max(top0, 1)) * 1.05
        func x(_ i: Int) -> Double { left + (releases.count > 1 ? plotWidth * Double(i) / Double(releases.count - 1) : plotWidth / 2) }
        func y(_ v: UInt64) -> Double { top + plotHeight - plotHeight * Double(v) / yMax }
        func f(_ d: Double) -> String { String(format: "%.1f", d) }
        var s = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" font-family="sans-serif" font-size="11">
            <title>\(xmlEscape(title))</title>
            <rect x="0" y="0" width="\(f(width))" height="\(f(height))" fill="white"/>
            <text x="\(f(left))" y="20" font-size="14" font-weight="bold">\(xmlEscape(title))</text>
            <line x1="\(f(left))" y1="\(f(top))" x2="\(f(left))" y2="\(f(top + plotHeight))" stroke="black"/>
            <line x1="\(f(left))" y1="\(f(top + plotHeight))" x2="\(f(left + plotWidth))" y2="\(f(top + plotHeight))" stroke="black"/>

            """
        for t in 0...4 {
            let v = UInt64(yMax * Double(t) / 4)
            s += "<line x1=\"\(f(left - 4))\" y1=\"\(f(y(v)))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(y(v)))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(hex(v))</text>\n"
        }
        for (i, r) in releases.enumerated() {
            s += "<text x=\"\(f(x(i)))\" y=\"\(f(top + plotHeight + 12))\" text-anchor=\"end\" transform=\"rotate(-60 \(f(x(i))) \(f(top + plotHeight + 12)))\">\(xmlEscape(r))</text>\n"
        }
        for (n, ser) in series.enumerated() {
            let colour = Self.colours[n % Self.colours.count]
            let points = ser.values.enumerated().compactMap { i, v in v.map { (i, $0) } }
            s += "<g class=\"series\" data-name=\"\(xmlEscape(ser.name))\">\n"
            if points.count > 1 {
                s += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(points.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " "))\"/>\n"
            }
            for (i, v) in points {
                s += "<circle class=\"point\" cx=\"\(f(x(i)))\" cy=\"\(f(y(v)))\" r=\"3\" fill=\"\(colour)\"><title>\(xmlEscape(releases[i])): \(xmlEscape(ser.name)) = \(hex(v)) (\(v))</title></circle>\n"
            }
            s += "</g>\n"
            let ly = top + plotHeight + bottom + 20 * Double(n)
            s += "<rect x=\"\(f(left))\" y=\"\(f(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/><text x=\"\(f(left + 16))\" y=\"\(f(ly))\">\(xmlEscape(ser.name))</text>\n"
        }
        return s + "</svg>\n"
    }
}
