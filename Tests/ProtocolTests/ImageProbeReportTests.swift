import Conformance
import Foundation
import TestSupport
import Testing

@Suite("ImageProbeReport") struct ImageProbeReportTests {
    @Test func arm64ReportParses() throws {
        let r = try ImageProbeReport.parse(serial: ImageReportText.report(ImageReportText.arm64))
        #expect(r.architecture == .arm64 && r.variant == "arm64-t0-anywhere")
        #expect(r.loadAddress == 0x4020_0000 && r.imageLength == 0x4740)
        #expect(r.entryRegisters == [0x4820_0000, 0, 0, 0])
        let s = ImageProbeReport.ARM64State(exceptionLevel: 2, daif: 0x3C0, sctlr: 0, cntfrq: 62_500_000, idAA64PFR0: 0x100_0222, hcrEL2: 0x8000_0000, iccSreEL2: .value(0xF))
        #expect(r.cpu == .arm64(s))
        #expect(r.uart == .init(kind: .pl011, address: 0x900_0000, regShift: 0, source: "stdout-path"))
        #expect(r.image == .init(address: 0x4020_0000, length: 0x4740, hash64: 0x1cce14d990c43cdd))
        #expect(r.fdt?.valid == true && r.fdt?.totalSize == 0x10 && r.fdt?.version == 0x11)
        #expect(r.reservationMap == [.init(node: "/memreserve/", address: 0x4830_0000, size: 0x1000)])
        #expect(r.memory == [.init(node: "/memory@40000000", address: 0x4000_0000, size: 0x4000_0000)])
        #expect(r.cpuNodes.map(\.address) == [0])
        #expect(r.commandLine == "x y" && r.bootargs?.bytes == [0x78, 0x20, 0x79, 0])
        #expect(r.initrdStart == 0x4800_0000 && r.initrdEnd == 0x4800_3005 && r.initrd?.length == 0x3005)
        #expect(r.dtb?.bytes == [0xD0, 0x0D, 0xFE, 0xED, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF])
        #expect(r.exceptions == [.init(cause: 0x200_0000, pc: 0x4020_1234, address: 0)] && r.exceptionCount == 1)
        #expect(r.lineCount == 19)
    }

    @Test func riscv64ReportParses() throws {
        let r = try ImageProbeReport.parse(serial: ImageReportText.report(ImageReportText.riscv64))
        #expect(r.architecture == .riscv64 && r.entryRegisters == [0, 0x8220_0000, 7, 0x19])
        let s = ImageProbeReport.RISCV64State(sstatus: 0x8000_0002_0000_6000, satp: 0, sbiSpecVersion: 0x100_0000, sbiSpecError: 0,
                                               sbiImplementationID: 1, sbiImplementationVersion: 0x10001, sbiSystemReset: 1)
        #expect(r.cpu == .riscv64(s))
        #expect(r.uart?.kind == .ns16550a && r.uart?.source == "first-okay")
        #expect(r.reservedMemory == [.init(node: "/reserved-memory/mmode_resv0@80000000", address: 0x8000_0000, size: 0x80000)])
        #expect(r.initrdUnreadable && r.initrd == nil && r.bootargs == nil)
    }

    /// Every cut of a report short of its end line's newline is a framing error, never a
    /// shorter report, and never a trap.
    @Test func everyTruncationIsRefused() {
        let full = ImageReportText.report(ImageReportText.arm64)
        for n in 0..<full.count {
            #expect(throws: ImageProbeReportError.self, "cut at \(n)") { try ImageProbeReport.parse(serial: Array(full.prefix(n))) }
        }
    }

    /// Flipping any one bit of what the checksum covers (the header up to the end line) is
    /// caught: by the checksum, the line count, or the framing.
    @Test func everyBitFlipIsRefused() throws {
        let full = ImageReportText.report(ImageReportText.riscv64)
        let start = ImageReportText.noise.utf8.count
        let end = try #require(full.indices.last { full[$0...].starts(with: Array("end ".utf8)) })
        var caught = 0
        for i in start..<end {
            for bit in [0, 5] {
                var b = full; b[i] ^= UInt8(1 << bit)
                do { _ = try ImageProbeReport.parse(serial: b); Issue.record("byte \(i) bit \(bit) flipped: parsed") } catch { caught += 1 }
            }
        }
        #expect(caught == 2 * (end - start))
    }

    @Test func checksumMismatchNamesTheEndLine() throws {
        var b = ImageReportText.report(ImageReportText.arm64)
        let at = try #require(b.indices.first { b[$0...].starts(with: Array("variant arm64".utf8)) })
        b[at + 8] = UInt8(ascii: "A")   // "Arm64": same length, same line count
        let endAt = try #require(b.indices.last { b[$0...].starts(with: Array("end ".utf8)) })
        let e = try #require(throws: ImageProbeReportError.self) { try ImageProbeReport.parse(serial: b) }
        #expect(e.field == "framing" && e.line == 19 && e.offset == endAt)
        #expect(e.found.contains("corrupted in transit"))
    }

    @Test(arguments: ImageProbeReport.requiredLines)
    func missingRequiredLine(_ kind: String) throws {
        let b = ImageReportText.arm64(replacing: kind + " ", with: "")
        let e = try #require(throws: ImageProbeReportError.self) { try ImageProbeReport.parse(serial: b) }
        // Without `arch`, the `reg` line cannot be read; every other kind is missed at the end.
        if kind == "arch" { #expect(e.field == "reg" && e.expected == "the 'arch' line before it") } else { #expect(e.field == kind && e.found.contains("none")) }
    }

    @Test func riscvWithoutSBILineIsRefused() throws {
        let body = ImageReportText.riscv64.split(separator: "\n").filter { !$0.hasPrefix("sbi ") }.joined(separator: "\n") + "\n"
        let e = try #require(throws: ImageProbeReportError.self) { try ImageProbeReport.parse(serial: ImageReportText.report(body)) }
        #expect(e.field == "sbi")
    }

    struct FieldCase: Sendable, CustomTestStringConvertible {
        let replace: String, with: String, field: String, line: Int
        var testDescription: String { field }
    }
    static let fieldCases: [FieldCase] = [
        .init(replace: "arch ", with: "arch sparc64", field: "arch", line: 2),
        .init(replace: "reg ", with: "reg x0=0x48200000 x1=0x0 x2=0x0", field: "reg x3", line: 5),
        .init(replace: "reg ", with: "reg x0=0x48200000 x1=zero x2=0x0 x3=0x0", field: "reg x1", line: 5),
        .init(replace: "cpu ", with: "cpu el=0x7 daif=0x3c0 sctlr=0x0 cntfrq=0x0 id_aa64pfr0=0x0", field: "cpu el", line: 6),
        .init(replace: "uart ", with: "uart 8250 addr=0x9000000 reg_shift=0x0 from=stdout-path", field: "uart", line: 7),
        .init(replace: "uart ", with: "uart pl011 addr=0x9000000 reg_shift=0x0 from=guess", field: "uart from", line: 7),
        .init(replace: "hash64 image", with: "hash64 image 0x40200000 0x4740", field: "hash64 image", line: 8),
        .init(replace: "base ", with: "base addr=0x40200000 len=0x4740 addr=0x1", field: "base", line: 2),
        .init(replace: "mem bootargs", with: "mem bootargs 0x48201fa0 0x5 782079.1.", field: "mem bootargs data", line: 13),
        .init(replace: "mem bootargs", with: "mem bootargs 0x48201fa0 0x300000 .300000.", field: "mem bootargs length", line: 13),
        .init(replace: "mem dtb", with: "mem dtb 0x48200000 0x8 d00dfeed00000010", field: "mem dtb", line: 16),
        .init(replace: "dt-memory", with: "dt-memory memory addr=0x0 size=0x0", field: "dt-memory", line: 11),
        .init(replace: "exception ", with: "exception esr=0x1 elr=0x2", field: "exception far", line: 17),
    ]

    /// Each malformed line names its line, the byte where it starts, the field, and what was
    /// expected there.
    @Test(arguments: fieldCases)
    func malformedLine(_ c: FieldCase) throws {
        var b = ImageReportText.arm64(replacing: c.replace, with: c.with)
        if c.replace == "base " {   // a second base line rather than a malformed one
            b = ImageReportText.report(ImageReportText.arm64.replacingOccurrences(of: "reg x0", with: "base addr=0x1 len=0x1\nreg x0"))
        }
        let e = try #require(throws: ImageProbeReportError.self) { try ImageProbeReport.parse(serial: b) }
        #expect(e.field == c.field, "\(e)")
        if c.replace != "base " {
            #expect(e.line == c.line, "\(e)")
            #expect(b[e.offset...].starts(with: Array(c.with.prefix(10).utf8)), "offset \(e.offset) is not where the line starts: \(e)")
        }
        #expect(!e.expected.isEmpty && !e.found.isEmpty)
    }

    /// Unknown line kinds from a newer probe are skipped, as the x86 report's are.
    @Test func newerLinesAreSkipped() throws {
        let r = try ImageProbeReport.parse(serial: ImageReportText.report(ImageReportText.arm64 + "pmu counters=0x6\n"))
        #expect(r.lineCount == 20)
    }

    /// The x86 parser and the Image parser each refuse the other's report by its header.
    @Test func headersDoNotMix() {
        let image = ImageReportText.report(ImageReportText.arm64)
        #expect(throws: ProbeReportError.self) { try ProbeReport.parse(serial: image) }
        let x86 = Array("BOOTPROBE 1\nentry 64\nend lines=0x2 hash64=0x0\n".utf8)
        #expect(throws: ImageProbeReportError.self) { try ImageProbeReport.parse(serial: x86) }
    }
}

/// `ImageProbeReport.snapshot`: the report with the files, the inputs and the platform, as the
/// ImageBootSnapshot the A64/RV rules judge.
@Suite("ImageProbeSnapshot") struct ImageProbeSnapshotTests {
    /// A 0x4740-byte stand-in for the Image file and the 0x3005-byte initrd.
    static let image: [UInt8] = (0..<0x4740).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    static let initrd: [UInt8] = (0..<0x3005).map { UInt8(truncatingIfNeeded: $0 &* 13) }
    static let platform = ImagePlatform(architecture: .arm64, ram: [.init(address: 0x4000_0000, size: 1 << 30)])

    /// The arm64 report with its image and initrd checksums those of the files above (or not).
    static func report(imageMatches: Bool, initrdMatches: Bool) throws -> ImageProbeReport {
        let imageHash = imageMatches ? ProbeHash64.of(image) : 0x1234
        let rdHash = initrdMatches ? ProbeHash64.of(initrd) : 0x5678
        let body = ImageReportText.arm64
            .replacingOccurrences(of: "hash64 image 0x40200000 0x4740 0x1cce14d990c43cdd", with: "hash64 image 0x40200000 0x4740 \(hex(imageHash))")
            .replacingOccurrences(of: "hash64 initrd 0x48000000 0x3005 0xc255139592be7fbd", with: "hash64 initrd 0x48000000 0x3005 \(hex(rdHash))")
        return try ImageProbeReport.parse(serial: ImageReportText.report(body))
    }

    @Test func intactBytesGetTheFilesDigests() throws {
        let s = try Self.report(imageMatches: true, initrdMatches: true).snapshot(image: Self.image, initrd: Self.initrd, commandLine: "x y", platform: Self.platform, producer: "test")
        #expect(s.architecture == .arm64 && s.producer == "test" && s.loadAddress == 0x4020_0000)
        #expect(s.image.header == Array(Self.image.prefix(64)) && s.image.fileSize == 0x4740 && s.image.sha256 == sha256Hex(Self.image))
        #expect(s.loadedSHA256 == sha256Hex(Self.image))
        #expect(s.initrd == .init(start: 0x4800_0000, end: 0x4800_3005, sha256: sha256Hex(Self.initrd)))
        #expect(s.inputs == .init(commandLine: "x y", initrdSize: 0x3005, initrdSHA256: sha256Hex(Self.initrd)))
        #expect(s.registers == [0x4820_0000, 0, 0, 0] && s.dtbAddress == 0x4820_0000)
        #expect(s.arm64 == .init(exceptionLevel: 2, daif: 0x3C0, sctlr: 0, cntfrq: 62_500_000, iccSreEL2: 0xF, hcrEL2: 0x8000_0000, gicV3: nil))
        #expect(s.riscv64 == nil && s.ram == Self.platform.ram && s.firmware.isEmpty && s.regions == nil)
        // The 16-byte stand-in is no FDT the reader accepts, so gicV3 is unknown; the blob is kept.
        #expect(s.dtb?.count == 16)
    }

    /// Bytes whose checksum is not the file's get a digest no SHA-256 equals, naming both
    /// checksums, so a rule comparing digests fails with them as evidence.
    @Test func changedBytesNameTheirChecksum() throws {
        let s = try Self.report(imageMatches: false, initrdMatches: false).snapshot(image: Self.image, initrd: Self.initrd, commandLine: "x y", platform: Self.platform, producer: "test")
        let loaded = try #require(s.loadedSHA256)
        #expect(loaded.hasPrefix("not the file: hash64 0000000000001234 over 0x4740 bytes at 0x40200000") && loaded != s.image.sha256)
        #expect(s.initrd?.sha256?.hasPrefix("not the file: hash64 0000000000005678") == true)
    }

    @Test func riscvStateAndHart() throws {
        let p = try ImageProbeReport.parse(serial: ImageReportText.report(ImageReportText.riscv64))
        let platform = ImagePlatform(architecture: .riscv64, ram: [.init(address: 0x8000_0000, size: 1 << 30)], firmware: [.init(address: 0x8000_0000, size: 0x8_0000)])
        let s = p.snapshot(image: Self.image, initrd: nil, commandLine: "c", platform: platform, producer: "test")
        #expect(s.riscv64 == .init(satp: 0, sstatus: 0x8000_0002_0000_6000, sbiImplementation: 1, sbiSpecVersion: 0x100_0000, hartIDFromDeviceTree: 0))
        #expect(s.firmware == platform.firmware && s.registers == [0, 0x8220_0000, 7, 0x19])
        // The initrd lay outside /memory: its range is known, its digest is not.
        #expect(s.initrd == .init(start: 0x1_0000_0000, end: 0x1_0000_3005, sha256: nil) && s.inputs.initrdSize == nil)
    }

    /// A snapshot from a report survives its JSON form (image-boot-snapshot/1).
    @Test func jsonRoundTrip() throws {
        let s = try Self.report(imageMatches: false, initrdMatches: true).snapshot(image: Self.image, initrd: Self.initrd, commandLine: "x y", platform: Self.platform, producer: "test")
        #expect(try ImageSnapshotJSON.decode(Data(ImageSnapshotJSON.string(s).utf8)) == s)
    }
}
