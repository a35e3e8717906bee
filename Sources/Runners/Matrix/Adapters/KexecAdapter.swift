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
    /// Why there is no outer kernel: the corpus is not built, its manifest does not read, or it
    /// holds no bzImage.
    let outerKernelProblem: String
    /// The driver's source, Corpus/kexec-initramfs/init.c.
    public let initSource: String
    /// The outer guest's memory.
    public var memoryMiB = 1024

    /// - Parameters:
    ///   - corpus: the repository's `Corpus` directory (the outer kernel is found in
    ///     `corpus/real`, the init's source in `corpus/kexec-initramfs`).
    public init(mode: Mode, corpus: String) {
        self.mode = mode
        switch Self.outerKernel(corpus: corpus) {
        case .success(let path): self.outerKernel = path; self.outerKernelProblem = ""
        case .failure(let why): self.outerKernel = nil; self.outerKernelProblem = why.description
        }
        self.initSource = corpus + "/kexec-initramfs/init.c"
    }

    public init(mode: Mode, outerKernel: String?, initSource: String) {
        self.mode = mode; self.outerKernel = outerKernel; self.initSource = initSource
        self.outerKernelProblem = "no outer kernel given"
    }

    /// The outer kernel: the corpus's 6.12 cloud bzImage (the fastest to userspace under TCG),
    /// else any bzImage of it. A manifest that does not read is its error, not a missing corpus.
    public static func outerKernel(corpus: String) -> Result<String, HostToolError> {
        let ks: [RealKernel]
        do {
            guard let k = try RealCorpus.load(directory: corpus) else { return .failure(HostToolError("real-kernel corpus missing: run tools/build-corpus.sh")) }
            ks = k
        } catch { return .failure(HostToolError("the real-kernel manifest does not read: \(error)")) }
        let bz = ks.filter { $0.format == "bzImage" && FileManager.default.fileExists(atPath: $0.path) }
        guard let k = bz.first(where: { $0.series == "6.12" && $0.flavour == "cloud" }) ?? bz.first else {
            return .failure(HostToolError("the real-kernel manifest lists no bzImage that exists: run tools/build-corpus.sh"))
        }
        return .success(k.path)
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
        if outerKernel == nil { why.append(outerKernelProblem) }
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
        guard let outer = outerKernel else { throw HostToolError(outerKernelProblem) }
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
