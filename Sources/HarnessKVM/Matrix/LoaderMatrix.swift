import Conformance
import Foundation
import Glibc

/// One (loader, variant) cell of the matrix: did it boot, did the probe report, and every
/// rule's verdict (format "loader-matrix/1", issue 13).
public struct MatrixResult: Sendable {
    public let loader: String
    public let variant: String
    /// The entry the probe reported ("16", "32", …), or "" without a report.
    public var entry: String = ""
    public var booted = false
    public var report = false
    public var seconds: Double = 0
    public var fail: [String] = [], pass: [String] = [], warn: [String] = [], na: [String] = []
    /// Evidence for each failure, and, where a recorded deviation explains it, that record.
    public var failures: [Verdict] = []
    public var explained: [String: KnownDeviation] = [:]
    public var notes: [String] = []
    public init(loader: String, variant: String) { self.loader = loader; self.variant = variant }
    /// Failures no recorded deviation explains.
    public var unexplained: [String] { fail.filter { explained[$0] == nil } }
}

public enum LoaderMatrix {
    /// The variants of a probe index as files, with the entries each image offers.
    public static func variants(_ index: ProbeIndex) -> [MatrixVariant] {
        index.variants.map { v in
            let path = index.imagePath(v)
            let bytes = (FileManager.default.contents(atPath: path)).map { [UInt8]($0) } ?? []
            return MatrixVariant(id: v.id, kernel: path, initrd: index.initrdPath(v), commandLine: v.commandLine, entries: offeredEntries(kernel: bytes))
        }
    }

    /// Judges one run: the report's rules, each failure matched against the loader's recorded
    /// deviations; a run without a report says why (a refusal, a deviation that prevents the
    /// report, or the outcome and the last serial bytes).
    public static func judge(_ run: LoaderRun, variant v: MatrixVariant, loader: String) -> MatrixResult {
        var r = MatrixResult(loader: loader, variant: v.id)
        r.seconds = run.seconds
        r.notes = run.notes
        if let why = run.refused { r.notes.append("refused: \(why)"); return r }
        r.booted = true
        let report: ProbeReport
        do { report = try ProbeReport.parse(serial: run.serial) } catch {
            r.notes.append("no report (\(error)); \(run.outcome)")
            let tail = String(decoding: run.serial.suffix(200), as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            if !tail.isEmpty { r.notes.append("last serial line: \(tail)") }
            if let kernel = try? FileSource(path: v.kernel), let image = try? ImageRecord.record(try KernelImage(source: kernel), source: kernel),
               let inputs = try? InputRecord.of(commandLine: run.expectedCommandLine, initrd: nil),
               let d = KnownDeviations.of(loader: loader, image: image, inputs: inputs).first(where: \.preventsReport) {
                r.notes.append("\(d)")
                r.explained[d.rule] = d
            }
            return r
        }
        r.report = true
        r.entry = report.entryPoint.rawValue
        do {
            let kernel = try FileSource(path: v.kernel)
            let initrd = try v.initrd.map { try FileSource(path: $0) }
            let j = try ProbeJudgement(report: report, kernel: kernel, initrd: initrd, commandLine: run.expectedCommandLine, loader: loader)
            for v in j.verdicts {
                switch v.outcome {
                case .fail: r.fail.append(v.rule); r.failures.append(v); if let d = j.deviation(v) { r.explained[v.rule] = d }
                case .pass: r.pass.append(v.rule)
                case .warn: r.warn.append(v.rule)
                case .notApplicable: r.na.append(v.rule)
                }
            }
        } catch { r.notes.append("cannot judge: \(error)") }
        return r
    }
}
