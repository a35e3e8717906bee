import Conformance
import TestSupport
import Reports
import Runners
import ConformanceFixtures
import Foundation
import HarnessKVM
import Testing

/// Every real kernel boots to the initramfs's userspace marker by QEMU's own loader and by the
/// reference loader's bundle, and what the kernel reports matches what the loader handed over.
@Suite("RealKernelBoots")
struct RealKernelBootTests {
    @Test(.enabled(if: RealBoot.ready, "needs the real-kernel corpus, the initramfs and QEMU"), .hangGuard, arguments: TestTier.sample(RealBoot.cases, quick: RealBoot.quickSample, id: \.testDescription))
    func bootsToUserspace(_ c: RealBoot.Case) async throws {
        let initrd = try RealBoot.require()
        let r: KernelBootResult = try await offPool {
            switch c.path {
            case .qemuLoader: try KernelBoot.qemuLoader(kernel: c.kernel.path, initrd: initrd, timeout: .seconds(180))
            default: try KernelBoot.referenceBundle(kernel: c.kernel.path, initrd: initrd, timeout: .seconds(180))
            }
        }
        let report = try #require(r.report, "no userspace report: \(r.reportError ?? ""); \(r.outcome); console tail: \(r.qemu?.serialText.suffix(600) ?? "")")
        #expect(r.qemu?.outcome == .exited(status: 1), "the init leaves through isa-debug-exit with 0: \(r.outcome)")
        #expect(c.kernel.version.hasPrefix(report.release.split(separator: "-").first.map(String.init) ?? "?") || report.release.contains(c.kernel.series),
                "kernel release \(report.release) for package version \(c.kernel.version)")
        #expect(r.failedChecks.isEmpty, "\(r.failedChecks.map { "\($0.kind.rawValue) \($0.field): loader \($0.expected), kernel \($0.found) \($0.note)" })")
        // Which checks ran: everything the handoff makes knowable.
        let kinds = Set(r.checks.map(\.kind))
        #expect(kinds.isSuperset(of: [.commandLine, .initrd]))
        #expect(r.checks.contains { $0.kind == .initrd && $0.field == "/init" && $0.outcome == .pass }, "the kernel unpacked /init from the initrd")
        if c.path == .referenceBundle {
            #expect(kinds.isSuperset(of: [.zeroPage, .memoryMap]))
            #expect(r.checks.contains { $0.kind == .initrd && $0.field == "kernel log RAMDISK" && $0.outcome == .pass })
        }
    }

    /// The 6.12 cloud ELF with the initramfs under HarnessKVM.
    static func harnessRun(timeout: Duration) async throws -> KernelBootResult {
        let initrd = try RealBoot.require()
        let k = try #require(RealBoot.kernels.first { $0.format == "elf" && $0.series == "6.12" && $0.flavour == "cloud" })
        let system = try #require(KVM.system)
        return try await offPool { try KernelBoot.harness(kernel: k.path, initrd: initrd, timeout: timeout, system: system) }
    }

    /// HarnessKVM boots a real kernel to its userspace marker. Not run on a software KVM, where
    /// Linux does not reach userspace (a 6.12 ELF stops at the int3 self-test after 125 s).
    @Test(.enabled(if: KVM.usable && RealBoot.ready, "needs /dev/kvm and the corpus"),
          .enabled(if: KVM.system?.flavor.kind == .hardware, "not run: \(KVM.system.map { "\($0.flavor)" } ?? "no KVM") is a software KVM, where Linux does not reach userspace"),
          .hangGuard)
    func harnessBootsToUserspace() async throws {
        let r = try await Self.harnessRun(timeout: .seconds(60))
        #expect(r.passed, "\(r.outcome); \(r.failedChecks)")
    }

    /// On a software KVM the same run ends at its time limit, and the result says the init never
    /// started rather than passing (what a user of `conform boot-kernel --harness` sees there).
    @Test(.enabled(if: KVM.usable && RealBoot.ready, "needs /dev/kvm and the corpus"),
          .enabled(if: KVM.system?.flavor.kind == .software, "not run: hardware KVM boots Linux (harnessBootsToUserspace covers it)"),
          .hangGuard)
    func harnessOnSoftwareKVMSaysTheInitNeverStarted() async throws {
        let r = try await Self.harnessRun(timeout: .seconds(4))
        let h = try #require(r.harness)
        #expect(!r.passed)
        #expect(h.outcome == .timedOut || { if case .failed = h.outcome { return true } else { return false } }(), "\(h.outcome)")
        #expect(r.report == nil && r.reportError?.contains("BOOTCONFORM-INIT-START") == true, "\(r.reportError ?? "")")
    }
}

/// The bundle's trampoline recreates the reference loader's entry state exactly: the probe
/// kernel, bundled and booted by QEMU through the -bios stub, reports registers, descriptors,
/// page tables and memory identical to the loader's (the same comparison as under HarnessKVM).
@Suite("Bundles")
struct BundleTests {
    static let variants = ["elf-direct-64", "pvh-desc8", "bz-2.15", "bz-2.06", "bz-2.00", "bz-above-4g", "bz-indirect", "bz-rsdp"]

    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"), .hangGuard, arguments: variants)
    func probeSeesTheLoadersState(_ id: String) async throws {
        _ = try Probe.require()
        let c = try #require(Probe.variants.first { $0.id == id }, "no probe variant \(id)")
        let (q, v, b) = try await offPool { try ProbeBoot.bundle(c) }
        #expect(q.outcome == .exited(status: 1), "\(q.summary)")
        let report = try #require(v.report, "no probe report: \(v.reportError.map { "\($0)" } ?? ""); \(q.summary)")
        #expect(report.variant == id)
        #expect(report.entryPoint == c.options.entry ?? report.entryPoint)
        #expect(v.disagreements.isEmpty, "\(v.disagreements)")
        #expect(!v.guestVerdicts.contains { $0.outcome == .fail }, "\(v.guestVerdicts.filter { $0.outcome == .fail })")
        // Low regions were staged and copied, not loaded where firmware lives.
        #expect(b.segments.allSatisfy { $0.address >= PVHBundle.lowLimit })
        #expect(!b.staged.isEmpty)
    }

    /// The comparison can fail: judged against a load with another command line, the same boot
    /// disagrees, and the disagreement names the command line.
    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"), .hangGuard)
    func aDifferentLoadDisagrees() throws {
        _ = try Probe.require()
        let c = try #require(Probe.variants.first { $0.id == "elf-direct-64" })
        let (_, v, _) = try ProbeBoot.bundle(c)
        let report = try #require(v.report)
        var o = c.options; o.commandLine = "console=ttyS0 something-else"
        let other = try ReferenceLoader.load(kernel: MemorySource(name: c.id, bytes: c.image), initrd: c.initrd.map { MemorySource(name: "rd", bytes: $0) }, options: o)
        let d = probeDisagreements(loaderEntry: other.entry, loaderMemory: preBootCopy(other), report: report)
        #expect(d.contains { $0.contains("cmdline") }, "\(d)")
    }

    @Test func firmwareStubAndThirtyTwoBitEntry() throws {
        let c = try syntheticImage("bz-2.15")
        var o = c.options; o.entry = .protected32
        let r = try ReferenceLoader.load(kernel: MemorySource(name: c.id, bytes: c.image), initrd: c.initrd.map { MemorySource(name: "rd", bytes: $0) }, options: o)
        #expect(throws: Never.self) { try PVHBundle(r) }
        let fw = PVHBundle.firmware(jumpingTo: 0x12_3456)
        #expect(fw.count == 0x10000)
        #expect(Array(fw[0xFFF0..<0xFFF1]) == [0xE9], "reset vector is a near jump")
        // The stub's last instruction pair: mov eax, target; jmp eax.
        let tail: [UInt8] = [0xB8, 0x56, 0x34, 0x12, 0x00, 0xFF, 0xE0]
        #expect((0..<(fw.count - tail.count)).contains { Array(fw[$0..<$0 + tail.count]) == tail })
    }
}

/// The runner always ends QEMU: at the time limit, on cancellation, and names what is missing.
@Suite("QEMURunner", .serialized)
struct QEMURunnerTests {
    /// A guest that halts with interrupts off (cli; hlt; jmp back).
    static func haltingGuest() throws -> QEMUHostileTests.Guest { try QEMUHostileTests.guest([0xFA, 0xF4, 0xEB, 0xFD]) }

    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"), .hangGuard)
    func timeLimitKillsAndReaps() throws {
        _ = try Probe.require()
        let g = try Self.haltingGuest()
        defer { g.cleanup() }
        var b = QEMUBoot(kernel: g.kernel); b.bios = g.bios; b.accel = .tcg; b.timeout = .seconds(2); b.memoryMiB = 64
        let t0 = ContinuousClock.now
        let r = try QEMURunner.run(b)
        #expect(r.outcome == .timedOut, "\(r.summary)")
        #expect(ContinuousClock.now - t0 < .seconds(10))
        #expect(HostProcesses.mentioning(g.bios).isEmpty, "a QEMU process outlived the runner")
    }

    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"), .hangGuard)
    func cancellationKillsAndReaps() async throws {
        _ = try Probe.require()
        let g = try Self.haltingGuest()
        defer { g.cleanup() }
        var b = QEMUBoot(kernel: g.kernel); b.bios = g.bios; b.accel = .tcg; b.timeout = .seconds(60); b.memoryMiB = 64
        let boot = b
        let task = Task.detached { try QEMURunner.run(boot) }
        try await Task.sleep(for: .seconds(1))
        task.cancel()
        let r = try await task.value
        #expect(r.outcome == .cancelled, "\(r.summary)")
        // It ended by cancellation, not at its time limit. (How soon after cancel() depends on
        // when this test's continuation gets a thread while other suites boot kernels.)
        #expect(r.elapsed < boot.timeout)
        #expect(HostProcesses.mentioning(g.bios).isEmpty)
    }

    @Test func namesWhatIsMissing() throws {
        #expect(throws: QEMUError.notInstalled(searched: ["/nonexistent/qemu"])) { try QEMURunner.executable("/nonexistent/qemu") }
        let b = QEMUBoot(kernel: "/nonexistent/kernel")
        #expect(throws: QEMUError.unreadableInput("/nonexistent/kernel")) { try QEMURunner.run(b) }
        #expect("\(QEMUError.notInstalled(searched: ["/x"]))".contains("apt-get install qemu-system-x86"))
    }

    @Test func acceleratorFollowsTheKVMFlavour() {
                #expect(QEMUAccel.automatic.resolved(flavor: KVMFlavor(kind: .hardware, module: "kvm_amd"), availability: .usable(KVMFlavor(kind: .hardware, module: "kvm_amd"))) == .kvm)
        #expect(QEMUAccel.automatic.resolved(flavor: KVMFlavor(kind: .software, module: "kvm_pvm"), availability: .usable(KVMFlavor(kind: .hardware, module: "kvm_amd"))) == .tcg)
        #expect(QEMUAccel.automatic.resolved(flavor: KVMFlavor(kind: .hardware, module: "kvm_intel"), availability: .unusable(reason: "no /dev/kvm")) == .tcg)
        #expect(QEMUAccel.tcg.resolved(flavor: KVMFlavor(kind: .hardware, module: "kvm_amd"), availability: .usable(KVMFlavor(kind: .hardware, module: "kvm_amd"))) == .tcg)
    }
}
