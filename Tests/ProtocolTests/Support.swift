import Conformance
import Foundation
import Testing

/// Paths of the repository, found from this file (tests run from any directory).
enum Repo {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var corpus: String { root + "/Corpus" }
    static var golden: String { corpus + "/golden" }
    /// `CONFORM_RECORD_GOLDEN=1 swift test` rewrites the golden snapshots (see README).
    static var recording: Bool { ProcessInfo.processInfo.environment["CONFORM_RECORD_GOLDEN"] == "1" }
}

/// The synthetic corpus, loaded once. A manifest that does not load leaves no cases, and the
/// test "the manifest loads" fails with its error (SyntheticCorpusTests).
enum Synthetic {
    static let manifest = SyntheticManifest.load(path: Repo.corpus + "/synthetic/manifest.json")
    static var cases: [CorpusCase] { manifest.cases }
    static let runs: [String: CaseRun] = Dictionary(uniqueKeysWithValues: cases.map { ($0.id, SyntheticCorpus.run($0)) })
}

/// A synthetic manifest as read, with the error when it does not load: a corrupt manifest
/// fails the tests that need it, it never reads as an empty corpus or cancels them.
struct SyntheticManifest: Sendable {
    let cases: [CorpusCase]
    let error: ManifestError?

    static func load(path: String) -> SyntheticManifest {
        do { return SyntheticManifest(cases: try SyntheticCorpus.load(manifest: path), error: nil) } catch {
            return SyntheticManifest(cases: [], error: error)
        }
    }

    /// The cases; throws the manifest's error, which fails the calling test.
    func require() throws(ManifestError) -> [CorpusCase] {
        if let error { throw error }
        return cases
    }
}

extension CorpusCase: CustomTestStringConvertible {
    public var testDescription: String { id }
}

/// A bzImage recipe as bytes, for tests that need one image.
func syntheticImage(_ id: String) throws -> CorpusCase {
    try #require(Synthetic.cases.first { $0.id == id }, "no corpus case \(id)")
}

extension Trait where Self == TimeLimitTrait {
    /// The time limit of tests whose own assertions bound how long a run may take (a runner's
    /// `elapsed`, a boot's outcome): it is there to end a hang, not to measure. Swift Testing
    /// counts a test's limit from its start, including the time it waits for one of the pool's
    /// threads (two on a two-core machine), and CPU-bound suites (properties, snapshot round
    /// trips) hold those for up to two minutes; one- and two-minute limits failed for that
    /// alone on an idle two-core machine.
    static var hangGuard: Self { .timeLimit(.minutes(5)) }
}

/// Runs blocking work (a QEMU boot, a KVM run, a soak) on a thread of its own and awaits it,
/// so long boots do not hold the few threads Swift Testing runs every test on: with them held,
/// short tests waited past their time limits.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
        let t = Thread { c.resume(with: Result { try work() }) }
        t.stackSize = 8 << 20
        t.start()
    }
}

/// The first non-nil `check()`, asking every 50 ms for up to `seconds`; nil if none came.
func poll<T>(seconds: Int, _ check: () -> T?) -> T? {
    for _ in 0..<(seconds * 20) {
        if let v = check() { return v }
        usleep(50_000)
    }
    return nil
}

/// Host processes, read from /proc: how the QEMU tests see what a run left behind.
enum HostProcesses {
    /// Pids of processes whose command line mentions `s` (a test's QEMU, or setpriv in the
    /// instant before it execs QEMU in place; zombies have an empty command line).
    static func mentioning(_ s: String) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { p in
            guard let pid = Int32(p), let d = FileManager.default.contents(atPath: "/proc/\(p)/cmdline") else { return nil }
            return String(decoding: d, as: UTF8.self).contains(s) ? pid : nil
        }
    }

    /// The first such process, polling for up to `seconds`.
    static func waitFor(mentioning s: String, seconds: Int) -> Int32? { poll(seconds: seconds) { mentioning(s).first } }

    /// The first such process that is QEMU itself: its argv[0] names qemu-system, so the
    /// `setpriv --pdeathsig KILL` that starts it has set the death signal and exec'd. (Killing
    /// QEMU's parent in the instant before that prctl leaves QEMU alive: the kernel only sends
    /// the signal for a parent that dies after it was asked for. Under load on two cores that
    /// instant was long enough for runKilledOutrightTakesQEMUWithIt to hit it.)
    static func waitForQEMU(mentioning s: String, seconds: Int) -> Int32? {
        poll(seconds: seconds) {
            mentioning(s).first { pid in
                guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), let argv0 = d.split(separator: 0).first else { return false }
                return String(decoding: argv0, as: UTF8.self).contains("qemu-system")
            }
        }
    }

    /// The state letter in /proc/PID/stat ("Z" for a zombie); nil once the process is gone.
    static func state(_ pid: Int32) -> Character? {
        guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/stat"), let close = d.lastIndex(of: UInt8(ascii: ")")), close + 2 < d.count else { return nil }
        return Character(UnicodeScalar(d[close + 2]))
    }
}

/// This test binary run again as a child process for the tests matching `filter`, with
/// `environment` added to this process's own; its output is discarded. The tests it is run for
/// are enabled only by that environment, so a plain `swift test` skips them.
func startTestChild(filter: String, environment: [String: String]) throws -> Process {
    let child = Process()
    child.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
    child.arguments = ["--testing-library", "swift-testing", "--filter", filter]
    child.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    child.standardOutput = FileHandle.nullDevice; child.standardError = FileHandle.nullDevice
    try child.run()
    return child
}

/// The real-kernel manifest (Corpus/real/manifest.json) as tools/build-corpus.sh left it.
/// Not built: the tests that need it say "not run". Present but unreadable: they fail with the
/// manifest's error; it never reads as "not built".
struct RealCorpusManifest: Sendable {
    let kernels: [RealKernel]
    let error: ManifestError?

    static func load(directory: String = Repo.corpus) -> RealCorpusManifest {
        do { return RealCorpusManifest(kernels: try RealCorpus.load(directory: directory) ?? [], error: nil) } catch {
            return RealCorpusManifest(kernels: [], error: error)
        }
    }

    /// The kernels; throws the manifest's error, or cancels when the corpus was not built.
    func require() throws -> [RealKernel] {
        if let error { throw error }
        if kernels.isEmpty { try Test.cancel("real-kernel corpus not built: run tools/build-corpus.sh") }
        return kernels
    }
}
