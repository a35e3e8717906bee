import ArgumentParser
import Conformance
import ConformanceFixtures
import Foundation
import HarnessKVM
import Reports
import Runners

/// Time to the userspace marker: QEMU's own loader (through its firmware) against the
/// reference loader's bundle (no firmware), same kernel, same accelerator, interleaved rounds.
struct BootBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-boot",
        abstract: "Benchmark time to the userspace marker: QEMU's loader vs the reference loader's bundle.",
        discussion: """
        Each round boots, in turn: the bzImage by QEMU's loader (-kernel, SeaBIOS, 16-bit setup \
        entry), the same bzImage as a reference bundle (-bios stub, 64-bit entry), the ELF \
        vmlinux by QEMU's loader (its PVH path, after SeaBIOS), and the ELF vmlinux as a \
        reference bundle. Medians over the rounds, and ratios QEMU / reference.
        """)
    @Option(help: "Kernel series from the corpus manifest (6.1 or 6.12).") var series = "6.12"
    @Option(help: "Flavour (cloud or generic).") var flavour = "cloud"
    @Option(help: "Rounds (each boots all four).") var rounds = 5
    @Option(help: "QEMU accelerator: auto, kvm or tcg.") var accel = "auto"
    @Option(help: "Corpus directory.") var corpus = "Corpus"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let a = QEMUAccel(rawValue: accel) else { throw fail("--accel '\(accel)' is not auto, kvm or tcg") }
        guard rounds >= 1 else { throw fail("--rounds must be at least 1") }
        let kernels: [RealKernel]
        do { kernels = try RealCorpus.load(directory: corpus) ?? [] } catch { throw fail(error.description) }
        guard let initrd = RealCorpus.initramfs(directory: corpus) else { throw fail("no initramfs in \(corpus)/initramfs/build: run tools/build-corpus.sh") }
        let pick = kernels.filter { $0.series == series && $0.flavour == flavour }
        guard let bz = pick.first(where: { $0.format == "bzImage" }), let elf = pick.first(where: { $0.format == "elf" }) else {
            throw fail("no \(series) \(flavour) bzImage and ELF in \(corpus)/real/manifest.json: run tools/build-corpus.sh")
        }
        let rows: [(String, KernelBootPath, RealKernel)] = [("bzImage, QEMU's loader (SeaBIOS, 16-bit entry)", .qemuLoader, bz),
                                                            ("bzImage, reference bundle (no firmware, 64-bit)", .referenceBundle, bz),
                                                            ("ELF, QEMU's loader (SeaBIOS, PVH)", .qemuLoader, elf),
                                                            ("ELF, reference bundle (no firmware, 64-bit)", .referenceBundle, elf)]
        var times = [[Double]](repeating: [], count: rows.count)
        let resolved = a.resolved()
        if !json { FileHandle.standardError.write(Data("bench-boot: \(bz.name) and \(elf.name), -accel \(resolved.rawValue), \(rounds) rounds\n".utf8)) }
        for round in 1...rounds {
            for (i, (name, path, k)) in rows.enumerated() {
                let r: KernelBootResult
                do {
                    r = path == .qemuLoader ? try KernelBoot.qemuLoader(kernel: k.path, initrd: initrd, accel: a, timeout: .seconds(300))
                        : try KernelBoot.referenceBundle(kernel: k.path, initrd: initrd, accel: a, timeout: .seconds(300))
                } catch { throw fail("\(name): \(error)") }
                guard let t = r.toMarker, r.passed else { throw fail("\(name), round \(round): did not pass: \(r.reportError ?? "") \(r.failedChecks.map(\.field)) \(r.outcome)") }
                times[i].append(t.seconds * 1000)
                if !json { FileHandle.standardError.write(Data(String(format: "  round %d: %@ %.0f ms\n", round, name, t.seconds * 1000).utf8)) }
            }
        }
        let med = times.map(median)
        let ratios = [("bzImage", med[0] / med[1]), ("ELF", med[2] / med[3]), ("QEMU bzImage / reference ELF", med[0] / med[3])]
        if json {
            writeJSON(["accel": resolved.rawValue, "rounds": rounds, "bzImage": bz.name, "elf": elf.name,
                       "paths": rows.enumerated().map { i, r in ["name": r.0, "medianMs": med[i], "minMs": times[i].min()!, "maxMs": times[i].max()!, "runsMs": times[i]] as [String: Any] },
                       "ratios": Dictionary(uniqueKeysWithValues: ratios.map { ($0.0, $0.1) })])
            return
        }
        print("time from QEMU start to the userspace marker, -accel \(resolved.rawValue), \(rounds) rounds, median (min–max):")
        for (i, r) in rows.enumerated() {
            print("  \(r.0.rightPad(52)) \(String(format: "%8.0f ms  (%.0f–%.0f)", med[i], times[i].min()!, times[i].max()!))")
        }
        for (name, ratio) in ratios {
            print(String(format: "  QEMU / reference, %@: %.2f× (reference %.0f%% faster; goal ≥ 20%%)", name, ratio, (1 - 1 / ratio) * 100))
        }
    }
}
