import Conformance
import HarnessKVM
import Foundation
import Glibc

/// Bring your own loader: a command template run once per variant (`conform matrix
/// --loader-command`, or `CONFORM_LOADER_COMMAND` for `swift test`). Placeholders:
///
/// | Placeholder | Becomes |
/// |---|---|
/// | `{kernel}` | the variant's image path |
/// | `{initrd}` | its initrd path, or nothing |
/// | `{initrd?TEXT}` | `TEXT PATH` when the variant has an initrd, else nothing (`{initrd?-initrd}`) |
/// | `{cmdline}` | the command line, as one word |
/// | `{serial}` | a file the loader writes COM1 to; without it, the command's stdout is COM1 |
///
/// Every value is quoted for /bin/sh, which execs the command (one program: a template of
/// several commands joined by the shell could leave its other children behind a kill). The run
/// ends when the command exits (a VMM with QEMU's isa-debug-exit, or any that exits when the
/// guest stops), at `marker` on its stdout, or at the time limit, when it is killed.
public struct CommandAdapter: LoaderAdapter {
    public let id: String
    public let template: String
    public let marker: String?
    public init(id: String = "custom", template: String, marker: String? = nil) { self.id = id; self.template = template; self.marker = marker }
    public var packages: [String] { [] }
    public var version: String { "command" }
    public var unavailable: String? { HostTools.find("sh") == nil ? "no /bin/sh to run the loader command" : nil }
    public func accepts(_ v: MatrixVariant) -> Bool { true }

    /// The template with the variant's values in, for /bin/sh.
    public static func expand(_ template: String, kernel: String, initrd: String?, cmdline: String, serial: String) -> String {
        func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        var out = "", i = template.startIndex
        while i < template.endIndex {
            if template[i] == "{", let close = template[i...].firstIndex(of: "}") {
                let name = String(template[template.index(after: i)..<close])
                var value: String? = nil
                switch name {
                case "kernel": value = q(kernel)
                case "initrd": value = initrd.map(q) ?? ""
                case "cmdline": value = q(cmdline)
                case "serial": value = q(serial)
                default:
                    if name.hasPrefix("initrd?") { value = initrd.map { String(name.dropFirst(7)) + " " + q($0) } ?? "" }
                }
                if let value { out += value; i = template.index(after: close); continue }
            }
            out.append(template[i]); i = template.index(after: i)
        }
        return out
    }

    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        let serialFile = work + "/serial-\(v.id)-\(UInt32.random(in: 0...UInt32.max)).txt"
        FileManager.default.createFile(atPath: serialFile, contents: nil)
        var b = QEMUBoot(cdrom: "")
        b.cdrom = nil
        // `exec`: the loader replaces the shell, so it is the process the runner times out and
        // kills (and whose parent-death signal a killed `conform` triggers).
        let line = Self.expand(template, kernel: v.kernel, initrd: v.initrd, cmdline: v.commandLine, serial: serialFile)
        b.command = ["/bin/sh", "-c", line.hasPrefix("exec ") ? line : "exec " + line]
        b.timeout = timeout; b.marker = marker; b.grace = .seconds(1)
        let r = try QEMURunner.run(b)
        let file = (FileManager.default.contents(atPath: serialFile)).map { [UInt8]($0) } ?? []
        var run = LoaderRun(r, expectedCommandLine: v.commandLine)
        if template.contains("{serial}") { run.serial = file }
        return run
    }
}
