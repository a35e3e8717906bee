import ArgumentParser
import Conformance
import Foundation
import HarnessKVM
import Reports
import Runners

/// Probe boot latency: HarnessKVM (VM creation → report → teardown) against QEMU booting the
/// same probe itself, measured in one run.
struct ProbeBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-probe",
        abstract: "Benchmark: boot a probe kernel under HarnessKVM and under qemu-system-x86_64 (its own PVH loader), side by side.",
        discussion: "Needs /dev/kvm, qemu-system-x86_64 and the probe variants (tools/build-corpus.sh). Build with -c release.")
    @Option(help: "Probe variant to boot (an ELF with a PVH note, so QEMU can load it).") var variant = "pvh-desc8"
    @Option(help: "Directory with the probe variants.") var probeImages = "Corpus/probe/images"
    @Option(help: "HarnessKVM boots.") var runs = 31
    @Option(help: "QEMU boots.") var qemuRuns = 3
    @Option(help: "QEMU accelerator: kvm (the issue's reference) or tcg.") var accel = "kvm"
    @Option(help: "Seconds before a QEMU boot counts as a failure.") var qemuTimeout = 120.0
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        guard runs >= 3, runs <= 10_000, qemuRuns >= 1, qemuRuns <= 100 else { throw fail("--runs 3…10000, --qemu-runs 1…100") }
        guard ["kvm", "tcg"].contains(accel) else { throw fail("--accel must be kvm or tcg") }
        let availability = KVMAvailability.check()
        guard availability.isUsable else { throw fail("cannot benchmark: \(availability.reason)") }
        let path = "\(probeImages)/\(variant).elf"
        let src = try openSource(path, what: "probe variant")
        var o = LoadOptions(); o.entry = .pvh; o.memorySize = 256 << 20; o.commandLine = "console=ttyS0"
        let system: KVMSystem
        do { system = try KVMSystem() } catch { throw fail("\(error)") }
        var harness: [Double] = []
        for i in 0...runs {
            let loaded: LoadResult
            do { loaded = try ReferenceLoader.load(kernel: src, initrd: nil, options: o) } catch { throw fail("\(path): \(error)") }
            let r: BootReport
            do { r = try Harness.boot(loaded, system: system, options: BootOptions(timeout: .seconds(30))) } catch { throw fail("\(error)") }
            guard r.outcome == .exited(code: 0) else { throw fail("\(path): HarnessKVM boot \(i): \(r.outcome)") }
            if i > 0 { harness.append(milliseconds(r.elapsed)) }   // the first boot warms caches
        }
        var qemu: [Double] = []
        for i in 0..<qemuRuns {
            var q = QEMUBoot(kernel: path)
            q.memoryMiB = 256; q.accel = accel == "kvm" ? .kvm : .tcg; q.timeout = .milliseconds(Int(qemuTimeout * 1000))
            let r: QEMUReport
            do { r = try QEMURunner.run(q) } catch { throw fail("\(error)") }
            // isa-debug-exit: the probe's status 0 makes QEMU exit with (0 << 1) | 1.
            guard r.outcome == .exited(status: 1), !r.serial.isEmpty else { throw fail("QEMU boot \(i): \(r.summary)") }
            qemu.append(milliseconds(r.elapsed))
        }
        let mh = median(harness), mq = median(qemu)
        if json {
            writeJSON(["variant": variant, "kvm": availability.reason, "harnessRuns": runs, "harnessMedianMs": mh, "harnessMinMs": harness.min()!, "harnessMaxMs": harness.max()!,
                       "qemuAccel": accel, "qemuRuns": qemuRuns, "qemuMedianMs": mq, "ratio": mq / mh])
        } else {
            print("probe \(path); \(availability.reason)")
            print(String(format: "  HarnessKVM, VM creation → report → teardown: median %.2f ms (min %.2f, max %.2f), %d boots", mh, harness.min()!, harness.max()!, runs))
            print(String(format: "  qemu-system-x86_64 -accel %@ (its PVH loader), start → exit: median %.2f ms, %d boots", accel, mq, qemuRuns))
            print(String(format: "  QEMU / HarnessKVM: %.1f× (goal ≥ 20×); HarnessKVM median goal ≤ 5 ms", mq / mh))
        }
    }
}
