import Conformance
import Foundation
import Glibc

/// U-Boot's `booti` (Debian's u-boot-qemu, 2023.01) on QEMU `virt`, driven over its console:
/// - `u-boot-arm64`: the qemu_arm64 build as `-bios`, entered at EL1;
/// - `u-boot-riscv64`: the qemu-riscv64_smode build, run in S-mode by OpenSBI fw_dynamic
///   (`-bios default -kernel u-boot.bin`).
/// QEMU writes the Image and the initrd into RAM at U-Boot's own `kernel_addr_r` and
/// `ramdisk_addr_r` before anything runs (`-device loader,…,force-raw=on`); a key stops autoboot,
/// then `setenv bootargs …` and `booti KERNEL RAMDISK:SIZE ${fdtcontroladdr}` are typed: booti
/// moves the Image where its header asks (arch/*/lib/image.c booti_setup), copies the initrd and
/// the device tree, fills /chosen and enters the kernel. A refusal ("ERROR: RD image overlaps OS
/// image") is followed by the typed failure echo, which ends the run at once as a named refusal.
public struct ImageUBootAdapter: LoaderAdapter {
    public let id: String
    public let architecture: String
    let firmware: [String], machine: String, cpu: String?
    /// Where QEMU puts the files: the build's default kernel_addr_r and ramdisk_addr_r.
    let kernelAddress: UInt64, ramdiskAddress: UInt64
    /// The U-Boot binary (checked by `unavailable`).
    let binary: String

    public static let arm64 = ImageUBootAdapter(id: "u-boot-arm64", architecture: "arm64", firmware: ["-bios", "/usr/lib/u-boot/qemu_arm64/u-boot.bin"],
                                                machine: "virt", cpu: "cortex-a57", kernelAddress: 0x4040_0000, ramdiskAddress: 0x4400_0000,
                                                binary: "/usr/lib/u-boot/qemu_arm64/u-boot.bin")
    public static let riscv64 = ImageUBootAdapter(id: "u-boot-riscv64", architecture: "riscv64",
                                                  firmware: ["-bios", "default", "-kernel", "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin"],
                                                  machine: "virt", cpu: nil, kernelAddress: 0x8400_0000, ramdiskAddress: 0x8C30_0000,
                                                  binary: "/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin")
    public static let all = [arm64, riscv64]

    public var packages: [String] { ["u-boot-qemu", architecture == "arm64" ? "qemu-system-arm" : "qemu-system-misc"] }
    public var executable: String { architecture == "arm64" ? "qemu-system-aarch64" : "qemu-system-riscv64" }
    public var unavailable: String? {
        ImageQEMUKernelAdapter.unavailable(executable: executable, packages: [packages[1], "u-boot-qemu"], needs: binary, architecture: architecture)
    }
    public func accepts(_ v: MatrixVariant) -> Bool { true }
    /// The RAM and firmware-resident memory the report is judged against: as QEMU's own rows
    /// (U-Boot relocates itself to the top of RAM but is gone once the kernel runs; on riscv64
    /// OpenSBI stays resident below it).
    public var platform: ImagePlatform { ImageProbeVariants.virtPlatform(ImageBootSnapshot.Architecture(rawValue: architecture) ?? .riscv64) }

    /// What is typed: a key at the autoboot prompt, the command line, then booti; each after the
    /// prompt of the one before, each followed by the failure echo (`UBootAdapter.failureEcho`).
    func commands(_ v: MatrixVariant, initrdSize: Int) -> [(after: String, send: String)] {
        let rd = initrdSize > 0 ? "\(hex(ramdiskAddress)):\(hex(UInt64(initrdSize)))" : "-"
        let typed = ["setenv bootargs \"\(v.commandLine)\"", "booti \(hex(kernelAddress)) \(rd) ${fdtcontroladdr}"]
        return [("Hit any key to stop autoboot", " ")] + typed.map { (after: "=> ", send: $0 + UBootAdapter.failureEcho + "\r") }
    }

    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        guard let exe = HostTools.find(executable) else { throw HostToolError("\(executable) not installed (apt-get install \(packages[1]))") }
        // U-Boot's shell reads the quoted line: these characters would change what it sets.
        guard !v.commandLine.contains(where: { "\"\\$;\n\r\0".contains($0) }) else {
            throw HostToolError("\(v.id): the command line holds a character U-Boot's shell would interpret (\", \\, $, ;, a line break or NUL)")
        }
        let initrdSize = v.initrd.flatMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int } ?? 0
        var b = QEMUBoot(bios: nil)
        var argv = [exe] + ImageQEMUKernelAdapter.machineArguments(machine, cpu: cpu) + firmware
        argv += ["-device", "loader,file=\(v.kernel),addr=\(hex(kernelAddress)),force-raw=on"]
        if let rd = v.initrd { argv += ["-device", "loader,file=\(rd),addr=\(hex(ramdiskAddress)),force-raw=on"] }
        b.command = argv
        b.timeout = timeout
        b.serialInput = commands(v, initrdSize: initrdSize)
        b.marker = UBootAdapter.failureMarker
        b.grace = .milliseconds(300)
        let r = try QEMURunner.run(b)
        let notes = Self.notes(r.serialText)
        guard r.markerSeen else {
            var run = LoaderRun(r, expectedCommandLine: v.commandLine, notes: notes)
            run.imagePlatform = platform
            return run
        }
        let (command, output) = UBootAdapter.failedCommand(r.serialText)
        if command.hasPrefix("booti") { return LoaderRun(r, expectedCommandLine: v.commandLine, refused: "U-Boot booti: " + output, notes: notes) }
        throw HostToolError("\(v.id): U-Boot command `\(command)` failed: \(output) (\(r.summary))")
    }

    /// What booti said it did with the Image, the initrd and the device tree.
    static func notes(_ text: String) -> [String] {
        text.replacingOccurrences(of: "\r", with: "").components(separatedBy: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("Moving Image") || $0.hasPrefix("Loading Ramdisk") || $0.hasPrefix("Loading Device Tree") || $0.hasPrefix("Using Device Tree") }
            .map { "U-Boot: " + $0 }
    }
}
