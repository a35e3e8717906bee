import ArgumentParser
import Conformance
import Foundation

/// The main job: the synthetic corpus and the real kernels, every rule's verdict per image.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the conformance suite on the corpus (the default command).")

    @Option(help: "Corpus directory (holds synthetic/manifest.json and, once built, real/manifest.json).")
    var corpus = "Corpus"
    @Flag(help: "List every rule's evidence, not only failures.")
    var verbose = false
    @Flag(help: "Machine-readable output.")
    var json = false

    func run() throws {
        let cases: [CorpusCase]
        let manifest = corpus + "/synthetic/manifest.json"
        guard FileManager.default.fileExists(atPath: manifest) else { throw fail("no \(manifest): run from the repository root, or pass --corpus DIR") }
        do { cases = try SyntheticCorpus.load(manifest: manifest) } catch { throw fail(error.description) }
        var deviations = 0
        var jsonCases: [[String: Any]] = []
        if !json { print("Synthetic corpus: \(cases.count) cases (\(corpus)/synthetic/manifest.json)\n") }
        for c in cases {
            let r = SyntheticCorpus.run(c)
            if !r.problems.isEmpty { deviations += 1 }
            if json {
                var o: [String: Any] = ["id": c.id, "about": c.about, "asExpected": r.problems.isEmpty, "problems": r.problems, "verdicts": verdictJSON(r.verdicts)]
                if let e = r.error { o["rejected"] = e.description }
                if let res = r.result { o["placement"] = placement(res) }
                jsonCases.append(o)
                continue
            }
            let mark = r.problems.isEmpty ? "ok  " : "DIFF"
            print("\(mark) \(c.id) — \(c.about)")
            if let e = r.error { print("     rejected: \(e)") }
            if let res = r.result {
                print("     reference loader placed: " + placement(res).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                for f in c.faults { print("     then fault \(f.name): \(f.about)") }
                for w in res.warnings { print("     \(w)") }
                var expected: Set<String> = []
                if case let .loads(_, fail, _, _) = c.expectation { expected = fail }
                printVerdicts(r.verdicts, indent: "     ", showAll: verbose, expectedFailures: expected)
            }
            for p in r.problems { print("     ✗ not as the manifest says: \(p)") }
        }
        // Real kernels.
        var realFailures = 0
        var jsonReal: [[String: Any]] = []
        let kernels: [RealKernel]?
        do { kernels = try RealCorpus.load(directory: corpus) } catch { throw fail(error.description) }
        if let kernels {
            if !json { print("\nReal kernels: \(kernels.count) images (\(corpus)/real/manifest.json)\n") }
            let initrdBytes = RealCorpus.testInitrd()
            for k in kernels {
                for entry in k.entries {
                    let (verdicts, result, error) = realRun(k, entry: entry, initrd: initrdBytes)
                    let failed = verdicts.filter { $0.outcome == .fail }
                    if error != nil || !failed.isEmpty { realFailures += 1 }
                    if json {
                        var o: [String: Any] = ["name": k.name, "entry": entry.rawValue, "sha256": k.sha256, "verdicts": verdictJSON(verdicts)]
                        if let error { o["error"] = error }
                        if let result { o["placement"] = placement(result) }
                        jsonReal.append(o); continue
                    }
                    print("\(error == nil && failed.isEmpty ? "ok  " : "FAIL") \(k.name) (\(k.format), entry \(entry.rawValue))")
                    if let error { print("     error: \(error)") }
                    if let result {
                        print("     loaded: " + placement(result).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                        printVerdicts(verdicts, indent: "     ", showAll: verbose)
                    }
                }
            }
        } else if !json {
            print("\nReal kernels: not built — run tools/build-corpus.sh to fetch the Debian 6.1 and 6.12 kernels.")
        }
        if json {
            writeJSON(["synthetic": jsonCases, "real": jsonReal, "summary": ["cases": cases.count, "deviations": deviations, "realFailures": realFailures]])
        } else {
            print("\nSummary: \(cases.count - deviations) of \(cases.count) synthetic cases as expected" + (kernels.map { ", \($0.count) real kernels: \(realFailures) runs with failures" } ?? ""))
        }
        if deviations > 0 || realFailures > 0 { throw ExitCode(1) }
    }

    func placement(_ r: LoadResult) -> [String: String] {
        var p = ["kernel": hex(r.kernelAddress), "entry": "\(r.entry.entryPoint.rawValue)@\(hex(r.entry.rip))", "cmdline": hex(r.commandLine.address), "window": r.kernelWindow.description]
        if let b = r.bootParams { p["zeroPage"] = hex(b) }
        if let s = r.startInfo { p["startInfo"] = hex(s) }
        if let i = r.initrd { p["initrd"] = i.description }
        return p
    }

    func realRun(_ k: RealKernel, entry: EntryPoint, initrd: [UInt8]) -> ([Verdict], LoadResult?, String?) {
        do {
            let src = try FileSource(path: k.path)
            let rd = MemorySource(name: "test-initrd", bytes: initrd)
            var o = LoadOptions(); o.entry = entry; o.rngSeed = LoadOptions.corpusSeed
            let r = try ReferenceLoader.load(kernel: src, initrd: rd, options: o)
            let s = try BootSnapshot.of(r, kernel: src, initrd: rd, commandLine: o.commandLine)
            if s.image.sha256 != k.sha256 { return ([], r, "sha256 \(s.image.sha256) differs from the manifest's \(k.sha256): rebuild the corpus") }
            return (judge(s), r, nil)
        } catch { return ([], nil, "\(error)") }
    }
}
