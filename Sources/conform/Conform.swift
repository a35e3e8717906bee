import ArgumentParser
import Conformance
import Reports
import Runners
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
        subcommands: [Run.self, Inspect.self, Load.self, Rules.self, Boot.self, Judge.self, Bench.self, ProbeBench.self, CorpusCommand.self, BundleCommand.self, BootKernel.self, GateCommand.self, DiffCommand.self, FetchCommand.self, HistoryCommand.self, ReportCommand.self, BootBench.self, SoakCommand.self, Benchmark.self, Matrix.self],
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

func writeJSON(_ object: Any) { FileHandle.standardOutput.write(jsonData(object)) }

/// Prints `verdictLines`.
func printVerdicts(_ verdicts: [Verdict], indent: String = "  ", showAll: Bool = false, expectedFailures: Set<RuleID> = []) {
    for l in verdictLines(verdicts, indent: indent, showAll: showAll, expectedFailures: expectedFailures) { print(l) }
}

/// Parses --memory style sizes with a clear message.
func size(_ text: String, option: String) throws -> UInt64 {
    guard let v = parseSize(text), v > 0 else { throw fail("\(option) '\(text)' is not a size (examples: 512M, 4G, 0x40000000)") }
    return v
}

/// The architecture of an arm64 or riscv64 Image (`ImageHeader.architecture(of:)`, the magic
/// at 0x38); nil for anything else or a file that does not open (the x86 path reports it).
func imageArchitecture(_ path: String) -> ImageBootSnapshot.Architecture? {
    guard let h = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? h.close() }
    return (try? h.read(upToCount: ImageHeader.size)).flatMap { ImageHeader.architecture(of: [UInt8]($0)) }
}
