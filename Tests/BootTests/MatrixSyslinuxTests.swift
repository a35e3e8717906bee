import Conformance
import TestSupport
import Reports
import Runners
import ConformanceFixtures
import Foundation
import HarnessKVM
import Testing

/// A matrix adapter's medium, built once per suite from the bzImage variants.
struct MatrixMedium: Sendable {
    let work: String
    let variants: [MatrixVariant]

    /// Writes every bzImage variant into a scratch directory and runs the adapter's `prepare`.
    /// `commandLines` replaces a variant's command line; `extra` adds files that are no probe
    /// (id, bytes), booted with "console=ttyS0".
    static func build(_ adapter: some LoaderAdapter, kind: String, only: Set<String>? = nil, commandLines: [String: String] = [:], extra: [(String, [UInt8])] = []) -> Result<MatrixMedium, HostToolError> {
        Result { () throws(HostToolError) in
            let work: String
            do { work = try Scratch.directory(kind) } catch { throw HostToolError("cannot make a scratch directory: \(error)") }
            var variants: [MatrixVariant] = []
            for c in ProbeFiles.bzVariants where only?.contains(c.id) ?? true {
                let f: (kernel: String, initrd: String?)
                do { f = try ProbeFiles.write(c, to: work) } catch { throw HostToolError("cannot write \(c.id): \(error)") }
                variants.append(MatrixVariant(id: c.id, kernel: f.kernel, initrd: f.initrd, commandLine: commandLines[c.id] ?? c.options.commandLine, entries: offeredEntries(kernel: c.image)))
            }
            for (id, bytes) in extra {
                let k = work + "/\(id).bin"
                guard FileManager.default.createFile(atPath: k, contents: Data(bytes)) else { throw HostToolError("cannot write \(k)") }
                variants.append(MatrixVariant(id: id, kernel: k, initrd: nil, commandLine: "console=ttyS0", entries: []))
            }
            do { try adapter.prepare(variants, work: work) } catch let e as HostToolError { throw e } catch { throw HostToolError("\(adapter.id) prepare: \(error)") }
            return MatrixMedium(work: work, variants: variants)
        }
    }

    func variant(_ id: String) throws -> MatrixVariant { try #require(variants.first { $0.id == id }, "no variant \(id) on the medium") }
}

/// One bzImage variant through a BIOS loader that exits QEMU when the probe has reported: it is
/// accepted, not refused, QEMU exits with the probe's status 1, and the cell judges as the
/// matrix does (expectMatrixCell). `timeout` only ends a hang.
func expectBIOSLoaderReports(_ adapter: some LoaderAdapter, medium: Result<MatrixMedium, HostToolError>, _ c: CorpusCase,
                             timeout: Duration, recorded: [KnownDeviation]) async throws {
    _ = try Probe.require()
    let m = try medium.get()
    let v = try m.variant(c.id)
    #expect(adapter.accepts(v))
    let run = try await offPool { try adapter.boot(v, work: m.work, timeout: timeout) }
    #expect(run.refused == nil, "\(adapter.id) refused \(c.id): \(run.refused ?? "")")
    #expect(run.outcome.hasPrefix("QEMU exited with status 1"), "\(run.outcome)")
    try expectMatrixCell(run, variant: v, image: c, loader: adapter.id, recorded: recorded, entry: .setup16)
}

/// Judges one run the way the matrix does, with `recorded` (this loader's deviations, until
/// they are part of KnownDeviations.all) explaining failures too: no unexplained failure, and
/// each certain recorded deviation that applies still shows. (BP-45 once failed both loaders'
/// 2.00/2.01 boots, whose real-mode part is at 0x10000: a judge bug, fixed in BP-45, since such
/// a bzImage may load elsewhere and the kernel moves it.)
func expectMatrixCell(_ run: LoaderRun, variant v: MatrixVariant, image c: CorpusCase, loader: String, recorded: [KnownDeviation], entry: EntryPoint) throws {
    let result = LoaderMatrix.judge(run, variant: v, loader: loader)
    #expect(result.booted, "\(loader) \(v.id): \(result.notes)")
    #expect(result.report, "\(loader) \(v.id): no probe report: \(result.notes); \(run.outcome); serial: \(String(decoding: run.serial.suffix(300), as: UTF8.self))")
    guard result.report else { return }
    let report = try ProbeReport.parse(serial: run.serial)
    #expect(report.variant == v.id)
    #expect(report.entryPoint == entry, "\(loader) enters at \(report.entryPoint.rawValue)")
    let image = try ImageRecord.record(try KernelImage(source: MemorySource(name: c.id, bytes: c.image)), source: MemorySource(name: c.id, bytes: c.image))
    let inputs = try InputRecord.of(commandLine: run.expectedCommandLine, initrd: nil)
    let mine = recorded.filter { $0.loader == loader && $0.applies(image, inputs) }
    let unexplained = result.unexplained.filter { rule in !mine.contains { $0.rule.rawValue == rule } }
    #expect(unexplained.isEmpty, "\(loader) \(v.id): unexplained failures \(unexplained): \(result.failures.filter { unexplained.contains($0.rule.rawValue) })")
    for d in mine where !d.preventsReport && d.certain {
        #expect(result.fail.contains(d.rule.rawValue), "\(d) no longer shows: update KnownDeviations")
    }
    print("matrix \(loader) \(v.id): entry \(result.entry), \(String(format: "%.2f", run.seconds)) s, failing \(result.fail)")
}

/// ISOLINUX 6.04 (Debian's isolinux and syslinux-common) boots every bzImage variant from one
/// ISO, the label chosen per run by the SMBIOS serial number (ISOLINUXAdapter): the probe
/// reports from the 16-bit entry each time and only ISOLINUX's recorded deviations fail.
/// Run alone with `swift test --filter MatrixISOLINUX`.
@Suite("MatrixISOLINUX", .serialized)
struct MatrixISOLINUXTests {
    static let adapter = ISOLINUXAdapter()
    static let medium = MatrixMedium.build(adapter, kind: "isolinux")

    @Test(.enabled(if: adapter.unavailable == nil, "\(adapter.unavailable ?? "")"), .hangGuard, arguments: TestTier.sample(ProbeFiles.bzVariants, quick: TestTier.bzSample, id: \.id))
    func isolinuxBootsTheProbe(_ c: CorpusCase) async throws {
        // A report arrives in about half a second under TCG; a refusal ends at ISOLINUX's
        // "boot:" prompt (the marker).
        try await expectBIOSLoaderReports(Self.adapter, medium: Self.medium, c, timeout: .seconds(60), recorded: KnownDeviations.syslinux)
    }

    /// Not a kernel: ISOLINUX says so and returns to its prompt, where the run ends (the
    /// "boot:" marker), long before the time limit. A 374-byte command line for a kernel whose
    /// cmdline_size is 256 (bz-2.06) reaches it cut to 255 bytes: the recorded BP-27 deviation.
    @Test(.enabled(if: adapter.unavailable == nil, "\(adapter.unavailable ?? "")"), .hangGuard)
    func refusalEndsTheRunAndLongLinesAreCutOneShort() async throws {
        _ = try Probe.require()
        let long = (0..<75).map { String(format: "x%03d", $0) }.joined(separator: " ")
        let m = try MatrixMedium.build(Self.adapter, kind: "isolinux-edge", only: ["bz-2.06"], commandLines: ["bz-2.06": long],
                                       extra: [("not-a-kernel", [UInt8](repeating: 0, count: 1024))]).get()
        let junk = try m.variant("not-a-kernel")
        let refused = try await offPool { try Self.adapter.boot(junk, work: m.work, timeout: .seconds(60)) }
        #expect(refused.refused?.contains("Booting kernel failed: Invalid argument") == true, "\(refused.outcome): \(refused.refused ?? "not refused")")
        #expect(!refused.outcome.contains("timed out"), "the prompt should end the run: \(refused.outcome)")
        let v = try m.variant("bz-2.06")
        let c = try #require(ProbeFiles.bzVariants.first { $0.id == "bz-2.06" })
        let run = try await offPool { try Self.adapter.boot(v, work: m.work, timeout: .seconds(60)) }
        try expectMatrixCell(run, variant: v, image: c, loader: Self.adapter.id, recorded: KnownDeviations.syslinux, entry: .setup16)
        let image = try ImageRecord.record(try KernelImage(source: MemorySource(name: c.id, bytes: c.image)), source: MemorySource(name: c.id, bytes: c.image))
        let inputs = try InputRecord.of(commandLine: run.expectedCommandLine, initrd: nil)
        #expect(KnownDeviations.syslinux.contains { $0.rule == "BP-27" && $0.applies(image, inputs) })
    }

    /// The command line ISOLINUX builds, from syslinux 6.04's readconfig.c, execute.c and
    /// kernel.c (ISOLINUXAdapter's comment); the probe runs confirm it byte for byte.
    @Test func commandLineFollowsSyslinuxSource() {
        func v(_ s: String) -> MatrixVariant { MatrixVariant(id: "x", kernel: "x", initrd: nil, commandLine: s, entries: []) }
        #expect(ISOLINUXAdapter.commandLine(v("console=ttyS0"), kernel: "/k/0.bz", initrd: "/k/0.rd") == "BOOT_IMAGE=/k/0.bz console=ttyS0 initrd=/k/0.rd")
        #expect(ISOLINUXAdapter.commandLine(v("console=ttyS0"), kernel: "/k/1.bz", initrd: nil) == "BOOT_IMAGE=/k/1.bz console=ttyS0")
        #expect(ISOLINUXAdapter.commandLine(v(""), kernel: "/k/2.bz", initrd: "/k/2.rd") == "BOOT_IMAGE=/k/2.bz initrd=/k/2.rd")
        #expect(ISOLINUXAdapter.commandLine(v("-"), kernel: "/k/3.bz", initrd: nil) == "BOOT_IMAGE=/k/3.bz ")
    }
}

/// iPXE (Debian's ipxe-qemu e1000 ROM) boots every bzImage variant over QEMU's user-mode
/// network and built-in TFTP, the script chosen per run by the DHCP boot file name
/// (IPXEAdapter): the probe reports each time and only iPXE's recorded deviations fail.
/// Run alone with `swift test --filter MatrixIPXE`.
@Suite("MatrixIPXE", .serialized)
struct MatrixIPXETests {
    static let adapter = IPXEAdapter()
    static let medium = MatrixMedium.build(adapter, kind: "ipxe")

    @Test(.enabled(if: adapter.unavailable == nil, "\(adapter.unavailable ?? "")"), .hangGuard, arguments: TestTier.sample(ProbeFiles.bzVariants, quick: TestTier.bzSample, id: \.id))
    func ipxeBootsTheProbe(_ c: CorpusCase) async throws {
        // About six seconds under TCG (DHCP, TFTP); a failing script makes the BIOS reset, which
        // ends QEMU.
        try await expectBIOSLoaderReports(Self.adapter, medium: Self.medium, c, timeout: .seconds(120), recorded: KnownDeviations.ipxe)
    }

    /// Not a kernel: iPXE's `kernel` fails ("Exec format error", 0x2e008001), the script
    /// reports it and returns to the BIOS, and the run ends long before the time limit. The file
    /// is 1 MiB because iPXE runs any unrecognised image of at most 0xA0000 - 0x7C00 bytes as a
    /// PXE boot program (src/arch/x86/image/pxe_image.c pxe_probe): a small file of zeros is
    /// executed, not refused, and only the time limit ends that run. A 374-byte command line
    /// for a protocol 2.03 kernel (limit 255) reaches it whole: the recorded BP-27 deviation.
    @Test(.enabled(if: adapter.unavailable == nil, "\(adapter.unavailable ?? "")"), .hangGuard)
    func failureEndsTheRunAndOldKernelsGetLongLines() async throws {
        _ = try Probe.require()
        let long = (0..<75).map { String(format: "x%03d", $0) }.joined(separator: " ")
        let m = try MatrixMedium.build(Self.adapter, kind: "ipxe-edge", only: ["bz-2.03"], commandLines: ["bz-2.03": long],
                                       extra: [("not-a-kernel", [UInt8](repeating: 0, count: 1 << 20))]).get()
        let junk = try m.variant("not-a-kernel")
        let refused = try await offPool { try Self.adapter.boot(junk, work: m.work, timeout: .seconds(120)) }
        #expect(refused.refused == "iPXE's kernel failed with iPXE error 0x2e008001 (https://ipxe.org/err/2e008001)", "\(refused.outcome): \(refused.refused ?? "not refused")")
        #expect(refused.outcome.hasPrefix("QEMU exited"), "the BIOS reset should end the run: \(refused.outcome)")
        let v = try m.variant("bz-2.03")
        let c = try #require(ProbeFiles.bzVariants.first { $0.id == "bz-2.03" })
        let run = try await offPool { try Self.adapter.boot(v, work: m.work, timeout: .seconds(120)) }
        try expectMatrixCell(run, variant: v, image: c, loader: Self.adapter.id, recorded: KnownDeviations.ipxe, entry: .setup16)
    }

    /// A failing script's report names the step and iPXE's error number.
    @Test func failureReportIsDecoded() {
        #expect(IPXEAdapter.failure("GET /ipxe-failed/kernel/0x2d12603b HTTP/1.1\r\nHost: x\r\n") == "iPXE's kernel failed with iPXE error 0x2d12603b (https://ipxe.org/err/2d12603b)")
        #expect(IPXEAdapter.failure("") == nil)
        #expect(IPXEAdapter.failure("GET /ipxe-failed/ HTTP/1.1") == nil)
    }
}
