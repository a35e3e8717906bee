import ArgumentParser
import Conformance
import Foundation
import HarnessKVM
import Reports
import Runners

/// Boots a real kernel to the initramfs's userspace marker by one or more paths, checks what
/// the kernel says it received, and compares the loaders.
struct BootKernel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot-kernel",
        abstract: "Boot a real kernel to userspace by QEMU's loader and the reference loader; compare what the kernel observed.",
        discussion: """
        The initrd must be the corpus initramfs (Corpus/initramfs/build/initramfs.cpio, built by \
        tools/build-corpus.sh) or another newc archive whose /init prints the same report. \
        Paths: qemu-loader (QEMU's -kernel/-initrd/-append through SeaBIOS), reference-bundle \
        (the reference loader's memory image under QEMU with no firmware), harnesskvm (the \
        reference loader under HarnessKVM; on a software KVM Linux does not reach userspace in \
        any useful time, and the output says how far it got). \
        --arch arm64 or riscv64 boots an Image (Debian's vmlinuz for those architectures) by QEMU's \
        own loader on the virt machine under TCG (arm64: cortex-a57, no firmware; riscv64: OpenSBI \
        by -bios default) with the initramfs built for that architecture \
        (Corpus/initramfs/build-ARCH/initramfs.cpio), and checks the command line, the device \
        tree's /chosen bootargs and initrd range, its /memory against the RAM asked for, the \
        initrd's files, and (riscv64) the firmware's /reserved-memory entry. A boot takes one to \
        two minutes under TCG.
        """)
    @Argument(help: "A bzImage or ELF vmlinux (amd64), or an Image (arm64, riscv64).") var kernel: String
    @Option(help: "The kernel's architecture: amd64, arm64 or riscv64.") var arch = "amd64"
    @Option(help: "The initramfs (default: Corpus/initramfs/build/initramfs.cpio, or build-ARCH/ for arm64 and riscv64).") var initrd: String?
    @Option(help: "Kernel command line (default: \(KernelBoot.defaultCommandLine); arm64 and riscv64: console=ttyAMA0 or ttyS0, panic=-1 quiet).") var cmdline: String?
    @Option(name: .customLong("path"), help: "qemu-loader, reference-bundle, harnesskvm; repeat for several (default: the first two).") var paths: [String] = []
    @Option(help: "QEMU accelerator: auto (kvm on hardware KVM, else tcg), kvm or tcg.") var accel = "auto"
    @Option(help: "Seconds to wait for the userspace marker on each path (default: 120; 600 for arm64 and riscv64 under TCG).") var timeout: Double?
    @Option(help: "Guest RAM (e.g. 1G).") var memory = "1G"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        if arch != "amd64" { return try runImage() }
        guard let a = QEMUAccel(rawValue: accel) else { throw fail("--accel '\(accel)' is not auto, kvm or tcg") }
        let chosen = try (paths.isEmpty ? ["qemu-loader", "reference-bundle"] : paths).map { p -> KernelBootPath in
            guard let k = KernelBootPath(rawValue: p) else { throw fail("--path '\(p)' is not one of \(KernelBootPath.allCases.map(\.rawValue).joined(separator: ", "))") }
            return k
        }
        let mem = try size(memory, option: "--memory")
        var o = LoadOptions(); o.memorySize = mem
        let results = try chosen.map { try boot($0, accel: a, options: o) }
        var header: SetupHeader? = nil
        if let src = try? FileSource(path: kernel), case .bzImage(let bz)? = try? KernelImage(source: src) { header = bz.header }
        let observed = results.compactMap { r in r.report.map { LoaderDifferential.Observed(name: r.path.rawValue, report: $0, entry: r.load?.entry.entryPoint) } }
        let diff = observed.count >= 2 ? LoaderDifferential.rows(observed, header: header) : []
        if json {
            writeJSON(["kernel": kernel, "paths": results.map(bootResultJSON), "differential": diff.map(differentialRowJSON)])
        } else {
            for r in results { printResult(r) }
            if !diff.isEmpty { printDifferential(diff, names: observed.map(\.name)) }
        }
        if results.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }

    /// An arm64 or riscv64 Image by QEMU's loader on virt.
    func runImage() throws {
        guard let a = ImageHandoff.Architecture(rawValue: arch) else { throw fail("--arch '\(arch)' is not amd64, arm64 or riscv64") }
        guard paths.isEmpty || paths == [KernelBootPath.qemuLoader.rawValue] else {
            throw fail("--arch \(arch): only --path qemu-loader (QEMU's -kernel on virt); the reference loader's Image path is not built yet")
        }
        let mem = try size(memory, option: "--memory")
        guard mem >= 1 << 20, mem % (1 << 20) == 0 else { throw fail("--memory \(memory): expected a whole number of MiB") }
        let r: KernelBootResult
        do {
            r = try ImageKernelBoot.qemuLoader(a, kernel: kernel, initrd: initrd ?? "Corpus/initramfs/build-\(arch)/initramfs.cpio", commandLine: cmdline,
                                               memoryMiB: Int(mem >> 20), timeout: .milliseconds(Int((timeout ?? 600) * 1000)))
        } catch { throw fail("\(arch): \(kernel): \(error)") }
        if json { writeJSON(["kernel": kernel, "architecture": arch, "paths": [bootResultJSON(r)]]) } else { printResult(r) }
        if !r.passed { throw ExitCode(1) }
    }

    func boot(_ p: KernelBootPath, accel: QEMUAccel, options: LoadOptions) throws -> KernelBootResult {
        let t = Duration.milliseconds(Int((timeout ?? 120) * 1000))
        let initrd = initrd ?? "Corpus/initramfs/build/initramfs.cpio", cmdline = cmdline ?? KernelBoot.defaultCommandLine
        do {
            switch p {
            case .qemuLoader: return try KernelBoot.qemuLoader(kernel: kernel, initrd: initrd, commandLine: cmdline, memoryMiB: Int(options.memorySize >> 20), accel: accel, timeout: t)
            case .referenceBundle: return try KernelBoot.referenceBundle(kernel: kernel, initrd: initrd, commandLine: cmdline, options: options, accel: accel, timeout: t)
            case .harness:
                let sys: KVMSystem
                do { sys = try KVMSystem() } catch { throw fail("harnesskvm: \(error)") }
                return try KernelBoot.harness(kernel: kernel, initrd: initrd, commandLine: cmdline, options: options, timeout: t, system: sys)
            }
        } catch let e as ExitCode { throw e } catch { throw fail("\(p.rawValue): \(kernel): \(error)") }
    }
}

/// Prints `bootResultLines`.
func printResult(_ r: KernelBootResult) { for l in bootResultLines(r) { print(l) } }

/// Prints `differentialLines`.
func printDifferential(_ rows: [DifferentialRow], names: [String]) { for l in differentialLines(rows, names: names) { print(l) } }
