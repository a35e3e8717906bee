import Conformance
import HarnessKVM
import Foundation

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
        let lines = r.serialText.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        if r.markerSeen {
            refused = "GRUB: " + (lines.first { $0.contains("error: ") } ?? "you need to load the kernel first")
        } else if let line = lines.first(where: { $0.contains(Self.initrdRefusal) }) {
            // GRUB's `initrd` refuses an initrd it cannot place between the kernel's end and
            // initrd_addr_max (grub_cmd_initrd: addr < addr_min), and the menu entry's `boot`
            // then starts the kernel without one. The refusal is GRUB's answer, and conforming;
            // the boot without the initrd is the menu entry's doing, so the run is a refusal.
            refused = "GRUB: " + line
        }
        return LoaderRun(r, expectedCommandLine: e.grubCommandLine, refused: refused)
    }
    /// GRUB 2.06's words when `initrd` finds no room under initrd_addr_max above the kernel
    /// (grub-core/loader/i386/linux.c grub_cmd_initrd).
    public static let initrdRefusal = "error: the initrd is too big"
}
