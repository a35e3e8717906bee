import ArgumentParser
import Conformance
import Foundation
import Reports
import Runners

/// The main job: the synthetic corpus and the real kernels, every rule's verdict per image.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the conformance suite on the corpus (the default command).")

    @Option(help: "Corpus directory (holds synthetic/manifest.json and, once built, real/manifest.json).")
    var corpus = "Corpus"
    @Flag(help: "Every case in detail, with each rule's evidence (without it: one line per group and every failure).")
    var verbose = false
    @Flag(help: "Machine-readable output (conform-run/1) on standard output.")
    var json = false
    @Flag(help: "Do not boot the real kernels to userspace (QEMU).")
    var noBoot = false
    @Option(help: "Where the full results go as JSON (conform-run/1).")
    var results = "conform-results.json"

    func run() throws {
        let progress = ProgressLine("conform")
        let s: SuiteRun
        do {
            defer { progress.finish() }
            s = try SuiteRun.run(corpus: corpus, boot: !noBoot, progress: json ? { _ in } : progress.step)
        } catch { throw fail(error.description) }
        let document = jsonData(s.json)
        if json {
            FileHandle.standardOutput.write(document)
        } else {
            for l in verbose ? s.detailedText(showAllVerdicts: true) : s.compactText() { print(l) }
            do { try document.write(to: URL(fileURLWithPath: results)) } catch { throw fail("cannot write \(results): \(error)") }
            print("\nFull results (every case, rule and boot): \(results); per-case detail: conform --verbose")
        }
        if !s.passed { throw ExitCode(1) }
    }
}
