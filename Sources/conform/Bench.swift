import ArgumentParser
import Conformance
import ConformanceFixtures
import Foundation
import HarnessKVM
import Reports
import Runners
#if canImport(Glibc)
import Glibc
#endif


/// Loading a kernel plus a 16 MiB initrd into guest memory, against the raw read floor.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark: load a bzImage plus a 16 MiB initrd, and read the same bytes, side by side.",
        discussion: "Build with -c release for meaningful figures: swift run -c release conform bench")
    @Option(help: "Kernel to load (default: the Debian 6.12 bzImage from the real corpus).") var kernel: String?
    @Option(help: "Corpus directory.") var corpus = "Corpus"
    @Option(help: "Initrd size.") var initrdSize = "16M"
    @Option(help: "Runs of each, interleaved.") var runs = 31
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        let path: String
        if let kernel { path = kernel } else {
            let ks: [RealKernel]?
            do { ks = try RealCorpus.load(directory: corpus) } catch { throw fail(error.description) }
            guard let k = ks?.first(where: { $0.format == "bzImage" && $0.version.hasPrefix("6.12") }) ?? ks?.first(where: { $0.format == "bzImage" }) else {
                throw fail("no bzImage in \(corpus)/real/manifest.json: run tools/build-corpus.sh, or pass --kernel")
            }
            path = k.path
        }
        guard runs >= 3 && runs <= 10_000 else { throw fail("--runs \(runs): use 3…10000") }
        let n = Int(try size(initrdSize, option: "--initrd-size"))
        let scratch: String
        do { scratch = try Scratch.directory("bench") } catch { throw fail("cannot make a scratch directory: \(error.localizedDescription)") }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let initrdPath = scratch + "/initrd.img"
        do { try Data(RealCorpus.testInitrd(size: n)).write(to: URL(fileURLWithPath: initrdPath)) } catch { throw fail("cannot write \(initrdPath): \(error.localizedDescription)") }
        let ksrc = try openSource(path, what: "kernel"), isrc = try openSource(initrdPath, what: "initrd")
        var o = LoadOptions(); o.rngSeed = LoadOptions.corpusSeed
        // Warm the page cache and check the load works before timing.
        do { _ = try ReferenceLoader.load(kernel: ksrc, initrd: isrc, options: o) } catch { throw fail("\(path): \(error)") }
        var loadTimes: [Double] = [], readTimes: [Double] = []
        for run in 1...runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let bytes = readFloor(ksrc) + readFloor(isrc)
            let t1 = DispatchTime.now().uptimeNanoseconds
            // The guest memory is unmapped inside the timed span, as the floor frees its buffer.
            var loadError: (any Error)? = nil
            do { _ = try ReferenceLoader.load(kernel: ksrc, initrd: isrc, options: o) } catch { loadError = error }
            let t2 = DispatchTime.now().uptimeNanoseconds
            // The files loaded before timing: a failure now means they changed under the run.
            if let e = loadError { throw fail("\(path): run \(run) of \(runs): \(e) (the kernel or initrd changed during the benchmark?)") }
            guard bytes > 0 else { throw fail("\(path): run \(run) of \(runs) read 0 bytes (the kernel or initrd changed during the benchmark?)") }
            readTimes.append(Double(t1 - t0) / 1e6); loadTimes.append(Double(t2 - t1) / 1e6)
        }
        let ml = median(loadTimes), mr = median(readTimes)
        let total = ksrc.size + isrc.size
        if json {
            writeJSON(["kernel": path, "bytes": total, "runs": runs, "loadMedianMs": ml, "readFloorMedianMs": mr, "ratio": ml / mr])
        } else {
            print("kernel \(path) (\(ksrc.size) bytes) + initrd \(isrc.size) bytes, \(runs) interleaved runs each")
            print(String(format: "  reference loader (parse, place, build boot params): median %.2f ms", ml))
            print(String(format: "  raw read floor (same bytes into fresh memory):       median %.2f ms", mr))
            print(String(format: "  ratio load / floor: %.2f (goal ≤ 1.5)", ml / mr))
        }
    }

    /// Reads the whole source into freshly allocated memory: the floor a loader cannot beat.
    func readFloor(_ s: FileSource) -> Int {
        let n = Int(s.size)
        let p = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 4096)
        defer { p.deallocate() }
        try? s.copy(at: 0, count: n, into: p)
        return Int(p.load(fromByteOffset: n / 2, as: UInt8.self)) + n
    }
}

/// Writes the synthetic images to files, so other loaders can be pointed at them.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "corpus", abstract: "Write the synthetic corpus images (and initrds) to a directory.")
    @Argument(help: "Output directory (created; existing files with the same names are replaced).") var output: String
    @Option(help: "Corpus directory.") var corpus = "Corpus"
    @Flag(help: "Write the probe-kernel variants instead (needs Corpus/probe/build from tools/build-corpus.sh), with index.json giving each one's load options.") var probe = false

    func run() throws {
        let cases: [CorpusCase]
        var build: ProbeBuild? = nil
        if probe { do { build = try ProbeBuild.load(directory: corpus + "/probe/build") } catch { throw fail(error.description) } }
        do { cases = try SyntheticCorpus.load(manifest: corpus + "/synthetic/manifest.json", probe: build) } catch { throw fail(error.description) }
        do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) } catch { throw fail("\(output): \(error.localizedDescription)") }
        do { try CorpusFiles.write(cases, to: output, index: probe) } catch { throw fail("\(output): \(error.localizedDescription)") }
        if probe {
            print("wrote \(cases.count) probe-kernel variants and index.json to \(output)")
        } else {
            print("wrote \(cases.count) synthetic images to \(output)")
        }
    }
}
