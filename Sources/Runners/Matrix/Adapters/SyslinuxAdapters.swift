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

/// iPXE (Debian's ipxe-qemu: the e1000 option ROM QEMU loads) booting a bzImage over QEMU's
/// user-mode network: its built-in TFTP server serves one directory holding every variant and a
/// script per variant (`ID.ipxe`), and the DHCP boot file name QEMU hands out (`bootfile=`)
/// chooses the script per run. No real network is used.
///
/// iPXE passes the command line as given (src/arch/x86/image/bzimage.c bzimage_set_cmdline,
/// cut at cmdline_size); it adds neither BOOT_IMAGE= nor initrd=.
public struct IPXEAdapter: LoaderAdapter {
    public init() {}
    public let id = "ipxe"
    public let packages = ["ipxe-qemu"]
    public static let rom = "/usr/lib/ipxe/qemu/efi-e1000.rom"
    public static func directory(_ work: String) -> String { work + "/ipxe-tftp" }

    public var unavailable: String? {
        if (try? QEMURunner.executable()) == nil { return "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)" }
        if access(Self.rom, R_OK) != 0 { return "iPXE's e1000 ROM (\(Self.rom)) is not installed (apt-get install ipxe-qemu)" }
        return nil
    }

    public func accepts(_ v: MatrixVariant) -> Bool { !v.isELF }

    /// A file name safe in a DHCP boot file name and a TFTP path.
    static func safe(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" ? $0 : "_" })
    }

    /// The command line as this iPXE's script shell passes it: iPXE 1.0.0+git-20190125 splits a
    /// command at white space and joins the arguments with one space (src/core/exec.c
    /// split_command, concat_args); it knows no quotes (a quoted line reaches the kernel with its
    /// quotes, measured) and expands `${…}` settings. So the words go unquoted and what the
    /// kernel should see is the words joined by single spaces.
    public static func words(_ commandLine: String) -> [String] { commandLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0.isNewline }).map(String.init) }

    /// Where a failing script reports: QEMU forwards the guest's TCP connections to this address
    /// into a host file (`guestfwd=…-chardev:…`), so the HTTP request iPXE makes lands there.
    static let reporter = "10.0.2.100"

    /// `ID.ipxe`: fetch the kernel with the command line, the initrd, boot. iPXE's console is
    /// the VGA screen this headless machine lacks, so on failure the script names the step and
    /// iPXE's error number in an HTTP request to `reporter` (a host file, see `boot`), then
    /// returns to the BIOS, which finds nothing else to boot and resets: QEMU ends
    /// (-no-reboot, reboot-timeout=0).
    public static func script(_ v: MatrixVariant) -> String {
        let n = safe(v.id)
        var s = "#!ipxe\nkernel \(n).bz"
        for w in words(v.commandLine) { s += " " + w }
        s += " || goto kernel_failed\n"
        if v.initrd != nil { s += "initrd \(n).rd || goto initrd_failed\n" }
        s += "boot || goto boot_failed\n"
        for step in ["kernel", "initrd", "boot"] {
            s += ":\(step)_failed\nimgfetch --timeout 1000 http://\(reporter)/ipxe-failed/\(step)/${errno} ||\nexit\n"
        }
        return s
    }

    /// "kernel failed with iPXE error 0x2d12603b (https://ipxe.org/err/2d12603b)" from what the
    /// script sent, or nil.
    public static func failure(_ request: String) -> String? {
        guard let r = request.range(of: "GET /ipxe-failed/") else { return nil }
        let parts = request[r.upperBound...].prefix { $0 != " " && !$0.isNewline }.split(separator: "/")
        guard parts.count == 2 else { return nil }
        let code = parts[1].hasPrefix("0x") ? String(parts[1].dropFirst(2)) : String(parts[1])
        return "iPXE's \(parts[0]) failed with iPXE error 0x\(code) (https://ipxe.org/err/\(code))"
    }

    public func prepare(_ variants: [MatrixVariant], work: String) throws {
        let dir = Self.directory(work), fm = FileManager.default
        do {
            try? fm.removeItem(atPath: dir)
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for v in variants where accepts(v) {
                let n = Self.safe(v.id)
                try fm.copyItem(atPath: v.kernel, toPath: dir + "/\(n).bz")
                if let rd = v.initrd { try fm.copyItem(atPath: rd, toPath: dir + "/\(n).rd") }
                try Self.script(v).write(toFile: dir + "/\(n).ipxe", atomically: true, encoding: .utf8)
            }
        } catch { throw HostToolError("cannot write the TFTP directory \(dir): \(error.localizedDescription)") }
    }

    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        let dir = Self.directory(work), n = Self.safe(v.id)
        guard access(dir + "/\(n).ipxe", R_OK) == 0 else { throw HostToolError("\(dir)/\(n).ipxe: missing; run prepare first") }
        let report = work + "/ipxe-report-\(n)-\(UInt32.random(in: 0...UInt32.max)).txt"
        defer { try? FileManager.default.removeItem(atPath: report) }
        var b = QEMUBoot(cdrom: "")
        b.cdrom = nil
        b.machine = "pc"; b.timeout = timeout
        b.extraArguments = ["-chardev", "file,id=ipxe-report,path=\(report)",
                            "-netdev", "user,id=n,tftp=\(dir),bootfile=\(n).ipxe,guestfwd=tcp:\(Self.reporter):80-chardev:ipxe-report",
                            "-device", "e1000,netdev=n,romfile=\(Self.rom)", "-boot", "n,reboot-timeout=0"]
        let r = try QEMURunner.run(b)
        let sent = (FileManager.default.contents(atPath: report)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let refused = (try? ProbeReport.parse(serial: r.serial)) == nil ? Self.failure(sent) : nil
        let expected = Self.words(v.commandLine).joined(separator: " ")
        var notes: [String] = []
        if expected != v.commandLine { notes.append("iPXE's script passes the command line's words joined by single spaces") }
        if v.commandLine.contains("${") { notes.append("the command line holds ${…}, which iPXE's script expands: the expected line is not what the kernel can get") }
        return LoaderRun(r, expectedCommandLine: expected, refused: refused, notes: notes)
    }
}
