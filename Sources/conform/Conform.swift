import ArgumentParser
import Conformance
import Foundation

@main
struct Conform: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conform",
        abstract: "Checks Linux x86 boot-protocol loaders against the rules of the boot protocol.",
        discussion: """
        With no subcommand, runs the conformance suite on the default corpus (Corpus/): every \
        synthetic case and every real kernel built by tools/build-corpus.sh.
        """,
        subcommands: [Run.self, Inspect.self, Load.self, Rules.self, Boot.self, Judge.self, Bench.self, ProbeBench.self, CorpusCommand.self, BundleCommand.self, BootKernel.self, GateCommand.self, DiffCommand.self, BootBench.self, SoakCommand.self, Benchmark.self, Matrix.self],
        defaultSubcommand: Run.self
    )
}

/// Prints one clear line and exits 2: bad input never ends in a trace.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data(("conform: error: " + message + "\n").utf8))
    return ExitCode(2)
}

func openSource(_ path: String, what: String) throws -> FileSource {
    do { return try FileSource(path: path) } catch { throw fail("\(what): \(error)") }
}

func writeJSON(_ object: Any) {
    let d = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
    FileHandle.standardOutput.write(d + Data("\n".utf8))
}

func verdictJSON(_ v: [Verdict]) -> [[String: String]] { v.map { ["rule": $0.rule, "outcome": $0.outcome.rawValue, "evidence": $0.evidence] } }

/// "pass 45: BP-01 BP-02 …" lines, one per outcome, and each failure with its evidence.
func printVerdicts(_ verdicts: [Verdict], indent: String = "  ", showAll: Bool = false, expectedFailures: Set<String> = []) {
    for o in [Outcome.pass, .warn, .fail, .notApplicable] {
        let ids = verdicts.filter { $0.outcome == o }.map(\.rule)
        if !ids.isEmpty { print("\(indent)\(o.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)) \(String(ids.count).leftPad(2)): \(ids.joined(separator: " "))") }
    }
    for v in verdicts where v.outcome == .fail || v.outcome == .warn || showAll {
        let rule = RuleCatalogue.rule(v.rule)
        let mark = v.outcome == .fail ? (expectedFailures.contains(v.rule) ? "✗ (expected)" : "✗") : v.outcome == .pass ? "✓" : v.outcome == .warn ? "!" : "-"
        print("\(indent)  \(mark) \(v.rule) \(rule?.title ?? ""): \(v.evidence)")
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
    func rightPad(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

/// Parses --memory style sizes with a clear message.
func size(_ text: String, option: String) throws -> UInt64 {
    guard let v = parseSize(text), v > 0 else { throw fail("\(option) '\(text)' is not a size (examples: 512M, 4G, 0x40000000)") }
    return v
}
