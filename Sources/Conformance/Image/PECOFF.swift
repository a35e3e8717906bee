/// The PE/COFF header an x86 bzImage carries inside its boot sector so that UEFI firmware can
/// load it as an EFI application (spec digest §6.3; arch/x86/boot/header.S). The DOS header's
/// "MZ" is at 0, LINUX_PE_MAGIC at 0x38, the PE header's offset at 0x3C; the PE header, the
/// PE32+ optional header and the section table follow at 0x40 and end before the setup header
/// at 0x1F1, so one file is both a bzImage and a PE image.
public enum PECOFF {
    /// "MZ", the DOS header's e_magic.
    public static let dosMagic: UInt16 = 0x5A4D
    /// LINUX_PE_MAGIC at 0x38 (include/linux/pe.h).
    public static let linuxPEMagic: UInt32 = 0x8182_23CD
    /// "PE\0\0".
    public static let peSignature: UInt32 = 0x0000_4550
    /// IMAGE_FILE_MACHINE_AMD64.
    public static let machineAMD64: UInt16 = 0x8664
    /// PE32+ optional header magic.
    public static let pe32PlusMagic: UInt16 = 0x020B
    /// IMAGE_SUBSYSTEM_EFI_APPLICATION.
    public static let subsystemEFIApplication: UInt16 = 10
    /// Where the PE header starts (as in Debian's kernels), the value stored at 0x3C.
    public static let peHeaderOffset = 0x40
    public static let sectionAlignment: UInt32 = 0x1000, fileAlignment: UInt32 = 0x200
    /// Data directories the kernel declares (export … base relocation), all empty.
    public static let dataDirectories = 6
    /// sizeof(PE32+ optional header) without data directories.
    static let optionalHeaderFixed = 112
    static let sectionHeaderSize = 40

    /// The layout facts a PE loader acts on.
    public struct Layout: Sendable, Equatable {
        /// File offset and RVA of the protected-mode image (the setup area's size).
        public var setupSize: UInt32
        /// Bytes of the protected-mode image in the file.
        public var imageFileSize: UInt32
        /// Bytes the protected-mode image needs in memory (file size plus scratch/bss).
        public var imageMemorySize: UInt32
        /// AddressOfEntryPoint, an RVA.
        public var entryPoint: UInt32
        public init(setupSize: UInt32, imageFileSize: UInt32, imageMemorySize: UInt32, entryPoint: UInt32) {
            self.setupSize = setupSize; self.imageFileSize = imageFileSize; self.imageMemorySize = imageMemorySize; self.entryPoint = entryPoint
        }
    }

    public enum BuildError: Error, Equatable, CustomStringConvertible {
        case misaligned(field: String, value: UInt64, alignment: UInt64)
        case doesNotFit(field: String, end: Int, limit: Int)
        public var description: String {
            switch self {
            case let .misaligned(f, v, a): "PE/COFF \(f) = \(hex(v)) is not a multiple of \(hex(a))"
            case let .doesNotFit(f, e, l): "PE/COFF \(f) ends at \(hex(UInt64(e))), past \(hex(UInt64(l)))"
            }
        }
    }

    /// Header bytes for file offsets [0, end): write them over the boot sector (the caller keeps
    /// 0x1F1 onwards). One section, `.text`, maps the protected-mode image at RVA setupSize; the
    /// headers (SizeOfHeaders = setupSize) carry the setup area, so the setup header is at
    /// ImageBase + 0x1F1 in memory too.
    public static func header(_ l: Layout) throws(BuildError) -> [UInt8] {
        guard l.setupSize % sectionAlignment == 0, l.setupSize > 0 else { throw .misaligned(field: "setup size (SizeOfHeaders, .text VirtualAddress)", value: UInt64(l.setupSize), alignment: UInt64(sectionAlignment)) }
        guard l.imageFileSize % fileAlignment == 0 else { throw .misaligned(field: ".text SizeOfRawData", value: UInt64(l.imageFileSize), alignment: UInt64(fileAlignment)) }
        let memory = (UInt64(l.imageMemorySize) + UInt64(sectionAlignment) - 1) & ~UInt64(sectionAlignment - 1)
        guard memory >= UInt64(l.imageFileSize), UInt64(l.setupSize) + memory <= UInt64(UInt32.max) else { throw .doesNotFit(field: "SizeOfImage", end: Int(UInt64(l.setupSize) + memory), limit: Int(UInt32.max)) }
        let optionalSize = optionalHeaderFixed + 8 * dataDirectories
        let sectionTable = peHeaderOffset + 4 + 20 + optionalSize
        let end = sectionTable + sectionHeaderSize
        guard end <= 0x1EF else { throw .doesNotFit(field: "section table", end: end, limit: 0x1EF) }
        var b = [UInt8](repeating: 0, count: end)
        b.put16(dosMagic, at: 0)
        b.put32(linuxPEMagic, at: 0x38)
        b.put32(UInt32(peHeaderOffset), at: 0x3C)
        let pe = peHeaderOffset
        b.put32(peSignature, at: pe)
        // COFF file header.
        b.put16(machineAMD64, at: pe + 4)
        b.put16(1, at: pe + 6)                                // NumberOfSections
        b.put16(UInt16(optionalSize), at: pe + 20)             // SizeOfOptionalHeader
        b.put16(0x0002 | 0x0004 | 0x0200, at: pe + 22)         // EXECUTABLE_IMAGE | LINE_NUMS_STRIPPED | DEBUG_STRIPPED
        // PE32+ optional header.
        let o = pe + 24
        b.put16(pe32PlusMagic, at: o)
        b.put32(l.imageFileSize, at: o + 4)                    // SizeOfCode
        b.put32(UInt32(memory) - l.imageFileSize, at: o + 12)  // SizeOfUninitializedData
        b.put32(l.entryPoint, at: o + 16)                      // AddressOfEntryPoint
        b.put32(l.setupSize, at: o + 20)                       // BaseOfCode
        b.put64(0, at: o + 24)                                 // ImageBase: linked at 0, position-independent
        b.put32(sectionAlignment, at: o + 32)
        b.put32(fileAlignment, at: o + 36)
        b.put16(1, at: o + 44); b.put16(1, at: o + 46)         // Major/MinorImageVersion 1.1: LINUX_EFI_INITRD_MEDIA_GUID initrd
        b.put32(l.setupSize + UInt32(memory), at: o + 56)      // SizeOfImage
        b.put32(l.setupSize, at: o + 60)                       // SizeOfHeaders: the whole setup area
        b.put16(subsystemEFIApplication, at: o + 68)
        b.put16(0, at: o + 70)                                 // DllCharacteristics: not NX_COMPAT (one RWX section)
        b.put32(UInt32(dataDirectories), at: o + 108)          // NumberOfRvaAndSizes (directories all zero)
        // Section table: .text = the protected-mode image, file bytes then zero-filled scratch.
        let s = sectionTable
        b.put(bytes: Array(".text".utf8), at: s)
        b.put32(UInt32(memory), at: s + 8)                     // VirtualSize
        b.put32(l.setupSize, at: s + 12)                       // VirtualAddress
        b.put32(l.imageFileSize, at: s + 16)                   // SizeOfRawData
        b.put32(l.setupSize, at: s + 20)                       // PointerToRawData
        b.put32(0xE000_0020, at: s + 36)                       // CNT_CODE | MEM_EXECUTE | MEM_READ | MEM_WRITE
        return b
    }

    /// AddressOfEntryPoint of a PE32+ x86-64 image, or nil when the bytes are not one (every
    /// read bounded; nothing traps).
    public static func entryPoint(of f: [UInt8]) -> UInt32? {
        guard f.u16(0) == dosMagic, let peAt = f.u32(0x3C), peAt <= 0x1000, f.u32(Int(peAt)) == peSignature,
              f.u16(Int(peAt) + 4) == machineAMD64, f.u16(Int(peAt) + 24) == pe32PlusMagic,
              f.u16(Int(peAt) + 24 + 68) == subsystemEFIApplication, let e = f.u32(Int(peAt) + 24 + 16), e != 0 else { return nil }
        return e
    }
}

/// Which entries an image offers a loader, by the names `EntryPoint` uses ("16", "32", "64",
/// "pvh", "efi-handover-32", "efi-handover-64", "efi-stub"), read from the bytes by the spec's
/// rules: bzImage 16 and 32 always; 64 with protocol ≥ 2.12 and XLF_KERNEL_64 (BP-06); the
/// handover entries with protocol ≥ 2.11, handover_offset ≠ 0 and XLF_EFI_HANDOVER_32/_64;
/// efi-stub with a PE32+ x86-64 EFI application header. ELF: 64, and pvh with a Xen note of
/// type 18.
public func offeredEntries(kernel f: [UInt8]) -> [EntryPoint] {
    if f.count >= 4, f[0] == 0x7F, f[1] == 0x45, f[2] == 0x4C, f[3] == 0x46 {
        var out: [EntryPoint] = [.long64]
        if let elf = try? ElfImage(source: MemorySource(name: "kernel", bytes: f)), elf.pvhEntry != nil { out.append(.pvh) }
        return out
    }
    guard f.field(.bootFlag) == UInt64(BzImage.bootFlag), f.field(.header) == UInt64(BzImage.headerMagic) else { return [] }
    let version = f.field(.version) ?? 0
    let xlf = XLoadFlags(rawValue: version >= 0x020C ? UInt16(f.field(.xloadflags) ?? 0) : 0)
    var out: [EntryPoint] = [.setup16, .protected32]
    if xlf.contains(.kernel64) { out.append(.long64) }
    let handover = version >= 0x020B ? (f.field(.handoverOffset) ?? 0) : 0
    if handover != 0, xlf.contains(.efiHandover32) { out.append(.efiHandover32) }
    if handover != 0, xlf.contains(.efiHandover64) { out.append(.efiHandover64) }
    if PECOFF.entryPoint(of: f) != nil { out.append(.efiStub) }
    return out
}

extension PECOFF {
    /// The optional-header facts a PE loader must respect (boot.rst "EFI Handover Protocol":
    /// section alignment and the memory footprint beyond the file), read with bounds checks.
    public struct Summary: Sendable, Equatable {
        public let entryPoint: UInt32, sectionAlignment: UInt32, sizeOfImage: UInt32, sizeOfHeaders: UInt32
        /// VirtualAddress of the section that holds AddressOfEntryPoint (where L lands).
        public let entrySectionAddress: UInt32?

        public static func parse(_ f: [UInt8]) -> Summary? {
            guard let entry = PECOFF.entryPoint(of: f), let peAt = f.u32(0x3C).map(Int.init) else { return nil }
            let o = peAt + 24
            guard let sa = f.u32(o + 32), let soi = f.u32(o + 56), let soh = f.u32(o + 60),
                  let nsec = f.u16(peAt + 6), let optSize = f.u16(peAt + 20) else { return nil }
            var va: UInt32? = nil
            let table = o + Int(optSize)
            for i in 0..<Int(min(nsec, 96)) {
                guard let v = f.u32(table + 40 * i + 12), let size = f.u32(table + 40 * i + 8) else { break }
                if entry >= v, UInt64(entry) < UInt64(v) + UInt64(size) { va = v; break }
            }
            return Summary(entryPoint: entry, sectionAlignment: sa, sizeOfImage: soi, sizeOfHeaders: soh, entrySectionAddress: va)
        }
    }
}
