import Conformance
import Foundation

/// The terminal form of an arm64/riscv64 Image judged by the A64/RV catalogue: what the
/// reference Image loader placed (`conform load IMAGE`) or what an Image probe reported
/// (`conform judge`), then the verdicts as `verdictLines` gives them, each failure that a
/// recorded deviation explains followed by that record's evidence.
public enum ImageVerdictText {
    /// The reference Image loader's placement: each block, the entry registers, the verdicts.
    public static func load(_ path: String, _ r: ImageLoadResult, verdicts: [Verdict], showAll: Bool) -> [String] {
        let s = r.snapshot
        var out = ["\(path): \(s.architecture) Image, text_offset \(hex(r.header.textOffset)), image_size \(hex(r.header.imageSize)), flags \(hex(r.header.flags)); RAM \(s.ram.map(\.description).joined(separator: ", "))"]
        out += s.warnings.map { "warning: \($0)" }
        out.append("\nguest memory the loader writes:")
        out.append("  start               end                 size        what")
        for b in r.blocks { out.append("  \(hex(b.range.start).rightPad(18))  \(hex(b.range.end).rightPad(18))  \(hex(b.range.length).rightPad(10))  \(b.name)") }
        if !s.firmware.isEmpty { out.append("  firmware kept clear: \(s.firmware.map(\.description).joined(separator: ", "))") }
        out.append("\nentry: trampoline at \(hex(r.trampoline)), then the kernel at \(hex(s.loadAddress)) with " + zip(registerNames(s.architecture), s.registers).map { "\($0) = \(hex($1))" }.joined(separator: ", "))
        out.append("\nverdicts:")
        return out + verdictLines(verdicts, showAll: showAll)
    }

    /// An Image probe's report as judged: the run's facts, the verdicts, and for each failure
    /// a recorded deviation of `loader` explains, that record.
    public static func judged(_ s: ImageBootSnapshot, variant: String, verdicts: [Verdict], loader: String?, known: [KnownDeviation], showAll: Bool) -> [String] {
        var out = ["\(s.architecture) Image probe report: variant \(variant.isEmpty ? "(none)" : variant), loaded at \(hex(s.loadAddress)), DTB at \(hex(s.dtbAddress)), "
                   + zip(registerNames(s.architecture), s.registers).map { "\($0) = \(hex($1))" }.joined(separator: " ")]
        if let loader, !KnownDeviations.all.contains(where: { $0.loader == loader }) { out.append("  note: no deviations are recorded for loader '\(loader)'") }
        out += verdictLines(verdicts, showAll: showAll, expectedFailures: Set(verdicts.filter { v in KnownDeviation.explaining(v, in: known) != nil }.map(\.rule)))
        for v in verdicts { if let d = KnownDeviation.explaining(v, in: known) { out.append("    \(v.rule): known \(d.loader) deviation: \(d.what)\n      source: \(d.evidence)") } }
        return out + [verdictSummary(verdicts, loader: loader, explained: verdicts.filter { KnownDeviation.explaining($0, in: known) != nil }.count)]
    }

    static func registerNames(_ a: ImageBootSnapshot.Architecture) -> [String] { a == .arm64 ? ["x0", "x1", "x2", "x3"] : ["a0", "a1", "a2", "a3"] }
}
