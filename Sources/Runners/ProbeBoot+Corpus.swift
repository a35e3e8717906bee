import Conformance
import ConformanceFixtures
import Foundation
import HarnessKVM

/// The probe variants of the synthetic corpus, booted under HarnessKVM or, as a bundle, under QEMU.
extension ProbeBoot {
    /// The probe variant `c` loaded by the reference loader, written as a bundle and booted by
    /// QEMU through the -bios stub: the guest's view must match the loader's exactly, which
    /// shows the bundle's trampoline recreates the entry state the loader described.
    public static func bundle(_ c: CorpusCase, accel: QEMUAccel = .tcg, timeout: Duration = .seconds(30)) throws -> (qemu: QEMUReport, views: Views, bundle: PVHBundle) {
        let kernel = MemorySource(name: c.id, bytes: c.image), initrd = c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) }
        let loaded = try ReferenceLoader.load(kernel: kernel, initrd: initrd, options: c.options)
        let snap = try BootSnapshot.of(loaded, kernel: kernel, initrd: initrd, commandLine: c.options.commandLine)
        let verdicts = judge(snap)
        let before = preBootCopy(loaded)
        let b = try PVHBundle(loaded)
        let run = try QEMURunner.run(bundle: b, accel: accel, timeout: timeout)
        let v = try views(serial: run.serial, loaded: loaded, snapshot: snap, loaderVerdicts: verdicts, before: before, kernel: kernel, initrd: initrd, producer: "probe(\(c.id)) bundle under QEMU")
        return (run, v, b)
    }

    /// Boots the probe variant `c` with its corpus load options.
    public static func run(_ c: CorpusCase, system: KVMSystem? = nil, timeout: Duration = .seconds(5), poison: UInt64? = nil) throws -> ProbeBootResult {
        try boot(kernel: MemorySource(name: c.id, bytes: c.image), initrd: c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) },
                 options: c.options, system: system, bootOptions: BootOptions(timeout: timeout, serialLimit: 1 << 20, poison: poison),
                 producer: "probe(\(c.id)) under HarnessKVM" + (poison == nil ? "" : ", poisoned RAM"))
    }
}
