import Conformance
import Foundation
import Glibc

/// QEMU's own loader, `-kernel`, on the `virt` machine, for the arm64 and riscv64 Image probes
/// (issue 16; how each is driven: /work/shared/notes, docs/LOADERS.md):
/// - `qemu-virt-arm64-el1`: `-M virt -cpu cortex-a57`, entered at EL1 (hw/arm/boot.c places
///   the Image at a 2 MiB-aligned base + text_offset and keeps image_size clear);
/// - `qemu-virt-arm64-el2`: `virtualization=on`, entered at EL2;
/// - `qemu-virt-arm64-secure`: `secure=on`, with a secure world whose PL011 the device tree marks
///   disabled (the probe must take the non-secure one);
/// - `qemu-virt-riscv64-fw-dynamic`: `-bios default`, OpenSBI fw_dynamic (QEMU's own build),
///   the Image at the first 2 MiB boundary after the firmware;
/// - `qemu-virt-riscv64-fw-jump`: Debian's OpenSBI fw_jump (opensbi package), which jumps to
///   0x80200000, where QEMU's `-kernel` puts the Image, with the DTB at its fixed 0x82200000.
/// The probe ends the run with PSCI SYSTEM_OFF or SBI SRST: QEMU exits with status 0.
public struct ImageQEMUKernelAdapter: LoaderAdapter {
    public let id: String
    public let architecture: String
    /// `-M` (with its options), `-cpu`, and what goes before `-kernel` (the firmware).
    let machine: String, cpu: String?, firmware: [String]
    /// A file the run needs besides QEMU (the fw_jump build), checked by `unavailable`.
    let needs: String?

    public static let arm64EL1 = ImageQEMUKernelAdapter(id: "qemu-virt-arm64-el1", architecture: "arm64", machine: "virt", cpu: "cortex-a57", firmware: [], needs: nil)
    public static let arm64EL2 = ImageQEMUKernelAdapter(id: "qemu-virt-arm64-el2", architecture: "arm64", machine: "virt,virtualization=on", cpu: "cortex-a57", firmware: [], needs: nil)
    public static let arm64Secure = ImageQEMUKernelAdapter(id: "qemu-virt-arm64-secure", architecture: "arm64", machine: "virt,secure=on", cpu: "cortex-a57", firmware: [], needs: nil)
    public static let riscv64FwDynamic = ImageQEMUKernelAdapter(id: "qemu-virt-riscv64-fw-dynamic", architecture: "riscv64", machine: "virt", cpu: nil, firmware: ["-bios", "default"], needs: nil)
    /// Debian's opensbi package: the generic platform's fw_jump (FW_JUMP_ADDR 0x80200000, FW_JUMP_FDT_ADDR 0x82200000).
    public static let fwJump = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin"
    public static let riscv64FwJump = ImageQEMUKernelAdapter(id: "qemu-virt-riscv64-fw-jump", architecture: "riscv64", machine: "virt", cpu: nil, firmware: ["-bios", fwJump], needs: fwJump)
    public static let all = [arm64EL1, arm64EL2, arm64Secure, riscv64FwDynamic, riscv64FwJump]

    public var packages: [String] { architecture == "arm64" ? ["qemu-system-arm"] : ["qemu-system-misc"] + (needs != nil ? ["opensbi"] : []) }
    /// qemu-system-aarch64 or qemu-system-riscv64.
    public var executable: String { architecture == "arm64" ? "qemu-system-aarch64" : "qemu-system-riscv64" }
    public var unavailable: String? { Self.unavailable(executable: executable, packages: packages, needs: needs, architecture: architecture) }
    public func accepts(_ v: MatrixVariant) -> Bool { true }
    /// The RAM and firmware-resident memory the probe's report is judged against: `-m 1024`
    /// from the architecture's RAM base; OpenSBI's region on riscv64 (both builds); none on
    /// arm64, where PSCI is QEMU's own and its boot stub and DTB are not resident memory.
    public var platform: ImagePlatform { ImageProbeVariants.virtPlatform(ImageBootSnapshot.Architecture(rawValue: architecture) ?? .riscv64) }

    /// Why a `virt` row cannot run here: QEMU for the architecture, a firmware file, the probe build.
    static func unavailable(executable: String, packages: [String], needs: String?, architecture: String) -> String? {
        if HostTools.find(executable) == nil { return "\(executable) not installed (apt-get install \(packages[0]))" }
        if let needs, access(needs, R_OK) != 0 { return "\(needs) not installed (apt-get install \(packages.last!))" }
        do { _ = try ImageProbeVariants.load(architecture) } catch { return error.description }
        return nil
    }

    /// The argument vector common to every `virt` run: one CPU, 1 GiB, the console on stdout,
    /// no other device, no display, no reboot.
    static func machineArguments(_ machine: String, cpu: String?) -> [String] {
        ["-M", machine] + (cpu.map { ["-cpu", $0] } ?? []) + ["-m", "1024", "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none", "-serial", "stdio"]
    }

    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        guard let exe = HostTools.find(executable) else { throw HostToolError("\(executable) not installed (apt-get install \(packages[0]))") }
        var b = QEMUBoot(kernel: v.kernel, initrd: v.initrd, append: v.commandLine)
        var argv = [exe] + Self.machineArguments(machine, cpu: cpu) + firmware + ["-kernel", v.kernel]
        if let rd = v.initrd { argv += ["-initrd", rd] }
        argv += ["-append", v.commandLine]
        b.command = argv
        b.timeout = timeout
        // The probe's last line; if its PSCI or SBI call did not end the run, a hang after it
        // ends here rather than at the limit.
        b.marker = "\nend lines="
        b.grace = .seconds(2)
        var run = LoaderRun(try QEMURunner.run(b), expectedCommandLine: v.commandLine)
        run.imagePlatform = platform
        return run
    }
}
