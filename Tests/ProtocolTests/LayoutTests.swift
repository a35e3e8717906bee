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

    /// §2.1: the boot_params fields outside the header (padding left out): name, offset, size.
    static let specZeroPage: [(String, Int, Int)] = [
        ("screen_info", 0x000, 0x40), ("apm_bios_info", 0x040, 0x14), ("tboot_addr", 0x058, 8), ("ist_info", 0x060, 0x10), ("acpi_rsdp_addr", 0x070, 8),
        ("hd0_info", 0x080, 0x10), ("hd1_info", 0x090, 0x10), ("sys_desc_table", 0x0A0, 0x10), ("olpc_ofw_header", 0x0B0, 0x10),
        ("ext_ramdisk_image", 0x0C0, 4), ("ext_ramdisk_size", 0x0C4, 4), ("ext_cmd_line_ptr", 0x0C8, 4), ("cc_blob_address", 0x13C, 4),
        ("edid_info", 0x140, 0x80), ("efi_info", 0x1C0, 0x20), ("alt_mem_k", 0x1E0, 4), ("scratch", 0x1E4, 4), ("e820_entries", 0x1E8, 1),
        ("eddbuf_entries", 0x1E9, 1), ("edd_mbr_sig_buf_entries", 0x1EA, 1), ("kbd_status", 0x1EB, 1), ("secure_boot", 0x1EC, 1), ("sentinel", 0x1EF, 1),
        ("edd_mbr_sig_buffer", 0x290, 0x40), ("e820_table", 0x2D0, 0xA00), ("eddbuf", 0xD00, 0x1EC),
    ]

    @Test("setup header field table matches §1.2")
    func headerTable() {
        let f = ZeroPage.header
        #expect(f.count == Self.specHeader.count)
        for (name, off, size, since) in Self.specHeader {
            let field = ZeroPage.field(named: name)
            #expect(field?.offset == off && field?.size == size && field?.since?.description == since && field?.access != nil, "\(name)")
        }
        #expect(f.map(\.end).max() == 0x26C)
        #expect(SetupHeaderLayout.start == 0x1F1 && SetupHeaderLayout.areaEnd == 0x290 && SetupHeaderLayout.maximumEnd == 0x281)
    }

    @Test("boot_params field table matches §2.1; the header sits at 0x1F1 inside it")
    func zeroPageTable() {
        #expect(ZeroPage.size == 4096)
        #expect(ZeroPage.outsideHeader.count == Self.specZeroPage.count)
        for (name, off, size) in Self.specZeroPage {
            let field = ZeroPage.field(named: name)
            #expect(field?.offset == off && field?.size == size && field?.access == nil, "\(name)")
        }
        // §3: the ext_* halves arrived with 2.12; no other field outside the header has a version.
        #expect(ZeroPage.outsideHeader.filter { $0.since != nil }.map(\.name) == ["ext_ramdisk_image", "ext_ramdisk_size", "ext_cmd_line_ptr"])
        #expect(ZeroPage.Field.extCmdLinePtr.since?.description == "2.12")
        // In offset order, no two fields overlap, and all lie inside the page.
        let all = ZeroPage.fields
        #expect(all.count == Self.specHeader.count + Self.specZeroPage.count)
        for (a, b) in zip(all, all.dropFirst()) { #expect(a.end <= b.offset, "\(a) overlaps \(b)") }
        #expect(all.last!.end <= 4096)
        // §2.2 sub-fields and §2.3's table: 128 entries of 20 bytes at 0x2D0.
        #expect(ZeroPage.Field.clMagic.offset == 0x20 && ZeroPage.Field.clOffset.offset == 0x22 && ZeroPage.Field.efiLoaderSignature.offset == 0x1C0)
        #expect(ZeroPage.e820TableEntries == 128 && ZeroPage.e820Offset(1) == 0x2E4 && ZeroPage.e820Offset(128) == 0xCD0)
    }

    /// The Swift names are the spec's names in camel case, so `.initrdAddrMax` is initrd_addr_max.
    @Test("static members carry the spec's names")
    func memberNames() {
        let pinned: [(ZeroPage.Field, String, Int)] = [
            (.setupSects, "setup_sects", 0x1F1), (.typeOfLoader, "type_of_loader", 0x210), (.loadflags, "loadflags", 0x211), (.ramdiskImage, "ramdisk_image", 0x218),
            (.ramdiskSize, "ramdisk_size", 0x21C), (.cmdLinePtr, "cmd_line_ptr", 0x228), (.initrdAddrMax, "initrd_addr_max", 0x22C), (.kernelAlignment, "kernel_alignment", 0x230),
            (.xloadflags, "xloadflags", 0x236), (.cmdlineSize, "cmdline_size", 0x238), (.setupData, "setup_data", 0x250), (.handoverOffset, "handover_offset", 0x264),
            (.kernelInfoOffset, "kernel_info_offset", 0x268), (.acpiRsdpAddr, "acpi_rsdp_addr", 0x070), (.extRamdiskImage, "ext_ramdisk_image", 0x0C0),
            (.extCmdLinePtr, "ext_cmd_line_ptr", 0x0C8), (.e820Entries, "e820_entries", 0x1E8), (.sentinel, "sentinel", 0x1EF), (.e820Table, "e820_table", 0x2D0),
        ]
        for (f, name, off) in pinned { #expect(f.name == name && f.offset == off, "\(f)") }
        #expect(ZeroPage.Field.ramdiskImage.description == "0x218 ramdisk_image")
        var zp = [UInt8](repeating: 0, count: 4096)
        zp.put(0x1_2345_6789, .cmdLinePtr)   // the low 4 bytes only
        #expect(zp.u32(0x228) == 0x2345_6789 && zp[0x22C] == 0 && zp.field(.cmdLinePtr) == 0x2345_6789)
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

    /// §4.11's hvm_start_info table and BP-64/BP-65's entries, written out here: name, offset, size.
    static let specStartInfo: [(String, Int, Int)] = [
        ("magic", 0, 4), ("version", 4, 4), ("flags", 8, 4), ("nr_modules", 12, 4), ("modlist_paddr", 16, 8), ("cmdline_paddr", 24, 8),
        ("rsdp_paddr", 32, 8), ("memmap_paddr", 40, 8), ("memmap_entries", 48, 4), ("reserved", 52, 4),
    ]

    @Test("start_info, memmap and modlist field tables match §4.11")
    func startInfoTable() {
        #expect(StartInfo.Layout.all.map { [$0.name, String($0.offset), String($0.size)] } == Self.specStartInfo.map { [$0.0, String($0.1), String($0.2)] })
        #expect(StartInfo.Layout.all.last!.end == StartInfo.size)
        #expect(StartInfo.Layout.MemmapEntry.all.map(\.name) == ["addr", "size", "type", "reserved"] && StartInfo.Layout.MemmapEntry.all.map(\.offset) == [0, 8, 16, 20] && StartInfo.Layout.MemmapEntry.all.last!.end == 24)
        #expect(StartInfo.Layout.ModlistEntry.all.map(\.name) == ["paddr", "size", "cmdline_paddr", "reserved"] && StartInfo.Layout.ModlistEntry.all.map(\.offset) == [0, 8, 16, 24] && StartInfo.Layout.ModlistEntry.all.last!.end == 32)
        // Each field written alone lands at its own offset and nowhere else.
        var f = StartInfo.Fields(); f.magic = 0; f.version = 0; f.rsdp = 0x1122_3344_5566_7788
        #expect(f.bytes.u64(32) == 0x1122_3344_5566_7788 && f.bytes.enumerated().allSatisfy { (32..<40).contains($0.offset) || $0.element == 0 })
        #expect(StartInfo.memmapEntries(StartInfo.memmap([E820Entry(address: 0x1000, size: 0x2000, type: .reserved)])) == [E820Entry(address: 0x1000, size: 0x2000, type: .reserved)])
        #expect(StartInfo.moduleEntry(StartInfo.module(address: 0x6000, size: 0x10)).map { [$0.paddr, $0.size] } == [0x6000, 0x10])
        #expect(StartInfo.moduleEntry([0, 1, 2]) == nil)
    }

    @Test("efi_info's sub-fields match §2.2")
    func efiInfoTable() {
        let spec: [(String, Int)] = [("efi_loader_signature", 0x1C0), ("efi_systab", 0x1C4), ("efi_memdesc_size", 0x1C8), ("efi_memdesc_version", 0x1CC),
                                     ("efi_memmap", 0x1D0), ("efi_memmap_size", 0x1D4), ("efi_systab_hi", 0x1D8), ("efi_memmap_hi", 0x1DC)]
        #expect(ZeroPage.Field.efiInfoFields.map(\.name) == spec.map(\.0) && ZeroPage.Field.efiInfoFields.map(\.offset) == spec.map(\.1))
        #expect(ZeroPage.Field.efiInfoFields.allSatisfy { $0.size == 4 } && ZeroPage.Field.efiInfoFields.last!.end == ZeroPage.Field.efiInfo.end)
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
