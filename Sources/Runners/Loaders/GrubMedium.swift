import Conformance
import HarnessKVM
import Foundation
import Glibc

/// GRUB 2 boot media (Debian's grub-pc-bin for BIOS, grub-efi-amd64-bin for EFI): one ISO from
/// grub-mkrescue holding every entry; the entry to boot is read from SMBIOS type 11 string 4,
/// which QEMU sets per run (`-smbios type=11,value=ID`), so one medium serves every variant
/// (shared/notes/real-loader-recipes.md). Without the string GRUB boots the first entry.
public struct GrubMedium: Sendable {
    /// grub-mkrescue's module directory for the platform.
    public let modules: String
    public let packages: String

    public static let bios = GrubMedium(modules: "/usr/lib/grub/i386-pc", packages: "grub-pc-bin xorriso")
    public static let efi = GrubMedium(modules: "/usr/lib/grub/x86_64-efi", packages: "grub-efi-amd64-bin xorriso mtools")

    /// Why the medium cannot be built here, or nil.
    public var unavailable: String? {
        if HostTools.find("grub-mkrescue") == nil || access(modules + "/normal.mod", R_OK) != 0 { return "GRUB (\(modules)) is not installed (apt-get install \(packages))" }
        if HostTools.find("xorriso") == nil { return "xorriso is not installed (apt-get install xorriso)" }
        if self.modules == Self.efi.modules, HostTools.find("mformat") == nil { return "mtools is not installed (apt-get install mtools)" }
        return nil
    }

    /// The initrd command that goes with a kernel command.
    static func initrdCommand(for command: String) -> String {
        switch command { case "linux16": "initrd16"; case "linuxefi": "initrdefi"; default: "initrd" }
    }

    /// grub.cfg for `entries`: serial console, no menu delay, the SMBIOS-selected default.
    public static func configuration(_ entries: [MediumEntry]) -> String {
        var out = ["insmod smbios", "smbios --type 11 --get-string 4 --set sel", "if [ -n \"$sel\" ]; then set default=\"$sel\"; fi", "set timeout=0",
                   "serial --unit=0 --speed=115200", "terminal_input serial", "terminal_output serial", ""]
        for e in entries {
            let file = (e.kernel as NSString).lastPathComponent
            var body = "  \(e.command) /boot/\(file) \(e.commandLine)\n"
            if let rd = e.initrd { body += "  \(initrdCommand(for: e.command)) /boot/\((rd as NSString).lastPathComponent)\n" }
            out.append("menuentry '\(e.id)' --id \(e.id) {\n\(body)  boot\n}")
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// Writes the ISO at `iso` (the files are copied into a tree under `work`).
    public func buildISO(_ entries: [MediumEntry], work: String, iso: String) throws(HostToolError) {
        let tree = work + "/grub-tree", boot = tree + "/boot"
        do {
            try FileManager.default.createDirectory(atPath: boot + "/grub", withIntermediateDirectories: true)
            for f in Set(entries.flatMap { [$0.kernel] + ($0.initrd.map { [$0] } ?? []) }) {
                let to = boot + "/" + (f as NSString).lastPathComponent
                if !FileManager.default.fileExists(atPath: to) { try FileManager.default.copyItem(atPath: f, toPath: to) }
            }
            try Self.configuration(entries).write(toFile: boot + "/grub/grub.cfg", atomically: true, encoding: .utf8)
        } catch { throw HostToolError("cannot write the GRUB tree in \(work): \(error.localizedDescription)") }
        try HostTools.run("grub-mkrescue", package: packages, ["-d", modules, "-o", iso, tree])
    }
}
