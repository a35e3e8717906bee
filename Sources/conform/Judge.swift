import ArgumentParser
import Conformance
import Foundation

/// Judges a probe's serial output: the same rules the suite applies to the reference loader.
struct Judge: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Judge a probe kernel's serial output (from any loader or VMM) with the rule catalogue.",
        discussion: "The report names its variant; the image and the inputs it was booted with are looked up in --probe-images/index.json unless --kernel, --initrd and --cmdline say otherwise.")
    @Argument(help: "A file with the probe's serial output, or - for standard input.") var file = "-"
    @Option(help: "Directory with the probe variants and index.json (from `conform corpus --probe`).") var probeImages = "Corpus/probe/images"
    @Option(help: "The kernel image that was booted (default: the report's variant).") var kernel: String?
    @Option(help: "The initrd that was given (default: the variant's).") var initrd: String?
    @Option(help: "The command line that was given (default: the variant's).") var cmdline: String?
    @Flag(help: "JSON output.") var json = false
    @Flag(help: "Show the evidence for every rule.") var verbose = false

    func run() throws {
        let data: Data
        if file == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else {
            guard let d = FileManager.default.contents(atPath: file) else { throw fail("\(file): cannot read") }
            data = d
        }
        let report: ProbeReport
        do { report = try ProbeReport.parse(serial: [UInt8](data)) } catch { throw fail("\(file): \(error)") }
        var variant: [String: Any] = [:]
        if kernel == nil || cmdline == nil {
            let idx = probeImages + "/index.json"
            guard let d = FileManager.default.contents(atPath: idx), let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any],
                  let vs = o["variants"] as? [[String: Any]] else { throw fail("\(idx): cannot read the probe index (run tools/build-corpus.sh, or give --kernel and --cmdline)") }
            guard let v = vs.first(where: { $0["id"] as? String == report.variant }) else { throw fail("\(idx): no variant '\(report.variant)' (the report's 'variant' line); give --kernel and --cmdline") }
            variant = v
        }
        let kpath = kernel ?? (probeImages + "/" + (variant["image"] as? String ?? ""))
        let ipath = initrd ?? (variant["initrd"] as? String).map { probeImages + "/" + $0 }
        let line = cmdline ?? (variant["cmdline"] as? String ?? "")
        let src = try openSource(kpath, what: "kernel")
        let rd = try ipath.map { try openSource($0, what: "initrd") }
        let image: ImageRecord
        do { image = try ImageRecord.record(try KernelImage(source: src), source: src) } catch { throw fail("\(kpath): \(error)") }
        let inputs: InputRecord
        do { inputs = try InputRecord.of(commandLine: line, initrd: rd) } catch { throw fail("\(error)") }
        let snap = report.snapshot(image: image, inputs: inputs, known: try KnownContent.of(kernel: src, initrd: rd), producer: "probe(\(report.variant))")
        let verdicts = judge(snap)
        if json {
            FileHandle.standardOutput.write(Data(SnapshotJSON.string(snap, verdicts: verdicts).utf8))
        } else {
            print("probe report: variant \(report.variant.isEmpty ? "(none)" : report.variant), entry \(report.entryPoint.rawValue), loaded at \(hex(report.base)), \(report.lineCount) lines")
            for u in report.unreadable { print("  the probe could not read: \(u)") }
            for v in verdicts where verbose || v.outcome == .fail || v.outcome == .warn { print("  \(v.outcome == .fail ? "FAIL" : v.outcome.rawValue.uppercased()) \(v.rule): \(v.evidence)") }
            let f = verdicts.filter { $0.outcome == .fail }.count
            print("\(verdicts.filter { $0.outcome == .pass }.count) pass, \(verdicts.filter { $0.outcome == .warn }.count) warn, \(f) fail, \(verdicts.filter { $0.outcome == .notApplicable }.count) n/a")
        }
        if verdicts.contains(where: { $0.outcome == .fail }) { throw ExitCode(1) }
    }
}
