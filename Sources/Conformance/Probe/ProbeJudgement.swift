/// A probe report judged against what the loader was given: the snapshot the rules read and
/// every rule's verdict, with each failure that is a recorded deviation of the loader named.
public struct ProbeJudgement: Sendable {
    public let report: ProbeReport
    public let snapshot: BootSnapshot
    public let verdicts: [Verdict]
    /// The known deviations of the loader for this image (KnownDeviations), if a loader was named.
    public let known: [KnownDeviation]

    public init(report: ProbeReport, kernel: some ByteSource, initrd: (any ByteSource)?, commandLine: String, loader: String? = nil) throws {
        let image = try ImageRecord.record(try KernelImage(source: kernel), source: kernel)
        let inputs = try InputRecord.of(commandLine: commandLine, initrd: initrd)
        self.report = report
        snapshot = report.snapshot(image: image, inputs: inputs, known: try KnownContent.of(kernel: kernel, initrd: initrd),
                                   producer: "probe(\(report.variant))" + (loader.map { " from \($0)" } ?? ""))
        verdicts = judge(snapshot)
        known = loader.map { KnownDeviations.of(loader: $0, image: image, inputs: inputs) } ?? []
    }

    public var failures: [Verdict] { verdicts.filter { $0.outcome == .fail } }
    /// The recorded deviation behind a failure, if any.
    public func deviation(_ v: Verdict) -> KnownDeviation? { KnownDeviation.explaining(v, in: known) }
    /// Failures no recorded deviation explains: the loader's new bugs, or the judge's.
    public var unexplained: [Verdict] { failures.filter { deviation($0) == nil } }
}
