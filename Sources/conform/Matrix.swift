import ArgumentParser
import Conformance
import ConformanceFixtures
import Foundation
import HarnessKVM
import Reports
import Runners

/// `conform matrix`: the probe variants through real loaders, every report judged (issue 13).
struct Matrix: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Boot the probe variants with real loaders (QEMU, GRUB, OVMF, …) or your own, and judge every report.",
        discussion: """
        Exit status 1 on a change from the recorded deviations (a failure none explains, a boot with no report none explains, or a recorded deviation that no longer shows), 0 otherwise, 2 on bad input.
        --loader-command runs your loader: a command template with {kernel}, {initrd} (or {initrd?-initrd}), {cmdline} and {serial}; for example
          --loader-command 'qemu-system-x86_64 -accel tcg -M pc -m 1024 -nodefaults -display none -no-reboot -kernel {kernel} {initrd?-initrd} -append {cmdline} -serial file:{serial} -device isa-debug-exit,iobase=0x501,iosize=2'
        """)
    @Option(help: "Directory with the probe variants and index.json (from `conform corpus --probe`).") var probeImages = "Corpus/probe/images"
    @Option(name: .customLong("loader"), help: "Only this loader (repeatable).") var loaders: [String] = []
    @Option(name: .customLong("variant"), help: "Only this variant (repeatable).") var variants: [String] = []
    @Flag(help: "The quick subset: one or two boots per loader.") var quick = false
    @Option(help: "K/N: run only the K-th of N deterministic shares of the boots (1-based).") var shard: String?
    @Option(parsing: .upToNextOption, help: "Join these JSON results (from shards) into one report instead of booting.") var merge: [String] = []
    @Option(help: "Boots at a time (default: one per core).") var parallel: Int?
    @Option(help: "Seconds each boot may take.") var timeout = 120.0
    @Option(help: "Your loader as a command template (see below).") var loaderCommand: String?
    @Option(help: "The id your loader's rows get.") var loaderId = "custom"
    @Option(help: "Text on the loader command's stdout that ends its run (default: the command's exit or the time limit).") var loaderMarker: String?
    @Option(help: "Write the loader-matrix/1 JSON here.") var json: String?
    @Option(help: "Write a Markdown report here.") var markdown: String?
    @Option(help: "Write JUnit XML here.") var junit: String?

    func run() throws {
        var report: MatrixReport
        if !merge.isEmpty {
            var parts: [MatrixReport] = []
            for f in merge {
                guard let d = FileManager.default.contents(atPath: f) else { throw fail("\(f): cannot read") }
                do { parts.append(try MatrixReport.read(d, name: f)) } catch { throw fail(error.description) }
            }
            report = MatrixReport.merge(parts)
        } else {
            report = try boot()
        }
        print("loader matrix: \(report.results.count) boots " + (merge.isEmpty ? "in \(String(format: "%.1f", report.seconds)) s" : "(merged: \(String(format: "%.1f", report.seconds)) s of boot time, summed)"))
        for r in report.summaryRows() { print("  \(r.loader.padding(toLength: 22, withPad: " ", startingAt: 0)) \(r.version.padding(toLength: 22, withPad: " ", startingAt: 0)) \(r.booted.padding(toLength: 16, withPad: " ", startingAt: 0)) \(r.failing)") }
        let changes = report.changes
        if !changes.isEmpty { print("changes from the recorded deviations:"); for c in changes { print("  \(c)") } }
        if let json { do { try report.jsonData().write(to: URL(fileURLWithPath: json)) } catch { throw fail("\(json): \(error.localizedDescription)") } }
        if let markdown { do { try report.markdown().write(toFile: markdown, atomically: true, encoding: .utf8) } catch { throw fail("\(markdown): \(error.localizedDescription)") } }
        if let junit { do { try report.junit().write(toFile: junit, atomically: true, encoding: .utf8) } catch { throw fail("\(junit): \(error.localizedDescription)") } }
        if !changes.isEmpty { throw ExitCode(1) }
    }

    func boot() throws -> MatrixReport {
        let index: ProbeIndex
        do { index = try ProbeIndex.read(probeImages + "/index.json") } catch { throw fail("\(error) (run tools/build-corpus.sh, or give --probe-images)") }
        // The x86 probe's variants, then the arm64 and riscv64 Image probes' (those built).
        let all = LoaderMatrix.variants(index, probe: try? ProbeBuild.load()) + ImageProbeVariants.all()
        for v in variants where !all.contains(where: { $0.id == v }) { throw fail("--variant \(v): no such variant in \(index.file)") }
        let chosen = variants.isEmpty ? all : all.filter { variants.contains($0.id) }
        var adapters: [any LoaderAdapter]
        if let loaderCommand {
            adapters = [CommandAdapter(id: loaderId, template: loaderCommand, marker: loaderMarker)]
        } else {
            let cases: [CorpusCase]
            do { cases = try SyntheticCorpus.load(manifest: "Corpus/synthetic/manifest.json", probe: try ProbeBuild.load()) } catch { throw fail("the reference rows need the probe build and the manifest: \(error)") }
            adapters = LoaderMatrix.standardAdapters(cases: cases)
            for l in loaders where !adapters.contains(where: { $0.id == l }) { throw fail("--loader \(l): no such loader (\(adapters.map(\.id).joined(separator: ", ")))") }
            if !loaders.isEmpty { adapters = adapters.filter { loaders.contains($0.id) } }
        }
        var share: (k: Int, n: Int)? = nil
        if let shard {
            let p = shard.split(separator: "/").compactMap { Int($0) }
            guard p.count == 2, p[1] >= 1, p[0] >= 1, p[0] <= p[1] else { throw fail("--shard \(shard): expected K/N with 1 ≤ K ≤ N") }
            share = (p[0], p[1])
        }
        // Shards split the sorted cell list, so every machine agrees on who runs what.
        let pairs = adapters.flatMap { a in chosen.filter(a.takes).map { (loader: a.id, variant: $0.id) } }
        let cells = pairs.map { "\($0.loader)/\($0.variant)" }.sorted()
        let mine: Set<String> = Set(cells.enumerated().filter { share == nil || $0.offset % share!.n == share!.k - 1 }.map(\.element))
        let quick = self.quick
        let include: @Sendable (String, String) -> Bool = { l, v in mine.contains("\(l)/\(v)") && (!quick || LoaderMatrix.quick.contains("\(l)/\(v)")) }
        // Loaders that are not installed boot nothing (the report lists them as skipped).
        let available = Set(adapters.filter { $0.unavailable == nil }.map(\.id))
        let total = pairs.filter { available.contains($0.loader) && include($0.loader, $0.variant) }.count
        let work: String
        do { work = try Scratch.directory("matrix") } catch { throw fail("no scratch directory: \(error.localizedDescription)") }
        defer { try? FileManager.default.removeItem(atPath: work) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let progress = ProgressLine("conform matrix")
        defer { progress.finish() }
        progress.step("\(total) boots, \(parallel ?? cores) at a time")
        return LoaderMatrix.run(adapters: adapters, variants: chosen, parallel: parallel ?? cores, timeout: .milliseconds(Int64(timeout * 1000)), work: work,
                                include: include,
                                progress: { r in
                                    let f = r.fail.map { $0 + (r.explained[$0] != nil ? "(known)" : "") }
                                    let text = "\(r.loader) × \(r.variant): \(r.report ? "entry \(r.entry)" : r.booted ? "no report" : "refused")\(f.isEmpty ? "" : ", fail " + f.joined(separator: " ")) (\(String(format: "%.1f", r.seconds)) s)"
                                    // A change from the recorded deviations stays on screen.
                                    if !r.unexplained.isEmpty { progress.note(text) }
                                    progress.finished(text, of: total)
                                })
    }
}
