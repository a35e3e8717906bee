import Conformance
import HarnessKVM
import Foundation
import Glibc

/// ISOLINUX 6.04 (Debian's `isolinux` and `syslinux-common`) booting every bzImage variant from
/// one ISO. ISOLINUX reads no SMBIOS by itself: its DEFAULT label runs `lua.c32` (syslinux's Lua
/// interpreter) on a five-line script that loads the `dmi` and `syslinux` Lua modules (dmi.c32,
/// syslinux.c32), reads the SMBIOS system serial number QEMU sets per run
/// (`-smbios type=1,serial=ID`) and runs the label of that name, so one medium serves every
/// variant. Each variant is a LABEL with KERNEL, INITRD and APPEND. ISOLINUX enters the
/// real-mode setup code (the 16-bit entry).
///
/// The command line the kernel gets (syslinux 6.04 com32/elflink/ldlinux): readconfig.c
/// record() builds a label's command as KERNEL, " APPEND" when APPEND is neither empty nor "-",
/// and " initrd=INITRD"; execute.c splits off the first word (the kernel) and skips the spaces
/// after it; kernel.c new_linux_kernel() passes `sprintf("BOOT_IMAGE=%s %s", kernel, args)`.
/// So "BOOT_IMAGE=KERNEL APPEND initrd=INITRD" is what ISOLINUX legitimately passes (see
/// `commandLine`). com32/lib/syslinux/load_linux.c bios_boot_linux() then cuts it to
/// cmdline_size - 1 bytes (255 before protocol 2.06): that is judged, not expected.
public struct ISOLINUXAdapter: LoaderAdapter {
    public init() {}
    public let id = "isolinux"
    public let packages = ["isolinux", "syslinux-common", "xorriso"]
    /// Debian's paths.
    public static let isolinuxBin = "/usr/lib/ISOLINUX/isolinux.bin"
    public static let modules = "/usr/lib/syslinux/modules/bios"
    /// The com32 modules the selection needs: ldlinux.c32 (ISOLINUX's second stage), lua.c32
    /// and the libraries it links, and the Lua modules dmi.c32 and syslinux.c32 (`require`d by
    /// the script; the DMI parser is in libgpl).
    static let moduleFiles = ["ldlinux.c32", "lua.c32", "liblua.c32", "libcom32.c32", "libgpl.c32", "libutil.c32", "dmi.c32", "syslinux.c32"]
    /// The ISO `prepare` writes under `work`.
    public static func iso(_ work: String) -> String { work + "/isolinux-probes.iso" }

    public var unavailable: String? {
        if (try? QEMURunner.executable()) == nil { return "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)" }
        if access(Self.isolinuxBin, R_OK) != 0 { return "ISOLINUX (\(Self.isolinuxBin)) is not installed (apt-get install isolinux syslinux-common)" }
        if let m = Self.moduleFiles.first(where: { access(Self.modules + "/" + $0, R_OK) != 0 }) {
            return "syslinux's \(m) (\(Self.modules)) is not installed (apt-get install syslinux-common)"
        }
        if HostTools.find("xorriso") == nil { return "xorriso is not installed (apt-get install xorriso)" }
        return nil
    }

    public func accepts(_ v: MatrixVariant) -> Bool { !v.isELF }

    /// File names on the ISO: `/k/N.bz` and `/k/N.rd`, N the variant's position, short so
    /// that what ISOLINUX adds to the command line stays short.
    static func names(_ variants: [MatrixVariant]) -> [String: (kernel: String, initrd: String?)] {
        var out: [String: (String, String?)] = [:]
        for (i, v) in variants.enumerated() { out[v.id] = ("/k/\(i).bz", v.initrd == nil ? nil : "/k/\(i).rd") }
        return out
    }

    /// The label name of a variant: syslinux labels end at white space, and a comma would split
    /// QEMU's -smbios option.
    static func label(_ v: MatrixVariant) -> String { String(v.id.map { $0.isWhitespace || $0 == "," ? "_" : $0 }) }

    /// isolinux.cfg: serial console, no prompt, the Lua selector as the default.
    public static func configuration(_ variants: [MatrixVariant]) -> String {
        let n = names(variants)
        var out = ["SERIAL 0 115200", "PROMPT 0", "TIMEOUT 0", "DEFAULT select", "", "LABEL select", "  COM32 lua.c32", "  APPEND select.lua", ""]
        for v in variants {
            guard let f = n[v.id] else { continue }
            out += ["LABEL \(label(v))", "  KERNEL \(f.kernel)"]
            if let rd = f.initrd { out.append("  INITRD \(rd)") }
            out += ["  APPEND \(oneLine(v.commandLine))", ""]
        }
        return out.joined(separator: "\n")
    }

    /// A config line cannot hold a line break: ISOLINUX can pass none, so they become spaces
    /// (in APPEND and in the expected command line alike; `boot` notes it).
    static func oneLine(_ s: String) -> String { String(s.map { $0.isNewline ? " " : $0 }) }

    /// select.lua: run the label named by the SMBIOS system serial number.
    static let selector = """
        local dmi = require("dmi")
        local syslinux = require("syslinux")
        local t = dmi.gettable()
        local id = t and t.system and t.system.serial
        if id == nil or id == "" then print("isolinux-select: no SMBIOS serial number") else syslinux.run_command(id) end

        """

    /// The command line ISOLINUX gives the kernel for `v` (see the type's comment).
    public static func commandLine(_ v: MatrixVariant, kernel: String, initrd: String?) -> String {
        // readconfig.c: the config parser drops APPEND's leading white space; "-" means none.
        let append = String(oneLine(v.commandLine).drop { $0 == " " || $0 == "\t" })
        let a = append == "-" ? "" : append
        let rest = (a.isEmpty ? "" : " " + a) + (initrd.map { " initrd=" + $0 } ?? "")
        // execute.c skips the spaces after the kernel's name.
        return "BOOT_IMAGE=\(kernel) " + String(rest.drop { $0 == " " || $0 == "\t" })
    }

    public func prepare(_ variants: [MatrixVariant], work: String) throws {
        let tree = work + "/isolinux-tree", fm = FileManager.default
        let mine = variants.filter(accepts)
        do {
            try? fm.removeItem(atPath: tree)
            try fm.createDirectory(atPath: tree + "/isolinux", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: tree + "/k", withIntermediateDirectories: true)
            try fm.copyItem(atPath: Self.isolinuxBin, toPath: tree + "/isolinux/isolinux.bin")
            for m in Self.moduleFiles { try fm.copyItem(atPath: Self.modules + "/" + m, toPath: tree + "/isolinux/" + m) }
            let n = Self.names(mine)
            for v in mine {
                guard let f = n[v.id] else { continue }
                try fm.copyItem(atPath: v.kernel, toPath: tree + f.kernel)
                if let rd = v.initrd, let to = f.initrd { try fm.copyItem(atPath: rd, toPath: tree + to) }
            }
            try Self.configuration(mine).write(toFile: tree + "/isolinux/isolinux.cfg", atomically: true, encoding: .utf8)
            try Self.selector.write(toFile: tree + "/isolinux/select.lua", atomically: true, encoding: .utf8)
        } catch { throw HostToolError("cannot write the ISOLINUX tree in \(work): \(error.localizedDescription)") }
        try? fm.removeItem(atPath: Self.iso(work))
        try HostTools.run("xorriso", package: "xorriso", ["-as", "mkisofs", "-quiet", "-R", "-o", Self.iso(work), "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat",
                                                        "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", tree])
    }

    /// ISOLINUX's words when it cannot boot a label; it then waits at its "boot:" prompt.
    /// (ldlinux kernel.c, execute.c, and the selector's own message; measured: a file that is
    /// no kernel gives "Booting kernel failed: Invalid argument".)
    static let failures = ["Could not find kernel image", "failed", "Kernel load failure", "Invalid or corrupt kernel image", "isolinux-select:", "Failed to load"]

    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        // The variant's position must be the one `prepare` gave it: `work` holds the config.
        let cfg = work + "/isolinux-tree/isolinux/isolinux.cfg"
        guard let text = try? String(contentsOfFile: cfg, encoding: .utf8) else { throw HostToolError("\(cfg): missing; run prepare first") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let at = lines.firstIndex(of: "LABEL \(Self.label(v))") else { throw HostToolError("\(cfg): no LABEL \(Self.label(v)); prepare was given other variants") }
        let body = lines[(at + 1)...].prefix { $0.hasPrefix("  ") }
        let kernel = body.first { $0.hasPrefix("  KERNEL ") }.map { String($0.dropFirst(9)) } ?? ""
        let initrd = body.first { $0.hasPrefix("  INITRD ") }.map { String($0.dropFirst(9)) }
        var b = QEMUBoot(cdrom: Self.iso(work))
        b.machine = "pc"; b.timeout = timeout
        b.extraArguments = ["-smbios", "type=1,serial=\(Self.label(v))"]
        // A refusal leaves ISOLINUX at its prompt: end the run at its prompt.
        b.marker = "boot:"
        b.grace = .milliseconds(300)
        let r = try QEMURunner.run(b)
        let text2 = r.serialText
        var refused: String? = nil
        if r.markerSeen, (try? ProbeReport.parse(serial: r.serial)) == nil {
            let said = text2.split(whereSeparator: \.isNewline).map(String.init).filter { l in Self.failures.contains { l.contains($0) } }
            refused = said.isEmpty ? "ISOLINUX returned to its prompt: " + String(text2.suffix(200)) : said.joined(separator: " | ")
        }
        let notes = v.commandLine.contains(where: \.isNewline) ? ["the command line's line breaks were passed as spaces: an ISOLINUX config line cannot hold them"] : []
        return LoaderRun(r, expectedCommandLine: Self.commandLine(v, kernel: kernel, initrd: initrd), refused: refused, notes: notes)
    }
}
