import Conformance
import ConformanceFixtures
import Foundation

/// The main job (`conform`): every synthetic case against its manifest, every real kernel's
/// entries judged, and the real kernels booted to userspace by QEMU's loader and by the
/// reference loader's bundle. Plain data; `Reports` prints it.
public struct SuiteRun {
    /// One real kernel loaded by the reference loader at one entry, and every verdict.
    public struct RealRun {
        public let kernel: RealKernel
        public let entry: EntryPoint
        public let verdicts: [Verdict]
        public let result: LoadResult?
        /// Why it has no verdicts: the loader refused it, or the file is not the manifest's.
        public let error: String?
        public var failed: Bool { error != nil || verdicts.contains { $0.outcome == .fail } }
    }

    /// One real kernel booted to userspace along one path.
    public struct UserspaceBoot: Sendable {
        public let kernel: RealKernel
        public let path: KernelBootPath
        public let result: KernelBootResult?
        /// The runner's error when there is no result.
        public let error: String?
        public var failed: Bool { result?.passed != true }
    }

    public let corpus: String
    public var synthetic: [CaseRun] = []
    /// nil when the real-kernel corpus was not built.
    public var real: [RealRun]?
    public var boots: [UserspaceBoot] = []
    /// Why the boots to userspace did not run (asked not to, no initramfs, no QEMU), or nil.
    public var bootsSkipped: String?
    /// QEMU's accelerator for the boots.
    public var accel = ""
    public var initramfs: String?

    public var syntheticDeviations: [CaseRun] { synthetic.filter { !$0.problems.isEmpty } }
    public var realFailures: [RealRun] { (real ?? []).filter(\.failed) }
    public var bootFailures: [UserspaceBoot] { boots.filter(\.failed) }
    public var passed: Bool { syntheticDeviations.isEmpty && realFailures.isEmpty && bootFailures.isEmpty }

    public struct SuiteError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Runs the suite over `corpus` (holding synthetic/manifest.json and, once built,
    /// real/manifest.json). `progress` gets one line per finished step.
    public static func run(corpus: String, boot: Bool, progress: (String) -> Void = { _ in }) throws(SuiteError) -> SuiteRun {
        let manifest = corpus + "/synthetic/manifest.json"
        guard FileManager.default.fileExists(atPath: manifest) else { throw SuiteError(description: "no \(manifest): run from the repository root, or pass --corpus DIR") }
        var s = SuiteRun(corpus: corpus)
        do { s.synthetic = try SyntheticCorpus.load(manifest: manifest).map(SyntheticCorpus.run) } catch { throw SuiteError(description: error.description) }
        progress("synthetic corpus: \(s.synthetic.count) cases")
        let kernels: [RealKernel]?
        do { kernels = try RealCorpus.load(directory: corpus) } catch { throw SuiteError(description: error.description) }
        guard let kernels else { s.bootsSkipped = "the real-kernel corpus is not built (tools/build-corpus.sh)"; return s }
        let initrd = RealCorpus.testInitrd()
        s.real = kernels.flatMap { k in k.entries.map { realRun(k, entry: $0, initrd: initrd) } }
        progress("real kernels: \(kernels.count) images, \(s.real?.count ?? 0) loads")
        guard boot else { s.bootsSkipped = "--no-boot"; return s }
        guard let initramfs = RealCorpus.initramfs(directory: corpus) else { s.bootsSkipped = "no initramfs (run tools/build-corpus.sh)"; return s }
        guard (try? QEMURunner.executable()) != nil else { s.bootsSkipped = "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"; return s }
        s.initramfs = initramfs
        s.accel = QEMUAccel.automatic.resolved().rawValue
        let jobs = kernels.flatMap { k in [KernelBootPath.qemuLoader, .referenceBundle].map { (k, $0) } }
        s.boots = bootAll(jobs, initrd: initramfs, progress: progress)
        return s
    }

    /// The reference loader's load of `k` at `entry` with a pattern initrd, judged.
    static func realRun(_ k: RealKernel, entry: EntryPoint, initrd: [UInt8]) -> RealRun {
        do {
            let src = try FileSource(path: k.path)
            let rd = MemorySource(name: "test-initrd", bytes: initrd)
            var o = LoadOptions(); o.entry = entry; o.rngSeed = LoadOptions.corpusSeed
            let r = try ReferenceLoader.load(kernel: src, initrd: rd, options: o)
            let s = try BootSnapshot.of(r, kernel: src, initrd: rd, commandLine: o.commandLine)
            if s.image.sha256 != k.sha256 {
                return RealRun(kernel: k, entry: entry, verdicts: [], result: r, error: "sha256 \(s.image.sha256) differs from the manifest's \(k.sha256): rebuild the corpus")
            }
            return RealRun(kernel: k, entry: entry, verdicts: judge(s), result: r, error: nil)
        } catch { return RealRun(kernel: k, entry: entry, verdicts: [], result: nil, error: "\(error)") }
    }

    /// Two boots at a time (QEMU's TCG runs one guest per host thread; this machine has two cores).
    static func bootAll(_ jobs: [(RealKernel, KernelBootPath)], initrd: String, progress: (String) -> Void) -> [UserspaceBoot] {
        let out = runInParallel(count: jobs.count, threads: 2) { i -> UserspaceBoot in
            let (k, path) = jobs[i]
            do {
                let b = path == .qemuLoader ? try KernelBoot.qemuLoader(kernel: k.path, initrd: initrd, timeout: .seconds(300))
                    : try KernelBoot.referenceBundle(kernel: k.path, initrd: initrd, timeout: .seconds(300))
                return UserspaceBoot(kernel: k, path: path, result: b, error: nil)
            } catch { return UserspaceBoot(kernel: k, path: path, result: nil, error: "\(error)") }
        }
        progress("boots to userspace: \(out.count)")
        return out
    }
}
