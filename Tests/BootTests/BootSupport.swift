import Conformance
import Reports
import ConformanceFixtures
import Foundation
import HarnessKVM
import Runners
import TestSupport
import Testing

/// /dev/kvm on this host, checked once.
enum KVM {
    static let availability = KVMAvailability.check()
    static var usable: Bool { availability.isUsable }
    static let system: KVMSystem? = usable ? try? KVMSystem() : nil
}

/// QEMU on this host, checked once.
enum QEMU {
    static let executable: String? = try? QEMURunner.executable()
    static var installed: Bool { executable != nil }
    static let why = "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
}

/// The real kernels and the initramfs, as tools/build-corpus.sh left them.
enum RealBoot {
    static var manifest: RealCorpusManifest { RealCorpusManifest.repository }
    static var kernels: [RealKernel] { manifest.kernels }
    static let initramfs = RealCorpus.initramfs(directory: Repo.corpus)
    /// A corrupt manifest counts as ready, so the tests run and fail on it rather than skipping.
    static var ready: Bool { (manifest.error != nil || !kernels.isEmpty) && initramfs != nil && QEMU.installed }
    static func require() throws -> String {
        _ = try manifest.require()
        guard let i = initramfs else { try Test.cancel("initramfs missing: run tools/build-corpus.sh") }
        return i
    }
    struct Case: CustomTestStringConvertible, Sendable {
        let kernel: RealKernel
        let path: KernelBootPath
        var testDescription: String { "\(kernel.name) by \(path.rawValue)" }
    }
    static var cases: [Case] { kernels.flatMap { k in [KernelBootPath.qemuLoader, .referenceBundle].map { Case(kernel: k, path: $0) } } }
    /// The quick tier's boot: the 6.12 cloud bzImage by the reference loader's bundle.
    static var quickSample: [String] {
        cases.filter { $0.kernel.format == "bzImage" && $0.kernel.series == "6.12" && $0.kernel.flavour == "cloud" && $0.path == .referenceBundle }.map(\.testDescription)
    }
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
