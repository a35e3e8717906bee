import Conformance
import ConformanceFixtures
import Foundation
import Testing

/// The flattened device tree reader and writer (Devicetree Specification v0.4, §5).
@Suite("DeviceTree")
struct DeviceTreeTests {
    static let sample = DeviceTree(root: .init("", [.init("#address-cells", cells: [2]), .init("#size-cells", cells: [2]), .init("compatible", strings: ["linux,dummy-virt"])], children: [
        .init("chosen", [.init("bootargs", string: "console=ttyAMA0 quiet"), .init("linux,initrd-start", u64: 0x4800_0000), .init("linux,initrd-end", u64: 0x4810_0000)]),
        .init("memory@40000000", [.init("device_type", string: "memory"), .init("reg", cells: [0, 0x4000_0000, 0, 0x4000_0000])]),
        .init("reserved-memory", [.init("#address-cells", cells: [2]), .init("#size-cells", cells: [2]), .init(flag: "ranges")], children: [
            .init("mmode_resv0@80000000", [.init("reg", cells: [0, 0x8000_0000, 0, 0x4_0000]), .init(flag: "no-map")]),
        ]),
    ]), reservations: [.init(address: 0x4400_0000, size: 0x1000)], bootCPU: 0)

    @Test("a written blob reads back as the same tree, header fields as §5.2 lays them out")
    func roundTrip() throws {
        let blob = Self.sample.blob()
        let h = try DeviceTree.header(blob)
        #expect(h.totalSize == UInt32(blob.count) && h.version == 17 && h.lastCompatibleVersion == 16 && h.reservationOffset == 40)
        #expect(h.structOffset == 40 + 32 && h.stringsOffset == h.structOffset + h.structSize && h.stringsOffset + h.stringsSize == h.totalSize)
        let back = try DeviceTree(blob: blob)
        #expect(back == Self.sample)
        #expect(back.node("/chosen")?.property("bootargs")?.string == "console=ttyAMA0 quiet")
        #expect(back.node("/chosen")?.property("linux,initrd-start")?.u64 == 0x4800_0000)
        #expect(back.memory.map { [$0.address, $0.size] } == [[0x4000_0000, 0x4000_0000]])
        #expect(back.reservedMemory.map { [$0.address, $0.size] } == [[0x8000_0000, 0x4_0000]] && back.reservedMemory.first?.noMap == true)
        #expect(back.node("/memory")?.name == "memory@40000000" && back.node("/nothing") == nil)
    }

    /// Each malformed blob is refused with the offset and field that break §5.
    @Test("malformed blobs are refused with offset and field", arguments: Self.malformed)
    func malformedBlob(_ c: Malformed) {
        do {
            _ = try DeviceTree(blob: c.bytes)
            Issue.record("\(c.name): read")
        } catch {
            #expect(error.offset == c.offset && error.field == c.field, "\(c.name): \(error)")
            #expect(!error.expected.isEmpty && !error.found.isEmpty)
        }
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        let name: String, bytes: [UInt8], offset: Int, field: String
        var testDescription: String { name }
    }
    static var malformed: [Malformed] {
        let good = sample.blob()
        func patched(_ o: Int, _ v: UInt32) -> [UInt8] { var b = good; b.replaceSubrange(o..<(o + 4), with: [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]); return b }
        let h = try! DeviceTree.header(good)
        let s = Int(h.structOffset)
        return [
            Malformed(name: "empty", bytes: [], offset: 0, field: "magic"),
            Malformed(name: "bad magic", bytes: patched(0, 0xD00D_FEEE), offset: 0, field: "magic"),
            Malformed(name: "totalsize past the blob", bytes: Array(good.prefix(good.count - 1)), offset: 4, field: "totalsize"),
            Malformed(name: "version 15", bytes: patched(0x14, 15), offset: 0x14, field: "version"),
            Malformed(name: "last_comp_version 18", bytes: patched(0x18, 18), offset: 0x18, field: "last_comp_version"),
            Malformed(name: "struct block past totalsize", bytes: patched(0x24, h.totalSize), offset: 8, field: "off_dt_struct"),
            Malformed(name: "rsvmap misaligned", bytes: patched(0x10, 44), offset: 0x10, field: "off_mem_rsvmap"),
            Malformed(name: "unknown token", bytes: patched(s, 7), offset: s, field: "structure block token"),
            Malformed(name: "root not first", bytes: patched(s, 2), offset: s, field: "FDT_END_NODE"),
            Malformed(name: "property name outside strings", bytes: patched(s + 16, 0x7FFF_0000), offset: s + 16, field: "FDT_PROP nameoff"),
            Malformed(name: "property longer than the block", bytes: patched(s + 12, 0x10_0000), offset: s + 12, field: "FDT_PROP len"),
            Malformed(name: "no FDT_END", bytes: patched(s + Int(h.structSize) - 4, 4), offset: s + Int(h.structSize), field: "structure block token"),
        ]
    }

    @Test("nesting deeper than the bound is refused, not recursed into")
    func depthBound() throws {
        var n = DeviceTree.Node("leaf")
        for i in 0..<(DeviceTree.maxDepth + 2) { n = .init("n\(i)", children: [n]) }
        let blob = DeviceTree(root: .init("", children: [n])).blob()
        #expect(throws: FDTError.self) { try DeviceTree(blob: blob) }
        #expect((try? DeviceTree(blob: DeviceTree(root: .init("", children: [.init("a", children: [.init("b")])])).blob())) != nil)
    }

    /// A64-18 / RV-13 count only enabled /memory nodes (Devicetree Specification v0.4 §2.3.4;
    /// Linux early_init_dt_scan_memory skips the others): QEMU virt with secure=on lists its
    /// secure RAM as a memory node with status "disabled", which describes no RAM for the OS.
    @Test(arguments: ImageBootSnapshot.Architecture.allCases)
    func disabledMemoryNodeDescribesNoRAM(_ arch: ImageBootSnapshot.Architecture) throws {
        let image = ImageCorpus.synthesize(id: "secram", arch, fields: [:], fileSize: 0x1_0000)
        let base = try ReferenceImageLoader.load(image, ImageLoadOptions(platform: .qemuVirt(arch), commandLine: "console=ttyS0")).snapshot
        let rule: RuleID = arch == .arm64 ? "A64-18" : "RV-13"
        func verdict(status: String) throws -> Verdict {
            var tree = try DeviceTree(blob: try #require(base.dtb))
            tree.root.children.append(.init("secram@e000000", [.init("device_type", string: "memory"), .init("status", string: status), .init("secure-status", string: "okay"),
                                                                .init("reg", cells: [0, 0x0E00_0000, 0, 0x0100_0000])]))
            var s = base
            s.dtb = tree.blob()
            return try #require(judge(s).first { $0.rule == rule })
        }
        #expect(try verdict(status: "disabled").outcome == .pass)
        let enabled = try verdict(status: "okay")
        #expect(enabled.outcome == .fail && enabled.evidence.contains("0xE000000"), "\(enabled.evidence)")
    }
}
