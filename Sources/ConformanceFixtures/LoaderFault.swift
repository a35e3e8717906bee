import Conformance
/// A deliberate loader mistake, applied to a correct load, so every rule has a violating case.
///
/// Each fault is a bug real loaders have shipped or could ship (the doc comment says which
/// rule it breaks). Faults change guest memory, the entry state or the image record exactly as
/// the buggy loader would have left them; the rules then judge the result like any other.
public struct LoaderFault: Sendable {
    public let name: String
    public let about: String
    let apply: @Sendable (inout FaultTarget) -> Void

    public static func named(_ n: String) -> LoaderFault? { all.first { $0.name == n } }
}

/// What a fault may change.
public struct FaultTarget {
    public var snapshot: BootSnapshot
    public let result: LoadResult
    var mem: GuestMemory { result.memory }
    /// The zero page: RSI, or for the 16-bit entry the real-mode base (CS − 0x20) << 4.
    var B: UInt64 { snapshot.entry.entryPoint == .setup16 ? UInt64(snapshot.entry.cs.selector &- 0x20) << 4 : snapshot.entry.rsi }

    func write(_ a: UInt64, _ bytes: [UInt8]) { try? mem.write(bytes, at: a) }
    func read(_ a: UInt64, _ n: Int) -> [UInt8] { mem.bytes(at: a, count: n) ?? [] }
    func put(_ a: UInt64, _ v: UInt64, _ width: Int) {
        var b = [UInt8](repeating: 0, count: width); b.put(v, at: 0, width: width); write(a, b)
    }
    /// Writes zero-page field `f` (the low `f.size` bytes of `v`).
    func zp(_ f: ZeroPage.Field, _ v: UInt64) { put(B + UInt64(f.offset), v, f.size) }
    /// Zero-page field `f` as it stands (0 when memory does not hold it).
    func zp(_ f: ZeroPage.Field) -> UInt64 { read(B + UInt64(f.offset), f.size).le(0, f.size) ?? 0 }
    /// The image file itself differed here (a loader that skipped a check loaded it anyway):
    /// header field `f` reads `v` in the image record and the zero page alike.
    mutating func image(_ f: ZeroPage.Field, _ v: UInt64) {
        snapshot.image.headerBytes.put(v, f)
        zp(f, v)
    }
    /// Clears xloadflags bits in the image (record and zero page alike).
    mutating func clearXLoadFlags(_ mask: XLoadFlags) {
        image(.xloadflags, UInt64(XLoadFlags(rawValue: UInt16(snapshot.image.headerBytes.field(.xloadflags)!)).subtracting(mask).rawValue))
    }
    /// Moves the kernel (and the entry point with it) to `to`.
    mutating func moveKernel(to: UInt64) {
        let len = snapshot.image.format == .bzImage ? snapshot.image.protectedModeLength : result.kernelWindow.length
        let bytes = read(snapshot.kernelAddress, Int(len))
        write(snapshot.kernelAddress, [UInt8](repeating: 0, count: Int(len)))
        write(to, bytes)
        snapshot.entry.rip = snapshot.entry.rip &- snapshot.kernelAddress &+ to
        snapshot.kernelAddress = to
    }
    mutating func moveInitrd(to: UInt64) {
        guard let r = result.initrd else { return }
        let bytes = read(r.start, Int(r.length))
        write(r.start, [UInt8](repeating: 0, count: Int(r.length)))
        write(to, bytes)
        if result.startInfo != nil { put(result.startInfo! + 0x40, to, 8); return }
        zp(.ramdiskImage, to & 0xFFFF_FFFF); zp(.extRamdiskImage, to >> 32)
    }
    mutating func moveZeroPage(to: UInt64) {
        let page = read(B, ZeroPage.size)
        write(B, [UInt8](repeating: 0, count: ZeroPage.size)); write(to, page)
        if snapshot.entry.entryPoint != .setup16 { snapshot.entry.rsi = to }
    }
    /// Replaces e820 entry `i` (or appends when i == count).
    func e820(_ i: Int, _ e: E820Entry) {
        write(B + UInt64(ZeroPage.e820Offset(i)), e.bytes)
        if i >= zp(.e820Entries) { zp(.e820Entries, UInt64(i + 1)) }
    }
    func segment(_ sel: UInt16, descriptor d: UInt64) -> SegmentRegister { SegmentRegister(selector: sel, descriptor: d) }
}

extension LoaderFault {
    init(_ name: String, _ about: String, _ apply: @escaping @Sendable (inout FaultTarget) -> Void) {
        self.name = name; self.about = about; self.apply = apply
    }

    public static let all: [LoaderFault] = image + zeroPage + placement + data + entry + pvhAndElf + elfFile

    static let image: [LoaderFault] = [
        .init("accepts-truncated-image", "loads an image shorter than its setup area says (BP-01)") { t in
            t.snapshot.image.fileSize = UInt64(t.snapshot.image.headerBytes.count)
        },
        .init("ignores-boot-flag", "loads an image whose boot_flag is not 0xAA55 (BP-02)") { t in t.image(.bootFlag, 0) },
        .init("ignores-hdrs", "loads an image without \"HdrS\" (BP-03)") { t in t.image(.header, 0x5872_6448) /* "HdrX" */ },
        .init("writes-past-header-end", "writes hardware_subarch into a header too old to have it (BP-04)") { t in t.zp(.hardwareSubarch, 1) },
        .init("accepts-zimage", "loads an image with LOADED_HIGH clear (BP-05)") { t in
            let lf = LoadFlags(rawValue: UInt8(t.snapshot.image.headerBytes.field(.loadflags)!)).subtracting(.loadedHigh); t.image(.loadflags, UInt64(lf.rawValue))
        },
        .init("long-entry-without-xlf", "uses the 64-bit entry of an image without XLF_KERNEL_64 (BP-06)") { t in
            t.clearXLoadFlags(.kernel64)
        },
        .init("high-without-xlf", "places boot data above 4 GiB for an image without XLF_CAN_BE_LOADED_ABOVE_4G (BP-07)") { t in
            t.clearXLoadFlags(.canBeLoadedAbove4G)
        },
        .init("la57-without-xlf", "hands over with CR4.LA57 to a kernel without XLF_5LEVEL (BP-08)") { t in
            t.clearXLoadFlags(.fiveLevel)
            t.snapshot.entry.cr4 |= EntryState.cr4LA57
        },
        .init("bad-kernel-info-offset", "loads an image whose kernel_info_offset points at no kernel_info (BP-09)") { t in
            t.image(.kernelInfoOffset, 0x10)
        },
        .init("modifies-init-size", "rewrites the read-only init_size (BP-10)") { t in t.zp(.initSize, 0x40_0000) },
    ]

    static let zeroPage: [LoaderFault] = [
        .init("copies-whole-setup-sector", "copies the image's boot sector into the zero page before filling its own fields: junk and sentinel 0xFF stay (BP-11, BP-12)") { t in
            let hb = t.snapshot.image.headerBytes
            let own: [Range<Int>] = [ZeroPage.Field.acpiRsdpAddr.range, ZeroPage.Field.extRamdiskImage.offset..<ZeroPage.Field.extCmdLinePtr.end, ZeroPage.Field.e820Entries.range]
            for o in 0..<SetupHeaderLayout.start where !own.contains(where: { $0.contains(o) }) { t.write(t.B + UInt64(o), [hb[o]]) }
        },
        .init("sentinel-left-set", "leaves sentinel 0xFF (BP-12)") { t in t.zp(.sentinel, 0xFF) },
        .init("type-of-loader-zero", "leaves type_of_loader 0: the kernel drops the initrd (BP-13)") { t in t.zp(.typeOfLoader, 0) },
        .init("sets-can-use-heap", "sets CAN_USE_HEAP for a 32/64-bit entry (BP-14)") { t in
            t.zp(.loadflags, t.zp(.loadflags) | UInt64(LoadFlags.canUseHeap.rawValue))
        },
        .init("drops-ext-ramdisk", "puts the initrd above 4 GiB but forgets ext_ramdisk_image (BP-15)") { t in t.zp(.extRamdiskImage, 0) },
        .init("bogus-rsdp", "points acpi_rsdp_addr at memory without an RSDP (BP-16)") { t in t.zp(.acpiRsdpAddr, 0x5000) },
        .init("zero-page-in-window", "puts boot_params inside the kernel window W (BP-17, BP-22)") { t in
            t.moveZeroPage(to: t.result.kernelWindow.end - 0x1000)
        },
        .init("subarch-not-pc", "sets hardware_subarch to Xen PV (BP-18)") { t in t.zp(.hardwareSubarch, 2) },
    ]

    static let placement: [LoaderFault] = [
        .init("corrupts-kernel", "copies the kernel with one byte wrong (BP-19)") { t in
            let a = t.snapshot.kernelAddress + 0x10; t.write(a, [t.read(a, 1)[0] ^ 0xFF])
        },
        .init("moves-fixed-kernel", "loads a non-relocatable kernel at 2 MiB instead of 1 MiB (BP-20)") { t in t.moveKernel(to: 0x20_0000) },
        .init("misaligns-kernel", "loads a relocatable kernel 4 KiB past its alignment (BP-21, BP-23)") { t in t.moveKernel(to: t.snapshot.kernelAddress + 0x1000) },
        .init("lowers-alignment-too-far", "writes kernel_alignment 0x1000, below 1<<min_alignment (BP-21)") { t in t.zp(.kernelAlignment, 0x1000) },
        .init("initrd-in-window", "puts the initrd inside W (BP-22, BP-34)") { t in t.moveInitrd(to: t.result.kernelWindow.end - 0x10_0000) },
        .init("ignores-pref-address", "loads the kernel 32 MiB above a free pref_address (BP-23)") { t in t.moveKernel(to: t.snapshot.kernelAddress + 0x200_0000) },
        .init("rsdp-in-ram", "places the RSDP in e820 RAM where KASLR may overwrite it (BP-24)") { t in
            t.write(0x5000, t.read(ReferenceLoader.rsdpAddress, 20)); t.zp(.acpiRsdpAddr, 0x5000)
        },
    ]

    static let data: [LoaderFault] = [
        .init("cmd-line-ptr-zero", "leaves cmd_line_ptr 0 (BP-26)") { t in t.zp(.cmdLinePtr, 0) },
        .init("unterminated-cmdline", "writes the command line without a NUL, filling the buffer (BP-27)") { t in
            let c = t.result.commandLine.address; t.write(c, [UInt8](repeating: 0x41, count: 0x1000))
        },
        .init("cmdline-at-end-of-ram", "puts the command line in the last bytes of RAM; the kernel's 2048-byte copy runs past it (BP-29)") { t in
            let c = t.result.layout.lowEnd - 0x20
            t.write(c, t.result.commandLine.bytes + [0]); t.zp(.cmdLinePtr, c)
        },
        .init("no-cl-magic", "passes a command line to a pre-2.02 kernel without cl_magic (BP-30)") { t in t.zp(.clMagic, 0) },
        .init("initrd-size-short", "writes ramdisk_size one byte short (BP-31)") { t in
            t.zp(.ramdiskSize, (t.result.initrd!.length - 1) & 0xFFFF_FFFF)
        },
        .init("initrd-above-max", "puts the initrd above initrd_addr_max (BP-32)") { t in t.moveInitrd(to: 0x8000_0000) },
        .init("initrd-unaligned", "puts the initrd 512 bytes past a page boundary (BP-33)") { t in t.moveInitrd(to: t.result.initrd!.start - 0x1000 + 0x200) },
        .init("e820-count-overflow", "claims 200 e820 entries (BP-35)") { t in t.zp(.e820Entries, 200) },
        .init("e820-unsorted", "swaps the first two e820 entries (BP-35)") { t in
            let e0 = t.B + UInt64(ZeroPage.e820Offset(0)), e1 = t.B + UInt64(ZeroPage.e820Offset(1))
            let a = t.read(e0, E820Entry.byteSize), b = t.read(e1, E820Entry.byteSize); t.write(e0, b); t.write(e1, a)
        },
        .init("e820-single-entry", "hands over a one-entry e820 map (BP-36)") { t in
            // The one entry the loader wrote; the slots after it stay zero, as in a zero page it built.
            let n = Int(t.zp(.e820Entries))
            t.write(t.B + UInt64(ZeroPage.e820Offset(1)), [UInt8](repeating: 0, count: E820Entry.byteSize * max(n - 1, 0))); t.zp(.e820Entries, 1)
        },
        .init("e820-wraps", "adds an entry that wraps past 2^64 (BP-37)") { t in
            let n = Int(t.zp(.e820Entries)); t.e820(n, E820Entry(address: 0xFFFF_FFFF_FFFF_F000, size: 0x2000, type: .reserved))
        },
        .init("e820-kernel-type", "emits the kernel-internal type 128 (BP-38)") { t in
            let n = Int(t.zp(.e820Entries)); t.e820(n, E820Entry(address: 0x1_0000_0000_0000, size: 0x1000, type: .reservedKern))
        },
        .init("legacy-hole-as-ram", "reports the BIOS area 0xF0000–0xFFFFF as RAM (BP-39)") { t in
            t.e820(2, E820Entry(address: RAMLayout.biosStart, size: RAMLayout.oneMiB - RAMLayout.biosStart, type: .ram))
        },
        .init("e820-omits-window", "ends RAM at 20 MiB, inside the kernel window and below the initrd (BP-40)") { t in
            t.e820(3, E820Entry(address: RAMLayout.oneMiB, size: 0x140_0000 - RAMLayout.oneMiB, type: .ram))
        },
        .init("e820-ram-in-pci-hole", "reports RAM from 1 MiB to 4 GiB, through the PCI hole the guest has no memory in (BP-92)") { t in
            t.e820(3, E820Entry(address: RAMLayout.oneMiB, size: RAMLayout.fourGiB - RAMLayout.oneMiB, type: .ram))
        },
        .init("e820-drops-high-ram", "hands over the map without its last entry, the RAM above 4 GiB (BP-92)") { t in
            let n = Int(t.zp(.e820Entries))
            guard n > 0 else { return }
            t.write(t.B + UInt64(ZeroPage.Field.e820Table.offset + (n - 1) * E820Entry.byteSize), [UInt8](repeating: 0, count: E820Entry.byteSize)); t.zp(.e820Entries, UInt64(n - 1))
        },
        .init("setup-data-after-kernel", "appends the setup_data node to the kernel image (L + image length, 16-byte aligned), inside the decompressor's window [L, L+init_size), as QEMU once did (BP-22, BP-41)") { t in
            let old = t.zp(.setupData), node = t.read(old, 16)
            let len = Int(node.u32(12) ?? 0), at = (t.snapshot.kernelAddress + t.snapshot.image.protectedModeLength + 15) & ~15
            t.write(at, t.read(old, 16 + len)); t.write(old, [UInt8](repeating: 0, count: 16 + len)); t.zp(.setupData, at)
        },
        .init("setup-data-cycle", "links the setup_data node to itself (BP-41)") { t in
            let a = t.zp(.setupData); t.put(a, a, 8)
        },
        .init("indirect-bad-length", "writes a SETUP_INDIRECT node with len 16 (BP-42)") { t in
            let a = t.zp(.setupData); t.put(a + 12, 16, 4)
        },
        .init("ignores-setup-type-max", "emits SETUP_RNG_SEED to a kernel whose setup_type_max is lower (BP-43)") { t in
            let node = SetupData.node(next: 0, type: .rngSeed, data: LoadOptions.corpusSeed)
            t.write(ReferenceLoader.setupDataAddress, node); t.zp(.setupData, ReferenceLoader.setupDataAddress)
        },
        .init("rng-seed-over-cmdline", "places the RNG seed node so that its bytes follow into the command line (BP-44)") { t in
            let c = t.result.commandLine.address
            t.write(c - 0x30, SetupData.node(next: 0, type: .rngSeed, data: LoadOptions.corpusSeed + [0x41]))
            t.zp(.setupData, c - 0x30)
        },
    ]

    static let entry: [LoaderFault] = [
        .init("real-mode-entry", "enters at the 16-bit setup entry with the real-mode part at 0x10000 (conforming 16-bit state)") { t in
            let x: UInt64 = 0x1_0000, seg = UInt16(x >> 4)
            // What a BIOS loader leaves at X: the image's real-mode part as in the file (the
            // record holds its first 0x290 bytes, boot sector included), with the header fields
            // the loader writes, taken from the zero page it built. The firmware's map (INT 15h)
            // is the layout's e820.
            var area = t.snapshot.image.headerBytes
            let start = SetupHeaderLayout.start
            let end = SetupHeaderLayout.declaredEnd(area).map { min($0, area.count) } ?? start
            if end > start { area.put(bytes: t.read(t.B + UInt64(start), end - start), at: start) }
            t.write(x, area)
            t.snapshot.firmwareMemoryMap = t.result.e820
            var e = EntryState(entryPoint: .setup16)
            e.cs = SegmentRegister(selector: seg + 0x20, base: UInt64(seg + 0x20) << 4, limit: 0xFFFF, type: 0xB, present: true, dpl: 0, db: false, s: true, l: false, g: false)
            let d = SegmentRegister(selector: seg, base: x, limit: 0xFFFF, type: 0x3, present: true, dpl: 0, db: false, s: true, l: false, g: false)
            e.ds = d; e.es = d; e.ss = d; e.fs = d; e.gs = d; e.rsp = 0xE000; e.rip = 0; e.cr0 = EntryState.cr0ET
            t.snapshot.entry = e
            t.zp(.heapEndPtr, 0xE000 - 0x200); t.zp(.loadflags, t.zp(.loadflags) | UInt64(LoadFlags.canUseHeap.rawValue)); t.zp(.code32Start, t.snapshot.kernelAddress)
            let c = x + 0xE000; t.write(c, t.result.commandLine.bytes + [0]); t.zp(.cmdLinePtr, c)
        },
        .init("real-mode-low-base", "puts the real-mode part below 0x10000 (BP-45)") { t in
            let x: UInt64 = 0x8000 // overrides the base chosen by real-mode-entry
            t.moveZeroPage(to: x)
            let seg = UInt16(x >> 4)
            t.snapshot.entry.cs.selector = seg + 0x20; t.snapshot.entry.ds.selector = seg; t.snapshot.entry.es.selector = seg; t.snapshot.entry.ss.selector = seg
        },
        .init("real-mode-wrong-ss", "enters the setup code with SS one paragraph off X>>4 (BP-46)") { t in t.snapshot.entry.ss.selector &+= 1 },
        .init("real-mode-stale-code32", "leaves code32_start at 0x100000 for a relocated kernel (BP-25)") { t in t.zp(.code32Start, 0x10_0000) },
        .init("enters-at-64-bit-offset-in-32", "jumps to L + 0x200 in 32-bit mode (BP-47)") { t in t.snapshot.entry.rip += 0x200 },
        .init("paging-on-at-32", "enters the 32-bit entry with CR0.PG set (BP-48)") { t in t.snapshot.entry.cr0 |= EntryState.cr0PG },
        .init("wrong-code-selector", "uses selector 0x08 for CS (BP-49, BP-55)") { t in t.snapshot.entry.cs.selector = 0x08 },
        .init("interrupts-on", "enters with IF = 1 (BP-50, BP-56, BP-61)") { t in t.snapshot.entry.rflags |= EntryState.rflagsIF },
        .init("ebx-nonzero", "leaves EBX = 1 at the 32-bit entry (BP-51)") { t in t.snapshot.entry.rbx = 1 },
        .init("initrd-high-at-32", "puts the initrd above 4 GiB for the 32-bit entry (BP-52, BP-07, BP-32)") { t in t.moveInitrd(to: 0x1_0010_0000) },
        .init("enters-startup-32-in-long-mode", "jumps to L (startup_32) in 64-bit mode (BP-53)") { t in t.snapshot.entry.rip = t.snapshot.kernelAddress },
        .init("no-long-mode", "leaves EFER.LME/LMA clear at the 64-bit entry (BP-54)") { t in t.snapshot.entry.efer = 0 },
        .init("code32-in-long-mode", "loads a 32-bit code descriptor for CS at the 64-bit entry (BP-55)") { t in
            t.put(ReferenceLoader.gdtAddress + 0x10, BootGDT.code32, 8)
            t.snapshot.entry.cs = t.segment(0x10, descriptor: BootGDT.code32)
        },
        .init("rsi-non-canonical", "passes a boot_params pointer no memory backs (BP-57)") { t in t.snapshot.entry.rsi = 0x8000_0000_0000_7000 },
        .init("maps-first-2mib-only", "identity-maps only the first 2 MiB (BP-58)") { t in
            t.write(ReferenceLoader.pageTableAddress + 0x2008, [UInt8](repeating: 0, count: 511 * 8))
        },
        .init("efi-handover-entry", "enters at the EFI handover entry without EFI (BP-59, BP-53)") { t in
            let hov = t.snapshot.image.headerBytes.field(.handoverOffset)!; t.snapshot.entry.rip = t.snapshot.kernelAddress + hov + 0x200
        },
    ]

    static let pvhAndElf: [LoaderFault] = [
        .init("pvh-wrong-entry", "enters 16 bytes past the PVH note's entry (BP-60)") { t in t.snapshot.entry.rip += 0x10 },
        .init("pvh-paging-on", "enters PVH with CR4.PAE set (BP-61)") { t in t.snapshot.entry.cr4 = EntryState.cr4PAE },
        .init("pvh-unterminated-cmdline", "leaves the PVH command line without a NUL (BP-62)") { t in
            t.write(ReferenceLoader.commandLineAddress, [UInt8](repeating: 0x41, count: 0x1000))
        },
        .init("pvh-version-0", "writes start_info version 0 (BP-63)") { t in t.put(t.result.startInfo! + 4, 0, 4) },
        .init("pvh-memmap-reserved", "leaves garbage in a memmap entry's reserved word (BP-64)") { t in
            let m = t.read(t.result.startInfo! + 40, 8).u64(0)!; t.put(m + 20, 0xDEAD, 4)
        },
        .init("pvh-module-high", "puts module 0 above 4 GiB (BP-65)") { t in t.put(t.result.startInfo! + 0x40, 0x1_0000_0000, 8) },
        .init("pvh-memmap-above-1g", "puts the memory map above 1 GiB (BP-66)") { t in
            let si = t.result.startInfo!, m = t.read(si + 40, 8).u64(0)!, n = Int(t.read(si + 48, 4).u32(0)!)
            t.write(0x4000_0000, t.read(m, n * 24)); t.put(si + 40, 0x4000_0000, 8)
        },
        .init("pvh-bad-magic", "writes a wrong start_info magic (BP-67)") { t in t.put(t.result.startInfo!, 0x336E_C579, 4) },
        .init("pvh-misaligned-relocation", "moves a PVH kernel by 1 MiB though the note asks for 2 MiB alignment (BP-68)") { t in t.moveKernel(to: t.snapshot.kernelAddress + 0x10_0000) },
        .init("pvh-single-memmap-entry", "hands over a one-entry memory map (BP-69)") { t in t.put(t.result.startInfo! + 48, 1, 4) },
        .init("elf-wrong-entry", "enters the ELF 16 bytes past e_entry (BP-70)") { t in t.snapshot.entry.rip += 0x10 },
        .init("elf-moved-1mib", "moves an ELF vmlinux by 1 MiB for the direct 64-bit entry (BP-71)") { t in t.moveKernel(to: t.snapshot.kernelAddress + 0x10_0000) },
        .init("elf-type-of-loader-zero", "builds the ELF zero page without type_of_loader (BP-72, BP-13)") { t in t.zp(.typeOfLoader, 0) },
    ]

    /// A loader that skipped a §4.13 check and loaded the file anyway; the image record holds
    /// the file as it was (BP-73…BP-77).
    static let elfFile: [LoaderFault] = [
        .init("elf-loads-i386", "loads an ELF whose e_machine (0x12) is 3, EM_386 (BP-73)") { t in t.snapshot.image.headerBytes.put16(3, at: 18) },
        .init("elf-loads-short-phentsize", "loads an ELF whose e_phentsize (0x36) is 32, not sizeof Elf64_Phdr (BP-74)") { t in t.snapshot.image.headerBytes.put16(32, at: 54) },
        .init("elf-loads-odd-alignment", "loads an ELF whose first PT_LOAD has p_align 0x300000, no power of two (BP-75)") { t in
            let table = t.snapshot.image.programHeaders
            guard let i = (0..<(table.count / 56)).first(where: { table.u32($0 * 56) == 1 }) else { return }
            t.snapshot.image.programHeaders.put64(0x30_0000, at: i * 56 + 48)
        },
        .init("elf-enters-outside-segments", "loads an ELF whose e_entry, 0x1000, lies outside every PT_LOAD, and enters there (BP-76; linux-loader's test_elf.bin)") { t in
            let delta = t.snapshot.kernelAddress &- (t.snapshot.image.segments.map(\.paddr).min() ?? t.snapshot.kernelAddress)
            t.snapshot.image.headerBytes.put64(0x1000, at: 24)
            t.snapshot.image.elfEntry = 0x1000
            t.snapshot.entry.rip = 0x1000 &+ delta
        },
        .init("elf-loads-note-past-segment", "loads an ELF whose first note's descsz runs past its PT_NOTE (BP-77)") { t in
            guard var segs = t.snapshot.image.noteSegments, var first = segs.first?.bytes, first.count >= 12 else { return }
            first.put32(UInt32(first.count), at: 4)
            segs[0] = ImageRecord.NoteSegment(offset: segs[0].offset, bytes: first)
            t.snapshot.image.noteSegments = segs
        },
    ]
}
