import Conformance
import HarnessKVM
import ConformanceFixtures
import Foundation
import Glibc

/// The initramfs in which the outer kernel runs kexec: `/init` (Corpus/kexec-initramfs/init.c,
/// linked statically), `/sbin/kexec` with the shared libraries `ldd` names at their paths, and
/// each variant as `/probe/ID.kernel`, `/probe/ID.initrd`, `/probe/ID.cmdline`. A newc archive
/// written here without root (uid/gid 0, mtime 0, inodes in order), so the same inputs give
/// the same bytes.
public enum KexecInitramfs {
    public static let doneLine = "kexec-init done"

    /// Debian's kexec (kexec-tools puts it in /usr/sbin, which PATH may lack).
    public static var kexecBinary: String? {
        (["/usr/sbin/kexec", "/sbin/kexec"] + [HostTools.find("kexec")].compactMap { $0 }).first { access($0, X_OK) == 0 }
    }

    public static func archive(work: String) -> String { work + "/kexec-initramfs.cpio" }

    /// Compiles the init, collects kexec and its libraries, writes the archive into `work`.
    public static func build(variants: [MatrixVariant], initSource: String, work: String) throws {
        guard let kexec = kexecBinary else { throw HostToolError("kexec-tools not installed (apt-get install kexec-tools)") }
        let initPath = work + "/kexec-init"
        try HostTools.run("gcc", package: "gcc libc6-dev", ["-static", "-O2", "-Wall", "-Werror", "-o", initPath, initSource])
        try HostTools.run("strip", package: "binutils", [initPath])
        var w = NewcWriter()
        for d in ["dev", "proc", "sys", "sbin", "probe", "lib", "lib64", "lib/x86_64-linux-gnu"] { w.directory(d) }
        w.characterDevice("dev/console", major: 5, minor: 1)
        w.file("init", try read(initPath), mode: 0o755)
        w.file("sbin/kexec", try read(kexec), mode: 0o755)
        for lib in try sharedLibraries(kexec) {
            let dir = (lib.path as NSString).deletingLastPathComponent
            guard ["/lib64", "/lib/x86_64-linux-gnu"].contains(dir) else {
                throw HostToolError("ldd \(kexec): \(lib.path) is outside /lib64 and /lib/x86_64-linux-gnu")
            }
            w.file(String(lib.path.dropFirst()), try read(lib.resolved), mode: 0o755)
        }
        for v in variants {
            guard !v.id.isEmpty, !v.id.contains("/"), !v.id.contains(" ") else { throw HostToolError("variant id '\(v.id)' cannot be a file name") }
            w.file("probe/\(v.id).kernel", try read(v.kernel), mode: 0o644)
            if let rd = v.initrd { w.file("probe/\(v.id).initrd", try read(rd), mode: 0o644) }
            w.file("probe/\(v.id).cmdline", Array(v.commandLine.utf8), mode: 0o644)
        }
        guard w.fits else { throw HostToolError("a file for the kexec initramfs is 4 GiB or larger (newc sizes are 32-bit)") }
        let bytes = w.finish()
        guard FileManager.default.createFile(atPath: archive(work: work), contents: Data(bytes)) else {
            throw HostToolError("cannot write \(archive(work: work))")
        }
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let d = FileManager.default.contents(atPath: path) else { throw HostToolError("\(path): cannot read") }
        return [UInt8](d)
    }

    /// `ldd BINARY`: each library's path as the dynamic linker looks for it, and the file it is.
    static func sharedLibraries(_ binary: String) throws -> [(path: String, resolved: String)] {
        let dir = try Scratch.directory("ldd")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try HostTools.run("ldd", package: "libc-bin", [binary], stdout: dir + "/out")
        let text = String(decoding: try read(dir + "/out"), as: UTF8.self)
        var out: [(String, String)] = []
        for line in text.split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
            let path: String?
            if let arrow = f.firstIndex(of: "=>") { path = arrow + 1 < f.count && f[arrow + 1].hasPrefix("/") ? f[arrow + 1] : nil }
            else { path = f.first?.hasPrefix("/") == true ? f.first : nil }
            if line.contains("not found") { throw HostToolError("ldd \(binary): \(line.trimmingCharacters(in: .whitespaces))") }
            guard let p = path else { continue }
            out.append((p, (p as NSString).resolvingSymlinksInPath))
        }
        guard out.contains(where: { $0.0.contains("ld-linux") }) else { throw HostToolError("ldd \(binary): no dynamic linker in its output") }
        return out
    }

    /// The driver's lines of one kind ("kexec-init KIND TEXT" → TEXT).
    public static func lines(_ serial: String, _ kind: String) -> [String] {
        let prefix = "kexec-init \(kind)"
        return serial.split(whereSeparator: \.isNewline).compactMap { l -> String? in
            guard let r = l.range(of: prefix) else { return nil }
            return String(l[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
    }

    /// When `kexec -l` failed: kexec's own words (the console lines between the driver's "run"
    /// and "refused" lines), in file mode the direct kexec_file_load(2) call's result, and the
    /// kernel's words (kernel-log lines that name kexec or bzImage), in one line.
    public static func refusal(_ serial: String) -> String? {
        guard let refused = serial.range(of: "kexec-init refused") else { return nil }
        var words: [String] = []
        let before = serial[..<refused.lowerBound]
        if let run = before.range(of: "kexec-init run", options: .backwards) {
            let tail = before[run.upperBound...].split(whereSeparator: \.isNewline).dropFirst()
            words += tail.map { "kexec: " + $0.trimmingCharacters(in: .whitespaces) }.filter { $0 != "kexec: " }
        }
        let status = serial[refused.upperBound...].prefix { !$0.isNewline }.trimmingCharacters(in: .whitespaces)
        let log = lines(String(serial[refused.upperBound...]), "dmesg").filter {
            let l = $0.lowercased()
            return (l.contains("kexec") || l.contains("bzimage")) && !l.contains("command line:") && !l.contains("kernel command line")
        }
        words += lines(String(serial[refused.upperBound...]), "syscall").map { "kexec_file_load(2) called directly: " + $0 }
        words += log.map { "dmesg: " + $0 }
        return "kexec -l failed (\(status))" + (words.isEmpty ? "" : ": " + words.joined(separator: " | "))
    }
}
