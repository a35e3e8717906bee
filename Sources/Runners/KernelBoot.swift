import Conformance
import HarnessKVM
import Foundation
import Glibc

/// How a real kernel is booted to the initramfs's userspace marker.
public enum KernelBootPath: String, Sendable, CaseIterable {
    /// QEMU's own loader: `-kernel/-initrd/-append` on the pc machine, through SeaBIOS.
    case qemuLoader = "qemu-loader"
    /// The reference loader's memory image (`conform bundle`) under QEMU, with the -bios stub:
    /// no firmware between reset and the trampoline.
    case referenceBundle = "reference-bundle"
    /// The reference loader's memory under HarnessKVM.
    case harness = "harnesskvm"
}

public struct KernelBootResult: Sendable {
    public let path: KernelBootPath
    public let kernel: String
    /// What the loader handed over, as far as it is known (QEMU's own loader: command line and initrd files only).
    public let handoff: Handoff
    /// The reference loader's result (bundle and HarnessKVM paths).
    public let load: LoadResult?
    public let qemu: QEMUReport?
    public let harness: BootReport?
    public let report: KernelReport?
    public let reportError: String?
    public let checks: [ObservedCheck]
    /// Time from start to the userspace end marker (nil if it never appeared).
    public let toMarker: Duration?
    public let elapsed: Duration

    public var reachedUserspace: Bool { report != nil }
    public var failedChecks: [ObservedCheck] { checks.filter { $0.outcome == .fail } }
    public var passed: Bool { reachedUserspace && failedChecks.isEmpty }
    /// How the run ended, in one line.
    public var outcome: String {
        if let q = qemu { return q.summary }
        if let h = harness {
            let at = h.finalRIP.map { " at RIP \(hex($0))\(h.finalMode.map { " (\($0))" } ?? "")" } ?? ""
            return "\(h.outcome)\(at) after \(String(format: "%.2f", h.elapsed.seconds)) s under HarnessKVM on \(h.flavor); \(h.serial.count) serial bytes"
        }
        return "not run"
    }
}

public struct KernelBootError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

public enum KernelBoot {
    /// `no_timer_check`: the kernel's IO-APIC timer check (`timer_irq_works`) waits about 160M
    /// TSC cycles for more than four PIT ticks and panics ("IO-APIC + timer doesn't work!")
    /// when they have not arrived. Under QEMU's TCG on a loaded host the TSC runs on while the
    /// thread that delivers the ticks waits for a core, so the check fails by chance: CI saw it
    /// once in sixteen real-kernel boots (Debian 6.1 ELF by QEMU's loader, 2026-11-27). It is
    /// not a loader obligation, and the parameter only skips that check.
    public static let defaultCommandLine = "console=ttyS0 panic=-1 quiet no_timer_check"

    static func initrdFiles(_ path: String) throws(KernelBootError) -> [Newc.Entry] {
        guard let d = FileManager.default.contents(atPath: path) else { throw KernelBootError(message: "\(path): cannot read the initrd") }
        do { return try Newc.entries([UInt8](d)) } catch { throw KernelBootError(message: "\(path): \(error)") }
    }

    static func finish(path: KernelBootPath, kernel: String, handoff: Handoff, load: LoadResult?, qemu: QEMUReport?, harness: BootReport?, serial: [UInt8], toMarker: Duration?, elapsed: Duration) -> KernelBootResult {
        var report: KernelReport? = nil, err: String? = nil, checks: [ObservedCheck] = []
        do { report = try KernelReport.parse(serial: serial); checks = KernelObservedChecks.compare(report!, with: handoff) } catch { err = error.description }
        return KernelBootResult(path: path, kernel: kernel, handoff: handoff, load: load, qemu: qemu, harness: harness, report: report, reportError: err,
                                checks: checks, toMarker: report == nil ? nil : toMarker, elapsed: elapsed)
    }

    /// QEMU as the loader under test.
    public static func qemuLoader(kernel: String, initrd: String, commandLine: String = defaultCommandLine, memoryMiB: Int = 1024,
                                  accel: QEMUAccel = .automatic, timeout: Duration = .seconds(120)) throws -> KernelBootResult {
        let files = try initrdFiles(initrd)
        var b = QEMUBoot(kernel: kernel, initrd: initrd, append: commandLine)
        b.memoryMiB = memoryMiB; b.accel = accel; b.timeout = timeout; b.marker = KernelReport.endMarker
        let q = try QEMURunner.run(b)
        let h = Handoff(zeroPage: nil, commandLine: Array(commandLine.utf8), e820: nil, initrdRange: nil, initrdFiles: files,
                        imageFormat: (try? KernelImage(source: FileSource(path: kernel)).formatName) ?? "unknown", entry: nil)
        return finish(path: .qemuLoader, kernel: kernel, handoff: h, load: nil, qemu: q, harness: nil, serial: q.serial, toMarker: q.toMarker, elapsed: q.elapsed)
    }

    /// Loads with the reference loader (throws LoadError when it refuses the image).
    public static func load(kernel: String, initrd: String, commandLine: String, options: LoadOptions) throws -> LoadResult {
        var o = options
        o.commandLine = commandLine
        let src = try FileSource(path: kernel), rd = try FileSource(path: initrd)
        return try ReferenceLoader.load(kernel: src, initrd: rd, options: o)
    }

    /// The reference loader's exact memory image under QEMU, entered by the -bios stub.
    public static func referenceBundle(kernel: String, initrd: String, commandLine: String = defaultCommandLine, options: LoadOptions = LoadOptions(),
                                       accel: QEMUAccel = .automatic, timeout: Duration = .seconds(120)) throws -> KernelBootResult {
        let files = try initrdFiles(initrd)
        let r = try load(kernel: kernel, initrd: initrd, commandLine: commandLine, options: options)
        let q = try QEMURunner.run(bundle: try PVHBundle(r), accel: accel, timeout: timeout, marker: KernelReport.endMarker)
        return finish(path: .referenceBundle, kernel: kernel, handoff: Handoff.of(r, initrdFiles: files), load: r, qemu: q, harness: nil, serial: q.serial, toMarker: q.toMarker, elapsed: q.elapsed)
    }

    /// The reference loader's memory under HarnessKVM. On a software KVM this runs until the
    /// time limit (Linux needs minutes there); the result says how far it got.
    public static func harness(kernel: String, initrd: String, commandLine: String = defaultCommandLine, options: LoadOptions = LoadOptions(),
                               timeout: Duration = .seconds(60), system: KVMSystem) throws -> KernelBootResult {
        let files = try initrdFiles(initrd)
        let r = try load(kernel: kernel, initrd: initrd, commandLine: commandLine, options: options)
        // The kernel runs on this very memory: what the loader handed over is read first.
        let handoff = Handoff.of(r, initrdFiles: files)
        let rep = try Harness.boot(r, system: system, options: BootOptions(timeout: timeout, serialLimit: 16 << 20, marker: KernelReport.endMarker))
        return finish(path: .harness, kernel: kernel, handoff: handoff, load: r, qemu: nil, harness: rep, serial: rep.serial,
                      toMarker: rep.outcome == .reachedMarker ? rep.elapsed : nil, elapsed: rep.elapsed)
    }
}
