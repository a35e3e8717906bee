import Conformance
import ConformanceFixtures
import Foundation
import Runners
import TestSupport
import Testing

/// Debian's arm64 and riscv64 kernels (Corpus/real.lock.json "imagePackages") boot to the
/// cross-built init by QEMU's own loader on `virt` under TCG, and what the kernel saw (the
/// command line, /chosen, the initrd's files, /memory, the firmware's reservation) is what QEMU
/// was asked for. Measured under TCG on this two-core host: arm64 5.1 s and riscv64 7.5 s with
/// the cores free, 79 s and 108 s while a Swift build shared them; the quick tier boots arm64
/// only, CONFORM_TESTS=full both. The time limit bounds a hang, not the speed.
@Suite("ImageKernelBoots")
struct ImageKernelBootTests {
    static let kernels: [RealKernel] = (try? RealCorpus.imageKernels(directory: Repo.corpus)) ?? []
    static let architectures = ImageHandoff.Architecture.allCases.map(\.rawValue)

    @Test(.timeLimit(.minutes(10)), arguments: TestTier.sample(architectures, quick: ["arm64"], id: { $0 }))
    func bootsToUserspace(_ arch: String) async throws {
        let a = try #require(ImageHandoff.Architecture(rawValue: arch))
        let m = ImageKernelMachine.of(a)
        guard m.installed else { try Test.cancel("\(m.emulator) is not installed (apt-get install \(m.package))") }
        guard let k = Self.kernels.first(where: { $0.format == arch }) else { try Test.cancel("no \(arch) kernel in Corpus/real/manifest.json: run tools/build-corpus.sh") }
        guard let initrd = RealCorpus.initramfs(directory: Repo.corpus, architecture: arch) else { try Test.cancel("no \(arch) initramfs: run tools/build-corpus.sh (needs the \(arch) cross compiler)") }
        let r = try await offPool { try ImageKernelBoot.qemuLoader(a, kernel: k.path, initrd: initrd, timeout: .seconds(540)) }
        let report = try #require(r.report, "no userspace report: \(r.reportError ?? ""); \(r.outcome); console tail: \(r.qemu?.serialText.suffix(600) ?? "")")
        #expect(r.qemu?.outcome == .exited(status: 0), "the init powers off (PSCI / SBI), which ends QEMU with 0: \(r.outcome)")
        #expect(report.release.hasPrefix(k.version.split(separator: "-").first.map(String.init) ?? "?"), "kernel release \(report.release) for package version \(k.version)")
        #expect(r.failedChecks.isEmpty, "\(r.failedChecks.map { "\($0.kind.rawValue) \($0.field): loader \($0.expected), kernel \($0.found) \($0.note)" })")
        let fields = Set(r.checks.map(\.field))
        #expect(fields.isSuperset(of: ["/proc/cmdline", "/chosen/bootargs", "/chosen linux,initrd-start/end", "/init", "/proc/iomem System RAM", "/sys/firmware/fdt"]))
        #expect(fields.contains { $0.hasPrefix("/memory reg") })
        #expect(a != .riscv64 || fields.contains { $0.hasPrefix("/reserved-memory: firmware") }, "OpenSBI's reservation is judged on riscv64")
    }

    /// The machine facts the checks rely on: QEMU virt's RAM bases (hw/arm/virt.c VIRT_MEM,
    /// hw/riscv/virt.c VIRT_DRAM) and the argument vector, without booting.
    @Test func machines() {
        let arm = ImageKernelMachine.of(.arm64), rv = ImageKernelMachine.of(.riscv64)
        #expect(arm.ramBase == 0x4000_0000 && rv.ramBase == 0x8000_0000 && arm.firmwareAt == nil && rv.firmwareAt == 0x8000_0000)
        let args = rv.arguments(kernel: "K", initrd: "I", commandLine: rv.defaultCommandLine, memoryMiB: 512)
        #expect(args.starts(with: ["-accel", "tcg", "-M", "virt", "-bios", "default", "-m", "512"]))
        #expect(args.suffix(6) == ["-kernel", "K", "-initrd", "I", "-append", "console=ttyS0 panic=-1 quiet"])
        #expect(arm.defaultCommandLine == "console=ttyAMA0 panic=-1 quiet")
    }
}
