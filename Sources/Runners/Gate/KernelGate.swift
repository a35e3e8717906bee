import Conformance
import HarnessKVM
import ConformanceFixtures
import Foundation

/// The reference loader's verdicts on one entry of the new kernel (and the baseline's).
public struct GateRuleRun: Sendable {
    public let entry: EntryPoint
    public let verdicts: [Verdict]
    /// The reference loader refused the image for this entry.
    public let refused: String?
    public let baseline: [Verdict]?
    public let baselineRefused: String?

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
    /// Why no rules ran, when none could: an arm64 or riscv64 Image, whose rules and reference
    /// loader are not built yet.
    public var rulesNote: String? = nil

    /// Everything that makes the gate fail, one line each.
    public var regressions: [String] {
        var out: [String] = []
        for c in changes where c.impact == .breaking { out.append("surface: \(c.key) \(c.old ?? "-") → \(c.new ?? "-"): \(c.reason)") }
        for r in ruleRuns {
            if let why = r.refused { out.append("rules (\(r.entry.rawValue)): the reference loader refuses the image: \(why)\(r.baselineRefused == nil && r.baseline != nil ? " (the baseline loaded)" : "")") }
            for f in r.failures { out.append("rules (\(r.entry.rawValue)): \(f.verdict.rule) fails\(f.new ? "" : " (also on the baseline)"): \(f.verdict.evidence)") }
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

    /// Said in every output of a gate on an Image, where the rules section would be.
    public static let imageRulesNote = "no rules run: the arm64 and riscv64 rules (A64-nn, RV-nn) and the reference loader for Images are not built yet (issue 16); for an Image the gate covers the header surface and the boot to userspace by QEMU's own loader on virt"

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
        if let h = new.imageHeader { return try runImage(new: new, header: h, baseline: baseline, changes: changes, options: options, start: start) }
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

    /// The gate on an arm64 or riscv64 Image: the surface diff, and the boot to userspace by
    /// QEMU's own loader on virt under TCG (`ImageKernelBoot`), with the initramfs built for the
    /// architecture and the machine's command line (its console). No rules: see `imageRulesNote`.
    static func runImage(new: GateKernel, header h: ImageHeader, baseline: GateKernel?, changes: [SurfaceChange], options: Options,
                         start: ContinuousClock.Instant) throws -> GateReport {
        guard let arch = ImageHandoff.Architecture(rawValue: h.architecture.rawValue) else {
            throw GateError("\(new.label): no QEMU machine for a \(h.architecture.rawValue) Image")
        }
        var boots: [KernelBootResult] = []
        var skipped: String? = nil
        if !options.boot { skipped = "skipped (--no-boot)" } else if let rd = options.imageInitrds[arch], FileManager.default.isReadableFile(atPath: rd) {
            boots.append(try ImageKernelBoot.qemuLoader(arch, kernel: new.image, initrd: rd, timeout: options.timeout))
        } else {
            throw GateError("cannot boot the new \(arch.rawValue) kernel: no \(arch.rawValue) initramfs at \(options.imageInitrds[arch] ?? "-") (run tools/build-corpus.sh with the \(arch.rawValue) cross compiler installed, pass --initrd, or --no-boot)")
        }
        return GateReport(new: new, baseline: baseline, changes: changes, ruleRuns: [], boots: boots, bootSkipped: skipped,
                          elapsed: ContinuousClock.now - start, rulesNote: imageRulesNote)
    }
}
