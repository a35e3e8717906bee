import Conformance
import Foundation
import Glibc

/// How QEMU's `virt` machine runs a real arm64 or riscv64 kernel (an Image) with its own loader
/// (`-kernel`, `-initrd`, `-append`): the emulator, the CPU and firmware, the console, and the
/// facts the checks compare against (RAM base, resident firmware).
public struct ImageKernelMachine: Sendable {
    public let architecture: ImageHandoff.Architecture
    public let emulator: String
    /// Everything between the accelerator and the memory size.
    public let machineArguments: [String]
    /// Where `virt` puts RAM (`ImagePlatform.virtRAMBase`).
    public var ramBase: UInt64 { ImagePlatform.virtRAMBase(architecture) }
    /// The console the kernel writes to (PL011 on arm64, the NS16550A on riscv64).
    public let console: String
    /// Resident firmware that must be reserved in the device tree: OpenSBI, which `-bios
    /// default` loads at the start of RAM (riscv64 only; arm64 `virt` runs no firmware here).
    /// (`ImagePlatform.VirtBoot.firmwareLoader`'s firmware: only its place is read here).
    public var firmwareAt: UInt64? { ImagePlatform.qemuVirt(architecture, boot: .firmwareLoader).firmware.first?.address }

    public static func of(_ a: ImageHandoff.Architecture) -> ImageKernelMachine {
        switch a {
        case .arm64:
            ImageKernelMachine(architecture: a, emulator: "qemu-system-aarch64", machineArguments: ["-M", "virt", "-cpu", "cortex-a57"], console: "ttyAMA0")
        case .riscv64:
            ImageKernelMachine(architecture: a, emulator: "qemu-system-riscv64", machineArguments: ["-M", "virt", "-bios", "default"], console: "ttyS0")
        }
    }

    /// Whether the emulator is on PATH.
    public var installed: Bool { HostTools.find(emulator) != nil }
    /// The Debian package QEMU comes in.
    public var package: String { architecture == .arm64 ? "qemu-system-arm" : "qemu-system-misc" }

    /// `console=… panic=-1 quiet`: the console the report is read from, a panic that ends QEMU
    /// at once (with -no-reboot), and a console without the kernel's boot messages.
    public var defaultCommandLine: String { "console=\(console) panic=-1 quiet" }

    /// The argument vector after the executable: TCG, one CPU, no default devices, the serial
    /// console on stdio, no reboot (a panic or the init's power-off ends QEMU).
    public func arguments(kernel: String, initrd: String, commandLine: String, memoryMiB: Int) -> [String] {
        ["-accel", "tcg"] + machineArguments + ["-m", String(memoryMiB), "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot",
                                                "-monitor", "none", "-serial", "stdio", "-kernel", kernel, "-initrd", initrd, "-append", commandLine]
    }
}

public enum ImageKernelBoot {
    /// Boots a real Image by QEMU's own loader on `virt` under TCG (there is no arm64 or riscv64
    /// KVM on this host) to the initramfs's report, and checks what the kernel saw against what
    /// QEMU was asked for: the command line, the initrd, the RAM (`ImageKernelChecks`). The initrd
    /// must hold an init built for the architecture (Corpus/initramfs/build-ARCH).
    public static func qemuLoader(_ arch: ImageHandoff.Architecture, kernel: String, initrd: String, commandLine: String? = nil, memoryMiB: Int = 1024,
                                  timeout: Duration = .seconds(600)) throws -> KernelBootResult {
        let m = ImageKernelMachine.of(arch)
        guard let exe = HostTools.find(m.emulator) else { throw KernelBootError(message: "\(m.emulator) is not installed (apt-get install \(m.package))") }
        guard memoryMiB > 0, UInt64(memoryMiB) <= (UInt64.max - m.ramBase) >> 20, let ram = AddressRange.make(m.ramBase, length: UInt64(memoryMiB) << 20) else {
            throw KernelBootError(message: "--memory \(memoryMiB) MiB does not fit above \(hex(m.ramBase))")
        }
        let files = try KernelBoot.initrdFiles(initrd)
        let size: UInt64
        do { size = (try FileManager.default.attributesOfItem(atPath: initrd)[.size] as? NSNumber)?.uint64Value ?? 0 } catch {
            throw KernelBootError(message: "\(initrd): \(error.localizedDescription)")
        }
        let cmd = commandLine ?? m.defaultCommandLine
        var b = QEMUBoot(kernel: kernel, initrd: initrd, append: cmd)
        b.command = [exe] + m.arguments(kernel: kernel, initrd: initrd, commandLine: cmd, memoryMiB: memoryMiB)
        b.accel = .tcg; b.timeout = timeout; b.marker = KernelReport.endMarker
        let q = try QEMURunner.run(b)
        let handoff = Handoff(zeroPage: nil, commandLine: Array(cmd.utf8), e820: nil, initrdRange: nil, initrdFiles: files, imageFormat: "\(arch.rawValue) Image", entry: nil)
        let expected = ImageHandoff(architecture: arch, commandLine: Array(cmd.utf8), initrdSize: size, initrdFiles: files, ram: [ram], firmwareAt: m.firmwareAt)
        var report: KernelReport? = nil, err: String? = nil, checks: [ObservedCheck] = []
        do { report = try KernelReport.parse(serial: q.serial); checks = ImageKernelChecks.compare(report!, with: expected) } catch { err = error.description }
        return KernelBootResult(path: .qemuLoader, kernel: kernel, handoff: handoff, load: nil, qemu: q, harness: nil, report: report, reportError: err,
                                checks: checks, toMarker: report == nil ? nil : q.toMarker, elapsed: q.elapsed)
    }
}
