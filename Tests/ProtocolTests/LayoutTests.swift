import Conformance
import ConformanceFixtures
import Testing

/// Offsets pinned against the spec digest's tables (§1.2, §2.1, §4.11, Appendix A), written
/// out here independently of the code.
@Suite("Layout")
struct LayoutTests {
    /// §1.2: name, offset, size, protocol that introduced it.
    static let specHeader: [(String, Int, Int, String)] = [
        ("setup_sects", 0x1F1, 1, "2.00"), ("root_flags", 0x1F2, 2, "2.00"), ("syssize", 0x1F4, 4, "2.00"), ("ram_size", 0x1F8, 2, "2.00"),
        ("vid_mode", 0x1FA, 2, "2.00"), ("root_dev", 0x1FC, 2, "2.00"), ("boot_flag", 0x1FE, 2, "2.00"), ("jump", 0x200, 2, "2.00"),
        ("header", 0x202, 4, "2.00"), ("version", 0x206, 2, "2.00"), ("realmode_swtch", 0x208, 4, "2.00"), ("start_sys_seg", 0x20C, 2, "2.00"),
        ("kernel_version", 0x20E, 2, "2.00"), ("type_of_loader", 0x210, 1, "2.00"), ("loadflags", 0x211, 1, "2.00"), ("setup_move_size", 0x212, 2, "2.00"),
        ("code32_start", 0x214, 4, "2.00"), ("ramdisk_image", 0x218, 4, "2.00"), ("ramdisk_size", 0x21C, 4, "2.00"), ("bootsect_kludge", 0x220, 4, "2.00"),
        ("heap_end_ptr", 0x224, 2, "2.01"), ("ext_loader_ver", 0x226, 1, "2.02"), ("ext_loader_type", 0x227, 1, "2.02"), ("cmd_line_ptr", 0x228, 4, "2.02"),
        ("initrd_addr_max", 0x22C, 4, "2.03"), ("kernel_alignment", 0x230, 4, "2.05"), ("relocatable_kernel", 0x234, 1, "2.05"), ("min_alignment", 0x235, 1, "2.10"),
        ("xloadflags", 0x236, 2, "2.12"), ("cmdline_size", 0x238, 4, "2.06"), ("hardware_subarch", 0x23C, 4, "2.07"), ("hardware_subarch_data", 0x240, 8, "2.07"),
        ("payload_offset", 0x248, 4, "2.08"), ("payload_length", 0x24C, 4, "2.08"), ("setup_data", 0x250, 8, "2.09"), ("pref_address", 0x258, 8, "2.10"),
        ("init_size", 0x260, 4, "2.10"), ("handover_offset", 0x264, 4, "2.11"), ("kernel_info_offset", 0x268, 4, "2.15"),
    ]

    @Test("setup header field table matches §1.2")
    func headerTable() {
        let f = SetupHeaderLayout.fields
        #expect(f.count == Self.specHeader.count)
        for (name, off, size, since) in Self.specHeader {
            let field = SetupHeaderLayout.field(name)
            #expect(field?.offset == off && field?.size == size && field?.since.description == since, "\(name)")
        }
        #expect(f.map(\.end).max() == 0x26C)
    }

    /// §3's header end per version.
    @Test("header end per protocol version matches §3", arguments: [("2.00", 0x224), ("2.01", 0x226), ("2.02", 0x22C), ("2.03", 0x230), ("2.04", 0x230), ("2.05", 0x235),
                                                                     ("2.06", 0x23C), ("2.07", 0x248), ("2.08", 0x250), ("2.09", 0x258), ("2.10", 0x264), ("2.11", 0x268), ("2.14", 0x268), ("2.15", 0x26C)])
    func headerEnd(_ v: String, _ end: Int) throws {
        #expect(SyntheticImage.headerEnd(for: try #require(ProtocolVersion(string: v))) == end)
    }

    @Test("struct sizes and constants from the spec")
    func constants() {
        #expect(E820Entry.byteSize == 20)
        #expect(E820Entry(address: 0x1122, size: 0x3344, type: .ram).bytes == [0x22, 0x11, 0, 0, 0, 0, 0, 0, 0x44, 0x33, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
        #expect(StartInfo.size == 56 && StartInfo.memmapEntrySize == 24 && StartInfo.modlistEntrySize == 32)
        #expect(StartInfo.magic == 0x336E_C578)
        #expect(BzImage.headerMagic == 0x5372_6448 && KernelInfo.magicValue == 0x506F_544C)
        #expect(BootGDT.code32 == 0x00CF_9B00_0000_FFFF && BootGDT.data32 == 0x00CF_9300_0000_FFFF && BootGDT.code64 == 0x00AF_9B00_0000_FFFF)
        #expect(SetupData.node(next: 0x1122, type: .rngSeed, data: [0xAB]) == [0x22, 0x11, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0xAB])
    }

    @Test("start_info bytes at the §4.11 offsets")
    func startInfoLayout() {
        let b = StartInfo.bytes(nrModules: 1, modlist: 0x6040, cmdline: 0x20000, rsdp: 0, memmap: 0x6080, memmapEntries: 4)
        #expect(b.count == 56)
        #expect(b.u32(0) == 0x336E_C578 && b.u32(4) == 1 && b.u32(12) == 1 && b.u64(16) == 0x6040 && b.u64(24) == 0x20000 && b.u64(40) == 0x6080 && b.u32(48) == 4)
    }

    @Test("descriptors decode to the cached state the spec describes")
    func descriptors() {
        let c = SegmentRegister(selector: 0x10, descriptor: BootGDT.code64)
        #expect(c.l && !c.db && c.base == 0 && c.limit == 0xFFFF_FFFF && c.present && c.s)
        let t = SegmentRegister(selector: 0x20, descriptor: BootGDT.tss32Busy)
        #expect(t.type == 0xB && t.limit == 0x67 && !t.s)
    }

    @Test("flag sets print readably")
    func flagDescriptions() {
        #expect(LoadFlags(rawValue: 0x81).description == "[.loadedHigh, .canUseHeap]")
        #expect(XLoadFlags(rawValue: 0x103).description == "[.kernel64, .canBeLoadedAbove4G, 0x100]")
    }
}
