import ArgumentParser
import Conformance
import Foundation
import HarnessKVM
import Reports
import Runners

/// 1,000 sequential probe boots with the process's fds, mappings, threads and RSS sampled.
struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "soak",
        abstract: "Boot a probe variant many times under HarnessKVM and report fd, mapping, thread and RSS growth.")
    @Option(help: "Boots.") var boots = 1000
    @Option(help: "Sample every N boots.") var every = 100
    @Option(help: "Probe variant (an ELF or bzImage in --probe-images).") var variant = "pvh-desc8"
    @Option(help: "Directory with the probe variants.") var probeImages = "Corpus/probe/images"
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard boots >= 2, boots <= 1_000_000, every >= 1 else { throw fail("--boots 2…1000000, --every ≥ 1") }
        let availability = KVMAvailability.check()
        guard availability.isUsable else { throw fail("cannot soak: \(availability.reason)") }
        let candidates = ["elf", "bzImage"].map { "\(probeImages)/\(variant).\($0)" }
        guard let path = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }), let data = FileManager.default.contents(atPath: path) else {
            throw fail("no probe variant \(variant) in \(probeImages) (run tools/build-corpus.sh)")
        }
        var o = LoadOptions(); o.memorySize = 256 << 20; o.rngSeed = LoadOptions.corpusSeed
        if path.hasSuffix(".elf") { o.entry = .pvh }
        let system: KVMSystem
        do { system = try KVMSystem() } catch { throw fail("\(error)") }
        if !json { print("soak: \(boots) boots of \(path) under HarnessKVM (\(availability.reason))"); print("  boots    fds  mappings  threads   RSS (MiB)") }
        let r = Soak.run(kernel: [UInt8](data), options: o, boots: boots, every: every, system: system) { s in
            if !json { print(String(format: "  %5d  %5d  %8d  %7d  %10.1f", s.boots, s.openFDs, s.mappings, s.threads, Double(s.residentBytes) / 1048576)) }
        }
        let g = r.growth
        if json {
            writeJSON(["boots": boots, "variant": variant, "elapsedSeconds": r.elapsed.seconds, "failures": r.failures,
                       "samples": r.samples.map { ["boots": $0.boots, "fds": $0.openFDs, "mappings": $0.mappings, "threads": $0.threads, "rssBytes": $0.residentBytes] },
                       "growth": ["fds": g.fds, "mappings": g.mappings, "threads": g.threads, "rssBytes": g.residentBytes]])
        } else {
            print(String(format: "  %d boots in %.1f s (%.1f ms each); growth after warm-up: fds %+d, mappings %+d, threads %+d, RSS %+.1f MiB",
                         boots, r.elapsed.seconds, r.elapsed.seconds * 1000 / Double(boots), g.fds, g.mappings, g.threads, Double(g.residentBytes) / 1048576))
            for f in r.failures { print("  ✗ \(f)") }
        }
        // A leak grows with the boots: one fd, mapping or thread per boot is +N over the N boots
        // after warm-up. A mapping malloc adds once in a while is not one, so growth up to a
        // tenth of those boots (at least 4) passes.
        let sampled = max(0, (r.samples.last?.boots ?? 0) - (r.samples.dropFirst().first?.boots ?? 0))
        let allowance = max(4, sampled / 10)
        let grew = [("fds", g.fds), ("mappings", g.mappings), ("threads", g.threads)].filter { $0.1 > allowance }
        if !json { for (what, n) in grew { print("  ✗ \(what) grew by \(n) over \(sampled) boots (allowed: \(allowance))") } }
        if !r.failures.isEmpty || !grew.isEmpty { throw ExitCode(1) }
    }
}
