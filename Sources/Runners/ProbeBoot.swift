import Conformance
import HarnessKVM
import Foundation
import Glibc

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
        // The snapshot reads the loader's memory, which the guest then writes: judge it first.
        let snap = try BootSnapshot.of(loaded, kernel: kernel, initrd: initrd, commandLine: options.commandLine)
        let verdicts = judge(snap)
        let before = preBootCopy(loaded)
        let boot = try Harness.boot(loaded, system: system, options: bootOptions)
        // HarnessKVM registers exactly the loader's RAM slots, so the guest's memory is known.
        let v = try views(serial: boot.serial, loaded: loaded, snapshot: snap, loaderVerdicts: verdicts, before: before, kernel: kernel, initrd: initrd, producer: producer,
                          backed: loaded.memory.backedRanges)
        return ProbeBootResult(boot: boot, entryPoint: loaded.entry.entryPoint, loaderVerdicts: v.loaderVerdicts, report: v.report, reportError: v.reportError,
                               guestVerdicts: v.guestVerdicts, disagreements: v.disagreements)
    }

    /// The loader's verdicts and, from the serial output, the guest's view and where it differs.
    public struct Views: Sendable {
        public let loaderVerdicts: [Verdict]
        public let report: ProbeReport?
        public let reportError: ProbeReportError?
        public let guestVerdicts: [Verdict]
        public let disagreements: [String]
    }

    /// `loaderVerdicts` must be judged before the guest ran: the snapshot reads the loader's
    /// memory, which a guest under HarnessKVM writes.
    public static func views(serial: [UInt8], loaded: LoadResult, snapshot snap: BootSnapshot, loaderVerdicts: [Verdict], before: CapturedMemory, kernel: any ByteSource, initrd: (any ByteSource)?,
                             producer: String, backed: [AddressRange]? = nil) throws -> Views {
        let report: ProbeReport
        do { report = try ProbeReport.parse(serial: serial) } catch {
            return Views(loaderVerdicts: loaderVerdicts, report: nil, reportError: error, guestVerdicts: [], disagreements: [])
        }
        let guest = report.snapshot(image: snap.image, inputs: snap.inputs, known: try KnownContent.of(kernel: kernel, initrd: initrd), producer: producer, backed: backed)
        return Views(loaderVerdicts: loaderVerdicts, report: report, reportError: nil, guestVerdicts: judge(guest),
                     disagreements: probeDisagreements(loaderEntry: loaded.entry, loaderMemory: before, report: report))
    }
}
