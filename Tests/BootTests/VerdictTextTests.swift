import Conformance
import ConformanceFixtures
import Foundation
import Reports
import TestSupport
import Testing

/// `conform load`, `conform judge` (x86) and `conform benchmark` as Reports writes them.
@Suite("VerdictText")
struct VerdictTextTests {
    /// The load's own figures (entry, every region, W, the e820 map) are in the text, and a
    /// failing verdict shows with its evidence.
    @Test func loadShowsEveryRegionTheWindowAndFailures() throws {
        let c = try syntheticImage("bz-2.15")
        let src = MemorySource(name: c.id, bytes: c.image)
        let r = try ReferenceLoader.load(kernel: src, initrd: c.initrd.map { MemorySource(name: "rd", bytes: $0) }, options: c.options)
        let failing = Verdict(rule: "BP-23", outcome: .fail, evidence: "window [0x1, 0x2) wraps")
        let lines = BootVerdictText.load("k.bz", r, verdicts: [Verdict(rule: "BP-11", outcome: .pass, evidence: "ok"), failing], showAll: false)
        #expect(lines[0].hasPrefix("k.bz: ") && lines[0].contains(hex(r.entry.rip)) && lines[0].contains(hex(r.layout.size)))
        for reg in r.regions { #expect(lines.contains { $0.contains(hex(reg.range.start)) && $0.hasSuffix(reg.name) }, "region \(reg.name)") }
        #expect(lines.contains("  kernel window W: \(r.kernelWindow)"))
        // Column layout, written out: 18-wide start and end, 10-wide size.
        #expect(lines.contains("  0x7000              0x8000              0x1000      zero_page"))
        #expect(lines.contains("  start               end                 size        what"))
        #expect(r.e820.allSatisfy { e in lines.contains("  \(e)") })
        #expect(lines.contains { $0.contains("BP-23") && $0.contains("window [0x1, 0x2) wraps") })
        #expect(!lines.contains { $0.contains("BP-11") && $0.contains(": ok") }, "a pass's evidence shows only with showAll")
        #expect(BootVerdictText.load("k.bz", r, verdicts: [Verdict(rule: "BP-11", outcome: .pass, evidence: "ok")], showAll: true).contains { $0.contains("BP-11") && $0.hasSuffix(": ok") })
    }

    /// A failure a loader's record explains is followed by that record, and the counts say how
    /// many were explained; a loader with no records is named.
    @Test func judgedNamesTheDeviationThatExplainsAFailure() throws {
        let report = try ProbeReport.parse(serial: ProbeReportText.report("variant v1\n" + ProbeReportText.essentials))
        let d = try #require(KnownDeviations.all.first { !$0.preventsReport })
        let verdicts = [Verdict(rule: d.rule, outcome: .fail, evidence: "found 1"), Verdict(rule: "BP-99", outcome: .fail, evidence: "found 2"),
                        Verdict(rule: "BP-11", outcome: .pass, evidence: "ok"), Verdict(rule: "BP-12", outcome: .notApplicable, evidence: "n/a")]
        let lines = BootVerdictText.judged(report, notes: ["judged as 'v1'"], verdicts: verdicts, loader: d.loader, known: [d], showAll: false)
        #expect(lines[0] == "probe report: variant v1, entry 64, loaded at 0x1000000, \(report.lineCount) lines")
        #expect(lines.contains("  note: judged as 'v1'"))
        let at = try #require(lines.firstIndex(of: "  FAIL \(d.rule): found 1"))
        #expect(lines[at + 1].contains("known \(d.loader) deviation: \(d.what)"))
        #expect(lines.last == "1 pass, 0 warn, 2 fail (1 of them known \(d.loader) deviations), 1 n/a")
        let unknown = BootVerdictText.judged(report, notes: [], verdicts: verdicts, loader: "no-such-loader", known: [], showAll: false)
        #expect(unknown.contains("  note: no deviations are recorded for loader 'no-such-loader'"))
        #expect(unknown.last == "1 pass, 0 warn, 2 fail (0 of them known no-such-loader deviations), 1 n/a")
    }

    /// A probe whose image is no variant's and whose name fits none: BP-19 alone.
    @Test func corruptedProbeWithNoVariantJudgesBP19Alone() throws {
        let report = try ProbeReport.parse(serial: ProbeReportText.report("variant v?\n" + ProbeReportText.essentials))
        let lines = BootVerdictText.corruptedUnknown(report, index: "/x/index.json", bp19: Verdict(rule: "BP-19", outcome: .fail, evidence: "hash differs"))
        #expect(lines == ["probe report: variant 'v?' (not in /x/index.json), entry 64, loaded at 0x1000000, \(report.lineCount) lines",
                          "  FAIL BP-19: hash differs",
                          "  other rules not judged: the garbled name matches no one variant; give --kernel and --cmdline to judge the rest"])
    }

    /// The table's figures come from the document; a document missing parts does not trap.
    @Test func benchmarkTableFromItsDocument() {
        let doc: [String: Any] = ["machine": "m", "load": ["runs": 31, "loadMedianMs": 12.5, "readFloorMedianMs": 10.0, "ratio": 1.25],
                                  "probe": ["harnessMedianMs": 80.0, "harnessMinMs": 70.0, "harnessMaxMs": 90.0, "harnessRuns": 20, "qemuMedianMs": 2000.0, "qemuRuns": 5, "ratio": 25.0],
                                  "suite": ["wallSeconds": 99.5, "status": 0]]
        let t = BenchmarkText.table(doc, rounds: 5, probeAccel: "kvm")
        #expect(t[0] == "machine: m")
        #expect(t.contains("| Load 6.12 bzImage + 16 MiB initrd (median of 31) | 12.50 ms | read floor 10.00 ms | 1.25 (goal ≤ 1.5) |"))
        #expect(t.contains { $0.hasPrefix("| Probe boot") && $0.contains("HarnessKVM 80.0 ms (70.0–90.0, 20 boots)") && $0.contains("QEMU -accel kvm 2000.0 ms (5 boots)") })
        #expect(t.last == "| `swift test` wall time | 99.5 s (status 0) | | |")
        let empty = BenchmarkText.table([:], rounds: 1, probeAccel: "tcg")
        #expect(empty.contains { $0.contains("median of 0") && $0.contains("nan") })
    }
}
