import Conformance
import Reports
import Testing

/// `conform inspect` and `conform rules` as Reports writes them.
@Suite("InspectReport")
struct InspectReportTests {
    /// A 64-byte header written here from booting.rst §4's layout (not by the parser's code).
    static func arm64Header(textOffset: UInt64, imageSize: UInt64, flags: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 64)
        b[0] = 0x4D; b[1] = 0x5A                        // "MZ": code0 begins with it under EFI
        b.put64(textOffset, at: 8); b.put64(imageSize, at: 16); b.put64(flags, at: 24)
        b.put32(0x644D_5241, at: 0x38); b.put32(0x40, at: 0x3C)
        return b
    }

    @Test func arm64HeaderFieldsAndMeanings() throws {
        let h = try ImageHeader(Self.arm64Header(textOffset: 0, imageSize: 0x224_0000, flags: 0xA), architecture: .arm64, fileSize: 0x100_0000)
        let f = InspectReport.imageFields(h)
        #expect(f.map(\.offset) == [0x00, 0x04, 0x08, 0x10, 0x18, 0x38, 0x3C])
        #expect(f.first { $0.name == "flags" }?.note == "little-endian, 4K pages, bit 3: place anywhere in RAM")
        #expect(f.first { $0.name == "image_size" }?.value == 0x224_0000)
        #expect(f.first { $0.name == "code0" }?.note.contains("MZ") == true)
        let lines = InspectReport.imageLines(path: "k", h)
        #expect(lines[0] == "k: arm64 Image, 16777216 bytes; loads at a 2 MiB-aligned base + 0x0, keeps 0x2240000 bytes from there")
        let bit3Clear = try ImageHeader(Self.arm64Header(textOffset: 0x8_0000, imageSize: 0x20_0000, flags: 0x2), architecture: .arm64)
        #expect(InspectReport.imageFields(bit3Clear).first { $0.name == "flags" }?.note == "little-endian, 4K pages, bit 3 clear: 2 MiB-aligned base near the start of DRAM")
        // Pre-3.17: image_size 0, text_offset taken as 0x80000 whatever the field says.
        let old = try ImageHeader(Self.arm64Header(textOffset: 0, imageSize: 0, flags: 0), architecture: .arm64)
        #expect(InspectReport.imageFields(old).first { $0.name == "text_offset" }?.note == "image_size 0: taken as 0x80000 (pre-3.17)")
        #expect((InspectReport.imageJSON(old)["textOffset"] as? String) == "0x80000")
    }

    @Test func riscv64HeaderShowsVersionAndMagic2() throws {
        var b = [UInt8](repeating: 0, count: 64)
        b.put64(0x20_0000, at: 8); b.put64(0x23A_0000, at: 16); b.put32(2, at: 0x20)
        b.put64(0x56_4353_4952, at: 0x30); b.put32(0x0543_5352, at: 0x38)
        let f = InspectReport.imageFields(try ImageHeader(b, architecture: .riscv64))
        #expect(f.first { $0.name == "version" }?.note == "0.2")
        #expect(f.first { $0.name == "magic2" }?.offset == 0x38 && f.first { $0.name == "flags" }?.note == "little-endian")
        #expect(f.first { $0.name.hasPrefix("res3") }?.note == "no PE header")
    }

    @Test func ruleListingHoldsEveryCatalogue() {
        let ids = RuleListing.json().compactMap { $0["id"] as? String }
        #expect(ids.count == RuleCatalogue.all.count + ImageRuleCatalogue.all.count)
        #expect(Set(ids) == Set(RuleCatalogue.all.map(\.id.rawValue) + ImageRuleCatalogue.all.map(\.id.rawValue)))
        #expect(ids.contains("A64-01") && ids.contains("RV-01") && ids.contains("BP-27"))
        let text = RuleListing.lines()
        for r in ImageRuleCatalogue.all { #expect(text.contains { $0.hasPrefix("\(r.id)  \(r.title)") }, "\(r.id)") }
        #expect(RuleListing.json().first { $0["id"] as? String == "RV-01" }?["architecture"] as? String == "riscv64")
    }
}
