/// The reference loader: places an ELF vmlinux or a bzImage in guest memory the way the boot
/// protocol asks, builds the boot parameters, and describes the entry state as data.
///
/// Fixed low-memory layout (below the EBDA at 0x9FC00):
///
/// | Address | What |
/// |---|---|
/// | 0x00500 | boot GDT (null, null, 0x10 code, 0x18 data, 0x20 TSS) |
/// | 0x06000 | setup_data chain, or PVH start_info + module list + memory map |
/// | 0x07000 | zero page (boot_params) |
/// | 0x08FF0 | initial stack pointer |
/// | 0x09000 | identity page tables (PML4, PDPT, one PD per GiB, up to 16 GiB) |
/// | 0x20000 | command line |
/// | 0x10000 | 16-bit entry: the real-mode part (protocol 2.02+), heap to 0x1E000, command line at 0x1E000 |
/// | 0x90000 | zero page for protocol < 2.02, command line at 0x99800 (BP-30, BP-45); 16-bit entry: the real-mode part |
/// | 0xF0000 | ACPI RSDP when asked for (reserved BIOS area) |
public enum ReferenceLoader {
    public static let gdtAddress: UInt64 = 0x500
    public static let setupDataAddress: UInt64 = 0x6000
    public static let zeroPageAddress: UInt64 = 0x7000
    public static let stackPointer: UInt64 = 0x8FF0
    public static let pageTableAddress: UInt64 = 0x9000
    public static let commandLineAddress: UInt64 = 0x2_0000
    public static let oldZeroPageAddress: UInt64 = 0x9_0000
    public static let oldCommandLineOffset: UInt64 = 0x9800
    /// 16-bit entry, protocol 2.02+: the real-mode part at 0x10000, its heap (and SP) ending at
    /// X+0xE000, the command line there (BOOT "Sample Boot Configuration").
    public static let realModeAddress: UInt64 = 0x1_0000
    public static let realModeHeapEnd: UInt64 = 0xE000
    public static let rsdpAddress: UInt64 = 0xF_0000
    /// High placement: everything the loader places above 4 GiB starts here.
    public static let highBase: UInt64 = 1 << 32
    /// Page tables map at most this much (the kernel builds its own beyond).
    public static let maximumIdentityMap: UInt64 = 16 << 30
    /// The 0x37FFFFFF ceiling for initrds before protocol 2.03, and the default for ELF images.
    public static let elfInitrdCeiling: UInt64 = 0x7FFF_FFFF
    /// 4 KiB pages.
    static let page: UInt64 = 4096
    /// Largest RNG seed passed in setup_data (the kernel uses 32 bytes).
    public static let maximumSeedSize = 256

    public static func load(kernel: some ByteSource, initrd: (any ByteSource)? = nil, options: LoadOptions = LoadOptions()) throws(LoadError) -> LoadResult {
        let image: KernelImage
        do { image = try KernelImage(source: kernel) } catch { throw .image(error) }
        let layout: RAMLayout
        do { layout = try RAMLayout(size: options.memorySize) } catch { throw .memory(error) }
        let memory: GuestMemory
        do { memory = try GuestMemory(ranges: layout.slots) } catch { throw .memory(error) }
        var b = Builder(memory: memory, layout: layout, options: options, warnings: image.warnings)
        switch image {
        case .bzImage(let bz): return try b.loadBzImage(bz, image: image, source: kernel, initrd: initrd)
        case .elf(let elf): return try b.loadElf(elf, image: image, source: kernel, initrd: initrd)
        }
    }
}

/// One load in progress.
struct Builder {
    let memory: GuestMemory
    let layout: RAMLayout
    let options: LoadOptions
    var warnings: [Warning]
    var regions: [Region] = []
    var e820: [E820Entry] { layout.e820 }

    init(memory: GuestMemory, layout: RAMLayout, options: LoadOptions, warnings: [Warning]) {
        self.memory = memory; self.layout = layout; self.options = options; self.warnings = warnings
    }

    typealias L = ReferenceLoader

    func inRAM(_ r: AddressRange) -> Bool { e820.contains { $0.type == .ram && ($0.range?.contains(r) ?? false) } }

    /// [address, +length) of guest RAM for `name`, or BP-40's refusal: every boot object lies
    /// in RAM, and a range that wraps past 2^64 lies nowhere.
    func guestRange(_ address: UInt64, length: UInt64, _ name: String) throws(LoadError) -> AddressRange {
        guard let r = AddressRange.make(address, length: length), memory.slots.contains(where: { $0.range.contains(r) }) else {
            throw .refuse("BP-40", name, expected: "[\(hex(address)), +\(hex(length))) inside guest RAM \(memory.slots.map(\.range.description).joined(separator: ", "))",
                          found: AddressRange.make(address, length: length).map { "\($0), outside it" } ?? "\(hex(address)) + \(hex(length)) wraps past 2^64")
        }
        return r
    }

    mutating func put(_ bytes: [UInt8], at address: UInt64, name: String) throws(LoadError) {
        let r = try guestRange(address, length: UInt64(bytes.count), name)
        do { try memory.write(bytes, at: address, what: name) } catch { throw .memory(error) }
        regions.append(Region(name: name, range: r))
    }

    mutating func copy(from source: some ByteSource, offset: UInt64, length: UInt64, to address: UInt64, name: String) throws(LoadError) {
        guard length > 0 else { return }
        let r = try guestRange(address, length: length, name)
        let p: UnsafeMutableRawPointer
        do { p = try memory.hostPointer(address, length: length, what: name) } catch { throw .memory(error) }
        do { try source.copy(at: offset, count: Int(length), into: p) } catch { throw .source(error) }
        regions.append(Region(name: name, range: r))
    }

    // MARK: bzImage

    mutating func loadBzImage(_ bz: BzImage, image: KernelImage, source: some ByteSource, initrd: (any ByteSource)?) throws(LoadError) -> LoadResult {
        let h = bz.header
        let v = h.version
        // Entry choice (BP-06, BP-59; 16-bit and PVH are not bzImage paths for a VMM).
        let canLong = v >= ProtocolVersion(2, 12) && h.xloadFlags.contains(.kernel64)
        let entry: EntryPoint
        switch options.entry {
        case nil:
            entry = canLong ? .long64 : .protected32
            if !canLong { warnings.append(Warning(rule: "BP-06", message: "no 64-bit entry (protocol \(v), xloadflags \(h.xloadFlags)); using the 32-bit entry")) }
        case .long64?:
            guard canLong else {
                throw .refuse("BP-06", "xloadflags", offset: 0x236, expected: "protocol ≥ 2.12 and XLF_KERNEL_64 for the 64-bit entry", found: "protocol \(v), xloadflags \(h.xloadFlags)")
            }
            entry = .long64
        case .protected32?: entry = .protected32
        case .pvh?: throw .refuse("BP-60", "entry", expected: "an ELF vmlinux with a Xen PVH note for --entry pvh (a bzImage has none)", found: "--entry pvh for a bzImage")
        case .setup16?:
            // The 16-bit entry as a BIOS loader uses it (BP-25, BP-45, BP-46): the real-mode part
            // at X, header fields written there; the firmware (HarnessKVM's INT 15h) serves the
            // memory map and the kernel's setup code builds boot_params.
            guard h.bytes.field(.header) == UInt64(BzImage.headerMagic) else {
                throw .refuse("BP-03", "header", offset: 0x202, expected: "\"HdrS\" (\(hex(BzImage.headerMagic))) for the 16-bit entry", found: h.bytes.field(.header).map { hex($0) } ?? "no header")
            }
            entry = .setup16
        case .efiHandover32?, .efiHandover64?, .efiStub?:
            throw .refuse("BP-59", "entry", expected: "16, 32 or 64: the EFI entries need UEFI boot services, and the reference loader is a VMM loader", found: "--entry \(options.entry?.rawValue ?? "")")
        }
        // BP-07: anything above 4 GiB needs the 64-bit entry and XLF_CAN_BE_LOADED_ABOVE_4G.
        let mayGoHigh = entry == .long64 && h.xloadFlags.contains(.canBeLoadedAbove4G)
        if options.highPlacement {
            guard mayGoHigh else {
                throw .refuse("BP-07", "xloadflags", offset: 0x236, expected: "XLF_CAN_BE_LOADED_ABOVE_4G and the 64-bit entry to place boot data above 4 GiB", found: "xloadflags \(h.xloadFlags), entry \(entry.rawValue)")
            }
            guard layout.highRange != nil else {
                throw .refuse("BP-07", "guest RAM", expected: "RAM above 4 GiB for high placement (--memory larger than 3 GiB)", found: "\(hex(layout.size)) bytes, all below 4 GiB")
            }
        }

        // Kernel placement (BP-20…BP-23).
        let relocatable = h.relocatable
        let align = UInt64(h.kernelAlignment ?? 0)
        let pref = h.preferredAddress
        var kernelAt: UInt64
        if let want = options.kernelAddress {
            if !relocatable {
                guard want == RAMLayout.oneMiB else {
                    throw .refuse("BP-20", "kernel address", expected: "0x100000: the kernel is not relocatable (relocatable_kernel at 0x234 = 0, or protocol \(v) < 2.05)", found: hex(want))
                }
            } else if want % align != 0 {
                throw .refuse("BP-21", "kernel address", expected: "a multiple of kernel_alignment (0x230) = \(hex(align))", found: hex(want))
            }
            kernelAt = want
        } else if !relocatable {
            kernelAt = RAMLayout.oneMiB
        } else if let pref {
            guard let up = pref.alignedUp(max(align, 1)) else {
                throw .refuse("BP-22", "pref_address", offset: 0x258, expected: "an address that aligns up to kernel_alignment \(hex(align)) below 2^64", found: hex(pref))
            }
            kernelAt = up
        } else {
            kernelAt = RAMLayout.oneMiB.alignedUp(align) ?? RAMLayout.oneMiB
        }
        let pmLength = bz.protectedModeLength
        // W (BP-22): runtime start and init_size; before 2.10 there is no init_size, so keep a
        // generous window: four times the image, at least 32 MiB (spec §3, 2.10 row).
        let window: AddressRange
        if let initSize = h.initSize, let pref {
            guard let rt = relocatable ? max(kernelAt, pref).alignedUp(max(align, 1)) : pref else {
                throw .refuse("BP-22", "kernel address", expected: "align_up(max(L, pref_address \(hex(pref))), kernel_alignment \(hex(align))) below 2^64", found: hex(kernelAt))
            }
            guard let w = AddressRange.make(rt, length: UInt64(initSize)) else {
                throw .refuse("BP-22", "init_size", offset: 0x260, expected: "runtime start \(hex(rt)) + init_size below 2^64", found: "\(hex(initSize)), which wraps")
            }
            window = w
        } else {
            let est = max(pmLength.multipliedReportingOverflow(by: 4).partialValue, 32 << 20)
            guard let w = AddressRange.make(kernelAt, length: est) else {
                throw .refuse("BP-22", "kernel address", expected: "L + \(hex(est)) (the window kept for a kernel without init_size) below 2^64", found: hex(kernelAt))
            }
            window = w
            warnings.append(Warning(rule: "BP-22", message: "protocol \(v) has no init_size; keeping \(window) clear for the kernel"))
        }
        let ram = e820.filter { $0.type == .ram }.map(\.description).joined(separator: ", ")
        guard let pmRange = AddressRange.make(kernelAt, length: pmLength), inRAM(pmRange) else {
            throw .refuse("BP-22", "protected-mode image", expected: "[L, L+\(hex(pmLength))) inside guest RAM \(ram)",
                          found: AddressRange.make(kernelAt, length: pmLength).map { "\($0), which does not fit" } ?? "L = \(hex(kernelAt)), whose end wraps past 2^64")
        }
        guard inRAM(window) else {
            throw .refuse("BP-22", h.initSize == nil ? "kernel window (no init_size)" : "init_size", offset: h.initSize == nil ? nil : 0x260,
                          expected: "W inside guest RAM \(ram) (give the guest more memory)", found: "W = \(window)")
        }
        // The first MiB holds the boot data this loader places at fixed addresses (GDT 0x500,
        // zero page 0x7000, page tables 0x9000, command line 0x20000), the EBDA and the legacy
        // hole: a kernel that would run there (a non-relocatable one whose pref_address is
        // below 1 MiB) would overwrite them, so W must start at 1 MiB or above.
        if window.start < RAMLayout.oneMiB {
            throw .refuse("BP-22", "pref_address", offset: 0x258, expected: "a kernel window W at or above 1 MiB, clear of this loader's boot data and the legacy hole",
                          found: "\(hex(pref ?? 0)) (relocatable_kernel at 0x234 = \(relocatable ? 1 : 0)): W = \(window)")
        }
        if entry == .protected32 || !mayGoHigh, window.end > RAMLayout.fourGiB {
            throw .refuse(entry == .protected32 ? "BP-52" : "BP-07", "kernel window", expected: "below 4 GiB (\(entry == .protected32 ? "32-bit entry" : "no XLF_CAN_BE_LOADED_ABOVE_4G"))", found: "W = \(window)")
        }
        // With high placement the boot data sit at fixed addresses from 4 GiB (zero page,
        // setup_data, command line; the initrd at 4 GiB + 1 MiB): a kernel whose window reaches
        // there (pref_address at or just below 4 GiB) would overwrite them.
        if options.highPlacement, let high = AddressRange.make(L.highBase, length: 0x10_0000 + (initrd?.size ?? 0)), window.overlaps(high) {
            throw .refuse("BP-22", "pref_address", offset: 0x258, expected: "a kernel window W clear of the high boot data \(high) (drop --high or move the kernel with --kernel-address)",
                          found: "\(hex(pref ?? 0)): W = \(window)")
        }

        // Command line (BP-26…BP-30).
        let limitField = v >= ProtocolVersion(2, 6) ? ZeroPage.Field.cmdlineSize.name : "255 before protocol 2.06"
        let limitOffset = v >= ProtocolVersion(2, 6) ? UInt64(ZeroPage.Field.cmdlineSize.offset) : nil
        let oldProtocol = v < ProtocolVersion(2, 2)
        let cmd: KernelCommandLine
        do {
            cmd = try KernelCommandLine(options.commandLine, limit: h.commandLineLimit, limitField: limitField, limitOffset: limitOffset)
        } catch { throw .commandLine(error) }
        let zeroPage: UInt64
        let cmdAt: UInt64
        var setupDataAt: UInt64
        if entry == .setup16 {
            // X = 0x90000 before 2.02 (the kernel uses that segment), else 0x10000; the command
            // line sits just above the setup heap (BOOT "Sample Boot Configuration").
            zeroPage = oldProtocol ? L.oldZeroPageAddress : L.realModeAddress
            cmdAt = zeroPage + (oldProtocol ? L.oldCommandLineOffset : L.realModeHeapEnd)
            setupDataAt = L.setupDataAddress
        } else if oldProtocol {
            zeroPage = L.oldZeroPageAddress; cmdAt = L.oldZeroPageAddress + L.oldCommandLineOffset; setupDataAt = 0
        } else if options.highPlacement {
            zeroPage = L.highBase; setupDataAt = L.highBase + 0x1000; cmdAt = L.highBase + 0x2000
        } else {
            zeroPage = L.zeroPageAddress; cmdAt = L.commandLineAddress; setupDataAt = L.setupDataAddress
        }
        // BP-29: the kernel copies 2048 bytes (or cmdline_size+1) whatever the string length.
        let cmdBuffer = max(2048, min(UInt64(h.commandLineLimit) + 1, 0x7_0000))
        if let buffer = AddressRange.make(cmdAt, length: cmdBuffer), inRAM(buffer), !buffer.overlaps(window) {} else {
            warnings.append(Warning(rule: "BP-29", message: "cmdline_size \(hex(h.commandLineLimit)) asks for a \(hex(cmdBuffer))-byte buffer at \(hex(cmdAt)) that does not fit in RAM outside W"))
        }

        // Protected-mode image, byte for byte (BP-19).
        try copy(from: source, offset: bz.protectedModeOffset, length: pmLength, to: kernelAt, name: "kernel")

        // Initrd (BP-31…BP-34). BP-32: initrd_addr_max binds, except at the 64-bit entry of a
        // kernel with XLF_CAN_BE_LOADED_ABOVE_4G (the bit that lets the ramdisk sit above 4 GiB,
        // spec §1.4; XLF_KERNEL_64 alone does not), where the limit is lifted: kexec places the
        // initrd anywhere, QEMU raises the cap to 4 GiB − 1. Without high placement the boot
        // data stays below 4 GiB, so the lifted cap is 4 GiB − 1.
        var initrdRange: AddressRange? = nil
        if let initrd {
            let ceiling = mayGoHigh ? RAMLayout.fourGiB - 1 : UInt64(h.initrdAddressMax)
            let field: (String, UInt64?) = mayGoHigh ? ("4 GiB − 1: initrd_addr_max is lifted at the 64-bit entry with XLF_CAN_BE_LOADED_ABOVE_4G", nil)
                : v >= ProtocolVersion(2, 3) ? ("initrd_addr_max", 0x22C) : ("0x37FFFFFF before protocol 2.03", nil)
            initrdRange = try placeInitrd(initrd, window: window, ceiling: ceiling, ceilingField: field)
        }

        if entry == .setup16 {
            return try loadRealMode(bz, image: image, source: source, kernelAt: kernelAt, window: window, x: zeroPage, cmd: cmd, cmdAt: cmdAt,
                                    setupDataAt: setupDataAt, initrd: initrdRange)
        }

        // Zero page (BP-11…BP-18): zeroed, header copied by its declared extent, loader fields.
        var zp = [UInt8](repeating: 0, count: ZeroPage.size)
        zp.put(bytes: Array(h.bytes[SetupHeaderLayout.start..<h.headerEnd]), at: SetupHeaderLayout.start)
        zp.put(UInt64(options.typeOfLoader), .typeOfLoader)
        var lf = h.loadFlags.intersection(.loadedHigh)
        if cmd.text.split(separator: 0x20).contains(where: { Array($0) == Array("quiet".utf8) }) { lf.insert(.quiet) }
        zp.put(UInt64(lf.rawValue), .loadflags)
        if oldProtocol {
            // BP-30: cl_magic / cl_offset, and setup_move_size covering the command line.
            zp.put(0xA33F, .clMagic); zp.put(L.oldCommandLineOffset, .clOffset)
            zp.put(L.oldCommandLineOffset + UInt64(cmd.terminated.count), .setupMoveSize)
        } else {
            // The low halves; the high halves go in the ext_* fields from 2.12 (BP-15).
            zp.put(cmdAt, .cmdLinePtr)
            if v >= ZeroPage.Field.extCmdLinePtr.since! { zp.put(cmdAt >> 32, .extCmdLinePtr) }
        }
        if let r = initrdRange {
            zp.put(r.start, .ramdiskImage); zp.put(r.length, .ramdiskSize)
            if v >= ZeroPage.Field.extRamdiskImage.since! { zp.put(r.start >> 32, .extRamdiskImage); zp.put(r.length >> 32, .extRamdiskSize) }
        }
        if v >= ZeroPage.Field.hardwareSubarch.since! { zp.put(0, .hardwareSubarch); zp.put(0, .hardwareSubarchData) }  // BP-18: PC subarch
        writeE820(into: &zp)
        if options.acpiRSDP { zp.put(try writeRSDP(), .acpiRsdpAddr) }

        // setup_data (BP-41…BP-43).
        if let seed = options.rngSeed {
            if v < ProtocolVersion(2, 9) {
                warnings.append(Warning(rule: "BP-41", message: "protocol \(v) < 2.09 has no setup_data; RNG seed not passed"))
            } else if let first = try writeSetupData(seed: seed, at: setupDataAt, kernelInfo: bz.kernelInfo, version: v) {
                zp.put(first, .setupData)
            }
        }
        try put(zp, at: zeroPage, name: "zero_page")
        try put(cmd.terminated, at: cmdAt, name: "cmdline")

        // Entry state (BP-47…BP-58).
        var state: EntryState
        if entry == .long64 {
            state = try longModeState(rip: kernelAt + 0x200, bootParams: zeroPage)
        } else {
            state = try protectedModeState(eip: kernelAt, entry: .protected32)
            state.rsi = zeroPage
        }
        return LoadResult(memory: memory, layout: layout, image: image, entry: state, kernelAddress: kernelAt, kernelWindow: window, bootParams: zeroPage, startInfo: nil, commandLine: (cmdAt, cmd.text), initrd: initrdRange, e820: e820, regions: regions, warnings: warnings)
    }

    /// The 16-bit entry: the image's real-mode part ((setup_sects'+1)*512 bytes of the file) at
    /// X with the header fields a BIOS loader writes (type_of_loader, loadflags with
    /// CAN_USE_HEAP, heap_end_ptr, cmd_line_ptr or cl_magic/cl_offset, ramdisk, code32_start,
    /// setup_data), and the real-mode entry state: CS = (X>>4)+0x20, IP = 0, DS = ES = SS = FS =
    /// GS = X>>4, SP = heap end, IF = 0 (BP-25, BP-45, BP-46). No zero page and no e820: the
    /// kernel's setup code builds boot_params and asks the firmware for the map.
    mutating func loadRealMode(_ bz: BzImage, image: KernelImage, source: some ByteSource, kernelAt: UInt64, window: AddressRange, x: UInt64,
                               cmd: KernelCommandLine, cmdAt: UInt64, setupDataAt: UInt64, initrd: AddressRange?) throws(LoadError) -> LoadResult {
        let h = bz.header, v = h.version
        let oldProtocol = v < ProtocolVersion(2, 2)
        var rm: [UInt8]
        do { rm = try source.read(at: 0, count: Int(bz.protectedModeOffset)) } catch { throw .source(error) }
        let heapEnd = oldProtocol ? L.oldCommandLineOffset : L.realModeHeapEnd
        /// Writes `f` only where the image's header holds it.
        func field(_ f: ZeroPage.Field, _ value: UInt64) {
            guard f.end <= h.headerEnd else { return }
            rm.put(value, f)
        }
        field(.typeOfLoader, UInt64(options.typeOfLoader))
        var lf = h.loadFlags.intersection(.loadedHigh)
        if cmd.text.split(separator: 0x20).contains(where: { Array($0) == Array("quiet".utf8) }) { lf.insert(.quiet) }
        if v >= ProtocolVersion(2, 1) { lf.insert(.canUseHeap); field(.heapEndPtr, heapEnd - 0x200) }
        field(.loadflags, UInt64(lf.rawValue))
        if oldProtocol {
            // BP-30: cl_magic / cl_offset in the boot sector's screen_info slots; X is 0x90000,
            // so nothing is moved and setup_move_size stays the image's.
            rm.put(0xA33F, .clMagic); rm.put(cmdAt - x, .clOffset)
        } else {
            field(.cmdLinePtr, cmdAt)
        }
        if let r = initrd { field(.ramdiskImage, r.start); field(.ramdiskSize, r.length) }
        field(.code32Start, kernelAt)
        if v >= ProtocolVersion(2, 7) { field(.hardwareSubarch, 0); field(.hardwareSubarchData, 0) }
        if let seed = options.rngSeed, v >= ProtocolVersion(2, 9), let first = try writeSetupData(seed: seed, at: setupDataAt, kernelInfo: bz.kernelInfo, version: v) {
            field(.setupData, first)
        }
        if options.acpiRSDP { _ = try writeRSDP() }   // found by the kernel's scan; no boot_params field at this entry
        try put(rm, at: x, name: "real_mode")
        try put(cmd.terminated, at: cmdAt, name: "cmdline")
        let seg = UInt16(x >> 4)
        var s = EntryState(entryPoint: .setup16)
        s.cs = SegmentRegister(selector: seg + 0x20, base: UInt64(seg + 0x20) << 4, limit: 0xFFFF, type: 0xB, present: true, dpl: 0, db: false, s: true, l: false, g: false)
        let data = SegmentRegister(selector: seg, base: x, limit: 0xFFFF, type: 0x3, present: true, dpl: 0, db: false, s: true, l: false, g: false)
        s.ds = data; s.es = data; s.ss = data; s.fs = data; s.gs = data
        s.rip = 0; s.rsp = heapEnd; s.cr0 = EntryState.cr0ET
        s.idtr = TableRegister(base: 0, limit: 0x3FF)   // the real-mode interrupt vector table
        return LoadResult(memory: memory, layout: layout, image: image, entry: s, kernelAddress: kernelAt, kernelWindow: window, bootParams: x, startInfo: nil,
                          commandLine: (cmdAt, cmd.text), initrd: initrd, e820: e820, regions: regions, warnings: warnings)
    }

    // MARK: ELF vmlinux (direct 64-bit entry, BP-70…BP-72; PVH, BP-60…BP-69)

    mutating func loadElf(_ elf: ElfImage, image: KernelImage, source: some ByteSource, initrd: (any ByteSource)?) throws(LoadError) -> LoadResult {
        let entry = options.entry ?? .long64
        switch entry {
        case .long64, .pvh: break
        case .protected32: throw .refuse("BP-47", "entry", expected: "64 or pvh: an ELF vmlinux has no 32-bit boot-protocol entry", found: "--entry 32")
        case .setup16: throw .refuse("BP-45", "entry", expected: "64 or pvh: an ELF vmlinux has no 16-bit setup code", found: "--entry 16")
        case .efiHandover32, .efiHandover64, .efiStub: throw .refuse("BP-59", "entry", expected: "64 or pvh: an ELF vmlinux has no EFI entry (the EFI stub is in the bzImage)", found: "--entry \(entry.rawValue)")
        }
        if entry == .pvh, elf.pvhEntry == nil {
            throw .refuse("BP-60", "PT_NOTE", expected: "a PVH entry note (owner \"Xen\", type 18) to enter through PVH", found: "none among \(elf.notes.count) notes")
        }
        if options.highPlacement {
            throw .refuse(entry == .pvh ? "BP-65" : "BP-07", "high placement", expected: "off: only a bzImage's XLF_CAN_BE_LOADED_ABOVE_4G allows boot data above 4 GiB, and an ELF vmlinux has no xloadflags", found: "on")
        }
        // Relocation delta (BP-68, BP-71).
        var delta: UInt64 = 0
        var window = elf.physicalRange
        if let want = options.kernelAddress, want != elf.physicalStart {
            guard want > elf.physicalStart else { throw .refuse("BP-71", "kernel address", expected: "at or above p_paddr \(hex(elf.physicalStart)) (moving the kernel down is not supported)", found: hex(want)) }
            delta = want - elf.physicalStart
            guard let moved = AddressRange.make(want, length: elf.physicalRange.length) else {
                throw .refuse(entry == .pvh ? "BP-68" : "BP-71", "kernel address", expected: "an address where the \(hex(elf.physicalRange.length))-byte image ends below 2^64", found: hex(want))
            }
            window = moved
            if entry == .pvh {
                guard let r = elf.relocation else {
                    throw .refuse("BP-68", "PT_NOTE", expected: "a XEN_ELFNOTE_PHYS32_RELOC (type 19) note to move the image from p_paddr \(hex(elf.physicalStart))", found: "none; kernel address \(hex(want))")
                }
                guard delta % r.alignment == 0, want >= r.minimum, window.end - 1 <= r.maximum else {
                    throw .refuse("BP-68", "kernel address", expected: "a move by a multiple of \(hex(r.alignment)), start ≥ \(hex(r.minimum)), last byte ≤ \(hex(r.maximum)) (the type-19 note)",
                                  found: "\(hex(want)): delta \(hex(delta)), last byte \(hex(window.end - 1))")
                }
            } else if delta % 0x20_0000 != 0 {
                throw .refuse("BP-71", "kernel address", expected: "p_paddr \(hex(elf.physicalStart)) + a multiple of 2 MiB (or __startup_64 spins forever)", found: "\(hex(want)): delta \(hex(delta))")
            }
        }
        guard inRAM(window) else {
            throw .refuse("BP-22", "PT_LOAD segments", expected: "inside guest RAM (\(hex(layout.size)) bytes)", found: window.description)
        }
        if entry == .pvh, window.end > RAMLayout.fourGiB { throw .refuse("BP-61", "PT_LOAD segments", expected: "below 4 GiB: PVH starts in 32-bit mode", found: window.description) }
        for s in elf.segments {
            try copy(from: source, offset: s.offset, length: s.fileSize, to: s.paddr + delta, name: "kernel.phdr\(s.index)")
            // [p_filesz, p_memsz) is BSS: fresh guest memory is already zero, so nothing is written.
            if s.memorySize > s.fileSize {
                regions.append(Region(name: "kernel.phdr\(s.index).bss", range: try guestRange(s.paddr + delta + s.fileSize, length: s.memorySize - s.fileSize, "kernel.phdr\(s.index).bss")))
            }
        }
        let cmd: KernelCommandLine
        do { cmd = try KernelCommandLine(options.commandLine, limit: 0x7FF, limitField: "COMMAND_LINE_SIZE − 1") } catch { throw .commandLine(error) }
        let cmdAt = L.commandLineAddress
        var initrdRange: AddressRange? = nil
        if let initrd {
            initrdRange = try placeInitrd(initrd, window: window, ceiling: L.elfInitrdCeiling, ceilingField: ("0x7FFFFFFF (an ELF has no initrd_addr_max)", nil))
        }
        try put(cmd.terminated, at: cmdAt, name: "cmdline")

        if entry == .pvh {
            // start_info, module list and memory map together below 1 GiB (BP-62…BP-66).
            let si = L.setupDataAddress, modlist = si + 0x40, memmapAt = si + 0x80
            let map = e820
            var modules: UInt32 = 0
            if let r = initrdRange {
                try put(StartInfo.module(address: r.start, size: r.length), at: modlist, name: "pvh.modlist"); modules = 1
            }
            try put(StartInfo.memmap(map), at: memmapAt, name: "pvh.memmap")
            let rsdp = options.acpiRSDP ? try writeRSDP() : 0
            try put(StartInfo.bytes(nrModules: modules, modlist: modules > 0 ? modlist : 0, cmdline: cmdAt, rsdp: rsdp, memmap: memmapAt, memmapEntries: UInt32(map.count)), at: si, name: "pvh.start_info")
            var state = try protectedModeState(eip: UInt64(elf.pvhEntry!) + delta, entry: .pvh)
            state.rbx = si
            state.rsp = 0
            state.fs = .unusable; state.gs = .unusable
            return LoadResult(memory: memory, layout: layout, image: image, entry: state, kernelAddress: window.start, kernelWindow: window, bootParams: nil, startInfo: si, commandLine: (cmdAt, cmd.text), initrd: initrdRange, e820: map, regions: regions, warnings: warnings)
        }

        // Zero page from scratch (BP-72): an ELF has no setup header to copy.
        // Below 4 GiB (no high placement for an ELF), so the low halves hold every address.
        var zp = [UInt8](repeating: 0, count: ZeroPage.size)
        zp.put(UInt64(BzImage.bootFlag), .bootFlag)
        zp.put(UInt64(BzImage.headerMagic), .header)     // "HdrS"
        zp.put(UInt64(ProtocolVersion(2, 12).rawValue), .version)
        zp.put(UInt64(options.typeOfLoader), .typeOfLoader)
        zp.put(UInt64(LoadFlags.loadedHigh.rawValue), .loadflags)
        zp.put(cmdAt, .cmdLinePtr)
        zp.put(0x7FF, .cmdlineSize)                        // COMMAND_LINE_SIZE - 1
        if let r = initrdRange { zp.put(r.start, .ramdiskImage); zp.put(r.length, .ramdiskSize) }
        writeE820(into: &zp)
        if options.acpiRSDP { zp.put(try writeRSDP(), .acpiRsdpAddr) }
        if let seed = options.rngSeed, let first = try writeSetupData(seed: seed, at: L.setupDataAddress, kernelInfo: nil, version: ProtocolVersion(2, 12)) {
            zp.put(first, .setupData)
        }
        try put(zp, at: L.zeroPageAddress, name: "zero_page")
        let state = try longModeState(rip: elf.entry + delta, bootParams: L.zeroPageAddress)
        return LoadResult(memory: memory, layout: layout, image: image, entry: state, kernelAddress: window.start, kernelWindow: window, bootParams: L.zeroPageAddress, startInfo: nil, commandLine: (cmdAt, cmd.text), initrd: initrdRange, e820: e820, regions: regions, warnings: warnings)
    }

    // MARK: pieces shared by the formats

    /// The initrd goes at the highest page-aligned address under the ceiling (inclusive) that
    /// is RAM and clear of W (BP-32…BP-34), or at 4 GiB + 1 MiB with high placement: the top
    /// spot under the ceiling, or, where that overlaps W, the highest spot ending at W's start.
    mutating func placeInitrd(_ src: any ByteSource, window: AddressRange, ceiling: UInt64, ceilingField: (name: String, offset: UInt64?)) throws(LoadError) -> AddressRange {
        let size = src.size
        guard size > 0 else { throw .refuse("BP-31", "initrd", expected: "a file of at least one byte", found: "\(src.name), empty") }
        let at: UInt64
        if options.highPlacement {
            at = ReferenceLoader.highBase + 0x10_0000
        } else {
            let top = min(ceiling &+ 1, layout.lowEnd)
            let clear = { (s: UInt64) in s >= window.end || s + size <= window.start }
            guard size <= top, case let highest = (top - size).alignedDown(ReferenceLoader.page),
                  case let start = clear(highest) || window.start < size ? highest : (window.start - size).alignedDown(ReferenceLoader.page),
                  clear(start), start >= RAMLayout.oneMiB else {
                throw .refuse("BP-32", ceilingField.name, offset: ceilingField.offset,
                              expected: "room for the \(hex(size))-byte initrd at or below it, in guest low RAM (ends at \(hex(layout.lowEnd))), above 1 MiB and clear of the kernel window \(window)", found: hex(ceiling))
            }
            at = start
        }
        guard let r = AddressRange.make(at, length: size), inRAM(r) else {
            throw .refuse("BP-34", "initrd", expected: "[\(hex(at)), +\(hex(size))) inside guest RAM", found: AddressRange.make(at, length: size).map { "\($0), outside it" } ?? "a range that wraps past 2^64")
        }
        try copy(from: src, offset: 0, length: size, to: at, name: "initrd")
        return r
    }

    func writeE820(into zp: inout [UInt8]) {
        let map = e820
        zp.put(UInt64(map.count), .e820Entries)
        for (i, e) in map.enumerated() { zp.put(bytes: e.bytes, at: ZeroPage.e820Offset(i)) }
    }

    /// A minimal ACPI 1.0 RSDP ("RSD PTR ", checksum, OEM id, revision 0, RSDT 0) in the
    /// reserved BIOS area, so KASLR cannot land on it (BP-24).
    mutating func writeRSDP() throws(LoadError) -> UInt64 {
        var r = Array("RSD PTR ".utf8) + [0] + Array("BOOTCF".utf8) + [0] + [0, 0, 0, 0]
        r[8] = UInt8(truncatingIfNeeded: 0 &- r.reduce(0) { $0 &+ Int($1) })
        try put(r, at: ReferenceLoader.rsdpAddress, name: "acpi.rsdp")
        return ReferenceLoader.rsdpAddress
    }

    /// Writes the setup_data chain (an RNG seed, directly or through SETUP_INDIRECT) and
    /// returns the first node's address, or nil when the kernel does not accept the type.
    mutating func writeSetupData(seed: [UInt8], at base: UInt64, kernelInfo: KernelInfo?, version: ProtocolVersion) throws(LoadError) -> UInt64? {
        // The chain has 0x1000 bytes before the zero page; the indirect payload sits at +0x100.
        guard !seed.isEmpty, seed.count <= ReferenceLoader.maximumSeedSize else {
            throw .refuse("BP-41", "RNG seed", expected: "1…\(ReferenceLoader.maximumSeedSize) bytes (room in the setup_data area)", found: "\(seed.count) bytes")
        }
        if options.indirectSetupData {
            guard version >= ProtocolVersion(2, 15) else {
                throw .refuse("BP-42", "version", offset: 0x206, expected: "protocol ≥ 2.15 for SETUP_INDIRECT", found: "\(version)")
            }
            let type = SetupDataType.indirect.rawValue | SetupDataType.rngSeed.rawValue
            if let ki = kernelInfo, type > ki.setupTypeMax {
                throw .refuse("BP-43", "kernel_info.setup_type_max", expected: "≥ \(hex(type)) (SETUP_INDIRECT|SETUP_RNG_SEED)", found: hex(ki.setupTypeMax))
            }
            let payload = base + 0x100
            try put(seed, at: payload, name: "setup_data.indirect_payload")
            try put(SetupData.node(next: 0, type: .indirect, data: SetupData.indirect(type: .rngSeed, length: UInt64(seed.count), address: payload)), at: base, name: "setup_data")
            return base
        }
        if let ki = kernelInfo, SetupDataType.rngSeed.rawValue > ki.setupTypeMax {
            warnings.append(Warning(rule: "BP-43", message: "kernel_info.setup_type_max is \(hex(ki.setupTypeMax)) < SETUP_RNG_SEED (9); RNG seed not passed"))
            return nil
        }
        try put(SetupData.node(next: 0, type: .rngSeed, data: seed), at: base, name: "setup_data")
        return base
    }

    mutating func writeGDT(longMode: Bool) throws(LoadError) -> [UInt64] {
        let table = BootGDT.table(longMode: longMode)
        try put(BootGDT.bytes(table), at: ReferenceLoader.gdtAddress, name: "gdt")
        return table
    }

    /// GDTR and the segment registers as loading the boot GDT's selectors leaves them:
    /// CS = 0x10, DS = ES = SS = FS = GS = 0x18, TR = 0x20.
    func loadSegments(_ s: inout EntryState, from gdt: [UInt64]) {
        s.gdtr = TableRegister(base: ReferenceLoader.gdtAddress, limit: UInt16(gdt.count * 8 - 1))
        s.cs = SegmentRegister(selector: BootGDT.codeSelector, descriptor: gdt[2])
        let data = SegmentRegister(selector: BootGDT.dataSelector, descriptor: gdt[3])
        s.ds = data; s.es = data; s.ss = data; s.fs = data; s.gs = data
        s.tr = SegmentRegister(selector: BootGDT.tssSelector, descriptor: gdt[4])
    }

    /// 32-bit protected mode, paging off, flat segments from the boot GDT (BP-47…BP-51, BP-61).
    mutating func protectedModeState(eip: UInt64, entry: EntryPoint) throws(LoadError) -> EntryState {
        let gdt = try writeGDT(longMode: false)
        var s = EntryState(entryPoint: entry)
        s.rip = eip
        s.rsp = ReferenceLoader.stackPointer
        s.cr0 = EntryState.cr0PE | EntryState.cr0ET
        loadSegments(&s, from: gdt)
        return s
    }

    /// 64-bit mode with identity paging over the first min(RAM top, 16 GiB), at least 4 GiB
    /// (BP-53…BP-58, BP-70).
    mutating func longModeState(rip: UInt64, bootParams: UInt64) throws(LoadError) -> EntryState {
        let gdt = try writeGDT(longMode: true)
        let top = max(RAMLayout.fourGiB, min(layout.top, ReferenceLoader.maximumIdentityMap))
        try put(IdentityPageTables.build(base: ReferenceLoader.pageTableAddress, top: top), at: ReferenceLoader.pageTableAddress, name: "page_tables")
        var s = EntryState(entryPoint: .long64)
        s.rip = rip
        s.rsi = bootParams
        s.rsp = ReferenceLoader.stackPointer
        s.cr0 = EntryState.cr0PE | EntryState.cr0ET | EntryState.cr0PG
        s.cr3 = ReferenceLoader.pageTableAddress
        s.cr4 = EntryState.cr4PAE
        s.efer = EntryState.eferLME | EntryState.eferLMA
        loadSegments(&s, from: gdt)
        return s
    }
}
