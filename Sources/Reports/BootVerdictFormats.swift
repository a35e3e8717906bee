import Conformance
import Foundation

/// The terminal form of an x86 load or probe report judged by the BP catalogue: what the
/// reference loader placed (`conform load KERNEL`) or what an x86 probe reported (`conform
/// judge`), then the verdicts. The arm64/riscv64 twin is `ImageVerdictText`.
public enum BootVerdictText {
    /// The reference loader's load: the image and entry, each region, the kernel window, the
    /// e820 map handed over, the entry registers, and the verdicts as `verdictLines` gives them.
    public static func load(_ path: String, _ r: LoadResult, verdicts: [Verdict], showAll: Bool) -> [String] {
        let e = r.entry
        var out = ["\(path): \(r.image.formatName), entry \(e.entryPoint.rawValue)-bit\(e.entryPoint == .pvh ? " (PVH)" : "") at \(hex(e.rip)); guest RAM \(hex(r.layout.size)) bytes"]
        out += r.warnings.map { "\($0)" }
        out.append("\nguest memory map:")
        out.append("  start               end                 size        what")
        for reg in r.regions { out.append("  \(hex(reg.range.start).rightPad(18))  \(hex(reg.range.end).rightPad(18))  \(hex(reg.range.length).rightPad(10))  \(reg.name)") }
        out.append("  kernel window W: \(r.kernelWindow)")
        out.append("\ne820 handed over:")
        out += r.e820.map { "  \($0)" }
        out.append("\nentry state: RIP \(hex(e.rip)) RSI \(hex(e.rsi)) RBX \(hex(e.rbx)) RSP \(hex(e.rsp)) CR0 \(hex(e.cr0)) CR3 \(hex(e.cr3)) CR4 \(hex(e.cr4)) EFER \(hex(e.efer)) GDTR \(hex(e.gdtr.base))/\(hex(e.gdtr.limit)) CS \(hex(e.cs.selector)) DS \(hex(e.ds.selector))")
        out.append("\nverdicts:")
        return out + verdictLines(verdicts, showAll: showAll)
    }

    /// An x86 probe's report as judged: the run's facts and `notes` (how the variant was
    /// identified), what the probe could not read, each failure (every verdict with `showAll`)
    /// with the recorded deviation of `loader` that explains it, and the counts.
    public static func judged(_ report: ProbeReport, notes: [String], verdicts: [Verdict], loader: String?, known: [KnownDeviation], showAll: Bool) -> [String] {
        var out = ["probe report: variant \(report.variant.isEmpty ? "(none)" : report.variant), entry \(report.entryPoint.rawValue), loaded at \(hex(report.base)), \(report.lineCount) lines"]
        out += notes.map { "  note: \($0)" }
        out += report.unreadable.map { "  the probe could not read: \($0)" }
        if let loader, !KnownDeviations.all.contains(where: { $0.loader == loader }) { out.append("  note: no deviations are recorded for loader '\(loader)'") }
        for v in verdicts where showAll || v.outcome == .fail || v.outcome == .warn {
            out.append("  \(v.outcome == .fail ? "FAIL" : v.outcome.rawValue.uppercased()) \(v.rule): \(v.evidence)")
            if let d = KnownDeviation.explaining(v, in: known) { out.append("       known \(d.loader) deviation: \(d.what)\n       source: \(d.evidence)") }
        }
        return out + [verdictSummary(verdicts, loader: loader, explained: verdicts.filter { KnownDeviation.explaining($0, in: known) != nil }.count)]
    }

    /// A probe whose own image is no variant's and whose garbled variant name fits none: BP-19
    /// alone is judged, since nothing else can be without knowing what the loader was given.
    public static func corruptedUnknown(_ report: ProbeReport, index: String, bp19: Verdict) -> [String] {
        ["probe report: variant '\(report.variant)' (not in \(index)), entry \(report.entryPoint.rawValue), loaded at \(hex(report.base)), \(report.lineCount) lines",
         "  FAIL BP-19: \(bp19.evidence)",
         "  other rules not judged: the garbled name matches no one variant; give --kernel and --cmdline to judge the rest"]
    }
}
