import Conformance
import TestSupport
import Reports
import Runners
import ConformanceFixtures
import Foundation
import HarnessKVM
import Testing

/// The 16-bit entry as a real loader uses it: QEMU `-kernel` on the `pc` machine (SeaBIOS and
/// its linuxboot_dma option ROM, which enters the real-mode setup code). Every bzImage
/// variant's report is judged; the only failures allowed are QEMU's recorded deviations
/// (KnownDeviations, each with its source), and each recorded deviation must still occur.
@Suite("Entry16QEMU", .serialized)
struct Entry16QEMUTests {
    @Test(.enabled(if: QEMU.installed, "\(QEMU.why)"), .hangGuard, arguments: TestTier.sample(ProbeFiles.bzVariants, quick: TestTier.bzSample + ["bz-2.02", "bz-16bit-entry"], id: \.id))
    func qemuPCLoaderIsJudgedByTheSixteenBitRules(_ c: CorpusCase) async throws {
        _ = try Probe.require()
        let dir = try Scratch.directory("entry16")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let files = try ProbeFiles.write(c, to: dir)
        let image = try ImageRecord.record(try KernelImage(source: MemorySource(name: c.id, bytes: c.image)), source: MemorySource(name: c.id, bytes: c.image))
        let known = KnownDeviations.of(loader: "qemu-pc", image: image, inputs: try InputRecord.of(commandLine: c.options.commandLine, initrd: nil))
        var boot = QEMUBoot(kernel: files.kernel, initrd: files.initrd, append: c.options.commandLine)
        boot.machine = "pc"
        boot.memoryMiB = 1024
        // A deviation that keeps the setup code from running leaves QEMU spinning: the limit
        // ends that run; a report arrives in well under a second under TCG otherwise.
        let noReport = known.first { $0.preventsReport }
        boot.timeout = noReport == nil ? .seconds(120) : .seconds(20)
        let run = boot
        let r = try await offPool { try QEMURunner.run(run) }
        if let noReport {
            #expect(throws: ProbeReportError.self, "\(noReport) no longer prevents the report: update KnownDeviations") { try ProbeReport.parse(serial: r.serial) }
            return
        }
        #expect(r.outcome == .exited(status: 1), "\(r.summary)")
        let report = try ProbeReport.parse(serial: r.serial)
        #expect(report.entryPoint == .setup16, "QEMU's pc loader enters the real-mode setup code")
        #expect(report.firmwareMapStatus == .complete, "SeaBIOS answers INT 15h E820")
        let j = try ProbeJudgement(report: report, kernel: MemorySource(name: c.id, bytes: c.image), initrd: c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) },
                                   commandLine: c.options.commandLine, loader: "qemu-pc")
        #expect(j.unexplained.isEmpty, "\(c.id): \(j.unexplained)")
        for d in j.known where !d.preventsReport && d.certain {
            #expect(j.failures.contains { $0.rule == d.rule }, "\(d) no longer shows: update KnownDeviations")
        }
        // The 16-bit rules were judged, not skipped.
        for id: RuleID in ["BP-45", "BP-46", "BP-25", "BP-28", "BP-13"] {
            #expect(j.verdicts.first { $0.rule == id }?.outcome != .notApplicable, "\(id) was not judged at the 16-bit entry")
        }
    }
}

/// GRUB 2 for BIOS (Debian's grub-pc-bin) boots every bzImage variant from one ISO, with
/// `linux16` (the 16-bit entry) and with `linux` (GRUB's own 32-bit boot), on memory QEMU
/// filled with the poison pattern before the firmware ran: the probe reports each time, and
/// only GRUB's recorded deviations fail.
@Suite("GrubBIOS", .serialized)
struct GrubBIOSTests {
    struct Run: CustomTestStringConvertible, Sendable {
        let variant: String, command: String
        var id: String { "\(command)-\(variant)" }
        var testDescription: String { id }
    }
    static let runs: [Run] = ProbeFiles.bzVariants.flatMap { c in ["linux16", "linux"].map { Run(variant: c.id, command: $0) } }

    /// The ISO and poison files, built once for the suite.
    static let medium: Result<(iso: String, poison: [(file: String, address: UInt64)]), HostToolError> = {
        Result { () throws(HostToolError) in
            let dir: String
            do { dir = try Scratch.directory("grub-bios") } catch { throw HostToolError("\(error)") }
            var entries: [MediumEntry] = []
            for c in ProbeFiles.bzVariants {
                let f: (kernel: String, initrd: String?)
                do { f = try ProbeFiles.write(c, to: dir) } catch { throw HostToolError("\(error)") }
                for cmd in ["linux16", "linux"] { entries.append(MediumEntry(id: "\(cmd)-\(c.id)", kernel: f.kernel, initrd: f.initrd, commandLine: c.options.commandLine, command: cmd)) }
            }
            try GrubMedium.bios.buildISO(entries, work: dir, iso: dir + "/probes.iso")
            return (dir + "/probes.iso", try QEMUPoison.files(in: dir))
        }
    }()

    @Test(.enabled(if: QEMU.installed && GrubMedium.bios.unavailable == nil, "\(QEMU.why); \(GrubMedium.bios.unavailable ?? "")"), .hangGuard, arguments: TestTier.sample(runs, quick: ["linux16-bz-2.15", "linux-bz-2.15", "linux16-bz-2.00", "linux-bz-2.02", "linux-bz-initrd-no-room"], id: \.id))
    func grubBootsTheProbe(_ run: Run) async throws {
        _ = try Probe.require()
        let c = try #require(ProbeFiles.bzVariants.first { $0.id == run.variant })
        let medium = try Self.medium.get()
        var boot = QEMUBoot(cdrom: medium.iso)
        boot.preload = medium.poison
        boot.extraArguments = ["-smbios", "type=11,value=\(run.id)"]
        boot.timeout = .seconds(120)
        // GRUB refuses a kernel its command cannot boot and waits at its prompt: end there.
        boot.marker = "error: "
        boot.grace = .milliseconds(500)
        let b = boot
        let r = try await offPool { try QEMURunner.run(b) }
        let version = c.image.u16(0x206) ?? 0
        if run.command == "linux" && version < 0x0203 {
            // GRUB 2.06's 32-bit boot needs protocol 2.03 (it refuses with "too old for 32-bit
            // boot"); linux16 boots these.
            #expect(r.serialText.contains("too old"), "GRUB's linux should refuse protocol \(ProtocolVersion(rawValue: version)): \(r.summary)")
            return
        }
        if run.command == "linux", Self.initrdRefused(image: c.image, initrdSize: c.initrd?.count) {
            // No room for the initrd between the kernel's end and initrd_addr_max: GRUB's
            // `initrd` refuses it (a refusal is conforming), in its own words.
            #expect(r.serialText.contains(GrubAdapter.initrdRefusal), "GRUB's initrd should refuse \(c.id): \(r.summary): \(r.serialText.suffix(400))")
            return
        }
        #expect(r.outcome == .exited(status: 1), "\(r.summary): \(r.serialText.suffix(400))")
        let report = try ProbeReport.parse(serial: r.serial)
        #expect(report.variant == c.id)
        #expect(report.entryPoint == (run.command == "linux16" ? .setup16 : .protected32))
        let entry = MediumEntry(id: run.id, kernel: c.id + ".bzImage", initrd: nil, commandLine: c.options.commandLine, command: run.command)
        let loader = "grub-bios-\(run.command)"
        let j = try ProbeJudgement(report: report, kernel: MemorySource(name: c.id, bytes: c.image), initrd: c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) },
                                   commandLine: entry.grubCommandLine, loader: loader)
        #expect(j.unexplained.isEmpty, "\(run.id): \(j.unexplained)")
        for d in j.known where !d.preventsReport && d.certain {
            #expect(j.failures.contains { $0.rule == d.rule }, "\(d) no longer shows: update KnownDeviations")
        }
    }

    /// GRUB 2.06 grub_cmd_initrd (grub-core/loader/i386/linux.c) for a kernel `linux` loaded at
    /// pref_address (2.10+): addr_max = min(initrd_addr_max, 0x3FFFFFFF) − 0x10000, the
    /// initrd's page-aligned top spot below it, refused when that is below the kernel's end,
    /// pref_address + init_size rounded up to a page.
    static func initrdRefused(image: [UInt8], initrdSize: Int?) -> Bool {
        guard let size = initrdSize.map(UInt64.init), (image.u16(0x206) ?? 0) >= 0x020A, let cap = image.u32(0x22C), let pref = image.le(0x258, 8),
              let initSize = image.u32(0x260) else { return false }
        let page = { (x: UInt64) in (x + 0xFFF) & ~0xFFF }
        let addrMax = min(UInt64(cap), 0x3FFF_FFFF) - 0x1_0000
        return addrMax < page(size) || (addrMax - page(size)) & ~0xFFF < pref + page(UInt64(initSize))
    }
}
