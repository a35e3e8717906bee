import Conformance
import ConformanceFixtures
import Foundation
import Testing

/// Paths of the repository, found from this file (tests run from any directory).
package enum Repo {
    package static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    package static var corpus: String { root + "/Corpus" }
    package static var golden: String { corpus + "/golden" }
    /// `CONFORM_RECORD_GOLDEN=1 swift test` rewrites the golden snapshots (see README).
    package static var recording: Bool { ProcessInfo.processInfo.environment["CONFORM_RECORD_GOLDEN"] == "1" }
}

/// The synthetic corpus, loaded once. A manifest that does not load leaves no cases, and the
/// test "the manifest loads" fails with its error (SyntheticCorpusTests).
package enum Synthetic {
    package static let manifest = SyntheticManifest.load(path: Repo.corpus + "/synthetic/manifest.json")
    package static var cases: [CorpusCase] { manifest.cases }
    package static let runs: [String: CaseRun] = Dictionary(uniqueKeysWithValues: cases.map { ($0.id, SyntheticCorpus.run($0)) })
}

/// A synthetic manifest as read, with the error when it does not load: a corrupt manifest
/// fails the tests that need it, it never reads as an empty corpus or cancels them.
package struct SyntheticManifest: Sendable {
    package let cases: [CorpusCase]
    package let error: ManifestError?

    package static func load(path: String) -> SyntheticManifest {
        do { return SyntheticManifest(cases: try SyntheticCorpus.load(manifest: path), error: nil) } catch {
            return SyntheticManifest(cases: [], error: error)
        }
    }

    /// The cases; throws the manifest's error, which fails the calling test.
    package func require() throws(ManifestError) -> [CorpusCase] {
        if let error { throw error }
        return cases
    }
}

extension CorpusCase: CustomTestStringConvertible {
    public var testDescription: String { id }
}

/// A bzImage recipe as bytes, for tests that need one image.
package func syntheticImage(_ id: String) throws -> CorpusCase {
    try #require(Synthetic.cases.first { $0.id == id }, "no corpus case \(id)")
}

extension Trait where Self == TimeLimitTrait {
    /// The time limit of tests whose own assertions bound how long a run may take (a runner's
    /// `elapsed`, a boot's outcome): it is there to end a hang, not to measure. Swift Testing
    /// counts a test's limit from its start, including the time it waits for one of the pool's
    /// threads (two on a two-core machine), and CPU-bound suites (properties, snapshot round
    /// trips) hold those for up to two minutes; one- and two-minute limits failed for that
    /// alone on an idle two-core machine.
    package static var hangGuard: Self { .timeLimit(.minutes(5)) }
}

/// Runs blocking work (a QEMU boot, a KVM run, a soak) on a thread of its own and awaits it,
/// so long boots do not hold the few threads Swift Testing runs every test on: with them held,
/// short tests waited past their time limits.
package func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        let t = Thread { c.resume(with: Result { try work() }) }
        t.stackSize = 8 << 20
        t.start()
    }
}

/// The first non-nil `check()`, asking every 50 ms for up to `seconds`; nil if none came.
package func poll<T>(seconds: Int, _ check: () -> T?) -> T? {
    for _ in 0..<(seconds * 20) {
        if let v = check() { return v }
        usleep(50_000)
    }
    return nil
}

/// The real-kernel manifest (Corpus/real/manifest.json) as tools/build-corpus.sh left it.
/// Not built: the tests that need it say "not run". Present but unreadable: they fail with the
/// manifest's error; it never reads as "not built".
package struct RealCorpusManifest: Sendable {
    package let kernels: [RealKernel]
    package let error: ManifestError?

    /// The repository's manifest, read once.
    package static let repository = load()

    package static func load(directory: String = Repo.corpus) -> RealCorpusManifest {
        do { return RealCorpusManifest(kernels: try RealCorpus.load(directory: directory) ?? [], error: nil) } catch {
            return RealCorpusManifest(kernels: [], error: error)
        }
    }

    /// The kernels; throws the manifest's error, or cancels when the corpus was not built.
    package func require() throws -> [RealKernel] {
        if let error { throw error }
        if kernels.isEmpty { try Test.cancel("real-kernel corpus not built: run tools/build-corpus.sh") }
        return kernels
    }
}

/// The probe kernel and its variants. Built by tools/build-corpus.sh; if the build is missing,
/// the first test that needs it runs Corpus/probe/build.sh (gcc and binutils).
package enum Probe {
    package static let build: Result<ProbeBuild, ProbeBuild.LoadError> = {
        let dir = Repo.corpus + "/probe/build"
        if case .success(let b) = Result(catching: { () throws(ProbeBuild.LoadError) in try ProbeBuild.load(directory: dir) }) { return .success(b) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Repo.corpus + "/probe/build.sh")
        p.standardOutput = FileHandle.nullDevice
        try? p.run(); p.waitUntilExit()
        return Result { () throws(ProbeBuild.LoadError) in try ProbeBuild.load(directory: dir) }
    }()
    package static let variants: [CorpusCase] = {
        guard case .success(let b) = build else { return [] }
        return (try? SyntheticCorpus.load(manifest: Repo.corpus + "/synthetic/manifest.json", probe: b)) ?? []
    }()
    package static func require() throws -> ProbeBuild {
        switch build {
        case .success(let b): return b
        case .failure(let e): try Test.cancel("probe kernel unavailable: \(e)")
        }
    }
}

/// Probe variants written to files, for loaders that read files (QEMU, GRUB's ISO).
package enum ProbeFiles {
    /// The bzImage variants: every case with a 16-bit setup entry.
    package static var bzVariants: [CorpusCase] { Probe.variants.filter { $0.kind == "bzImage" } }

    /// Writes the variant's image (and initrd) into `dir`; returns their paths.
    package static func write(_ c: CorpusCase, to dir: String) throws -> (kernel: String, initrd: String?) { try CorpusFiles.write(c, to: dir) }
}

/// A rule's verdict on a snapshot, and the failing rules with their evidence.
package enum Verdicts {
    package static func of(_ s: BootSnapshot, _ id: RuleID) throws -> Verdict { try #require(judge(s).first { $0.rule == id }) }
    package static func failing(_ s: BootSnapshot) -> [RuleID: String] {
        Dictionary(uniqueKeysWithValues: judge(s).filter { $0.outcome == .fail }.map { ($0.rule, $0.evidence) })
    }
}

/// Probe reports written by hand, framed and checksummed as the probe frames them.
package enum ProbeReportText {
    package static func report(_ body: String) -> [UInt8] {
        let text = "noise before\nBOOTPROBE 1\n" + body
        let lines = body.split(separator: "\n").count + 1
        let start = Array("noise before\n".utf8).count
        let bytes = Array(text.utf8)
        let sum = ProbeHash64.of(bytes[start...])
        return bytes + Array("end lines=\(hex(UInt64(lines))) hash64=\(hex(sum))\n".utf8)
    }

    /// The lines every report has (entry, base, reg, cr), for the tests below.
    package static let essentials = "entry 64\nbase addr=0x1000000 len=0x3000\nreg rax=0x0 rbx=0x0 rcx=0x0 rdx=0x0 rsi=0x7000 rdi=0x0 rbp=0x0 rsp=0x8ff0 r8=0x0 r9=0x0 r10=0x0 r11=0x0 r12=0x0 r13=0x0 r14=0x0 r15=0x0 rip=0x1000200 rflags=0x2\ncr cr0=0x80050033 cr3=0x9000 cr4=0x20 efer=0x500\n"
}

/// Probe variants written to a directory with their index.json, as `conform probe` leaves them.
package enum ProbeImages {
    /// A directory with the given probe variants' images and initrds and their index.json.
    package static func write(_ ids: [String]) throws -> (dir: String, index: ProbeIndex) {
        _ = try Probe.require()
        let dir = try Scratch.directory("probe-index")
        let cases = try ids.map { id in try #require(Probe.variants.first { $0.id == id }, "probe variant \(id)") }
        try CorpusFiles.write(cases, to: dir, index: true)
        return (dir, try ProbeIndex.read(dir + "/index.json"))
    }

    package static func report(variant: String, segmentHash: UInt64, segmentLength: Int = 0x3000) throws -> ProbeReport {
        try ProbeReport.parse(serial: ProbeReportText.report("variant \(variant)\n" + ProbeReportText.essentials + "hash64 segment 0x1000000 \(hex(UInt64(segmentLength))) \(hex(segmentHash))\n"))
    }
}

/// How much of the boot suites `swift test` runs. The quick tier (the default) runs every test,
/// with the real-loader and real-kernel suites over a few variants each, so the whole run takes
/// about a minute and a half on an idle two-core machine. `CONFORM_TESTS=full` runs every
/// variant through every loader and boots every real kernel; `.ci/run` runs it after the quick
/// tier, and `conform matrix` covers the same boots. A test that only the full tier runs says
/// so when it is skipped.
package enum TestTier {
    package static let full = ProcessInfo.processInfo.environment["CONFORM_TESTS"] == "full"
    /// The reason a full-tier test gives in the quick tier.
    package static let fullOnly = "not run in the quick tier: CONFORM_TESTS=full swift test runs it (.ci/run does)"

    /// `all` in the full tier; in the quick tier the members whose id is in `quick`, in `all`'s
    /// order. Every id in `quick` must name a member, so a renamed variant cannot silently
    /// shrink the sample.
    package static func sample<T>(_ all: [T], quick: [String], id: (T) -> String) -> [T] {
        if full { return all }
        let ids = Set(all.map(id))
        for q in quick where !ids.contains(q) { Issue.record("quick-tier sample names \(q), which is not among the \(all.count) cases") }
        return all.filter { quick.contains(id($0)) }
    }

    /// The bzImage probe variants a real-loader suite boots in the quick tier: the newest
    /// protocol, the oldest, and the 2.01 layout with an initrd.
    package static let bzSample = ["bz-2.15", "bz-2.00", "bz-2.01-initrd-quiet"]
}
