import Conformance
import HarnessKVM
import Foundation

/// Sequential boots of one image under HarnessKVM, with the process's open file descriptors,
/// memory mappings, threads and resident memory sampled as they go: a leak shows as growth.
public enum Soak {
    public struct Sample: Sendable, Equatable {
        public let boots: Int
        public let openFDs: Int
        public let mappings: Int
        public let threads: Int
        public let residentBytes: UInt64
    }
    public struct Result: Sendable {
        public let samples: [Sample]
        public let boots: Int
        public let failures: [String]
        public let elapsed: Duration
        /// Growth from the first sample after warm-up to the last.
        public var growth: (fds: Int, mappings: Int, threads: Int, residentBytes: Int64) {
            guard let a = samples.dropFirst().first ?? samples.first, let b = samples.last else { return (0, 0, 0, 0) }
            return (b.openFDs - a.openFDs, b.mappings - a.mappings, b.threads - a.threads, Int64(b.residentBytes) - Int64(a.residentBytes))
        }
    }

    /// The process's counts after the last boot has settled: the lowest fd, mapping and thread
    /// counts of five readings 10 ms apart, and the last RSS. A boot's watchdog thread (which
    /// holds the vCPU and its fd while it wakes) ends just after `Harness.boot` returns; one
    /// reading caught it now and then (`conform soak` reported threads +2 with no leak), while
    /// a leak stays in every reading.
    public static func sample(boots: Int) -> Sample {
        var readings: [Sample] = []
        for i in 0..<5 {
            if i > 0 { usleep(10_000) }
            readings.append(reading(boots: boots))
        }
        return Sample(boots: boots, openFDs: readings.map(\.openFDs).min()!, mappings: readings.map(\.mappings).min()!,
                      threads: readings.map(\.threads).min()!, residentBytes: readings.last!.residentBytes)
    }

    /// One reading of /proc/self: open fds, mappings, threads, RSS.
    static func reading(boots: Int) -> Sample {
        let fds = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).count
        let maps = FileManager.default.contents(atPath: "/proc/self/maps")?.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } ?? 0
        let threads = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).count
        var rss: UInt64 = 0
        if let s = FileManager.default.contents(atPath: "/proc/self/statm").map({ String(decoding: $0, as: UTF8.self) }) {
            let f = s.split(separator: " ")
            if f.count > 1, let pages = UInt64(f[1]) { rss = pages * UInt64(sysconf(Int32(_SC_PAGESIZE))) }
        }
        return Sample(boots: boots, openFDs: fds, mappings: maps, threads: threads, residentBytes: rss)
    }

    /// Boots `kernel` (a probe variant) `boots` times; each must exit through the debug port
    /// with status 0. Samples after the first boot (warm-up) and every `every` boots.
    public static func run(kernel: [UInt8], options: LoadOptions, boots: Int, every: Int = 100, system: KVMSystem,
                           timeout: Duration = .seconds(10), progress: ((Sample) -> Void)? = nil) -> Result {
        var samples: [Sample] = [], failures: [String] = []
        let start = ContinuousClock.now
        let src = MemorySource(name: "soak", bytes: kernel)
        for i in 1...max(1, boots) {
            do {
                let r = try ReferenceLoader.load(kernel: src, initrd: nil, options: options)
                let b = try Harness.boot(r, system: system, options: BootOptions(timeout: timeout, serialLimit: 1 << 20))
                if b.outcome != .exited(code: 0) { failures.append("boot \(i): \(b.outcome)") }
            } catch { failures.append("boot \(i): \(error)") }
            if i == 1 || i % every == 0 || i == boots {
                let s = sample(boots: i)
                samples.append(s); progress?(s)
            }
            if failures.count > 10 { break }
        }
        return Result(samples: samples, boots: boots, failures: failures, elapsed: ContinuousClock.now - start)
    }
}
