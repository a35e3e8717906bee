import ArgumentParser
import Conformance
import Foundation
import HarnessKVM

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
        let out = NSTemporaryDirectory() + "conform-bench-qemu-\(getpid()).out"
        defer { try? FileManager.default.removeItem(atPath: out) }
        for i in 0..<qemuRuns {
            let (t, status, bytes) = try QEMURun.boot(kernel: path, accel: accel, serialFile: out, timeout: qemuTimeout)
            // isa-debug-exit: the probe's status 0 makes QEMU exit with (0 << 1) | 1.
            guard status == 1, bytes > 0 else { throw fail("QEMU boot \(i): exit status \(status), \(bytes) serial bytes (timeout \(qemuTimeout) s)") }
            qemu.append(t)
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

/// Runs qemu-system-x86_64 on a kernel with COM1 to a file and the debug-exit device; always
/// reaps the process.
enum QEMURun {
    static func boot(kernel: String, accel: String, serialFile: String, timeout: Double) throws -> (ms: Double, status: Int32, serialBytes: Int) {
        let candidates = ["/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64"]
        guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw fail("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
        }
        try? FileManager.default.removeItem(atPath: serialFile)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-accel", accel, "-M", "pc", "-m", "256", "-nodefaults", "-display", "none", "-no-reboot",
                       "-kernel", kernel, "-serial", "file:\(serialFile)", "-device", "isa-debug-exit,iobase=0x501,iosize=2"]
        p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
        let t0 = DispatchTime.now().uptimeNanoseconds
        do { try p.run() } catch { throw fail("cannot start \(exe): \(error.localizedDescription)") }
        let deadline = DispatchTime.now() + timeout
        while p.isRunning && DispatchTime.now() < deadline { usleep(1000) }
        if p.isRunning { p.terminate(); usleep(200_000); if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        p.waitUntilExit()
        let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        let n = (try? FileManager.default.attributesOfItem(atPath: serialFile)[.size] as? Int) ?? 0
        return (t, p.terminationReason == .exit ? p.terminationStatus : -1, n ?? 0)
    }
}
