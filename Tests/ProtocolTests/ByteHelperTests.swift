import Conformance
import Testing

/// The byte-order and hex-literal helpers every reader and writer shares (Support/Bytes.swift).
/// Expected values are written out here, not computed by the helpers.
@Suite("ByteHelpers")
struct ByteHelperTests {
    @Test func bigAndLittleEndianReadsAndBytes() {
        let b: [UInt8] = [0xD0, 0x0D, 0xFE, 0xED, 0x00, 0x00, 0x01, 0x02]
        #expect(b.be(0, 4) == 0xD00D_FEED && b.be(4, 4) == 0x102 && b.be(0, 8) == 0xD00D_FEED_0000_0102)
        #expect(b.le(0, 4) == 0xEDFE_0DD0 && b.le(6, 2) == 0x0201)
        #expect(b.be(5, 4) == nil && b.be(-1, 1) == nil && b.be(0, 9) == nil && b.be(0, 0) == nil, "out of range or too wide: nil, never a trap")
        #expect([UInt8](littleEndian: UInt32(0x1234_5678), width: 4) == [0x78, 0x56, 0x34, 0x12])
        #expect([UInt8](bigEndian: UInt32(0x1234_5678), width: 4) == [0x12, 0x34, 0x56, 0x78])
        #expect([UInt8](littleEndian: UInt64(0x1_0000_00FF), width: 2) == [0xFF, 0x00], "only the low width bytes")
        #expect([UInt8](bigEndian: UInt64(0xAABB), width: 8) == [0, 0, 0, 0, 0, 0, 0xAA, 0xBB])
        #expect([UInt8](littleEndian: Int16(-2), width: 2) == [0xFE, 0xFF])
        #expect(hash64Text(0x0123_4567_89AB_CDEF) == "0123456789abcdef" && hash64Text(1) == "0000000000000001")
    }

    @Test func hexLiteralsAreZeroXAndOneToSixteenDigits() {
        #expect(parseHexLiteral("0x0") == 0 && parseHexLiteral("0x1f") == 0x1F && parseHexLiteral("0xFF") == 0xFF)
        #expect(parseHexLiteral("0xFFFFFFFFFFFFFFFF") == .max)
        for bad in ["0x", "0x+1", "0x-1", "0X1F", "1F", "0x1G", " 0x1", "0x1 ", "0x10000000000000000", "", "0x_1"] {
            #expect(parseHexLiteral(bad) == nil, "\"\(bad)\"")
        }
    }

    /// The probe's checksum names the file only when both its length and ProbeHash64 agree.
    @Test func probeHashMatchesOnlyTheSameBytes() {
        let file: [UInt8] = Array("an Image".utf8)
        let h = ImageProbeReport.Hash(address: 0x4020_0000, length: UInt64(file.count), hash64: ProbeHash64.of(file))
        #expect(h.matches(file))
        #expect(!h.matches(file + [0]) && !h.matches(Array("an Imagf".utf8)) && !h.matches([]))
        #expect(!ImageProbeReport.Hash(address: 0, length: 0, hash64: ProbeHash64.of(file)).matches(file))
    }

    /// QEMU `virt` as each way of booting it leaves it (hw/arm/virt.c VIRT_MEM, hw/riscv/virt.c
    /// VIRT_DRAM; the OpenSBI 1.1 banner's "Domain0 Region01 : 0x0000000080000000-
    /// 0x000000008007ffff"; `info roms` for QEMU's own DTB and FDT copies).
    @Test func virtPlatformsAsMeasured() {
        typealias R = ImageBootSnapshot.MemoryRange
        let armRef = ImagePlatform.qemuVirt(.arm64, ramSize: 1 << 30)
        #expect(armRef.ram == [R(address: 0x4000_0000, size: 0x4000_0000)] && armRef.firmware == [R(address: 0x4000_0000, size: 0x10_0000)] && armRef.avoid.isEmpty)
        let rvRef = ImagePlatform.qemuVirt(.riscv64, ramSize: 512 << 20)
        #expect(rvRef.firmware == [R(address: 0x8000_0000, size: 0x20_0000)] && rvRef.avoid == [R(address: 0x9FE0_0000, size: 0x20_0000)])
        let armFw = ImagePlatform.qemuVirt(.arm64, ramSize: 1 << 30, boot: .firmwareLoader)
        #expect(armFw.ram == armRef.ram && armFw.firmware.isEmpty && armFw.avoid.isEmpty)
        let rvFw = ImagePlatform.qemuVirt(.riscv64, ramSize: 1 << 30, boot: .firmwareLoader)
        #expect(rvFw.ram == [R(address: 0x8000_0000, size: 0x4000_0000)] && rvFw.firmware == [R(address: 0x8000_0000, size: 0x8_0000)] && rvFw.avoid.isEmpty)
    }
}
