import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// A report in the init's format, written here independently of the parser: each line
/// "kinit …\n", then the end line with the count and hash64 of those bytes.
func kinitReport(_ lines: [String], crlf: Bool = true, noise: [Int: String] = [:], endOverride: String? = nil) -> [UInt8] {
    var body = [UInt8]()
    for l in lines { body += Array(("kinit " + l + "\n").utf8) }
    let end = endOverride ?? String(format: "kinit end lines=%x hash64=%016llx", lines.count, ProbeHash64.of(body))
    var out = "[    1.0] some kernel line\nBOOTCONFORM-INIT-START\n"
    for (i, l) in lines.enumerated() {
        if let n = noise[i] { out += n + "\n" }
        out += "kinit " + l + "\n"
    }
    out += end + "\nBOOTCONFORM-INIT-END\n"
    return Array((crlf ? out.replacingOccurrences(of: "\n", with: "\r\n") : out).utf8)
}

@Suite("KernelObservation")
struct KernelObservationTests {
    static let zeroPage: [UInt8] = {
        var z = [UInt8](repeating: 0, count: 4096)
        z[0x1FE] = 0x55; z[0x1FF] = 0xAA
        z[0x210] = 0xFF; z[0x211] = 0x01
        z.replaceSubrange(0x218..<0x220, with: [0x00, 0x40, 0xF5, 0x3F, 0x00, 0x10, 0x00, 0x00])   // initrd 0x3FF54000, 0x1000 bytes
        z.replaceSubrange(0x228..<0x22C, with: [0x00, 0x00, 0x02, 0x00])                           // cmd_line_ptr 0x20000
        return z
    }()
    static let memmap = ["memmap 0 9fbff System RAM", "memmap 9fc00 9ffff Reserved", "memmap f0000 fffff Reserved", "memmap 100000 3fffffff System RAM"]
    static let initFile: [UInt8] = Array("#!init\n".utf8)
    static func lines(zeroPage: [UInt8] = zeroPage, cmdline: String = "console=ttyS0 quiet", files: [String]? = nil) -> [String] {
        var l = ["version 1", "kernel 6.12.0-test", "bootparams 1000"]
        for off in stride(from: 0, to: 4096, by: 64) where zeroPage[off..<off + 64].contains(where: { $0 != 0 }) {
            l.append(String(format: "bp %x ", off) + zeroPage[off..<off + 64].map { String(format: "%02x", $0) }.joined())
        }
        l.append("cmdline " + Array(cmdline.utf8).map { String(format: "%02x", $0) }.joined())
        l += memmap
        l += files ?? [String(format: "file /init %x %016llx", initFile.count, ProbeHash64.of(initFile)), "dir /proc"]
        l += ["iomem   01000000-01ffffff : Kernel code", "klog <6>[    0.000000] RAMDISK: [mem 0x3ff54000-0x3ff54fff]"]
        return l
    }
    static let handoff = Handoff(zeroPage: zeroPage, commandLine: Array("console=ttyS0 quiet".utf8),
                                 e820: [E820Entry(address: 0, size: 0x9FC00, type: .ram), E820Entry(address: 0x9FC00, size: 0x400, type: .reserved),
                                        E820Entry(address: 0xF0000, size: 0x10000, type: .reserved), E820Entry(address: 0x100000, size: 0x3FF0_0000, type: .ram)],
                                 initrdRange: AddressRange(constantStart: 0x3FF5_4000, end: 0x3FF5_5000),
                                 initrdFiles: [Newc.Entry(path: "/init", mode: 0o100755, size: UInt64(initFile.count), hash64: ProbeHash64.of(initFile))],
                                 imageFormat: "bzImage", entry: .long64)

    @Test func parsesWhatTheInitPrints() throws {
        let r = try KernelReport.parse(serial: kinitReport(Self.lines(), noise: [5: "[    2.0] a kernel message between lines"]))
        #expect(r.release == "6.12.0-test")
        #expect(r.bootParams == Self.zeroPage)
        #expect(r.commandLine == Array("console=ttyS0 quiet".utf8))
        #expect(r.memoryMap.count == 4 && r.memoryMap[3].range == AddressRange(constantStart: 0x100000, end: 0x4000_0000))
        #expect(r.files["/init"]?.size == 7)
        #expect(r.kernelCode == AddressRange(constantStart: 0x100_0000, end: 0x200_0000))
        #expect(r.ramdiskLogged == AddressRange(constantStart: 0x3FF5_4000, end: 0x3FF5_5000))
    }

    @Test func refusesDamagedReports() throws {
        // Cut off before the end line.
        var cut = kinitReport(Self.lines(), crlf: false)
        cut = Array(cut[..<(cut.count - 120)])
        #expect { try KernelReport.parse(serial: cut) } throws: { "\($0)".contains("no end line") || "\($0)".contains("hash64") || "\($0)".contains("lines") }
        // One flipped character inside a line.
        let flipped = Array(String(decoding: kinitReport(Self.lines(), crlf: false), as: UTF8.self)
            .replacingOccurrences(of: "kinit kernel 6.12.0-test", with: "kinit kernel 6.12.1-test").utf8)
        #expect { try KernelReport.parse(serial: flipped) } throws: { "\($0)".contains("hash64") }
        // A line count that does not match.
        let wrong = kinitReport(Self.lines(), endOverride: "kinit end lines=1 hash64=0")
        #expect { try KernelReport.parse(serial: wrong) } throws: { "\($0)".contains("1 lines") }
        // Nothing from the init at all.
        #expect { try KernelReport.parse(serial: Array("Kernel panic - not syncing\n".utf8)) } throws: { "\($0)".contains("BOOTCONFORM-INIT-START") }
        // A kernel that panicked before the init: the error quotes the panic (console text as
        // Debian 6.1 printed it under QEMU TCG in CI, CR LF line ends).
        let panicked = Array(("[    0.048000] ..MP-BIOS bug: 8254 timer not connected to IO-APIC\r\n"
            + "[    0.088000] Kernel panic - not syncing: IO-APIC + timer doesn't work!  Boot with apic=debug and send a report.  Then try booting with the 'noapic' option.\r\n"
            + "[    0.088000] CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.0-56-cloud-amd64 #1  Debian 6.1.158-1\r\n").utf8)
        #expect { try KernelReport.parse(serial: panicked) } throws: {
            "\($0)".contains("BOOTCONFORM-INIT-START") && "\($0)".contains("the kernel panicked: IO-APIC + timer doesn't work!  Boot with apic=debug")
        }
        #expect { try KernelReport.parse(serial: Array("[    0.1] Run /init as init process\n".utf8)) } throws: { !"\($0)".contains("panicked") }
        // A bp row outside the zero page.
        let outside = kinitReport(Self.lines() + ["bp 1000 00ff"])
        #expect { try KernelReport.parse(serial: outside) } throws: { "\($0)".contains("outside") }
    }

    @Test func everyCheckPassesOnAFaithfulHandoff() throws {
        let r = try KernelReport.parse(serial: kinitReport(Self.lines()))
        let checks = KernelObservedChecks.compare(r, with: Self.handoff)
        #expect(checks.allSatisfy { $0.outcome == .pass }, "\(checks.filter { $0.outcome == .fail })")
        #expect(Set(checks.map(\.kind)) == Set(ObservedCheck.Kind.allCases))
    }

    @Test func eachMismatchIsNamed() throws {
        // The kernel kept a different ramdisk_image: the field is named, BP-11.
        var zp = Self.zeroPage; zp[0x219] = 0x50
        var checks = KernelObservedChecks.compare(try KernelReport.parse(serial: kinitReport(Self.lines(zeroPage: zp))), with: Self.handoff)
        #expect(checks.contains { $0.outcome == .fail && $0.field == "0x218 ramdisk_image" && $0.rule == "BP-11" }, "\(checks)")
        // KASLR_FLAG set by the decompressor is a listed kernel change, not a failure.
        zp = Self.zeroPage; zp[0x211] |= 0x02
        checks = KernelObservedChecks.compare(try KernelReport.parse(serial: kinitReport(Self.lines(zeroPage: zp))), with: Self.handoff)
        #expect(checks.contains { $0.outcome == .pass && $0.field == "0x211 loadflags" && $0.note.contains("KASLR") })
        #expect(!checks.contains { $0.outcome == .fail })
        // ... but not for an ELF vmlinux, which has no decompressor.
        var elf = Self.handoff; elf.imageFormat = "ELF vmlinux"
        checks = KernelObservedChecks.compare(try KernelReport.parse(serial: kinitReport(Self.lines(zeroPage: zp))), with: elf)
        #expect(checks.contains { $0.outcome == .fail && $0.field == "0x211 loadflags" })
        // Command line: the first differing byte.
        checks = KernelObservedChecks.compare(try KernelReport.parse(serial: kinitReport(Self.lines(cmdline: "console=ttyS1 quiet"))), with: Self.handoff)
        #expect(checks.contains { $0.kind == .commandLine && $0.outcome == .fail && $0.note.contains("byte 12") })
        // Memory map: an entry the loader did not give.
        var h = Self.handoff; h.e820 = Array(h.e820!.dropLast()) + [E820Entry(address: 0x100000, size: 0x1000_0000, type: .ram)]
        checks = KernelObservedChecks.compare(try KernelReport.parse(serial: kinitReport(Self.lines())), with: h)
        #expect(checks.contains { $0.kind == .memoryMap && $0.outcome == .fail && $0.note.contains("not from the loader") })
        // Initrd: a changed file, a missing file, an extra file.
        let bad = [String(format: "file /init %x %016llx", 7, 1), "file /extra 1 0"]
        checks = KernelObservedChecks.compare(try KernelReport.parse(serial: kinitReport(Self.lines(files: bad))), with: Self.handoff)
        #expect(checks.contains { $0.field == "/init" && $0.outcome == .fail && $0.note.contains("differs") })
        #expect(checks.contains { $0.field == "/extra" && $0.outcome == .fail })
        checks = KernelObservedChecks.compare(try KernelReport.parse(serial: kinitReport(Self.lines(files: ["dir /proc"]))), with: Self.handoff)
        #expect(checks.contains { $0.field == "/init" && $0.found == "missing" })
    }

    /// BP-32 in the differential: initrd_addr_max binds at the 32-bit entry and is lifted at the
    /// 64-bit entry of a kernel with XLF_CAN_BE_LOADED_ABOVE_4G, as the reference loader now
    /// places it (issue 14, point 10). The fixture's initrd ends at 0x3FF54FFF.
    @Test func initrdCapIsLiftedOnlyAtTheSixtyFourBitEntry() throws {
        var img = try syntheticImage("bz-2.15").image
        img.replaceSubrange(0x22C..<0x230, with: [0xFF, 0xFF, 0xFF, 0x37])   // initrd_addr_max 0x37FFFFFF
        img[0x236] |= 0x02                                                  // XLF_CAN_BE_LOADED_ABOVE_4G
        guard case .bzImage(let bz) = try KernelImage(source: MemorySource(name: "capped", bytes: img)) else { Issue.record("not a bzImage"); return }
        let r = try KernelReport.parse(serial: kinitReport(Self.lines()))
        let rows = LoaderDifferential.rows([.init(name: "64", report: r, entry: .long64), .init(name: "32", report: r, entry: .protected32), .init(name: "unknown", report: r)], header: bz.header)
        let initrd = try #require(rows.first { $0.field.hasPrefix("initrd") })
        #expect(initrd.sides[0].outcome == .pass && initrd.sides[0].evidence.contains("lifted"), "\(initrd.sides[0])")
        #expect(initrd.sides[1].outcome == .fail && initrd.sides[1].evidence.contains("BP-32"), "\(initrd.sides[1])")
        #expect(initrd.sides[2].outcome == .fail, "an unknown entry keeps the cap: \(initrd.sides[2])")
    }

    /// The differential judges each kernel's observation: a faithful one passes every row, a
    /// faulty one fails the row of each fault, and the rows that differ are marked.
    @Test func differentialJudgesEachSide() throws {
        let good = try KernelReport.parse(serial: kinitReport(Self.lines()))
        var zp = Self.zeroPage
        zp[0x210] = 0                                                   // type_of_loader 0 (BP-13)
        zp.replaceSubrange(0x218..<0x21C, with: [0x10, 0x40, 0xF5, 0x3F]) // initrd not page-aligned (BP-33)
        zp.replaceSubrange(0x228..<0x22C, with: [0, 0, 0, 0])            // cmd_line_ptr 0 (BP-26)
        zp[0x211] |= 0x04                                               // a loadflags bit no loader sets (BP-14)
        var lines = Self.lines(zeroPage: zp)
        lines = lines.map { $0 == "memmap f0000 fffff Reserved" ? "memmap a0000 fffff System RAM" : $0 }   // RAM in the legacy hole (BP-39)
        let bad = try KernelReport.parse(serial: kinitReport(lines))
        let rows = LoaderDifferential.rows([.init(name: "good", report: good), .init(name: "bad", report: bad)], header: nil)
        for r in rows where r.rule != nil {
            #expect(r.sides[0].outcome != .fail, "\(r.field) on the faithful side: \(r.sides[0].evidence)")
        }
        func side(_ prefix: String) -> DifferentialRow.Side? { rows.first { $0.field.hasPrefix(prefix) }?.sides[1] }
        #expect(side("type_of_loader")?.outcome == .fail)
        #expect(side("initrd")?.outcome == .fail && side("initrd")?.evidence.contains("BP-33") == true)
        #expect(side("command line at")?.outcome == .fail && side("command line at")?.evidence.contains("BP-26") == true)
        #expect(side("loadflags")?.outcome == .fail)
        #expect(side("memory map")?.outcome == .fail && side("memory map")?.evidence.contains("legacy hole") == true)
        #expect(rows.first { $0.field.hasPrefix("command line (") }?.differs == false)
        #expect(rows.first { $0.field.hasPrefix("type_of_loader") }?.differs == true)
    }

    @Test func e820IsNormalisedTheWayTheKernelKeepsIt() {
        let m = KernelObservedChecks.normalized([E820Entry(address: 0x100000, size: 0x100000, type: .ram), E820Entry(address: 0, size: 0x9FC00, type: .ram),
                                                 E820Entry(address: 0x200000, size: 0x100000, type: .ram), E820Entry(address: 0x300000, size: 0, type: .reserved)])
        #expect(m == [KernelReport.MemoryRange(range: AddressRange(constantStart: 0, end: 0x9FC00), type: "System RAM"),
                      KernelReport.MemoryRange(range: AddressRange(constantStart: 0x100000, end: 0x300000), type: "System RAM")])
    }

    @Test func readsNewcArchives() throws {
        // Written field by field (cpioEntry): "." directory, one file, the trailer.
        let data = Array("hello\n".utf8)
        let archive = cpioEntry(".", mode: 0o040755, data: []) + cpioEntry("etc/x", mode: 0o100644, data: data) + cpioEntry("TRAILER!!!", mode: 0, data: []) + [UInt8](repeating: 0, count: 100)
        let e = try Newc.entries(archive + archive)   // concatenated, as the kernel accepts
        #expect(e.map(\.path) == ["/", "/etc/x", "/", "/etc/x"])
        #expect(e[1].hash64 == ProbeHash64.of(data) && e[1].size == 6 && e[1].isRegularFile)
        #expect { try Newc.entries([0x1F, 0x8B] + [UInt8](repeating: 0, count: 200)) } throws: { "\($0)".contains("gzip") }
        var short = archive; short.removeLast(140)
        #expect { try Newc.entries(Array(short.prefix(150))) } throws: { "\($0)".contains("runs past") || "\($0)".contains("truncated") }
    }

    @Test(.enabled(if: RealCorpus.initramfs(directory: Repo.corpus) != nil, "initramfs not built: run tools/build-corpus.sh"))
    func theCorpusInitramfsHoldsTheInit() throws {
        let d = try #require(FileManager.default.contents(atPath: RealCorpus.initramfs(directory: Repo.corpus)!))
        let e = try Newc.entries([UInt8](d))
        #expect(e.contains { $0.path == "/init" && $0.isRegularFile && $0.mode & 0o111 != 0 })
        let known = Array("BootConformance initramfs 1\nThe kernel unpacked this file from the initrd the loader placed.\n".utf8)
        #expect(e.contains { $0.path == "/etc/bootconformance" && $0.hash64 == ProbeHash64.of(known) })
        #expect(e.contains { $0.path == "/dev/console" && $0.mode & 0o170000 == 0o020000 })
    }
}
