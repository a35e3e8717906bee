import Conformance
import HarnessKVM
import Foundation

/// QEMU's own loader, `-kernel`, on a machine of its choice:
/// - `qemu-pc`: the `pc` machine; SeaBIOS runs the linuxboot_dma option ROM, which enters a
///   bzImage's real-mode setup code (the 16-bit entry);
/// - `qemu-pvh`: an ELF vmlinux with a PVH note; QEMU's PVH option ROM enters at the note's
///   address in 32-bit protected mode with start_info in EBX;
/// - `qemu-microvm`: the `microvm` machine with its default firmware, qboot: bzImages through
///   qboot's Linux loader, ELF images with a PVH note through PVH.
public struct QEMUKernelAdapter: LoaderAdapter {
    public let id: String
    public let machine: String
    let bzImage: Bool, pvh: Bool
    public static let pc = QEMUKernelAdapter(id: "qemu-pc", machine: "pc", bzImage: true, pvh: false)
    public static let pvhELF = QEMUKernelAdapter(id: "qemu-pvh", machine: "pc", bzImage: false, pvh: true)
    public static let microvm = QEMUKernelAdapter(id: "qemu-microvm", machine: "microvm", bzImage: true, pvh: true)

    public var packages: [String] { ["qemu-system-x86"] }
    public var unavailable: String? { (try? QEMURunner.executable()) == nil ? "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)" : nil }
    public func accepts(_ v: MatrixVariant) -> Bool { v.isELF ? pvh && v.entries.contains(.pvh) : bzImage }
    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        var b = QEMUBoot(kernel: v.kernel, initrd: v.initrd, append: v.commandLine)
        b.machine = machine; b.timeout = timeout
        return LoaderRun(try QEMURunner.run(b), expectedCommandLine: v.commandLine)
    }
}

/// OVMF's own `-kernel` (q35): a PE/COFF image through LoadImage/StartImage (the EFI stub
/// entry), anything else through its legacy loader (LoadLinuxLib), which needs the EFI
/// handover entry. OVMF adds " initrd=initrd" to LoadOptions when it has an initrd.
public struct OVMFKernelAdapter: LoaderAdapter {
    public init() {}
    public let id = "ovmf-kernel"
    public let packages = ["ovmf", "qemu-system-x86"]
    public var unavailable: String? { OVMFFirmware.unavailable ?? QEMUKernelAdapter.pc.unavailable }
    public func accepts(_ v: MatrixVariant) -> Bool { !v.isELF && (v.entries.contains(.efiStub) || v.entries.contains(.efiHandover64)) }
    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        var b = QEMUBoot(kernel: v.kernel, initrd: v.initrd, append: v.commandLine)
        try OVMFFirmware.configure(&b, work: work, timeout: timeout)
        // OVMF's LoadOptions for a PE image: the command line, then " initrd=initrd" when
        // there is an initrd (X86QemuLoadImageLib QemuLoadKernelImage); its legacy loader
        // passes the command line as given.
        let pe = v.entries.contains(.efiStub)
        return LoaderRun(try QEMURunner.run(b), expectedCommandLine: v.commandLine + (pe && v.initrd != nil ? " initrd=initrd" : ""))
    }
}

/// OVMF on q35: the read-only code image and a writable copy of the variables per boot.
public enum OVMFFirmware {
    public static let code = "/usr/share/OVMF/OVMF_CODE_4M.fd", vars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
    public static var unavailable: String? {
        FileManager.default.isReadableFile(atPath: code) && FileManager.default.isReadableFile(atPath: vars) ? nil : "OVMF is not installed (\(code), \(vars): apt-get install ovmf)"
    }
    /// q35, TCG, the two pflash drives (a fresh copy of the variables in `work`).
    public static func configure(_ b: inout QEMUBoot, work: String, timeout: Duration) throws {
        let copy = work + "/vars-\(UInt32.random(in: 0...UInt32.max)).fd"
        try FileManager.default.copyItem(atPath: vars, toPath: copy)
        b.machine = "q35"; b.accel = .tcg; b.timeout = timeout
        b.extraArguments += ["-drive", "if=pflash,format=raw,readonly=on,file=\(code)", "-drive", "if=pflash,format=raw,file=\(copy)"]
    }
}

/// GRUB 2 from one ISO holding every variant (GrubMedium), the entry chosen per run from
/// SMBIOS. BIOS: `linux16` (the 16-bit entry) and `linux` (GRUB's 32-bit boot); EFI under
/// OVMF: `linux` and `linuxefi` (Debian's handover command).
public struct GrubAdapter: LoaderAdapter {
    public let id: String
    public let command: String
    public let medium: GrubMedium
    public var packages: [String] { medium.packages.split(separator: " ").map(String.init) + ["qemu-system-x86"] + (isEFI ? ["ovmf"] : []) }
    var isEFI: Bool { medium.modules == GrubMedium.efi.modules }
    public static let biosLinux16 = GrubAdapter(id: "grub-bios-linux16", command: "linux16", medium: .bios)
    public static let biosLinux = GrubAdapter(id: "grub-bios-linux", command: "linux", medium: .bios)
    public static let efiLinux = GrubAdapter(id: "grub-efi-linux", command: "linux", medium: .efi)
    public static let efiHandover = GrubAdapter(id: "grub-efi-handover", command: "linuxefi", medium: .efi)

    public var unavailable: String? { medium.unavailable ?? (isEFI ? OVMFFirmware.unavailable : nil) ?? QEMUKernelAdapter.pc.unavailable }
    public func accepts(_ v: MatrixVariant) -> Bool {
        guard !v.isELF else { return false }
        return command == "linuxefi" ? v.entries.contains(.efiHandover64) : true
    }
    func entry(_ v: MatrixVariant) -> MediumEntry { MediumEntry(id: "\(command)-\(v.id)", kernel: v.kernel, initrd: v.initrd, commandLine: v.commandLine, command: command) }
    public func prepare(_ variants: [MatrixVariant], work: String) throws {
        try medium.buildISO(variants.filter(accepts).map(entry), work: work, iso: work + "/grub.iso")
    }
    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        let e = entry(v)
        var b = QEMUBoot(cdrom: work + "/grub.iso")
        b.extraArguments = ["-smbios", "type=11,value=\(e.id)"]
        b.timeout = timeout
        if isEFI { try OVMFFirmware.configure(&b, work: work, timeout: timeout) }
        // GRUB refuses a kernel its command cannot load ("error: …"), then `boot` fails and GRUB
        // waits at its menu: end there. (Other "error: " lines, such as GRUB EFI's video-mode
        // message, do not stop a boot.)
        b.marker = "you need to load the kernel first"; b.grace = .milliseconds(500)
        let r = try QEMURunner.run(b)
        var refused: String? = nil
        if r.markerSeen {
            let line = r.serialText.split(whereSeparator: \.isNewline).first { $0.contains("error: ") }.map { $0.trimmingCharacters(in: .whitespaces) }
            refused = "GRUB: " + (line ?? "you need to load the kernel first")
        }
        return LoaderRun(r, expectedCommandLine: e.grubCommandLine, refused: refused)
    }
}
