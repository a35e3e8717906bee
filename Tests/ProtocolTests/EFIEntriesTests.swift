import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// Hand-made snapshots of the EFI entries. Every value is written from the sources the rules
/// cite (boot.rst "EFI Handover Protocol", x86-stub.c, efi-stub-helper.c, the UEFI 2.10 layouts
/// of EFI_SYSTEM_TABLE, EFI_LOADED_IMAGE_PROTOCOL and EFI_MEMORY_DESCRIPTOR, the PE/COFF
/// optional header), never from the code under test.
enum EFIFixture {
    static let handle: UInt64 = 0x3E5F_3C98, systab: UInt64 = 0x3F5E_B018, loadedImage: UInt64 = 0x3E5F_30C0
    static let imageBase: UInt64 = 0x3E51_3000, setupSize: UInt64 = 0x1000, pmLength: UInt64 = 0x4000, sizeOfImage: UInt64 = 0x24000
    static var L: UInt64 { imageBase + setupSize }
    static let options: UInt64 = 0x3E61_9000, initrdAt: UInt64 = 0x3E5E_B000, memmap: UInt64 = 0x3E5F_1000
    static let bootParams: UInt64 = 0x3E5F_2000, cmdlineAt: UInt64 = 0x9F000
    static let handoverOffset: UInt64 = 0x120
    static let commandLine = "console=ttyS0 hello"
    static let initrd = (0..<0x2000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
    /// A 1 GiB-page identity map of [0, 4 GiB) at 0x1000 (PML4) and 0x2000 (PDPT).
    static var pageTables: [(UInt64, [UInt8])] {
        var pml4 = [UInt8](repeating: 0, count: 4096), pdpt = pml4
        pml4.put64(0x2000 | 3, 0)
        for i in 0..<4 { pdpt.put64(UInt64(i) << 30 | 0x83, i * 8) }
        return [(0x1000, pml4), (0x2000, pdpt)]
    }

    /// Bytes [0, 0x290) of a bzImage that is also a PE32+ EFI application: offsets from the PE
    /// format (optional header at PE + 24: AddressOfEntryPoint +16, SectionAlignment +32,
    /// SizeOfImage +56, SizeOfHeaders +60, Subsystem +68) and the setup header table.
    static func header(xloadflags: UInt16 = 0x0B, pe: Bool = true) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 0x290)
        if pe {
            h.put16(0x5A4D, 0); h.put32(0x40, 0x3C); h.put32(0x4550, 0x40)
            h.put16(0x8664, 0x44); h.put16(1, 0x46); h.put16(0xA0, 0x54)
            let o = 0x58
            h.put16(0x20B, o); h.put32(UInt32(setupSize) + 0x430, o + 16); h.put32(0x1000, o + 32); h.put32(0x200, o + 36)
            h.put32(UInt32(sizeOfImage), o + 56); h.put32(UInt32(setupSize), o + 60); h.put16(10, o + 68); h.put32(6, o + 108)
            let s = o + 0xA0
            h.put32(UInt32(sizeOfImage - setupSize), s + 8); h.put32(UInt32(setupSize), s + 12); h.put32(UInt32(pmLength), s + 16); h.put32(UInt32(setupSize), s + 20)
        }
        h[0x1F1] = 7; h.put16(0xAA55, 0x1FE); h[0x200] = 0xEB; h[0x201] = 0x6A   // header end 0x26C (2.15)
        h.put32(0x5372_6448, 0x202); h.put16(0x020F, 0x206); h[0x211] = 1
        h.put32(0x7FFF_FFFF, 0x22C); h.put32(0x20_0000, 0x230); h[0x234] = 1; h.put16(xloadflags, 0x236)
        h.put32(0x7FF, 0x238); h.put64(0x100_0000, 0x258); h.put32(0x80_0000, 0x260); h.put32(UInt32(handoverOffset), 0x264)
        h[0x26C] = 0xE9; h[0x26D] = 0x91; h[0x26E] = 0x01   // the setup code's jump right after the header
        return h
    }

    static func systemTable(signature: UInt64 = 0x5453_5953_2049_4249) -> [UInt8] {   // "IBI SYST"
        var t = [UInt8](repeating: 0, count: 0x78)
        t.put64(signature, 0); t.put32(0x0002_0046, 8); t.put64(0x3FEB_7100, 0x60)
        return t
    }

    static func utf16z(_ s: String) -> [UInt8] { (Array(s.utf16) + [0]).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }

    /// Descriptors of 48 bytes: Type at 0, PhysicalStart at 8, NumberOfPages at 24.
    static func memoryMap(_ d: [(UInt32, UInt64, UInt64)]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: d.count * 48)
        for (i, x) in d.enumerated() { b.put32(x.0, i * 48); b.put64(x.1, i * 48 + 8); b.put64(x.2, i * 48 + 24) }
        return b
    }
    static var goodMap: [(UInt32, UInt64, UInt64)] {
        [(7, 0, 0x9F), (1, imageBase, sizeOfImage >> 12), (2, initrdAt, 2), (2, memmap, 1), (2, bootParams, 1), (7, 0x4000_0000, 0x100)]
    }

    struct Knobs {
        var entry: EntryPoint = .efiStub
        var header = EFIFixture.header()
        var systemTable = EFIFixture.systemTable()
        var loadOptions = EFIFixture.utf16z(EFIFixture.commandLine)
        var map = EFIFixture.memoryMap(EFIFixture.goodMap)
        var facts = EFIFacts()
        var rip: UInt64? = nil
        var rsp: UInt64 = 0x3FEA_0918   // at a call: RSP + 8 is 16-byte aligned
        var rflags: UInt64 = 0x202
        var cr4: UInt64 = 0x668
        var initrdBytes = EFIFixture.initrd
        var zeroPage: [UInt8]? = nil
        var L = EFIFixture.L
    }

    static var goodFacts: EFIFacts {
        var f = EFIFacts()
        f.handle = handle; f.systemTable = systab; f.systemTableValid = true; f.bootServices = 0x3FEB_7100
        f.loadedImageStatus = .success; f.loadedImage = loadedImage
        f.initrdLocateStatus = .success; f.initrdProbeStatus = .bufferTooSmall; f.initrdProbeSize = UInt64(initrd.count)
        f.initrdLoadStatus = .success; f.initrdAddress = initrdAt; f.initrdSize = UInt64(initrd.count)
        f.memoryMapStatus = .success; f.memoryMap = memmap; f.memoryMapSize = UInt64(goodMap.count * 48); f.descriptorSize = 48; f.descriptorVersion = 1
        return f
    }

    /// boot_params as boot.rst asks of a handover loader: zero, the image's header, cmd_line_ptr
    /// and the ramdisk fields.
    static func handoverZeroPage(header h: [UInt8]) -> [UInt8] {
        var z = [UInt8](repeating: 0, count: 4096)
        for i in 0x1F1..<0x26C { z[i] = h[i] }
        z[0x210] = 0xFF
        z.put32(UInt32(initrdAt), 0x218); z.put32(UInt32(initrd.count), 0x21C); z.put32(UInt32(cmdlineAt), 0x228)
        return z
    }

    static func snapshot(_ k: Knobs) -> BootSnapshot {
        var image = ImageRecord(format: .bzImage, fileSize: setupSize + pmLength, sha256: "file")
        image.headerBytes = k.header
        image.protectedModeOffset = setupSize; image.protectedModeLength = pmLength; image.protectedModeSHA256 = "pm"
        let inputs = InputRecord(commandLine: Array(commandLine.utf8), initrdSize: UInt64(initrd.count), initrdSHA256: sha256Hex(initrd))
        var e = EntryState(entryPoint: k.entry)
        e.cr0 = 0x8001_0033; e.cr3 = 0x1000; e.cr4 = k.cr4; e.efer = 0xD00; e.rsp = k.rsp; e.rflags = k.rflags
        e.cs = SegmentRegister(selector: 0x38, descriptor: 0x00AF_9B00_0000_FFFF)
        switch k.entry {
        case .efiStub: e.rcx = handle; e.rdx = systab; e.rip = k.rip ?? k.L &+ 0x430
        case .efiHandover64: e.rdi = handle; e.rsi = systab; e.rdx = bootParams; e.rip = k.rip ?? k.L &+ handoverOffset &+ 0x200
        case .efiHandover32:
            // cdecl: return address, handle, system table, boot_params on the stack; paging off.
            e.rip = k.rip ?? k.L &+ handoverOffset; e.cr0 = 0x11; e.cr4 = 0; e.efer = 0
            e.cs = SegmentRegister(selector: 0x10, descriptor: 0x00CF_9B00_0000_FFFF)
        default: e.rsi = bootParams; e.rip = k.rip ?? k.L &+ 0x200
        }
        var stack = [UInt8](repeating: 0, count: 16)
        stack.put32(0x3E00_1234, 0); stack.put32(UInt32(handle), 4); stack.put32(UInt32(systab), 8); stack.put32(UInt32(bootParams), 12)
        var li = [UInt8](repeating: 0, count: 0x60)
        li.put32(UInt32(k.loadOptions.count), 0x30); li.put64(options, 0x38); li.put64(imageBase, 0x40); li.put64(sizeOfImage, 0x48)
        var pieces: [(start: UInt64, bytes: [UInt8])] = [(systab, k.systemTable), (loadedImage, li), (options, k.loadOptions), (initrdAt, k.initrdBytes), (memmap, k.map)]
        pieces += pageTables.map { (start: $0.0, bytes: $0.1) }
        if k.entry == .efiHandover32 { pieces.append((k.rsp, stack)) }
        let zp = k.zeroPage ?? (k.entry == .efiStub ? nil : handoverZeroPage(header: k.header))
        if let zp { pieces.append((bootParams, zp)); pieces.append((cmdlineAt, Array(commandLine.utf8) + [0])) }
        var s = BootSnapshot(producer: "hand-made", image: image, inputs: inputs, entry: e, kernelAddress: k.L, memory: CapturedMemory(pieces: pieces), regions: [])
        var f = k.facts
        f.memoryMapSize = UInt64(k.map.count)
        s.efi = f
        return s
    }

    static func verdict(_ id: RuleID, _ k: Knobs) -> Verdict {
        judge(snapshot(k), rules: [RuleCatalogue.rule(id)!])[0]
    }
}

private extension Array where Element == UInt8 {
    mutating func put16(_ v: UInt16, _ o: Int) { for i in 0..<2 { self[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt16(i))) } }
    mutating func put32(_ v: UInt32, _ o: Int) { for i in 0..<4 { self[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
    mutating func put64(_ v: UInt64, _ o: Int) { for i in 0..<8 { self[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
}

/// One way to break an EFI rule, and the rule that must fail.
struct EFIViolation: Sendable, CustomTestStringConvertible {
    let rule: RuleID, what: String
    let knobs: @Sendable () -> EFIFixture.Knobs
    var testDescription: String { "\(rule): \(what)" }

    static func stub(_ f: (inout EFIFixture.Knobs) -> Void) -> EFIFixture.Knobs { var k = EFIFixture.Knobs(); k.facts = EFIFixture.goodFacts; f(&k); return k }
    static func handover(_ f: (inout EFIFixture.Knobs) -> Void) -> EFIFixture.Knobs {
        var k = EFIFixture.Knobs(); k.entry = .efiHandover64; k.facts = EFIFixture.goodFacts; f(&k); return k
    }

    static let all: [EFIViolation] = [
        EFIViolation(rule: "BP-80", what: "64-bit handover entered at L + handover_offset, without + 0x200") { handover { $0.rip = EFIFixture.L + EFIFixture.handoverOffset } },
        EFIViolation(rule: "BP-81", what: "handover_64 entered, XLF_EFI_HANDOVER_64 clear") { handover { $0.header = EFIFixture.header(xloadflags: 0x03); $0.zeroPage = EFIFixture.handoverZeroPage(header: $0.header) } },
        EFIViolation(rule: "BP-82", what: "system table signature not \"IBI SYST\"") { stub { $0.systemTable = EFIFixture.systemTable(signature: 0x5453_5953_2049_4248) } },
        EFIViolation(rule: "BP-82", what: "handover: system table without BootServices") { handover { var t = EFIFixture.systemTable(); for i in 0x60..<0x68 { t[i] = 0 }; $0.systemTable = t } },
        // OVMF's legacy loader copies the image up to 0x202 + 0xEB = 0x2ED: past 0x290 the
        // image's own bytes are no header bytes at all (up to 0x290 they are tolerated, as by
        // BP-04 and BP-11).
        EFIViolation(rule: "BP-83", what: "boot_params carries image bytes past 0x290 (edd_mbr_sig_buffer)") { handover { var z = EFIFixture.handoverZeroPage(header: $0.header); for i in 0x290..<0x294 { z[i] = 0xE9 }; $0.zeroPage = z } },
        EFIViolation(rule: "BP-83", what: "boot_params without the header (initrd_addr_max 0)") { handover { var z = EFIFixture.handoverZeroPage(header: $0.header); for i in 0x22C..<0x230 { z[i] = 0 }; $0.zeroPage = z } },
        EFIViolation(rule: "BP-84", what: "efi_info filled with EL64 by the loader") { handover { var z = EFIFixture.handoverZeroPage(header: $0.header); z.put(0x3436_4C45, .efiLoaderSignature); z.put(UInt64(UInt32(EFIFixture.systab)), .efiSystab); $0.zeroPage = z } },
        EFIViolation(rule: "BP-85", what: "cmd_line_ptr left 0") { handover { var z = EFIFixture.handoverZeroPage(header: $0.header); z.put32(0, 0x228); $0.zeroPage = z } },
        EFIViolation(rule: "BP-85", what: "ramdisk_size short by a page") { handover { var z = EFIFixture.handoverZeroPage(header: $0.header); z.put32(UInt32(EFIFixture.initrd.count - 0x1000), 0x21C); $0.zeroPage = z } },
        EFIViolation(rule: "BP-86", what: "LoadOptions hold another command line") { stub { $0.loadOptions = EFIFixture.utf16z("console=ttyS0 hellO") } },
        EFIViolation(rule: "BP-86", what: "LoadOptions in 8-bit characters, odd size") { stub { $0.loadOptions = Array(EFIFixture.commandLine.utf8) } },
        EFIViolation(rule: "BP-87", what: "LoadFile(BufferSize 0) answers EFI_SUCCESS instead of EFI_BUFFER_TOO_SMALL") { stub { $0.facts.initrdProbeStatus = .success } },
        EFIViolation(rule: "BP-87", what: "LoadFile delivers other bytes") { stub { $0.initrdBytes[0x100] ^= 1 } },
        EFIViolation(rule: "BP-87", what: "no device path and no initrd= in LoadOptions") { stub { $0.facts.initrdLocateStatus = .notFound } },
        EFIViolation(rule: "BP-88", what: "descriptor version 2") { stub { $0.facts.descriptorVersion = 2 } },
        EFIViolation(rule: "BP-88", what: "two descriptors overlap") { stub { $0.map = EFIFixture.memoryMap(EFIFixture.goodMap + [(4, EFIFixture.imageBase + 0x1000, 1)]) } },
        EFIViolation(rule: "BP-89", what: "DF set") { stub { $0.rflags = 0x602 } },
        EFIViolation(rule: "BP-89", what: "stack misaligned for a call") { stub { $0.rsp = 0x3FEA_0910 } },
        EFIViolation(rule: "BP-89", what: "CR4.PAE clear") { stub { $0.cr4 = 0x648 } },
        EFIViolation(rule: "BP-90", what: "image footprint in free (conventional) memory") { stub { $0.map = EFIFixture.memoryMap(EFIFixture.goodMap.map { $0.1 == EFIFixture.imageBase ? (7, $0.1, $0.2) : $0 }) } },
        EFIViolation(rule: "BP-90", what: "L not at ImageBase + VirtualAddress") { stub { $0.L = EFIFixture.L + 0x200 } },
        EFIViolation(rule: "BP-91", what: "64-bit entry with efi_info \"EL64\" but efi_memmap 0") {
            var k = EFIFixture.Knobs(); k.entry = .long64
            var z = EFIFixture.handoverZeroPage(header: k.header)
            z.put(0x3436_4C45, .efiLoaderSignature); z.put(UInt64(UInt32(EFIFixture.systab)), .efiSystab); z.put(48, .efiMemdescSize); z.put(1, .efiMemdescVersion); z.put(48, .efiMemmapSize)
            k.zeroPage = z
            return k
        },
    ]
}

@Suite("EFIEntries")
struct EFIEntriesTests {
    static let efiRules = (80...91).map { RuleID(number: $0) }

    /// The hand-made conforming boots pass every EFI rule that applies to their entry.
    @Test(arguments: [EntryPoint.efiStub, .efiHandover64])
    func conformingHandMadeBootPasses(_ entry: EntryPoint) throws {
        var k = EFIFixture.Knobs(); k.entry = entry; k.facts = EFIFixture.goodFacts
        if entry == .efiHandover64 { k.facts.initrdLocateStatus = .notFound }
        let v = judge(EFIFixture.snapshot(k), rules: Self.efiRules.compactMap(RuleCatalogue.rule))
        #expect(v.count == 12)
        #expect(!v.contains { $0.outcome == .fail }, "\(v.filter { $0.outcome == .fail })")
        let applies: Set<RuleID> = entry == .efiStub ? ["BP-82", "BP-86", "BP-87", "BP-88", "BP-89", "BP-90"] : ["BP-80", "BP-81", "BP-82", "BP-83", "BP-84", "BP-85", "BP-87", "BP-88", "BP-89", "BP-90"]
        #expect(Set(v.filter { $0.outcome == .pass }.map(\.rule)) == applies, "\(v)")
    }

    /// Each violation fails its rule (and the same rule passes on the conforming boot above).
    @Test(arguments: EFIViolation.all)
    func violationFails(_ c: EFIViolation) {
        let v = EFIFixture.verdict(c.rule, c.knobs())
        #expect(v.outcome == .fail, "\(v)")
    }

    /// The 32-bit handover entry: L + handover_offset, arguments on the stack (cdecl), only
    /// with XLF_EFI_HANDOVER_32 (bit 2).
    @Test func handover32() {
        var k = EFIFixture.Knobs(); k.entry = .efiHandover32; k.facts = EFIFixture.goodFacts
        k.header = EFIFixture.header(xloadflags: 0x0F); k.zeroPage = EFIFixture.handoverZeroPage(header: k.header)
        for id: RuleID in ["BP-80", "BP-81", "BP-82", "BP-83", "BP-84", "BP-85"] {
            #expect(EFIFixture.verdict(id, k).outcome == .pass, "\(EFIFixture.verdict(id, k))")
        }
        var wrong = k; wrong.rip = EFIFixture.L + EFIFixture.handoverOffset + 0x200
        #expect(EFIFixture.verdict("BP-80", wrong).outcome == .fail, "entered at the 64-bit address")
        var noFlag = k; noFlag.header = EFIFixture.header(xloadflags: 0x0B); noFlag.zeroPage = EFIFixture.handoverZeroPage(header: noFlag.header)
        #expect(EFIFixture.verdict("BP-81", noFlag).outcome == .fail, "XLF_EFI_HANDOVER_32 clear")
    }

    /// Found by the probe-report fuzz target: a handover report judged against an image whose
    /// header is too short (here an ELF's, none at all) made BP-83 build the range
    /// 0x1F1..<0 and trap. It must fail with evidence instead.
    @Test func handoverAgainstAnImageWithoutHeader() {
        var k = EFIFixture.Knobs(); k.entry = .efiHandover64; k.facts = EFIFixture.goodFacts
        k.zeroPage = EFIFixture.handoverZeroPage(header: k.header)
        k.header = []
        let s = EFIFixture.snapshot(k)
        var elf = s; elf.image = ImageRecord(format: .elf, fileSize: 0x1000, sha256: "elf")
        for snap in [s, elf] {
            let v = judge(snap)
            #expect(v.first { $0.rule == "BP-83" }?.outcome == .fail, "\(String(describing: v.first { $0.rule == "BP-83" }))")
            #expect(v.first { $0.rule == "BP-80" }?.outcome == .fail)
        }
    }

    /// BP-91: an EFI loader entering by the 64-bit protocol with efi_info as x86-stub.c's
    /// exit_boot_func writes it ("EL64", system table, memory map of 48-byte version-1
    /// descriptors) passes, and BP-11 counts efi_info and secure_boot as its fields.
    @Test func efiInfoAtThe64BitEntry() {
        var k = EFIFixture.Knobs(); k.entry = .long64
        var z = EFIFixture.handoverZeroPage(header: k.header)
        z.put(0x3436_4C45, .efiLoaderSignature); z.put(UInt64(UInt32(EFIFixture.systab)), .efiSystab); z.put(48, .efiMemdescSize); z.put(1, .efiMemdescVersion)
        z.put(UInt64(UInt32(EFIFixture.memmap)), .efiMemmap); z.put(48 * 6, .efiMemmapSize); z.put(2, .secureBoot)
        k.zeroPage = z
        #expect(EFIFixture.verdict("BP-91", k).outcome == .pass, "\(EFIFixture.verdict("BP-91", k))")
        #expect(EFIFixture.verdict("BP-11", k).outcome == .pass, "\(EFIFixture.verdict("BP-11", k))")
        var bad = k; var zb = z; zb.put(0, .efiMemdescVersion); bad.zeroPage = zb
        #expect(EFIFixture.verdict("BP-91", bad).outcome == .fail, "memdesc_version 0")
        var el32 = k; var z32 = z; z32.put(0x3233_4C45, .efiLoaderSignature); z32.put(1, .efiSystabHi); el32.zeroPage = z32
        #expect(EFIFixture.verdict("BP-91", el32).outcome == .fail, "EL32 with efi_systab_hi")
        var junk = k; var zj = z; zj.put(0x3436_4C46, .efiLoaderSignature); junk.zeroPage = zj
        #expect(EFIFixture.verdict("BP-91", junk).outcome == .notApplicable, "unknown signature: not an EFI loader's")
        #expect(EFIFixture.verdict("BP-11", junk).outcome == .fail, "efi_info without a signature is not a loader field")
    }

    /// Every EFI rule is n/a, with a reason, at the entries of the 16/32/64-bit and PVH protocols.
    @Test func notApplicableElsewhere() {
        for entry in [EntryPoint.long64, .protected32, .pvh, .setup16] {
            var k = EFIFixture.Knobs(); k.entry = entry
            for id in Self.efiRules {
                let v = EFIFixture.verdict(id, k)
                #expect(v.outcome == .notApplicable && !v.evidence.isEmpty, "\(id) at entry \(entry.rawValue): \(v)")
            }
        }
    }

    /// Every rule BP-80…BP-91 is in the catalogue and has a violating case.
    @Test func everyRuleHasAViolation() {
        for id in Self.efiRules {
            #expect(RuleCatalogue.rule(id) != nil, "\(id) missing from RuleCatalogue.all")
            #expect(EFIViolation.all.contains { $0.rule == id }, "\(id) has no violating case")
        }
    }

    /// The packager's PE/COFF header, read back at the offsets of the PE format and spec §6.3.
    @Test func peHeaderLayout() throws {
        let h = try PECOFF.header(.init(setupSize: 0x1000, imageFileSize: 0x4000, imageMemorySize: 0x22C40, entryPoint: 0x1430))
        #expect(h.count < 0x1F1, "the PE headers must end before the setup header")
        #expect(h.u16(0) == 0x5A4D && h.u32(0x38) == 0x8182_23CD && h.u32(0x3C) == 0x40)
        #expect(h.u32(0x40) == 0x4550 && h.u16(0x44) == 0x8664)
        #expect(h.u16(0x58) == 0x20B && h.u32(0x58 + 16) == 0x1430 && h.u32(0x58 + 32) == 0x1000 && h.u32(0x58 + 36) == 0x200)
        #expect(h.u32(0x58 + 56) == 0x1000 + 0x23000 && h.u32(0x58 + 60) == 0x1000 && h.u16(0x58 + 68) == 10)
        #expect(throws: PECOFF.BuildError.misaligned(field: "setup size (SizeOfHeaders, .text VirtualAddress)", value: 0xA00, alignment: 0x1000)) {
            try PECOFF.header(.init(setupSize: 0xA00, imageFileSize: 0x4000, imageMemorySize: 0x5000, entryPoint: 0x1430))
        }
    }

    /// index.json's "entries": what each header offers, by the spec's conditions.
    @Test func offeredEntriesFollowTheHeader() {
        var f = [UInt8](repeating: 0, count: 0x1000)
        f.replaceSubrange(0..<0x290, with: EFIFixture.header())
        #expect(offeredEntries(kernel: f).map(\.rawValue) == ["16", "32", "64", "efi-handover-64", "efi-stub"])
        f.replaceSubrange(0..<0x290, with: EFIFixture.header(xloadflags: 0x03, pe: false))
        #expect(offeredEntries(kernel: f).map(\.rawValue) == ["16", "32", "64"])
        #expect(offeredEntries(kernel: [0x4D, 0x5A]) == [])
    }

    /// The packager's EFI variants: `efi-pe` is a PE32+ EFI application whose entry is the
    /// probe's efi_pe_entry and offers the 64-bit handover entry at efi_handover64;
    /// `efi-handover` offers only the handover entry.
    @Test func probeEFIVariants() throws {
        let build = try Probe.require()
        let pe = try #require(Probe.variants.first { $0.id == "efi-pe" }), ho = try #require(Probe.variants.first { $0.id == "efi-handover" })
        #expect(offeredEntries(kernel: pe.image).map(\.rawValue) == ["16", "32", "64", "efi-handover-64", "efi-stub"])
        #expect(offeredEntries(kernel: ho.image).map(\.rawValue) == ["16", "32", "64", "efi-handover-64"])
        #expect(PECOFF.entryPoint(of: pe.image) == UInt32(0x1000 + build.efiPEEntry))
        #expect(pe.image.u32(0x264) == UInt32(build.efiHandover64 - 0x200))
        let summary = try #require(PECOFF.Summary.parse(pe.image))
        #expect(summary.sectionAlignment == 0x1000 && summary.sizeOfHeaders == 0x1000 && summary.entrySectionAddress == 0x1000)
        #expect(pe.image.u16(0x1FE) == 0xAA55 && pe.image.u32(0x202) == 0x5372_6448, "the setup header is still in place")
    }

    /// The report's `efi` lines reach the snapshot; unknown keys are ignored, missing ones stay "not called".
    @Test func efiLinesParse() throws {
        let body = "BOOTPROBE 1\nvariant efi-pe\nentry efi-stub\n" + ProbeReportText.essentials.split(separator: "\n").dropFirst().map { $0 + "\n" }.joined() + "efi handle=0x5 systab=0x3f5eb018 future_key=0x1\nefi lf2_locate_status=0x800000000000000e desc_size=0x30\n"
        let text = Array(body.utf8)
        let lines = body.split(separator: "\n").count
        let serial = Array("firmware noise\n".utf8) + text + Array("end lines=\(hex(UInt64(lines))) hash64=\(hex(ProbeHash64.of(text)))\n".utf8)
        let r = try ProbeReport.parse(serial: serial)
        #expect(r.entryPoint == .efiStub && r.variant == "efi-pe")
        let f = EFIFacts(reported: r.efi)
        #expect(f.handle == 5 && f.systemTable == 0x3F5E_B018 && f.initrdLocateStatus == .notFound && f.descriptorSize == 48 && f.memoryMapStatus == .notMade)
    }
}


extension EFIEntriesTests {
    /// The EFI rules that add to L (issue 14, point 3): with the image placed just below 2^64,
    /// BP-80's entry address, BP-89's identity-mapped image range and BP-90's footprint wrap. Each
    /// fails and names the values it added, instead of comparing a wrapped sum.
    @Test(arguments: [(RuleID("BP-80"), EntryPoint.efiHandover64), ("BP-89", .efiStub), ("BP-90", .efiStub)])
    func wrappingSumsFailNamingTheValues(_ rule: RuleID, _ entry: EntryPoint) throws {
        var k = entry == .efiStub ? EFIViolation.stub { _ in } : EFIViolation.handover { _ in }
        #expect(EFIFixture.verdict(rule, k).outcome == .pass, "\(rule) on the conforming state: \(EFIFixture.verdict(rule, k))")
        k.L = 0xFFFF_FFFF_FFFF_FF00   // 256 bytes below 2^64: less than handover_offset + 0x200, the image or its footprint
        let v = EFIFixture.verdict(rule, k)
        #expect(v.outcome == .fail && v.evidence.contains("wraps past 2^64") && v.evidence.contains(hex(k.L)), "\(v)")
    }
}
