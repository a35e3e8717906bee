import Conformance

/// One probe variant booted under HarnessKVM: the loader's view, the guest's view, and how
/// they compare.
public struct ProbeBootResult: Sendable {
    public let variant: String
    public let boot: BootReport
    public let loaderVerdicts: [Verdict]
    public let report: ProbeReport?
    public let reportError: ProbeReportError?
    public let guestVerdicts: [Verdict]
    /// Where the guest's view differs from the loader's (empty when they agree).
    public let disagreements: [String]
}

public enum ProbeBoot {
    /// Loads `c` (a probe variant) with the reference loader, boots it, parses the report and
    /// judges both views.
    public static func run(_ c: CorpusCase, system: KVMSystem? = nil, timeout: Duration = .seconds(5)) throws -> ProbeBootResult {
        let kernel = MemorySource(name: c.id, bytes: c.image)
        let initrd = c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) }
        let loaded = try ReferenceLoader.load(kernel: kernel, initrd: initrd, options: c.options)
        let snap = try BootSnapshot.of(loaded, kernel: kernel, initrd: initrd, commandLine: c.options.commandLine)
        let loaderVerdicts = judge(snap)
        let before = preBootCopy(loaded)
        let boot = try Harness.boot(loaded, system: system, options: BootOptions(timeout: timeout, serialLimit: 1 << 20))
        let known = try KnownContent.of(kernel: kernel, initrd: initrd)
        let report: ProbeReport
        do { report = try ProbeReport.parse(serial: boot.serial) } catch {
            return ProbeBootResult(variant: c.id, boot: boot, loaderVerdicts: loaderVerdicts, report: nil, reportError: error, guestVerdicts: [], disagreements: [])
        }
        let guest = report.snapshot(image: snap.image, inputs: snap.inputs, known: known, producer: "probe(\(c.id)) under HarnessKVM")
        return ProbeBootResult(variant: c.id, boot: boot, loaderVerdicts: loaderVerdicts, report: report, reportError: nil,
                               guestVerdicts: judge(guest),
                               disagreements: probeDisagreements(loaderEntry: loaded.entry, loaderMemory: before, report: report))
    }
}
