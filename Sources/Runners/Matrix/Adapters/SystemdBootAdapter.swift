import Conformance
import HarnessKVM
import Foundation
import Glibc

/// systemd-boot (Debian's systemd-boot-efi, `systemd-bootx64.efi`) under OVMF on QEMU's q35
/// machine: an EFI system partition that QEMU makes from a directory (`-drive …,file=fat:DIR`)
/// holds systemd-boot as the removable-media loader `\EFI\BOOT\BOOTX64.EFI`, every variant's
/// kernel and initrd, and one Type #1 entry per variant (`loader/entries/ID.conf`: `linux`,
/// `initrd`, `options`). systemd-boot starts the kernel as an EFI application (LoadImage,
/// StartImage): the probe's PE entry. The entry booted is `loader/loader.conf`'s `default`,
/// with `timeout 0` (no menu); since that file is per run, each run gets its own small ESP
/// directory of hard links to the shared files plus its loader.conf, and its own copy of the
/// OVMF variable store.
public struct SystemdBootAdapter: LoaderAdapter {
    public init() {}
    public let id = "systemd-boot"
    public let packages = ["systemd-boot-efi", "ovmf", "qemu-system-x86"]
    public static let efi = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

    public var unavailable: String? {
        if (try? QEMURunner.executable()) == nil { return "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)" }
        if access(Self.efi, R_OK) != 0 { return "systemd-boot (\(Self.efi)) not installed (apt-get install systemd-boot-efi)" }
        if let why = OVMFFirmware.unavailable { return why }
        return nil
    }

    /// The variants that offer an EFI entry. systemd-boot's `linux` key names an EFI image: the
    /// PE/COFF variant boots; a bzImage with only the handover entry is refused by the
    /// firmware's LoadImage ("Error loading …: Unsupported"), a result recorded as a refusal.
    public func accepts(_ v: MatrixVariant) -> Bool { !v.isELF && v.entries.contains { $0.isEFI } }

    static func shared(_ work: String) -> String { work + "/esp-shared" }
    static func stem(_ v: MatrixVariant) -> String { UBootAdapter.fileStem(v) }

    /// The Type #1 entry for `v` (Boot Loader Specification; systemd-boot reads `linux`,
    /// `initrd`, `options`; paths are relative to the ESP's root).
    static func entry(_ v: MatrixVariant) -> String {
        let s = stem(v)
        var lines = ["title \(v.id)", "linux /\(s).bzImage"]
        if v.initrd != nil { lines.append("initrd /\(s).initrd") }
        if !v.commandLine.isEmpty { lines.append("options " + optionsValue(v.commandLine)) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The `options` value that systemd-boot reads back as `line`: its parser
    /// (`line_get_key_value`) trims spaces and tabs around the line and removes one pair of
    /// double quotes around the value, so a line that has either gets quotes put around it.
    public static func optionsValue(_ line: String) -> String {
        let blank: Set<Character> = [" ", "\t"]
        let padded = line.first.map { blank.contains($0) } == true || line.last.map { blank.contains($0) } == true
        let quoted = line.count >= 1 && line.first == "\"" && line.last == "\""
        return padded || quoted ? "\"" + line + "\"" : line
    }

    /// The LoadOptions systemd-boot 252 gives the kernel: "initrd=PATH" for each initrd (the
    /// entry's path with '/' turned into '\'), then the entry's options after a space; the
    /// options alone without an initrd (src/boot/efi/boot.c, `initrd_prepare`, `image_start`).
    /// It also registers the initrd on the LoadFile2 initrd media path (`initrd_register`), so
    /// both ways of finding it are offered; the `initrd=` words are what it legitimately adds.
    static func expectedCommandLine(_ v: MatrixVariant) -> String {
        guard v.initrd != nil else { return v.commandLine }
        let rd = "initrd=\\\(stem(v)).initrd"
        return v.commandLine.isEmpty ? rd : rd + " " + v.commandLine
    }

    public func prepare(_ variants: [MatrixVariant], work: String) throws {
        let esp = Self.shared(work)
        do {
            try FileManager.default.createDirectory(atPath: esp + "/EFI/BOOT", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: esp + "/loader/entries", withIntermediateDirectories: true)
            try UBootAdapter.copy(Self.efi, to: esp + "/EFI/BOOT/BOOTX64.EFI")
            for v in variants where accepts(v) {
                guard !v.commandLine.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else {
                    throw HostToolError("\(v.id): a command line with a line break or NUL cannot be a loader entry's options")
                }
                let s = Self.stem(v)
                try UBootAdapter.copy(v.kernel, to: esp + "/\(s).bzImage")
                if let rd = v.initrd { try UBootAdapter.copy(rd, to: esp + "/\(s).initrd") }
                try Self.entry(v).write(toFile: esp + "/loader/entries/\(s).conf", atomically: true, encoding: .utf8)
            }
        } catch let e as HostToolError { throw e } catch { throw HostToolError("cannot write the ESP directory \(esp): \(error.localizedDescription)") }
    }

    /// The firmware falls back to its next boot option, the UEFI shell, when systemd-boot
    /// returns (an entry it could not start): the run ends there.
    static let returnedMarker = "EFI Internal Shell"

    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        let shared = Self.shared(work), s = Self.stem(v)
        guard access(shared + "/loader/entries/\(s).conf", R_OK) == 0 else { throw HostToolError("\(v.id): not prepared in \(shared) (call prepare first)") }
        let esp = work + "/esp-\(s)"
        defer { try? FileManager.default.removeItem(atPath: esp) }
        do {
            try? FileManager.default.removeItem(atPath: esp)
            try Self.linkTree(shared, to: esp)
            try "default \(s).conf\ntimeout 0\n".write(toFile: esp + "/loader/loader.conf", atomically: true, encoding: .utf8)
        } catch { throw HostToolError("cannot make the ESP for \(v.id) in \(work): \(error.localizedDescription)") }
        var b = QEMUBoot(bios: nil)   // OVMF is the pflash pair OVMFFirmware adds
        try OVMFFirmware.configure(&b, work: work, timeout: timeout)
        b.extraArguments += ["-drive", "if=ide,format=raw,snapshot=on,file=fat:\(esp)"]
        b.marker = Self.returnedMarker
        b.grace = .milliseconds(300)
        let r = try QEMURunner.run(b)
        let expected = Self.expectedCommandLine(v)
        if r.markerSeen, (try? ProbeReport.parse(serial: r.serial)) == nil {
            return LoaderRun(r, expectedCommandLine: expected, refused: "systemd-boot: " + Self.errors(r.serialText))
        }
        return LoaderRun(r, expectedCommandLine: expected)
    }

    /// systemd-boot's error lines ("Error loading \X: Unsupported"), terminal escapes removed.
    static func errors(_ text: String) -> String {
        let plain = text.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression).replacingOccurrences(of: "\r", with: "\n")
        let lines = plain.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("Error") || $0.hasPrefix("Failed") }
        return lines.isEmpty ? "returned to the firmware without an error message" : lines.joined(separator: " | ")
    }

    /// A copy of the directory tree `from` at `to` whose files are hard links (copies where a
    /// link cannot be made).
    static func linkTree(_ from: String, to: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: to, withIntermediateDirectories: true)
        guard let walk = fm.enumerator(atPath: from) else { throw HostToolError("cannot read \(from)") }
        while let rel = walk.nextObject() as? String {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: from + "/" + rel, isDirectory: &isDir) else { continue }
            if isDir.boolValue { try fm.createDirectory(atPath: to + "/" + rel, withIntermediateDirectories: true); continue }
            if (try? fm.linkItem(atPath: from + "/" + rel, toPath: to + "/" + rel)) == nil { try fm.copyItem(atPath: from + "/" + rel, toPath: to + "/" + rel) }
        }
    }
}
