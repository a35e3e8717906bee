import Conformance
import HarnessKVM
import Foundation
import Glibc

/// U-Boot for x86 (Debian's u-boot-qemu, the 32-bit qemu-x86 build) as QEMU's `-bios` on the
/// `pc` machine, driven over its serial console: a key stops autoboot, then the variant is read
/// from a FAT disk QEMU makes from a directory (`-drive …,file=fat:DIR`, so QEMU's fw_cfg
/// kernel path and its header edits play no part) and started with `zboot`, U-Boot's 32-bit
/// boot of a bzImage (arch/x86/lib/zimage.c: boot_params at 0x90000, the command line at
/// 0x99000, the protected-mode image copied to 0x100000, entered at the 32-bit entry). One
/// directory holds every variant; the commands typed choose one per run.
/// (The 64-bit qemu-x86_64 build prints "Starting kernel ..." and hangs: it cannot `zboot`.)
public struct UBootAdapter: LoaderAdapter {
    public init() {}
    public let id = "u-boot"
    public let packages = ["u-boot-qemu", "qemu-system-x86"]
    /// Debian's u-boot-qemu: U-Boot 2023.01 for QEMU's x86 pc machine, 32-bit.
    public static let rom = "/usr/lib/u-boot/qemu-x86/u-boot.rom"

    public var unavailable: String? {
        if (try? QEMURunner.executable()) == nil { return "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)" }
        if access(Self.rom, R_OK) != 0 { return "U-Boot for x86 (\(Self.rom)) not installed (apt-get install u-boot-qemu)" }
        return nil
    }

    /// `zboot` boots bzImages only (no ELF, no PVH).
    public func accepts(_ v: MatrixVariant) -> Bool { !v.isELF }

    /// The directory QEMU serves as a FAT disk.
    static func fatDirectory(_ work: String) -> String { work + "/fat" }

    /// A variant's file names on the FAT disk: its id with anything but letters, digits, '.',
    /// '-' and '_' replaced, so the names need no quoting at U-Boot's prompt.
    static func fileStem(_ v: MatrixVariant) -> String {
        String(v.id.unicodeScalars.map { c -> Character in
            (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || "-_.".unicodeScalars.contains(c) ? Character(c) : "_"
        })
    }

    /// Printed by U-Boot's `echo` when a typed command fails. Typed as two quoted words, so the
    /// echo of the typed line does not contain it; the run ends on it.
    public static let failureMarker = "conform: u-boot stopped"
    public static let failureEcho = " || echo \"conform:\" \"u-boot stopped\""

    /// Writes every variant's kernel, initrd and `ID.env` (`bootargs=COMMAND LINE`, read with
    /// `env import -t`: any character, any length, no shell quoting) into one directory, and
    /// the poison files.
    public func prepare(_ variants: [MatrixVariant], work: String) throws {
        let fat = Self.fatDirectory(work)
        do {
            try FileManager.default.createDirectory(atPath: fat, withIntermediateDirectories: true)
            for v in variants where accepts(v) {
                let stem = Self.fileStem(v)
                guard !v.commandLine.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else {
                    throw HostToolError("\(v.id): a command line with a line break or NUL cannot be put in U-Boot's bootargs")
                }
                try Self.copy(v.kernel, to: fat + "/\(stem).bzImage")
                if let rd = v.initrd { try Self.copy(rd, to: fat + "/\(stem).initrd") }
                try Self.environmentFile(v.commandLine).write(toFile: fat + "/\(stem).env", atomically: true, encoding: .utf8)
            }
        } catch let e as HostToolError { throw e } catch { throw HostToolError("cannot write U-Boot's FAT directory \(fat): \(error.localizedDescription)") }
        _ = try QEMUPoison.files(in: work)
    }

    /// `bootargs=LINE` for `env import -t`, which takes a backslash as an escape (lib/hashtable.c
    /// himport_r; measured: "a\\b c\d" imports as "a\b cd"), so each one is doubled.
    public static func environmentFile(_ commandLine: String) -> String {
        "bootargs=" + commandLine.replacingOccurrences(of: "\\", with: "\\\\") + "\n"
    }

    static func copy(_ from: String, to: String) throws {
        if FileManager.default.fileExists(atPath: to) { try FileManager.default.removeItem(atPath: to) }
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    /// What is typed at U-Boot's console for `v`: stop autoboot, reset IDE, import bootargs,
    /// load the initrd at U-Boot's `ramdisk_addr_r` and the bzImage at `loadaddr`, `zboot`.
    /// Each command after the prompt of the one before; any failure echoes `failureMarker`.
    static func commands(_ v: MatrixVariant) -> [(after: String, send: String)] {
        let stem = fileStem(v)
        var c: [String] = ["ide reset", "fatload ide 0:1 ${loadaddr} \(stem).env", "env import -t ${loadaddr} ${filesize}"]
        if v.initrd != nil { c += ["fatload ide 0:1 ${ramdisk_addr_r} \(stem).initrd", "setenv rdsize ${filesize}"] }
        c.append("fatload ide 0:1 ${loadaddr} \(stem).bzImage")
        c.append(v.initrd != nil ? "zboot ${loadaddr} ${filesize} ${ramdisk_addr_r} ${rdsize}" : "zboot ${loadaddr} ${filesize}")
        return [("Hit any key to stop autoboot", " ")] + c.map { (after: "=> ", send: $0 + failureEcho + "\r") }
    }

    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        let fat = Self.fatDirectory(work)
        guard access(fat + "/\(Self.fileStem(v)).env", R_OK) == 0 else { throw HostToolError("\(v.id): not prepared in \(fat) (call prepare first)") }
        var b = QEMUBoot(bios: Self.rom)
        b.machine = "pc"; b.timeout = timeout
        // Memory nobody wrote holds the poison pattern, as real RAM holds whatever it held
        // (QEMUPoison; the files are prepare's).
        b.preload = QEMUPoison.ranges.indices.map { (file: work + "/poison-\($0).bin", address: QEMUPoison.ranges[$0].start) }
        // snapshot=on: QEMU's FAT emulation never writes back to the directory.
        b.extraArguments = ["-drive", "if=ide,format=raw,snapshot=on,file=fat:\(fat)"]
        b.serialInput = Self.commands(v)
        b.marker = Self.failureMarker
        b.grace = .milliseconds(300)
        let r = try QEMURunner.run(b)
        // zboot builds the kernel's line from the `bootargs` variable (build_command_line): it
        // would put "console=ttyS0,BAUD " first only when bootargs lacks "console=" and the
        // `stdout` variable is exactly "serial"; this build's stdout is "serial,vidconsole",
        // and auto_boot is 0 for zboot, so the kernel gets bootargs as they are.
        let expected = v.commandLine
        guard r.markerSeen else { return LoaderRun(r, expectedCommandLine: expected, notes: Self.notes(r)) }
        let (command, output) = Self.failedCommand(r.serialText)
        if command.hasPrefix("zboot") {
            return LoaderRun(r, expectedCommandLine: expected, refused: "U-Boot zboot: " + output, notes: Self.notes(r))
        }
        throw HostToolError("\(v.id): U-Boot command `\(command)` failed: \(output) (\(r.summary))")
    }

    static func notes(_ r: QEMUReport) -> [String] {
        var n: [String] = []
        if let line = r.serialText.replacingOccurrences(of: "\r", with: "").components(separatedBy: "\n").first(where: { $0.hasPrefix("Kernel command line:") }) {
            n.append("U-Boot: " + line.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return n
    }

    /// The typed command that failed and what U-Boot printed for it (its lines before the
    /// failure marker), from the console text.
    public static func failedCommand(_ text: String) -> (command: String, output: String) {
        let lines = text.replacingOccurrences(of: "\r", with: "").components(separatedBy: "\n")
        guard let end = lines.lastIndex(where: { $0.hasPrefix(failureMarker) }),
              let start = lines[..<end].lastIndex(where: { $0.hasPrefix("=> ") }) else { return ("", "") }
        var command = String(lines[start].dropFirst(3))
        if let r = command.range(of: failureEcho) { command = String(command[..<r.lowerBound]) }
        let output = lines[(start + 1)..<end].map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " | ")
        return (command, output)
    }
}
