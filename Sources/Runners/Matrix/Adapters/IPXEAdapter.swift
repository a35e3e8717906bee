import Conformance
import HarnessKVM
import Foundation
import Glibc

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
