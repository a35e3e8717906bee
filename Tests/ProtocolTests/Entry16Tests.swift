import Conformance
import Foundation
import HarnessKVM
import Testing

/// Probe variants written to files, for loaders that read files (QEMU, GRUB's ISO).
enum ProbeFiles {
    /// The bzImage variants: every case with a 16-bit setup entry.
    static var bzVariants: [CorpusCase] { Probe.variants.filter { $0.kind == "bzImage" } }

    /// Writes the variant's image (and initrd) into `dir`; returns their paths.
    static func write(_ c: CorpusCase, to dir: String) throws -> (kernel: String, initrd: String?) {
        let k = dir + "/\(c.id).bzImage"
        try Data(c.image).write(to: URL(fileURLWithPath: k))
        var i: String? = nil
        if let rd = c.initrd { i = dir + "/\(c.id).initrd"; try Data(rd).write(to: URL(fileURLWithPath: i!)) }
        return (k, i)
    }
}

/// The 16-bit entry as a real loader uses it: QEMU `-kernel` on the `pc` machine (SeaBIOS and
/// its linuxboot_dma option ROM, which enters the real-mode setup code). Every bzImage
/// variant's report is judged; the only failures allowed are QEMU's recorded deviations
/// (KnownDeviations, each with its source), and each recorded deviation must still occur.
@Suite("Entry16QEMU", .serialized)
struct Entry16QEMUTests {
    @Test(.enabled(if: QEMU.installed, "\(QEMU.why)"), .hangGuard, arguments: ProbeFiles.bzVariants)
    func qemuPCLoaderIsJudgedByTheSixteenBitRules(_ c: CorpusCase) async throws {
        _ = try Probe.require()
        let dir = try Scratch.directory("entry16")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try ProbeFiles.write(c, to: dir)
        let image = try ImageRecord.record(try KernelImage(source: MemorySource(name: c.id, bytes: c.image)), source: MemorySource(name: c.id, bytes: c.image))
        let known = KnownDeviations.of(loader: "qemu-pc", image: image)
        var boot = QEMUBoot(kernel: files.kernel, initrd: files.initrd, append: c.options.commandLine)
        boot.machine = "pc"
        boot.memoryMiB = 1024
        // A deviation that keeps the setup code from running leaves QEMU spinning: the limit
        // ends that run; a report arrives in well under a second under TCG otherwise.
        let noReport = known.first { $0.preventsReport }
        boot.timeout = noReport == nil ? .seconds(120) : .seconds(20)
        let run = boot
        let r = try await offPool { try QEMURunner.run(run) }
        if let noReport {
            #expect(throws: ProbeReportError.self, "\(noReport) no longer prevents the report: update KnownDeviations") { try ProbeReport.parse(serial: r.serial) }
            return
        }
        #expect(r.outcome == .exited(status: 1), "\(r.summary)")
        let report = try ProbeReport.parse(serial: r.serial)
        #expect(report.entryPoint == .setup16, "QEMU's pc loader enters the real-mode setup code")
        #expect(report.firmwareMapStatus == .complete, "SeaBIOS answers INT 15h E820")
        let j = try ProbeJudgement(report: report, kernel: MemorySource(name: c.id, bytes: c.image), initrd: c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) },
                                   commandLine: c.options.commandLine, loader: "qemu-pc")
        #expect(j.unexplained.isEmpty, "\(c.id): \(j.unexplained)")
        for d in j.known where !d.preventsReport {
            #expect(j.failures.contains { $0.rule == d.rule }, "\(d) no longer shows: update KnownDeviations")
        }
        // The 16-bit rules were judged, not skipped.
        for id in ["BP-45", "BP-46", "BP-25", "BP-28", "BP-13"] {
            #expect(j.verdicts.first { $0.rule == id }?.outcome != .notApplicable, "\(id) was not judged at the 16-bit entry")
        }
    }
}
