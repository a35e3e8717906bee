import Conformance
import HarnessKVM
import Foundation
import Glibc

/// One kernel a boot medium offers: the files it needs and the loader command that boots it.
public struct MediumEntry: Sendable {
    /// Menu id, chosen at boot from QEMU's command line (`-smbios type=11,value=ID`).
    public let id: String
    public let kernel: String
    public let initrd: String?
    public let commandLine: String
    /// GRUB's command: `linux` (its 32-bit boot), `linux16` (the 16-bit entry), `linuxefi`
    /// (Debian's EFI handover command).
    public let command: String
    public init(id: String, kernel: String, initrd: String?, commandLine: String, command: String) {
        self.id = id; self.kernel = kernel; self.initrd = initrd; self.commandLine = commandLine; self.command = command
    }
    /// The command line the kernel gets: GRUB puts `BOOT_IMAGE=PATH ` before the user's.
    public var grubCommandLine: String { "BOOT_IMAGE=/boot/\((kernel as NSString).lastPathComponent) " + commandLine }
}

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

/// Memory a loader did not write, made visible under QEMU: files of `BootOptions.poisonPattern`
/// that QEMU writes into guest RAM before the firmware runs (`QEMUBoot.preload`). The firmware
/// and the loader then overwrite what they use; what they leave is poison, as real firmware
/// leaves whatever RAM held.
public enum QEMUPoison {
    /// Conventional memory above the BIOS data area and below the boot sector, the rest of low
    /// memory up to the EBDA, and [1 MiB, 64 MiB).
    public static let ranges: [AddressRange] = [AddressRange(start: 0x1000, end: 0x7000), AddressRange(start: 0x1_0000, end: 0x9_F000),
                                                AddressRange(start: 0x10_0000, end: 0x400_0000)]

    /// Writes one file per range into `dir`; returns them for `QEMUBoot.preload`.
    public static func files(in dir: String, pattern: UInt64 = BootOptions.poisonPattern) throws(HostToolError) -> [(file: String, address: UInt64)] {
        var out: [(String, UInt64)] = []
        for (i, r) in ranges.enumerated() {
            // The ranges start and end on 8-byte boundaries, so the pattern's phase is the address's.
            let words = [UInt64](repeating: pattern.littleEndian, count: Int(r.length / 8))
            let f = dir + "/poison-\(i).bin"
            guard FileManager.default.createFile(atPath: f, contents: words.withUnsafeBytes { Data($0) }) else { throw HostToolError("cannot write \(f)") }
            out.append((f, r.start))
        }
        return out
    }
}
