import Conformance
import Foundation

/// The surface diff as text, JSON and Markdown, shared by gate, diff and their reports: the
/// changes that matter first (breaking, then needs attention, then informational), build noise
/// grouped and collapsed to one line.
extension Array where Element == SurfaceChange {
    /// The changes that are not build noise, most urgent first, in surface order within a class.
    public var significant: [SurfaceChange] {
        let kept = filter { !$0.noise }
        return SurfaceChange.Impact.allCases.reversed().flatMap { i in kept.filter { $0.impact == i } }
    }
    public var noise: [SurfaceChange] { filter(\.noise) }

    /// "2 breaking, 1 needs-attention, 5 informational, 12 build noise".
    public var impactCounts: String {
        let counts = SurfaceChange.Impact.allCases.reversed().map { i in "\(filter { !$0.noise && $0.impact == i }.count) \(i.rawValue)" }
        return (counts + ["\(noise.count) build noise"]).joined(separator: ", ")
    }

    /// One line per significant change, then one for the build noise.
    public var lines: [String] {
        var out = significant.map { c in "\(c.impact.symbol) \(c.impact.rawValue) \(c.key): \(c.old ?? "—") → \(c.new ?? "—")  (\(c.reason))" }
        if !noise.isEmpty { out.append("· build noise (\(noise.count), collapsed): " + noise.map(\.key).joined(separator: ", ")) }
        return out
    }

    public var json: [[String: Any]] {
        map { ["key": $0.key, "old": $0.old ?? NSNull(), "new": $0.new ?? NSNull(), "impact": $0.impact.rawValue, "noise": $0.noise, "reason": $0.reason] as [String: Any] }
    }

    /// A table of the significant changes and a collapsed <details> block of the noise.
    public var markdown: String {
        func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var m = ""
        if !significant.isEmpty {
            m += "| Impact | Item | Before | After | Why it matters to a loader |\n|---|---|---|---|---|\n"
            for c in significant { m += "| \(c.impact.rawValue) | `\(c.key)` | \(cell(c.old ?? "—")) | \(cell(c.new ?? "—")) | \(cell(c.reason)) |\n" }
            m += "\n"
        }
        if !noise.isEmpty {
            m += "<details><summary>Build noise: \(noise.count) change\(noise.count == 1 ? "" : "s") (sizes, addresses and IDs that change with every build)</summary>\n\n"
            m += "| Item | Before | After |\n|---|---|---|\n" + noise.map { "| `\($0.key)` | \(cell($0.old ?? "—")) | \(cell($0.new ?? "—")) |\n" }.joined() + "\n</details>\n\n"
        }
        return m
    }
}

extension SurfaceChange.Impact {
    /// ✗ breaking, ! needs attention, · informational.
    public var symbol: String {
        switch self {
        case .breaking: "✗"
        case .needsAttention: "!"
        case .informational: "·"
        }
    }
}
