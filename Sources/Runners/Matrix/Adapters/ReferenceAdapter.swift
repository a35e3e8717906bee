import Conformance
import HarnessKVM
import ConformanceFixtures
import Foundation

/// The reference loader itself, the matrix's control rows: under HarnessKVM
/// (`reference-harnesskvm`, needs a usable /dev/kvm) and as a PVH bundle booted by QEMU
/// through its -bios stub (`reference-bundle`). Each variant is loaded with its corpus case's
/// options (memory, entry, placement), so `cases` maps variant ids to those.
public struct ReferenceAdapter: LoaderAdapter {
    public enum Path: Sendable { case harness, bundle }
    public let path: Path
    public let cases: [String: CorpusCase]
    public init(_ path: Path, cases: [CorpusCase]) {
        self.path = path
        self.cases = Dictionary(cases.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }
    public var id: String { path == .harness ? "reference-harnesskvm" : "reference-bundle" }
    public var packages: [String] { path == .harness ? [] : ["qemu-system-x86"] }
    public var version: String { "this build" }
    public var unavailable: String? {
        switch path {
        case .harness: let a = KVMAvailability.check(); return a.isUsable ? nil : "HarnessKVM needs /dev/kvm: \(a.reason)"
        case .bundle: return QEMUKernelAdapter.pc.unavailable
        }
    }
    public func accepts(_ v: MatrixVariant) -> Bool {
        guard let c = cases[v.id] else { return false }
        // A bundle recreates a 32/64-bit or PVH entry state; the 16-bit entry needs firmware.
        return path == .harness || c.options.entry != .setup16
    }
    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        guard let c = cases[v.id] else { throw HostToolError("no corpus case \(v.id) for the reference loader") }
        switch path {
        case .harness:
            let r = try ProbeBoot.run(c, timeout: timeout)
            return LoaderRun(serial: r.boot.serial, outcome: r.boot.outcome.description, seconds: r.boot.elapsed.seconds, expectedCommandLine: c.options.commandLine,
                             notes: r.disagreements.isEmpty ? [] : ["the guest's view differs from the loader's: " + r.disagreements.prefix(3).joined(separator: "; ")])
        case .bundle:
            let r = try ProbeBoot.bundle(c, timeout: timeout)
            return LoaderRun(r.qemu, expectedCommandLine: c.options.commandLine,
                             notes: r.views.disagreements.isEmpty ? [] : ["the guest's view differs from the loader's: " + r.views.disagreements.prefix(3).joined(separator: "; ")])
        }
    }
}
