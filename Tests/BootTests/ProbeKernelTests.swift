import Conformance
import TestSupport
import Reports
import Runners
import ConformanceFixtures
import Foundation
import HarnessKVM
import Testing

@Suite("ProbeKernels", .serialized)
struct ProbeKernelsTests {
    /// The variants cover every entry a VMM loader uses: 64-bit (bzImage and ELF), 32-bit, PVH.
    @Test func variantsCoverEveryEntry() throws {
        _ = try Probe.require()
        #expect(Probe.variants.count >= 20, "only \(Probe.variants.count) probe variants")
        let kinds = Set(Probe.variants.map { $0.kind })
        #expect(kinds == ["bzImage", "elf"])
        #expect(Probe.variants.contains { $0.options.entry == .pvh })
        #expect(Probe.variants.contains { $0.id == "bz-2.06" }, "a pre-2.12 bzImage (32-bit entry only)")
    }

    /// For every bootable corpus entry: the probe, loaded by the reference loader and booted
    /// under HarnessKVM, reports a view that agrees with the loader's snapshot, and no rule
    /// fails in either view; a rule judged in both views has the same outcome.
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard, arguments: Probe.variants)
    func bootsAndAgrees(_ c: CorpusCase) async throws {
        let r = try await offPool { try ProbeBoot.run(c, system: KVM.system, timeout: .seconds(20)) }
        #expect(r.boot.outcome == .exited(code: 0), "\(r.boot.outcome); serial: \(r.boot.serialText.prefix(300))")
        let report = try #require(r.report, "no report: \(r.reportError.map { "\($0)" } ?? "")")
        #expect(report.variant == c.id)
        let loaderFails = r.loaderVerdicts.filter { $0.outcome == .fail }
        let guestFails = r.guestVerdicts.filter { $0.outcome == .fail }
        #expect(loaderFails.isEmpty, "loader view: \(loaderFails)")
        #expect(guestFails.isEmpty, "guest view: \(guestFails)")
        #expect(r.disagreements.isEmpty, "\(r.disagreements)")
        let loader = Dictionary(uniqueKeysWithValues: r.loaderVerdicts.map { ($0.rule, $0.outcome) })
        for v in r.guestVerdicts where v.outcome != .notApplicable {
            #expect(loader[v.rule] == v.outcome, "\(v.rule): guest \(v.outcome.rawValue) (\(v.evidence)), loader \(loader[v.rule]?.rawValue ?? "none")")
        }
        // The guest was entered through the entry the loader chose (RIP itself is compared in
        // the disagreements above).
        #expect(report.entryPoint == r.entryPoint)
    }

    /// The probe survives memory it did not write. RAM outside the loader's regions is filled
    /// with `BootOptions.poisonPattern` before the run, as a firmware or bootloader leaves its
    /// heap behind (GRUB in BIOS mode does); every variant still reports, no rule fails, and
    /// the guest's view agrees with the loader's. Before the probe cleared its page tables and
    /// save area, the 32-bit and PVH entries triple-faulted here (PDPT entries with poisoned
    /// upper halves).
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard, arguments: Probe.variants)
    func bootsOnPoisonedMemory(_ c: CorpusCase) async throws {
        let r = try await offPool { try ProbeBoot.run(c, system: KVM.system, timeout: .seconds(20), poison: BootOptions.poisonPattern) }
        #expect(r.boot.outcome == .exited(code: 0), "\(r.boot.outcome); serial: \(r.boot.serialText.prefix(300))")
        let report = try #require(r.report, "no report: \(r.reportError.map { "\($0)" } ?? "")")
        #expect(report.variant == c.id)
        #expect(r.guestVerdicts.filter { $0.outcome == .fail }.isEmpty, "guest view: \(r.guestVerdicts.filter { $0.outcome == .fail })")
        #expect(r.disagreements.isEmpty, "\(r.disagreements)")
    }

    /// The 16-bit entry under HarnessKVM: the reference loader puts each bzImage variant's
    /// real-mode part at X and enters it in real mode, with RealModeFirmware's IVT and INT 15h
    /// E820, on poisoned memory. The probe's setup code records the real-mode state and the
    /// firmware's map; both views pass every rule and agree, and the map the guest got is the
    /// loader's e820.
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard,
          arguments: Probe.variants.filter { $0.kind == "bzImage" && !$0.options.highPlacement })
    func bootsAtTheSixteenBitEntry(_ c: CorpusCase) async throws {
        var o = c.options
        o.entry = .setup16
        let options = o
        let r = try await offPool {
            try ProbeBoot.boot(kernel: MemorySource(name: c.id, bytes: c.image), initrd: c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) },
                               options: options, system: KVM.system, bootOptions: BootOptions(timeout: .seconds(20), poison: BootOptions.poisonPattern),
                               producer: "probe(\(c.id)) at the 16-bit entry under HarnessKVM")
        }
        #expect(r.boot.outcome == .exited(code: 0), "\(r.boot.outcome); serial: \(r.boot.serialText.prefix(300))")
        let report = try #require(r.report, "no report: \(r.reportError.map { "\($0)" } ?? "")")
        #expect(report.entryPoint == .setup16)
        #expect(report.firmwareMapStatus == .complete)
        let loaded = try ReferenceLoader.load(kernel: MemorySource(name: c.id, bytes: c.image), options: options)
        #expect(report.firmwareMap == loaded.e820, "the map INT 15h gave is not the loader's e820")
        #expect(r.loaderVerdicts.filter { $0.outcome == .fail }.isEmpty, "loader view: \(r.loaderVerdicts.filter { $0.outcome == .fail })")
        #expect(r.guestVerdicts.filter { $0.outcome == .fail }.isEmpty, "guest view: \(r.guestVerdicts.filter { $0.outcome == .fail })")
        #expect(r.disagreements.isEmpty, "\(r.disagreements)")
        for id: RuleID in ["BP-25", "BP-45", "BP-46", "BP-36"] {
            #expect(r.guestVerdicts.first { $0.rule == id }?.outcome == .pass, "\(id) not judged pass at the 16-bit entry")
        }
    }

    /// Guests of 4 and 8 GiB at the 32- and 64-bit entries (a loader once failed to place the
    /// initrd when guest RAM exceeded 2 GiB): HarnessKVM registers low RAM up to the 3 GiB PCI
    /// hole and the rest from 4 GiB, and the guest's own view judges its e820 against exactly
    /// those slots (BP-92 pass, not n/a); the initrd the guest finds is where BP-32 allows it.
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard, arguments: ["bz-guest-4g-64", "bz-guest-4g-32", "bz-guest-8g-64", "bz-guest-8g-32"])
    func bigGuests(_ id: String) async throws {
        let c = try #require(Probe.variants.first { $0.id == id }, "probe variant \(id)")
        let r = try await offPool { try ProbeBoot.run(c, system: KVM.system, timeout: .seconds(20)) }
        let report = try #require(r.report, "no report: \(r.reportError.map { "\($0)" } ?? "")")
        #expect(report.entryPoint == (id.hasSuffix("-64") ? .long64 : .protected32))
        for rule: RuleID in ["BP-31", "BP-32", "BP-34", "BP-92"] {
            #expect(r.guestVerdicts.first { $0.rule == rule }?.outcome == .pass, "\(rule) in the guest's view: \(r.guestVerdicts.first { $0.rule == rule }.map(\.description) ?? "not judged")")
        }
        #expect(r.disagreements.isEmpty, "\(r.disagreements)")
    }

    /// A loader that corrupts the initrd after placing it (BP-31) is caught from inside the
    /// guest: the probe's checksum no longer matches the file's bytes.
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func guestSeesACorruptedInitrd() throws {
        let c = try #require(Probe.variants.first { $0.initrd != nil }, "a probe variant with an initrd")
        let kernel = MemorySource(name: c.id, bytes: c.image)
        let initrd = c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) }
        let loaded = try ReferenceLoader.load(kernel: kernel, initrd: initrd, options: c.options)
        let at = try #require(loaded.initrd).start
        try loaded.memory.write([0x5A], at: at + 3)
        let boot = try Harness.boot(loaded, system: KVM.system, options: BootOptions(timeout: .seconds(20)))
        let report = try ProbeReport.parse(serial: boot.serial)
        let snap = try BootSnapshot.of(loaded, kernel: kernel, initrd: initrd, commandLine: c.options.commandLine)
        let guest = report.snapshot(image: snap.image, inputs: snap.inputs, known: try KnownContent.of(kernel: kernel, initrd: initrd), producer: "test")
        let v = try #require(judge(guest).first { $0.rule == "BP-31" })
        #expect(v.outcome == .fail, "\(v)")
    }
}

/// Guests that misbehave on purpose. Each ends with the right outcome within its time limit,
/// and what the host keeps of it is bounded.
@Suite("HostileGuests", .serialized)
struct HostileGuestsTests {
    /// A tiny ELF whose one segment (at 16 MiB) is `code`, entered in 64-bit mode at its start.
    static func load(_ code: [UInt8]) throws -> LoadResult {
        var f = [UInt8](repeating: 0, count: 0x2000)
        f.put(bytes: [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1], at: 0)
        f.put16(2, at: 16); f.put16(62, at: 18); f.put32(1, at: 20)
        f.put64(0x100_0000, at: 24); f.put64(0x40, at: 32)
        f.put16(64, at: 52); f.put16(56, at: 54); f.put16(1, at: 56)
        f.put32(1, at: 0x40); f.put32(7, at: 0x44); f.put64(0x1000, at: 0x48)
        f.put64(0xFFFF_FFFF_8100_0000, at: 0x50); f.put64(0x100_0000, at: 0x58)
        f.put64(0x1000, at: 0x60); f.put64(0x1000, at: 0x68); f.put64(0x20_0000, at: 0x70)
        f.put(bytes: code, at: 0x1000)
        var o = LoadOptions(); o.memorySize = 256 << 20
        return try ReferenceLoader.load(kernel: MemorySource(name: "hostile", bytes: f), initrd: nil, options: o)
    }
    static func run(_ code: [UInt8], timeout: Duration = .milliseconds(500), serialLimit: Int = 1 << 20) throws -> (BootReport, Duration) {
        let loaded = try load(code)
        let clock = ContinuousClock(), t0 = clock.now
        let r = try Harness.boot(loaded, system: KVM.system, options: BootOptions(timeout: timeout, serialLimit: serialLimit))
        return (r, clock.now - t0)
    }

    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func spinsForever() throws {
        let (r, took) = try Self.run([0xEB, 0xFE])                        // jmp .
        #expect(r.outcome == .timedOut)
        #expect(took < .seconds(60), "took \(took) for a 500 ms limit")  // the limit is enforced; generous for a busy host
    }

    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func tripleFaults() throws {
        // The loader leaves IDTR empty: int3 → #GP → double fault → shutdown.
        let (r, _) = try Self.run([0xCC])
        if r.flavor.kind == .software {
            // kvm_pvm gives up emulating the fault chain: KVM_EXIT_INTERNAL_ERROR (emulation, 1).
            #expect(r.outcome == .shutdown || r.outcome == .failed("KVM_EXIT_INTERNAL_ERROR, suberror 1"), "\(r.outcome)")
        } else {
            #expect(r.outcome == .shutdown)
        }
    }

    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func haltsWithInterruptsOff() throws {
        let (r, _) = try Self.run([0xFA, 0xF4, 0xEB, 0xFC])             // cli; hlt; jmp back
        #expect(r.outcome == .halted)
    }

    /// Capture is bounded by bytes, whatever the machine's speed: the guest writes 8,192 bytes
    /// and leaves through the debug-exit port; 4,096 are kept and 4,096 counted as dropped.
    /// (Issue 14: this once asked for 4,096 bytes within 1 s, which a busy 2-core machine missed.)
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func floodsTheSerialPort() throws {
        // mov dx, 0x3f8; mov ecx, 8192; mov al, 'A'; 1: out dx, al; loop 1b; mov dx, 0x501; mov al, 7; out dx, al; jmp $
        let code: [UInt8] = [0x66, 0xBA, 0xF8, 0x03, 0xB9, 0x00, 0x20, 0x00, 0x00, 0xB0, 0x41, 0xEE, 0xE2, 0xFD,
                             0x66, 0xBA, 0x01, 0x05, 0xB0, 0x07, 0xEE, 0xEB, 0xFE]
        let (r, _) = try Self.run(code, timeout: .seconds(120), serialLimit: 4096)
        #expect({ if case .exited = r.outcome { return true } else { return false } }(), "\(r.outcome)")
        #expect(r.serial.count == 4096, "capture is bounded")
        #expect(r.serialDropped == 4096, "the rest is counted")
        #expect(Set(r.serial) == [0x41])
    }

    /// A guest that never stops writing ends at its time limit with the capture bounded.
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func floodsTheSerialPortForever() throws {
        // mov dx, 0x3f8; mov al, 'A'; 1: out dx, al; jmp 1b
        let (r, took) = try Self.run([0x66, 0xBA, 0xF8, 0x03, 0xB0, 0x41, 0xEE, 0xEB, 0xFD], timeout: .seconds(1), serialLimit: 4096)
        #expect(r.outcome == .timedOut)
        #expect(r.serial.count <= 4096, "capture is bounded")
        #expect(took < .seconds(60), "took \(took) for a 1 s limit")
    }

    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func hammersPorts() throws {
        // xor edx, edx; 1: in al, dx; out dx, al; inc dx; cmp dx, 0x500; jne 2f; add dx, 0x10; 2: jmp 1b
        // (every port, skipping the debug-exit ports 0x500-0x50F; 0x64 reads 0, so no reset)
        let code: [UInt8] = [0x31, 0xD2, 0xEC, 0xEE, 0x66, 0xFF, 0xC2, 0x66, 0x81, 0xFA, 0x00, 0x05, 0x75, 0x04, 0x66, 0x83, 0xC2, 0x10, 0xEB, 0xEC]
        let (r, _) = try Self.run(code)
        #expect(r.outcome == .timedOut, "\(r.outcome)")
        #expect(r.unclaimedPortAccesses > 0)
    }

    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func hammersMMIO() throws {
        // mov ebx, 0xD0000000 (no RAM there); 1: mov [rbx], eax; mov eax, [rbx]; jmp 1b
        let code: [UInt8] = [0xBB, 0x00, 0x00, 0x00, 0xD0, 0x89, 0x03, 0x8B, 0x03, 0xEB, 0xFA]
        let (r, _) = try Self.run(code)
        #expect(r.outcome == .timedOut, "\(r.outcome)")
        #expect(r.mmioAccesses > 0)
    }

    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .hangGuard)
    func asksForAReset() throws {
        // mov al, 0xfe; out 0x64, al
        let (r, _) = try Self.run([0xB0, 0xFE, 0xE6, 0x64, 0xEB, 0xFE])
        #expect(r.outcome == .reset)
    }
}

/// The parts of the harness that run without KVM: report parsing, devices, exit decoding,
/// capability detection.
@Suite("HarnessUnits")
struct HarnessUnitsTests {
    /// Known answers computed outside this code base (Python, FNV-1a over 64-bit words).
    @Test func hash64KnownAnswers() {
        #expect(ProbeHash64.of([UInt8]()) == 0xAF63_BD4C_8601_B7DF)
        #expect(ProbeHash64.of(Array("abc".utf8)) == 0xC88F_E561_8DDA_C4FD)
        #expect(ProbeHash64.of(Array("BOOTPROBE 1\n".utf8)) == 0xD667_3B7D_D022_E9A4)
        #expect(ProbeHash64.of((0..<768).map { UInt8($0 % 256) }) == 0x8FA6_F192_FC31_01DF)
    }


    @Test func parsesAReport() throws {
        let r = try ProbeReport.parse(serial: ProbeReportText.report("variant x\nentry 32\nbase addr=0x100000 len=0x3000\n" + ProbeReportText.essentials.split(separator: "\n").dropFirst(2).map { $0 + "\n" }.joined() + "mem zeropage 0x7000 0x10 aa.e.bb\npt 0x9000 0x4 0x0 0x2 0x83 0x200000\nhash64 initrd 0x8000000 0x10 0x1234\n"))
        #expect(r.variant == "x")
        #expect(r.entryPoint == .protected32)
        #expect(r.base == 0x10_0000)
        #expect(r.piece("zeropage")?.bytes == [0xAA] + [UInt8](repeating: 0, count: 14) + [0xBB])
        #expect(r.pageTables[0x9000]?.u64(8) == 0x20_0083)
        #expect(r.hash("initrd")?.hash64 == 0x1234)
    }

    @Test func refusesCorruptOrCutReports() {
        var b = ProbeReportText.report("entry 64\n")
        b[b.count - 40] ^= 1   // inside the end line's checksum or the body
        #expect(throws: ProbeReportError.self) { try ProbeReport.parse(serial: b) }
        let body = ProbeReportText.report("entry 64\nbase addr=0x1 len=0x2\n")
        let cut = Array(body.prefix(body.count - 30))
        #expect(throws: ProbeReportError(line: 4, message: "report ends without its 'end' line after 3 lines (cut short?)")) { try ProbeReport.parse(serial: cut) }
        #expect(throws: ProbeReportError.self) { try ProbeReport.parse(serial: ProbeReportText.report("mem zeropage 0x7000 0x10 aa.ff.\n")) }
        #expect(throws: ProbeReportError.self) { try ProbeReport.parse(serial: ProbeReportText.report("pt 0x9001 0x4 0x0 0x2 0x83 0x0\n")) }
        #expect(throws: ProbeReportError.self) { try ProbeReport.parse(serial: Array("no report here".utf8)) }
    }


    /// Issue 12, item 7: serial captured through a terminal arrives with CRLF line endings;
    /// the probe checksummed LF lines, and the report reads the same either way.
    @Test func parsesCRLFReports() throws {
        let lf = ProbeReportText.report("variant x\n" + ProbeReportText.essentials)
        let crlf = Array(String(decoding: lf, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let a = try ProbeReport.parse(serial: lf), b = try ProbeReport.parse(serial: crlf)
        #expect(b.variant == "x" && b.entryPoint == .long64 && b.base == 0x100_0000 && b.registers["rsi"] == 0x7000 && b.control["cr3"] == 0x9000)
        #expect(a.registers == b.registers && a.lineCount == b.lineCount)
    }

    /// Two reports in one file are an error that says so and names the line where the second
    /// begins (or where a second header interrupts the first).
    @Test func refusesTwoReportsInOneFile() {
        // Lines: 1 header, 2 variant, 3-6 essentials, 7 end; then "noise before" and the second header.
        let one = ProbeReportText.report("variant a\n" + ProbeReportText.essentials)
        #expect(throws: ProbeReportError(line: 9, message: "a second report starts here (the first ended at line 7): judge one report per file")) {
            try ProbeReport.parse(serial: one + one)
        }
        // The first cut short before its end line: "noise before" is line 7, the header line 8.
        let cut = Array(("BOOTPROBE 1\nvariant a\n" + ProbeReportText.essentials).utf8)
        #expect(throws: ProbeReportError(line: 8, message: "a second 'BOOTPROBE 1' header before this report's 'end' line: two reports, the first cut short")) {
            try ProbeReport.parse(serial: cut + one)
        }
    }

    /// A report without its entry, reg or cr line is an error, never zeros.
    @Test(arguments: ["entry", "reg", "cr"])
    func refusesAReportMissingAnEssentialLine(_ kind: String) {
        let body = ProbeReportText.essentials.split(separator: "\n").filter { !$0.hasPrefix(kind + " ") }.map { $0 + "\n" }.joined()
        // Lines: 1 header, 2 variant, 3-5 the three other essentials, 6 end.
        #expect(throws: ProbeReportError(line: 6, message: "the report ends here without its '\(kind)' line (never read as zeros)")) {
            try ProbeReport.parse(serial: ProbeReportText.report("variant x\n" + body))
        }
    }

    /// A line kind that may appear once, twice, is an error naming both lines.
    @Test func refusesDuplicateLines() {
        #expect(throws: ProbeReportError(line: 7, message: "second 'entry' line (the first is line 3)")) {
            try ProbeReport.parse(serial: ProbeReportText.report("variant x\n" + ProbeReportText.essentials + "entry 32\n"))
        }
        #expect(throws: ProbeReportError(line: 8, message: "second 'seg cs' line (the first is line 7)")) {
            try ProbeReport.parse(serial: ProbeReportText.report("variant x\n" + ProbeReportText.essentials + "seg cs sel=0x10\nseg cs sel=0x10\n"))
        }
        #expect(throws: ProbeReportError(line: 8, message: "second 'mem zeropage' line (the first is line 7)")) {
            try ProbeReport.parse(serial: ProbeReportText.report("variant x\n" + ProbeReportText.essentials + "mem zeropage 0x7000 0x2 aabb\nmem zeropage 0x7000 0x2 aabb\n"))
        }
    }

    @Test func serialPort() {
        let s = Serial16550(limit: 4, marker: "OK")
        #expect(s.read(port: 0x3FD, size: 1) == 0x60)           // THRE | TEMT
        _ = s.write(port: 0x3FB, size: 1, value: 0x80)          // DLAB
        _ = s.write(port: 0x3F8, size: 1, value: 0x01)          // divisor, not data
        #expect(s.output.isEmpty)
        _ = s.write(port: 0x3FB, size: 1, value: 0x03)
        for c in "abcOK".utf8 { _ = s.write(port: 0x3F8, size: 1, value: UInt32(c)) }
        #expect(s.output == Array("abcO".utf8))
        #expect(s.dropped == 1)
        #expect(s.markerSeen, "the marker counts even past the capture bound")
        _ = s.write(port: 0x3FF, size: 1, value: 0x5A)
        #expect(s.read(port: 0x3FF, size: 1) == 0x5A)           // scratch register (8250 probe)
        #expect(s.write(port: 0x3F9, size: 1, value: 0x02) == .pulseIRQ(4), "THRE interrupt when enabled")
    }

    @Test func portBusAndDevices() {
        let bus = PortBus()
        bus.attach(I8042()); bus.attach(DebugExitPort())
        #expect(bus.read(port: 0x80, size: 1) == 0xFF)
        #expect(bus.read(port: 0x80, size: 2) == 0xFFFF)
        #expect(bus.unclaimedReads == 2)
        #expect(bus.write(port: 0x64, size: 1, value: 0xFE) == .reset)
        #expect(bus.write(port: 0x64, size: 1, value: 0xAD) == DeviceAction.none)
        #expect(bus.write(port: 0x501, size: 4, value: 7) == .exit(code: 7))
    }

    @Test func exitDecoding() {
        var page = [UInt8](repeating: 0, count: 4096)
        func decode() -> VMExit { page.withUnsafeBytes { VMExit.decode(run: $0.baseAddress!, runSize: 4096) } }
        page.put32(2, at: 8); page[32] = 1; page[33] = 1; page.put16(0x3F8, at: 34); page.put32(3, at: 36); page.put64(0x100, at: 40)
        #expect(decode() == .io(out: true, port: 0x3F8, size: 1, count: 3, dataOffset: 0x100))
        page.put64(4095, at: 40)   // data would run off the page
        #expect(decode() == .other(reason: 2))
        page.put32(6, at: 8); page.put64(0xD000_0000, at: 32); page.put64(0, at: 40); page.put32(4, at: 48); page[52] = 1
        #expect(decode() == .mmio(address: 0xD000_0000, length: 4, isWrite: true, data: 0))
        page.put32(8, at: 8)
        #expect(decode() == .shutdown)
        page.put32(0xDEAD, at: 8)
        #expect(decode() == .other(reason: 0xDEAD))
    }

    @Test func capabilityDetection() throws {
        let dir = try Scratch.directory("sysmodule")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/kvm_pvm", withIntermediateDirectories: true)
        #expect(KVMFlavor.detect(sysModule: dir).kind == .software)
        try FileManager.default.createDirectory(atPath: dir + "/kvm_intel", withIntermediateDirectories: true)
        #expect(KVMFlavor.detect(sysModule: dir) == KVMFlavor(kind: .hardware, module: "kvm_intel"))
        #expect(KVMFlavor.detect(sysModule: dir + "/none").kind == .unknown)
        let a = KVMAvailability.check(path: "/nonexistent/kvm")
        #expect(!a.isUsable)
        #expect(a.reason.contains("does not exist"))
    }
}

/// Sequential probe boots leave nothing behind: no fd, mapping or thread per boot, bounded RSS.
/// (`conform soak` runs the 1,000-boot version and prints the table.)
@Suite("Soak")
struct SoakTests {
    static let resultPath = ProcessInfo.processInfo.environment["CONFORM_SOAK_RESULT"]

    /// Sequential boots leave no fd, thread, mapping or memory behind. The soak runs in a child
    /// process of its own (this test binary, filtered to `soakAlone`), so the counts it samples
    /// are the soak's alone: in the test process, other suites running beside it moved RSS by
    /// 38 MB over 40 boots on a fresh clone. The long soak (thousands of boots) is `conform soak`.
    @Test(.enabled(if: KVM.usable, "\(KVM.availability.reason)"), .enabled(if: resultPath == nil, "this is the soak's own child process"), .hangGuard)
    func sequentialBootsLeakNothing() async throws {
        _ = try Probe.require()
        let dir = try Scratch.directory("soak")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/result.json"
        let child = try startTestChild(filter: "SoakTests/soakAlone", environment: ["CONFORM_SOAK_RESULT": out])
        try await offPool { child.waitUntilExit() }
        let data = try #require(FileManager.default.contents(atPath: out), "the soak child wrote no result (exit status \(child.terminationStatus))")
        let r = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let g = try #require(r["growth"] as? [String: Int]), samples = r["samples"] as? String ?? ""
        #expect((r["failures"] as? [String]) == [], "\(r["failures"] ?? "")")
        #expect(r["boots"] as? Int == 60)
        // A boot that kept its vCPU until the watchdog's deadline (the leak this caught) leaves
        // one fd per boot: +40 over the sampled stretch.
        #expect(g["fds"]! < 10, "open fds grew by \(g["fds"]!) over 40 boots: \(samples)")
        #expect(g["threads"]! < 10 && g["mappings"]! < 20, "\(samples)")
        #expect(g["residentBytes"]! < 16 << 20, "RSS grew by \(g["residentBytes"]!) bytes over 40 boots: \(samples)")
        #expect(child.terminationStatus == 0, "the soak child exited with \(child.terminationStatus)")
    }

    /// The soak itself, run only as `sequentialBootsLeakNothing`'s child: 60 boots of the
    /// pvh-desc8 probe, sampled every 20, the result written as JSON for the parent.
    @Test(.enabled(if: resultPath != nil, "runs only as the child of sequentialBootsLeakNothing"))
    func soakAlone() throws {
        let c = try #require(Probe.variants.first { $0.id == "pvh-desc8" })
        let system = try #require(KVM.system)
        let r = Soak.run(kernel: c.image, options: c.options, boots: 60, every: 20, system: system, timeout: .seconds(60))
        let g = r.growth   // from boot 20 to boot 60
        let doc: [String: Any] = ["boots": r.boots, "failures": r.failures, "samples": "\(r.samples)",
                                  "growth": ["fds": g.fds, "threads": g.threads, "mappings": g.mappings, "residentBytes": Int(g.residentBytes)]]
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: try #require(Self.resultPath)))
    }
}
