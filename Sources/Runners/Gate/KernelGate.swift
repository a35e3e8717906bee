import Conformance
import HarnessKVM
import ConformanceFixtures
import Foundation

/// The reference loader's verdicts on one entry of the new kernel (and the baseline's); for an
/// arm64 or riscv64 Image, the reference Image loader's load judged by the A64-nn or RV-nn rules.
public struct GateRuleRun: Sendable {
    /// The x86 entry; nil for an Image.
    public let entry: EntryPoint?
    /// "64", "32", "pvh" (the entry), or "arm64 Image", "riscv64 Image".
    public let name: String
    public let verdicts: [Verdict]
    /// The reference loader refused the image for this entry.
    public let refused: String?
    public let baseline: [Verdict]?
    public let baselineRefused: String?

    public init(entry: EntryPoint?, name: String? = nil, verdicts: [Verdict], refused: String?, baseline: [Verdict]?, baselineRefused: String?) {
        self.entry = entry; self.name = name ?? entry?.rawValue ?? "?"; self.verdicts = verdicts; self.refused = refused
        self.baseline = baseline; self.baselineRefused = baselineRefused
    }

    /// "64 entry", or "arm64 Image (reference Image loader)".
    public var heading: String { entry.map { "\($0.rawValue) entry" } ?? "\(name) (reference Image loader)" }

    /// Rules that fail on the new kernel, with whether they passed on the baseline.
    public var failures: [(verdict: Verdict, new: Bool)] {
        verdicts.filter { $0.outcome == .fail }.map { v in (v, baseline?.first { $0.rule == v.rule }?.outcome != .fail) }
    }
}

/// One entry of one kernel as the reference loader loaded it: the load (guest memory, the
/// placements) and every rule's verdict, or why the loader refused.
public struct EntryLoad: Sendable {
    public let entry: EntryPoint
    public let load: LoadResult?
    public let verdicts: [Verdict]
    public let refused: String?
    public init(entry: EntryPoint, load: LoadResult?, verdicts: [Verdict], refused: String?) {
        self.entry = entry; self.load = load; self.verdicts = verdicts; self.refused = refused
    }
}

public struct GateReport: Sendable {
    public let new: GateKernel
    public let baseline: GateKernel?
    public let changes: [SurfaceChange]
    public let ruleRuns: [GateRuleRun]
    public let boots: [KernelBootResult]
    /// Why the boot step did not run (only when asked to skip it).
    public let bootSkipped: String?
    public let elapsed: Duration

    /// Everything that makes the gate fail, one line each.
    public var regressions: [String] {
        var out: [String] = []
        for c in changes where c.impact == .breaking { out.append("surface: \(c.key) \(c.old ?? "-") → \(c.new ?? "-"): \(c.reason)") }
        for r in ruleRuns {
            if let why = r.refused { out.append("rules (\(r.name)): the reference loader refuses the image: \(why)\(r.baselineRefused == nil && r.baseline != nil ? " (the baseline loaded)" : "")") }
            for f in r.failures { out.append("rules (\(r.name)): \(f.verdict.rule) fails\(f.new ? "" : " (also on the baseline)"): \(f.verdict.evidence)") }
        }
        for b in boots where !b.passed {
            if let e = b.reportError { out.append("boot (\(b.path.rawValue)): no userspace report: \(e); \(b.outcome)") }
            for c in b.failedChecks { out.append("boot (\(b.path.rawValue)): \(c.kind.rawValue) \(c.field): loader \(c.expected), kernel \(c.found) \(c.note)") }
        }
        return out
    }
    public var passed: Bool { regressions.isEmpty }
    /// Surface changes a loader maintainer must check; they do not fail the gate.
    public var needsAttention: [SurfaceChange] { changes.filter { $0.impact == .needsAttention } }
}

public enum KernelGate {
    public struct Options: Sendable {
        public var initrd: String? = "Corpus/initramfs/build/initramfs.cpio"
        public var boot = true
        public var accel: QEMUAccel = .automatic
        public var timeout: Duration = .seconds(180)
        public var commandLine = KernelBoot.defaultCommandLine
        /// The initramfs an arm64 or riscv64 Image boots with: an init built for that
        /// architecture (tools/build-corpus.sh cross-builds them).
        public var imageInitrds: [ImageHandoff.Architecture: String] =
            Dictionary(uniqueKeysWithValues: ImageHandoff.Architecture.allCases.map { ($0, "Corpus/initramfs/build-\($0.rawValue)/initramfs.cpio") })
        public init() {}
    }

    /// The platform the gate loads an Image on: QEMU virt with the RAM the boot gives it
    /// (`ImageKernelBoot.qemuLoader`'s 1 GiB).
    public static func imagePlatform(_ a: ImageBootSnapshot.Architecture) -> ImagePlatform { .qemuVirt(a, ramSize: 1 << 30) }

    /// The reference Image loader's load of `k` on `imagePlatform` with `initrd` and the
    /// machine's command line, judged by the rules of its architecture; the refusal instead.
    public static func imageLoad(_ k: GateKernel, initrd: [UInt8]) -> (verdicts: [Verdict], refused: String?) {
        guard let h = k.imageHeader else { return ([], "not an arm64 or riscv64 Image") }
        guard let bytes = FileManager.default.contents(atPath: k.image) else { return ([], "\(k.image): cannot read") }
        let cmd = ImageKernelMachine.of(h.architecture).defaultCommandLine
        do {
            let r = try ReferenceImageLoader.load([UInt8](bytes), ImageLoadOptions(platform: imagePlatform(h.architecture), commandLine: cmd, initrd: initrd))
            return (judge(r.snapshot), nil)
        } catch {
            return ([], error.description)
        }
    }

    /// The entries the reference loader should be able to use on this image.
    public static func entries(_ k: KernelImage) -> [EntryPoint] {
        switch k {
        case .bzImage(let bz): bz.header.xloadFlags.contains(.kernel64) ? [.long64, .protected32] : [.protected32]
        case .elf(let e): e.pvhEntry != nil ? [.long64, .pvh] : [.long64]
        }
    }

    /// The reference loader's load of `k` at `entry` and every rule's verdict on it; the
    /// refusal instead when the loader refuses the image for that entry. The gate judges these,
    /// and the HTML report draws each load's memory.
    public static func load(_ k: GateKernel, entry: EntryPoint, initrd: [UInt8], commandLine: String = KernelBoot.defaultCommandLine) -> EntryLoad {
        var o = LoadOptions()
        o.entry = entry; o.commandLine = commandLine; o.rngSeed = LoadOptions.corpusSeed
        do {
            let src = try FileSource(path: k.image)
            let rd = MemorySource(name: "initrd", bytes: initrd)
            let r = try ReferenceLoader.load(kernel: src, initrd: rd, options: o)
            let snap = try BootSnapshot.of(r, kernel: src, initrd: rd, commandLine: commandLine)
            return EntryLoad(entry: entry, load: r, verdicts: judge(snap), refused: nil)
        } catch {
            return EntryLoad(entry: entry, load: nil, verdicts: [], refused: "\(error)")
        }
    }

    /// `load` for every entry the image offers (`entries`).
    public static func loads(_ k: GateKernel, initrd: [UInt8], commandLine: String = KernelBoot.defaultCommandLine) -> [EntryLoad] {
        (k.parsed.map(entries) ?? []).map { load(k, entry: $0, initrd: initrd, commandLine: commandLine) }
    }

    /// The initrd the gate loads with: the file at `path`, or the corpus's small test initrd
    /// when there is none.
    public static func initrdBytes(_ path: String?) -> [UInt8] {
        path.flatMap { FileManager.default.contents(atPath: $0) }.map { [UInt8]($0) } ?? RealCorpus.testInitrd()
    }

    /// Runs the gate; `progress` hears of each step (the rules per entry, each boot) as it starts.
    public static func run(new: GateKernel, baseline: GateKernel?, options: Options = Options(), progress: (String) -> Void = { _ in }) throws -> GateReport {
        let start = ContinuousClock.now
        var changes: [SurfaceChange] = []
        if let baseline {
            do { changes = try Surface.diff(old: baseline.surface, new: new.surface, oldName: baseline.label, newName: new.label) } catch { throw GateError(error.description) }
        }
        if let h = new.imageHeader { return try runImage(new: new, header: h, baseline: baseline, changes: changes, options: options, start: start, progress: progress) }
        let initrdBytes = initrdBytes(options.initrd)
        var runs: [GateRuleRun] = []
        let baseEntries = baseline?.parsed.map(entries) ?? []
        for e in new.parsed.map(entries) ?? [] {
            progress("rules at the \(e.rawValue) entry")
            let n = load(new, entry: e, initrd: initrdBytes, commandLine: options.commandLine)
            var bv: [Verdict]? = nil, brefused: String? = nil
            if let baseline, baseEntries.contains(e) {
                let b = load(baseline, entry: e, initrd: initrdBytes, commandLine: options.commandLine)
                (bv, brefused) = (b.refused == nil ? b.verdicts : nil, b.refused)
            }
            runs.append(GateRuleRun(entry: e, verdicts: n.verdicts, refused: n.refused, baseline: bv, baselineRefused: brefused))
        }
        var boots: [KernelBootResult] = []
        var skipped: String? = nil
        if !options.boot { skipped = "skipped (--no-boot)" } else if let rd = options.initrd, FileManager.default.isReadableFile(atPath: rd) {
            progress("boot 1/2: QEMU's loader to the userspace marker")
            boots.append(try KernelBoot.qemuLoader(kernel: new.image, initrd: rd, commandLine: options.commandLine, accel: options.accel, timeout: options.timeout))
            progress("boot 2/2: the reference loader's bundle to the userspace marker")
            boots.append(try KernelBoot.referenceBundle(kernel: new.image, initrd: rd, commandLine: options.commandLine, accel: options.accel, timeout: options.timeout))
        } else {
            throw GateError("cannot boot the new kernel: no initramfs at \(options.initrd ?? "-") (run tools/build-corpus.sh, pass --initrd, or --no-boot)")
        }
        return GateReport(new: new, baseline: baseline, changes: changes, ruleRuns: runs, boots: boots, bootSkipped: skipped, elapsed: ContinuousClock.now - start)
    }

    /// The gate on an arm64 or riscv64 Image: the surface diff; the reference Image loader's load
    /// on QEMU virt judged by A64-nn or RV-nn (and the baseline's, for rules that newly fail);
    /// and the boot to userspace by QEMU's own loader on virt under TCG (`ImageKernelBoot`), with
    /// the initramfs built for the architecture and the machine's command line (its console).
    static func runImage(new: GateKernel, header h: ImageHeader, baseline: GateKernel?, changes: [SurfaceChange], options: Options,
                         start: ContinuousClock.Instant, progress: (String) -> Void) throws -> GateReport {
        let arch = h.architecture
        let initrd = initrdBytes(options.imageInitrds[arch])
        progress("rules on the reference Image loader's load")
        let n = imageLoad(new, initrd: initrd)
        let b = baseline.map { imageLoad($0, initrd: initrd) }
        let run = GateRuleRun(entry: nil, name: new.formatName, verdicts: n.verdicts, refused: n.refused,
                              baseline: b?.refused == nil ? b?.verdicts : nil, baselineRefused: b?.refused)
        var boots: [KernelBootResult] = []
        var skipped: String? = nil
        if !options.boot { skipped = "skipped (--no-boot)" } else if let rd = options.imageInitrds[arch], FileManager.default.isReadableFile(atPath: rd) {
            progress("boot by QEMU's loader on virt (TCG)")
            boots.append(try ImageKernelBoot.qemuLoader(arch, kernel: new.image, initrd: rd, timeout: options.timeout))
        } else {
            throw GateError("cannot boot the new \(arch.rawValue) kernel: no \(arch.rawValue) initramfs at \(options.imageInitrds[arch] ?? "-") (run tools/build-corpus.sh with the \(arch.rawValue) cross compiler installed, pass --initrd, or --no-boot)")
        }
        return GateReport(new: new, baseline: baseline, changes: changes, ruleRuns: [run], boots: boots, bootSkipped: skipped, elapsed: ContinuousClock.now - start)
    }
}
