import Conformance
import HarnessKVM
import ConformanceFixtures
import Foundation
import Glibc

/// Linux itself as the loader: a Debian kernel from the real-kernel corpus boots under QEMU
/// with an initramfs holding kexec-tools and every probe variant, and loads the variant the
/// outer command line names (`probe=ID kexec=load|file`) with `kexec_load` (`kexec -l`, the
/// loader is kexec-tools in userspace) or `kexec_file_load` (`kexec -s -l`, the loader is the
/// kernel's own arch/x86/kernel/kexec-bzimage64.c), then `kexec -e`. The probe reports on COM1
/// and leaves through isa-debug-exit like under any other loader. The initramfs is built once
/// per run by `prepare` (`KexecInitramfs`), so one archive serves every variant.
public struct KexecAdapter: LoaderAdapter {
    public enum Mode: String, Sendable, CaseIterable {
        /// `kexec -l`: kexec-tools parses the image and builds boot_params itself.
        case load
        /// `kexec -s -l`: the kernel's kexec_file_load parses the image (kexec-bzimage64.c).
        case file
    }
    public let mode: Mode
    /// The outer kernel (a bzImage of the real-kernel corpus), nil when the corpus is missing.
    public let outerKernel: String?
    /// The driver's source, Corpus/kexec-initramfs/init.c.
    public let initSource: String
    /// The outer guest's memory.
    public var memoryMiB = 1024

    /// - Parameters:
    ///   - corpus: the repository's `Corpus` directory (the outer kernel is found in
    ///     `corpus/real`, the init's source in `corpus/kexec-initramfs`).
    public init(mode: Mode, corpus: String) {
        self.mode = mode
        self.outerKernel = Self.outerKernel(corpus: corpus)
        self.initSource = corpus + "/kexec-initramfs/init.c"
    }

    public init(mode: Mode, outerKernel: String?, initSource: String) {
        self.mode = mode; self.outerKernel = outerKernel; self.initSource = initSource
    }

    /// The outer kernel: the corpus's 6.12 cloud bzImage (the fastest to userspace under TCG),
    /// else any bzImage of it.
    public static func outerKernel(corpus: String) -> String? {
        guard let ks = (try? RealCorpus.load(directory: corpus)) ?? nil else { return nil }
        let bz = ks.filter { $0.format == "bzImage" && FileManager.default.fileExists(atPath: $0.path) }
        return (bz.first { $0.series == "6.12" && $0.flavour == "cloud" } ?? bz.first)?.path
    }

    /// The outer kernel's command line: the default one for real kernels under emulation
    /// (`no_timer_check`: KernelBoot.defaultCommandLine) plus the run's choice.
    public func outerCommandLine(_ v: MatrixVariant) -> String {
        KernelBoot.defaultCommandLine + " probe=\(v.id) kexec=\(mode.rawValue)"
    }

    public var id: String { "kexec-\(mode.rawValue)" }
    public var packages: [String] { ["kexec-tools", "qemu-system-x86", "gcc", "libc6-dev"] }

    public var unavailable: String? {
        var why: [String] = []
        if KexecInitramfs.kexecBinary == nil { why.append("kexec-tools not installed (apt-get install kexec-tools)") }
        if (try? QEMURunner.executable()) == nil { why.append("qemu-system-x86_64 not installed (apt-get install qemu-system-x86)") }
        if HostTools.find("gcc") == nil { why.append("gcc not installed (apt-get install gcc libc6-dev)") }
        if outerKernel == nil { why.append("real-kernel corpus missing: run tools/build-corpus.sh") }
        if !FileManager.default.fileExists(atPath: initSource) { why.append("\(initSource) missing") }
        return why.isEmpty ? nil : why.joined(separator: "; ")
    }

    /// Every variant is given to kexec: what it refuses (kexec_file_load takes only a bzImage
    /// with protocol 2.12+ and XLF_KERNEL_64) is a result with the kernel's words.
    public func accepts(_ v: MatrixVariant) -> Bool { true }

    public func prepare(_ variants: [MatrixVariant], work: String) throws {
        try KexecInitramfs.build(variants: variants, initSource: initSource, work: work)
    }

    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        guard let outer = outerKernel else { throw HostToolError("real-kernel corpus missing: run tools/build-corpus.sh") }
        var b = QEMUBoot(kernel: outer, initrd: KexecInitramfs.archive(work: work), append: outerCommandLine(v))
        b.machine = "pc"; b.memoryMiB = memoryMiB; b.timeout = timeout
        // After a refusal the init prints the kernel log and "kexec-init done", then leaves
        // through isa-debug-exit; the marker ends a run whose exit does not come.
        b.marker = KexecInitramfs.doneLine; b.grace = .seconds(2)
        let r = try QEMURunner.run(b)
        var run = LoaderRun(r, expectedCommandLine: v.commandLine)
        let text = r.serialText
        if let refusal = KexecInitramfs.refusal(text) {
            run.refused = refusal
        } else if let error = KexecInitramfs.lines(text, "error").first {
            run.notes.append("kexec driver: \(error)")
        }
        if !text.contains("kexec-init run") { run.notes.append("the outer kernel did not reach the kexec driver") }
        return run
    }
}

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

/// A newc ("070701") cpio archive writer: headers written by hand, every entry owned by 0:0
/// with mtime 0 and inodes numbered in order, so the bytes depend on the contents alone.
/// (`Newc.entries` in Conformance reads what this writes.)
public struct NewcWriter {
    private var bytes: [UInt8] = []
    private var inode: UInt32 = 0
    /// False once a file of 4 GiB or more was added (newc's size field is 32-bit); its size
    /// is then written truncated, and the archive must not be used.
    public private(set) var fits = true
    public init() {}

    public mutating func directory(_ name: String) { entry(name, mode: 0o040755, data: []) }
    public mutating func file(_ name: String, _ data: [UInt8], mode: UInt32) { entry(name, mode: 0o100000 | (mode & 0o7777), data: data) }
    public mutating func characterDevice(_ name: String, major: UInt32, minor: UInt32) { entry(name, mode: 0o020600, data: [], rdev: (major, minor)) }

    /// The archive: the entries, the trailer, zero padding to 512 bytes.
    public mutating func finish() -> [UInt8] {
        entry("TRAILER!!!", mode: 0, data: [], numbered: false)
        while bytes.count % 512 != 0 { bytes.append(0) }
        return bytes
    }

    private mutating func entry(_ name: String, mode: UInt32, data: [UInt8], rdev: (UInt32, UInt32) = (0, 0), numbered: Bool = true) {
        if numbered { inode &+= 1 }
        if data.count > Int(UInt32.max) { fits = false }
        let n = Array(name.utf8) + [0]
        let isDirectory = mode & 0o170000 == 0o040000
        // c_ino c_mode c_uid c_gid c_nlink c_mtime c_filesize c_devmajor c_devminor
        // c_rdevmajor c_rdevminor c_namesize c_check
        let fields: [UInt32] = [numbered ? inode : 0, mode, 0, 0, isDirectory ? 2 : 1, 0, UInt32(truncatingIfNeeded: data.count), 0, 0,
                                rdev.0, rdev.1, UInt32(n.count), 0]
        bytes += Array("070701".utf8)
        for f in fields { bytes += Array(String(format: "%08X", f).utf8) }
        bytes += n
        while bytes.count % 4 != 0 { bytes.append(0) }
        bytes += data
        while bytes.count % 4 != 0 { bytes.append(0) }
    }
}
