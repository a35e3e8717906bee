import Conformance
import Reports
import Runners
import ConformanceFixtures
import Foundation
import HarnessKVM
import TestSupport
import Testing

/// The probe judge's cases that need a boot under HarnessKVM (the rest are in ProbeJudge).
@Suite("ProbeJudgeBoots")
struct ProbeJudgeBootTests {
    /// The probe side of item 1: booted with such a zero page, the probe reports the command
    /// line (it used to report it only for version ≥ 0x202), and BP-27 passes on it.
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func probeReportsTheCommandLineOfAnELFStyleZeroPage() throws {
        _ = try Probe.require()
        let c = try #require(Probe.variants.first { $0.id == "elf-direct-64" }, "the elf-direct-64 probe variant")
        let kernel = MemorySource(name: c.id, bytes: c.image)
        let initrd = c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) }
        let loaded = try ReferenceLoader.load(kernel: kernel, initrd: initrd, options: c.options)
        let b = try #require(loaded.bootParams)
        try loaded.memory.write([UInt8](repeating: 0, count: 0x208 - 0x1FE), at: b + 0x1FE)
        try loaded.memory.write([0, 0, 0, 0], at: b + 0x238)
        let boot = try Harness.boot(loaded, system: KVM.system, options: BootOptions(timeout: .seconds(20)))
        let report = try ProbeReport.parse(serial: boot.serial)
        let piece = try #require(report.piece("cmdline"), "no cmdline line in the report")
        #expect(piece.address == loaded.commandLine.address)
        #expect(piece.bytes == Array(c.options.commandLine.utf8) + [0])
        let snap = try BootSnapshot.of(loaded, kernel: kernel, initrd: initrd, commandLine: c.options.commandLine)
        let guest = report.snapshot(image: snap.image, inputs: snap.inputs, known: try KnownContent.of(kernel: kernel, initrd: initrd), producer: "test")
        #expect(try Verdicts.of(guest, "BP-27").outcome == .pass)
        // The probe does not follow setup_data from a zero page without a version: BP-41 is
        // n/a, not failed, for the node it did not read (item 4).
        #expect(Verdicts.failing(guest).isEmpty, "\(Verdicts.failing(guest))")
    }

    /// The same under HarnessKVM: a loader that corrupts the probe's variant string in the
    /// kernel it placed. The report parses, the name is garbled, and BP-19 fails.
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func loaderThatCorruptsTheKernelIsNamedBP19() throws {
        let build = try Probe.require()
        let (dir, index) = try ProbeImages.write(["bz-2.15", "elf-direct-64"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = try #require(Probe.variants.first { $0.id == "bz-2.15" })
        let kernel = MemorySource(name: c.id, bytes: c.image)
        let initrd = c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) }
        let loaded = try ReferenceLoader.load(kernel: kernel, initrd: initrd, options: c.options)
        try loaded.memory.write([0x01], at: loaded.kernelAddress + UInt64(build.variantField) + 5)   // "bz-2.\u{1}5"
        let boot = try Harness.boot(loaded, system: KVM.system, options: BootOptions(timeout: .seconds(20)))
        let report = try ProbeReport.parse(serial: boot.serial)
        #expect(report.variant == "bz-2.")
        guard case .imageCorrupted(let v, let guess) = index.identify(report) else { Issue.record("not named BP-19"); return }
        #expect(v.outcome == .fail && v.rule == "BP-19")
        let g = try #require(guess)
        let src = try FileSource(path: index.imagePath(g))
        let rd = try index.initrdPath(g).map { try FileSource(path: $0) }
        let snap = report.snapshot(image: try ImageRecord.record(try KernelImage(source: src), source: src), inputs: try InputRecord.of(commandLine: g.commandLine, initrd: rd),
                                   known: try KnownContent.of(kernel: src, initrd: rd), producer: "test")
        #expect(Set(Verdicts.failing(snap).keys) == ["BP-19"], "\(Verdicts.failing(snap))")
        #expect(Verdicts.failing(snap)["BP-19"]?.contains("not copied byte for byte") == true, "\(Verdicts.failing(snap))")
    }
}
