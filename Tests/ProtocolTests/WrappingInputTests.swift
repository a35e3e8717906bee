import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// Rules that add an address to a size never pass on a sum that wraps past 2^64 (issue 14: BP-23
/// passed when the pref_address window wrapped; BP-65 compared a wrapping sum). Each case loads
/// a corpus image that passes the rule, changes one value so that a sum the rule compares wraps,
/// and asserts the outcome and that the evidence names the values that wrap.
@Suite("WrappingInputs")
struct WrappingInputTests {
    /// 2^64 − 4 KiB, 2^64 − 256 and 2^64 − 1: starts whose sums with any size here wrap.
    static let top4K: UInt64 = 0xFFFF_FFFF_FFFF_F000, top256: UInt64 = 0xFFFF_FFFF_FFFF_FF00, last: UInt64 = .max

    /// One rule on wrapping input: the corpus case it starts from, the change, and what the
    /// rule must say.
    struct Case: Sendable, CustomTestStringConvertible {
        let rule: RuleID, base: String, about: String
        let outcome: Outcome
        /// Text the evidence must hold: the values compared.
        let evidence: [String]
        let edit: @Sendable (inout BootSnapshot, LoadResult) throws -> Void
        var testDescription: String { "\(rule): \(about)" }
    }

    /// Writes `value` little-endian at the zero page + `offset` (or start_info + `offset` for PVH).
    static func put(_ r: LoadResult, _ offset: UInt64, _ value: UInt64, width: Int, startInfo: Bool = false) throws {
        var b = [UInt8](repeating: 0, count: width)
        b.put(value, at: 0, width: width)
        let base = try #require(startInfo ? r.startInfo : r.bootParams)
        try r.memory.write(b, at: base + offset)
    }
    /// Sets a 64-bit value split into a low half at `low` and an ext_* high half at `high`.
    static func split(_ r: LoadResult, low: UInt64, high: UInt64, _ value: UInt64) throws {
        try put(r, low, value & 0xFFFF_FFFF, width: 4); try put(r, high, value >> 32, width: 4)
    }
    /// The image record's header field, as a loader that accepted such an image would record it.
    static func header(_ s: inout BootSnapshot, _ offset: Int, _ value: UInt64, width: Int) { s.image.headerBytes.put(value, at: offset, width: width) }
    static let wrappingInitrd: @Sendable (inout BootSnapshot, LoadResult) throws -> Void = { _, r in try split(r, low: 0x218, high: 0x0C0, top4K) }

    static let cases: [Case] = [
        Case(rule: "BP-07", base: "bz-2.06", about: "no W (2.06): the kernel's L + length wraps", outcome: .fail, evidence: ["kernel L 0xFFFFFFFFFFFFFF00 +", "wraps past 2^64"]) { s, _ in s.kernelAddress = top256 },
        Case(rule: "BP-09", base: "bz-2.15", about: "L + kernel_info_offset wraps", outcome: .fail, evidence: ["L 0xFFFFFFFFFFFFFF00 + kernel_info_offset", "wraps past 2^64"]) { s, _ in s.kernelAddress = top256 },
        Case(rule: "BP-17", base: "bz-2.15", about: "W wraps: the zero page cannot be compared with it", outcome: .fail, evidence: ["cannot be compared with W", "pref_address 0xFFFFFFFFFFFFF000", "wraps past 2^64"]) { s, _ in header(&s, 0x258, top4K, width: 8) },
        Case(rule: "BP-19", base: "bz-2.15", about: "L + the protected-mode length wraps", outcome: .fail, evidence: ["L 0xFFFFFFFFFFFFFF00 + the protected-mode image's", "wraps past 2^64"]) { s, _ in s.kernelAddress = top256 },
        Case(rule: "BP-22", base: "bz-2.15", about: "RT = align_up(max(L, pref_address)) wraps", outcome: .fail, evidence: ["pref_address 0xFFFFFFFFFFFFF000", "kernel_alignment", "wraps past 2^64"]) { s, _ in header(&s, 0x258, top4K, width: 8) },
        Case(rule: "BP-23", base: "bz-2.15", about: "pref_address + init_size wraps: no window to prefer", outcome: .notApplicable, evidence: ["pref_address 0xFFFFFFFFFFFFF000 + init_size", "wraps past 2^64"]) { s, _ in header(&s, 0x258, top4K, width: 8) },
        Case(rule: "BP-24", base: "bz-rsdp", about: "acpi_rsdp_addr + 20 wraps", outcome: .fail, evidence: ["RSDP address 0xFFFFFFFFFFFFFFF8 + 20", "wraps past 2^64"]) { _, r in try put(r, 0x070, 0xFFFF_FFFF_FFFF_FFF8, width: 8) },
        Case(rule: "BP-28", base: "bz-2.15", about: "C + strlen + 1 wraps", outcome: .fail, evidence: ["command line 0xFFFFFFFFFFFFFFFF + 1", "wraps past 2^64"]) { _, r in try split(r, low: 0x228, high: 0x0C8, last) },
        Case(rule: "BP-29", base: "bz-2.15", about: "C + the 2048-byte buffer wraps", outcome: .fail, evidence: ["buffer C 0xFFFFFFFFFFFFFF00 + 0x800", "wraps past 2^64"]) { _, r in try split(r, low: 0x228, high: 0x0C8, top256) },
        Case(rule: "BP-31", base: "bz-2.15", about: "ramdisk_image + ramdisk_size wraps", outcome: .fail, evidence: ["ramdisk_image 0xFFFFFFFFFFFFF000 + ramdisk_size 0x5000", "wraps past 2^64"], edit: wrappingInitrd),
        Case(rule: "BP-32", base: "bz-2.15", about: "the initrd's last byte wraps, even with the limit lifted", outcome: .fail, evidence: ["ramdisk_image 0xFFFFFFFFFFFFF000 + ramdisk_size 0x5000", "wraps past 2^64"], edit: wrappingInitrd),
        Case(rule: "BP-33", base: "bz-2.15", about: "a wrapping initrd is still judged by R", outcome: .pass, evidence: ["R = 0xFFFFFFFFFFFFF000"], edit: wrappingInitrd),
        Case(rule: "BP-34", base: "bz-2.15", about: "a wrapping initrd lies in no RAM", outcome: .fail, evidence: ["ramdisk_image 0xFFFFFFFFFFFFF000 + ramdisk_size 0x5000", "wraps past 2^64"], edit: wrappingInitrd),
        Case(rule: "BP-35", base: "bz-2.15", about: "an e820 entry whose end wraps runs over the entries above it", outcome: .fail, evidence: ["[0x80000, +0xFFFFFFFFFFFF0000 wraps]", "whose end wraps past 2^64"]) { _, r in try appendE820(r) },
        Case(rule: "BP-39", base: "bz-2.15", about: "a RAM entry from 0x80000 that wraps covers the legacy hole", outcome: .fail, evidence: ["[0x80000, +0xFFFFFFFFFFFF0000 wraps]", "whose end wraps past 2^64"]) { _, r in try appendE820(r) },
        Case(rule: "BP-40", base: "bz-2.15", about: "a wrapping initrd is in no RAM", outcome: .fail, evidence: ["initrd: ramdisk_image 0xFFFFFFFFFFFFF000 + ramdisk_size 0x5000", "wraps past 2^64"], edit: wrappingInitrd),
        Case(rule: "BP-42", base: "bz-indirect", about: "the indirect payload's addr + len wraps", outcome: .fail, evidence: ["indirect payload addr 0xFFFFFFFFFFFFF000 + len 0x2000", "wraps past 2^64"]) { _, r in
            let b = try #require(r.bootParams)
            let node = try #require(r.memory.bytes(at: b + 0x250, count: 8)).u64(0)!
            var d = [UInt8](repeating: 0, count: 16); d.put64(0x2000, at: 0); d.put64(top4K, at: 8)
            try r.memory.write(d, at: node + 16 + 8)
        },
        Case(rule: "BP-44", base: "bz-2.15", about: "the seed cannot be shown apart from an initrd that wraps", outcome: .fail, evidence: ["initrd: ramdisk_image 0xFFFFFFFFFFFFF000", "wraps past 2^64"], edit: wrappingInitrd),
        Case(rule: "BP-52", base: "bz-2.10", about: "at the 32-bit entry, W wraps", outcome: .fail, evidence: ["kernel window:", "0xFFFFFFFFFFFFF000", "wraps past 2^64"]) { s, _ in header(&s, 0x258, top4K, width: 8) },
        Case(rule: "BP-53", base: "bz-2.15", about: "L + 0x200 wraps", outcome: .fail, evidence: ["L 0xFFFFFFFFFFFFFF00 + 0x200 wraps past 2^64"]) { s, _ in s.kernelAddress = top256 },
        Case(rule: "BP-55", base: "bz-2.15", about: "GDTR base + selector wraps (once a trap)", outcome: .fail, evidence: ["GDTR (base 0xFFFFFFFFFFFFFFF8"]) { s, _ in s.entry.gdtr = TableRegister(base: 0xFFFF_FFFF_FFFF_FFF8, limit: 0x27) },
        Case(rule: "BP-58", base: "bz-2.15", about: "L + init_size wraps", outcome: .fail, evidence: ["L 0xFFFFFFFFFFFFFF00 + init_size", "wraps past 2^64"]) { s, _ in s.kernelAddress = top256 },
        Case(rule: "BP-59", base: "bz-handover", about: "the handover entry L + handover_offset + 0x200 wraps: nothing to avoid", outcome: .notApplicable, evidence: ["L 0xFFFFFFFFFFFFFF00 + handover_offset 0x4000 + 0x200 wraps past 2^64"]) { s, _ in s.kernelAddress = top256 },
        Case(rule: "BP-65", base: "pvh-desc8", about: "module 0 paddr + size wraps", outcome: .fail, evidence: ["module 0 paddr 0xFFFFFFFFFFFFF000 + size 0x2000 wraps past 2^64"]) { _, r in
            let si = try #require(r.startInfo)
            let list = try #require(r.memory.bytes(at: si + 16, count: 8)).u64(0)!
            var m = [UInt8](repeating: 0, count: 16); m.put64(top4K, at: 0); m.put64(0x2000, at: 8)
            try r.memory.write(m, at: list)
        },
        Case(rule: "BP-66", base: "pvh-desc8", about: "memmap_paddr + entries × 24 wraps", outcome: .fail, evidence: ["memory map 0xFFFFFFFFFFFFFFF0 +", "wraps past 2^64"]) { _, r in try put(r, 40, 0xFFFF_FFFF_FFFF_FFF0, width: 8, startInfo: true) },
        Case(rule: "BP-68", base: "pvh-relocated-with-note", about: "a segment's p_paddr + p_memsz wraps: no window to check against the note", outcome: .fail, evidence: ["p_paddr 0xFFFFFFFFFFFFF000 + p_memsz", "wraps past 2^64"]) { s, _ in wrapLastSegment(&s) },
        Case(rule: "BP-69", base: "pvh-desc8", about: "a segment's p_paddr + p_memsz wraps: the kernel is in no RAM", outcome: .fail, evidence: ["p_paddr 0xFFFFFFFFFFFFF000 + p_memsz", "wraps past 2^64"]) { s, _ in wrapLastSegment(&s) },
        Case(rule: "BP-70", base: "elf-direct-64", about: "a segment's p_paddr + p_memsz wraps: the kernel cannot be shown mapped", outcome: .fail, evidence: ["p_paddr 0xFFFFFFFFFFFFF000 + p_memsz", "wraps past 2^64"]) { s, _ in wrapLastSegment(&s) },
    ]

    /// Appends a RAM entry [0x80000, +2^64 − 0x10000), whose end wraps, to the zero page's e820.
    static func appendE820(_ r: LoadResult) throws {
        let b = try #require(r.bootParams)
        let n = UInt64(try #require(r.memory.bytes(at: b + 0x1E8, count: 1)?.first))
        try r.memory.write(E820Entry(address: 0x8_0000, size: 0xFFFF_FFFF_FFFF_0000, type: .ram).bytes, at: b + 0x2D0 + 20 * n)
        try r.memory.write([UInt8(n + 1)], at: b + 0x1E8)
    }
    /// The image record's last PT_LOAD moved to 2^64 − 4 KiB, as a loader that accepted such an
    /// image would record it.
    static func wrapLastSegment(_ s: inout BootSnapshot) {
        let g = s.image.segments.removeLast()
        s.image.segments.append(ImageRecord.Segment(paddr: top4K, fileSize: g.fileSize, memorySize: max(g.memorySize, 0x2000), align: g.align, sha256: g.sha256))
    }

    @Test("a rule on a sum that wraps fails, or is n/a, naming the values", arguments: cases)
    func wrapping(_ w: Case) throws {
        let c = try syntheticImage(w.base)
        let kernel = MemorySource(name: c.id, bytes: c.image), initrd = c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) }
        let r = try ReferenceLoader.load(kernel: kernel, initrd: initrd, options: c.options)
        var s = try BootSnapshot.of(r, kernel: kernel, initrd: initrd, commandLine: c.options.commandLine)
        let rule = try #require(RuleCatalogue.rule(w.rule))
        let plain = rule.judge(RuleContext(s))
        #expect(plain.outcome == .pass, "\(w.base) as loaded: \(plain)")
        try w.edit(&s, r)
        let v = rule.judge(RuleContext(s))
        #expect(v.outcome == w.outcome, "\(v)")
        for e in w.evidence { #expect(v.evidence.contains(e), "\(w.rule) evidence lacks \"\(e)\": \(v.evidence)") }
    }

    /// Every rule that compares ranges is in the table above, or cannot see a wrapping sum
    /// (BP-41's and BP-44's nodes are read from memory, so node + 16 is in memory), or judges
    /// the EFI entries (`EFIEntries`).
    @Test("every range-comparing rule has a wrapping case")
    func coverage() {
        let covered = Set(Self.cases.map(\.rule))
        for id: RuleID in ["BP-07", "BP-17", "BP-19", "BP-22", "BP-23", "BP-28", "BP-29", "BP-31", "BP-32", "BP-34", "BP-35", "BP-40", "BP-52", "BP-58", "BP-65", "BP-66", "BP-69", "BP-70"] {
            #expect(covered.contains(id), "\(id) has no wrapping case")
        }
    }

    /// The range type itself: an inverted or wrapping range is an error naming its values,
    /// never a clamp (issue 14: `AddressRange.init` once clamped end to start).
    @Test("an address range that wraps or is inverted cannot be built")
    func rangeConstruction() throws {
        #expect(throws: AddressRangeError(start: 0x2000, end: 0x1000, length: nil)) { try AddressRange(start: 0x2000, end: 0x1000) }
        #expect(throws: AddressRangeError(start: Self.top4K, end: nil, length: 0x2000)) { try AddressRange(start: Self.top4K, length: 0x2000) }
        #expect(AddressRangeError(start: Self.top4K, end: nil, length: 0x2000).description == "range 0xFFFFFFFFFFFFF000 + 0x2000 wraps past 2^64")
        #expect(AddressRangeError(start: 0x2000, end: 0x1000, length: nil).description == "range [0x2000, 0x1000) ends before it starts")
        #expect(AddressRange.make(Self.top4K, length: 0x1000)?.end == nil)
        #expect(AddressRange.make(Self.top4K, length: 0xFFF)?.end == .max)
        #expect(AddressRange.inclusive(0x1000, 0x1FFF) == AddressRange.make(0x1000, length: 0x1000))
        #expect(AddressRange.inclusive(0x1000, 0xFFF) == nil && AddressRange.inclusive(0, .max) == nil)
        let a = try AddressRange(start: 0x1000, end: 0x3000), b = try AddressRange(start: 0x2000, end: 0x5000)
        #expect(a.spanning(b) == (try AddressRange(start: 0x1000, end: 0x5000)))
    }
}
