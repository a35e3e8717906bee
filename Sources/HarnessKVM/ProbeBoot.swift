import Conformance

/// A kernel booted under HarnessKVM by the reference loader, and, when its serial output holds
/// a probe report, the loader's view, the guest's view and how they compare.
public struct ProbeBootResult: Sendable {
    public let boot: BootReport
    /// The entry the reference loader chose.
    public let entryPoint: EntryPoint
    public let loaderVerdicts: [Verdict]
    public let report: ProbeReport?
    public let reportError: ProbeReportError?
    public let guestVerdicts: [Verdict]
    /// Where the guest's view differs from the loader's (empty when they agree).
    public let disagreements: [String]
}

public enum ProbeBoot {
    /// Loads `kernel` with the reference loader, boots it, and judges both views when a probe
    /// report comes back. Throws the loader's `LoadError` for an image it refuses.
    public static func boot(kernel: any ByteSource, initrd: (any ByteSource)?, options: LoadOptions, system: KVMSystem? = nil,
                            bootOptions: BootOptions, producer: String) throws -> ProbeBootResult {
        let loaded = try ReferenceLoader.load(kernel: kernel, initrd: initrd, options: options)
        let snap = try BootSnapshot.of(loaded, kernel: kernel, initrd: initrd, commandLine: options.commandLine)
        let loaderVerdicts = judge(snap)
        let before = preBootCopy(loaded)
        let boot = try Harness.boot(loaded, system: system, options: bootOptions)
        let report: ProbeReport
        do { report = try ProbeReport.parse(serial: boot.serial) } catch {
            return ProbeBootResult(boot: boot, entryPoint: loaded.entry.entryPoint, loaderVerdicts: loaderVerdicts, report: nil, reportError: error, guestVerdicts: [], disagreements: [])
        }
        let guest = report.snapshot(image: snap.image, inputs: snap.inputs, known: try KnownContent.of(kernel: kernel, initrd: initrd), producer: producer)
        return ProbeBootResult(boot: boot, entryPoint: loaded.entry.entryPoint, loaderVerdicts: loaderVerdicts, report: report, reportError: nil,
                               guestVerdicts: judge(guest),
                               disagreements: probeDisagreements(loaderEntry: loaded.entry, loaderMemory: before, report: report))
    }

    /// Boots the probe variant `c` with its corpus load options.
    public static func run(_ c: CorpusCase, system: KVMSystem? = nil, timeout: Duration = .seconds(5)) throws -> ProbeBootResult {
        try boot(kernel: MemorySource(name: c.id, bytes: c.image), initrd: c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) },
                 options: c.options, system: system, bootOptions: BootOptions(timeout: timeout, serialLimit: 1 << 20),
                 producer: "probe(\(c.id)) under HarnessKVM")
    }
}
