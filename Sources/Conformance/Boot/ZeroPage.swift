/// `struct boot_params`, the zero page: 4096 bytes, packed little-endian (spec digest §2.1,
/// arch/x86/include/uapi/asm/bootparam.h), with `struct setup_header` at 0x1F1 (§1.2).
///
/// This is the one description of both: every field's spec name, byte offset, size and, for
/// the setup header, the protocol version that introduced it. The loader, the rules, the
/// faults, the snapshot JSON and the kernel-observed checks read and write fields through it
/// (`zp.field(.cmdLinePtr)`, `zp.put(c, .cmdLinePtr)`), never by a literal offset. Offsets in
/// the setup header are the same in the image file and in the zero page (§1.1).
/// `Tests/ProtocolTests/LayoutTests.swift` pins the table against the digest's own tables.
public enum ZeroPage {
    public static let size = 4096

    /// One field: its name in the spec, its byte offset (file and zero page alike for the
    /// setup header), its size, and for setup-header fields the protocol version that
    /// introduced it and how a loader may touch it (§1.2 "Doc type").
    public struct Field: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let offset: Int
        public let size: Int
        /// The protocol version that introduced the field: every setup-header field, and the
        /// ext_* halves outside it (2.12, §3); nil for the other boot_params fields.
        public let since: ProtocolVersion?
        /// §1.2's doc type of a setup-header field; nil outside the header.
        public let access: FieldAccess?
        public var end: Int { offset + size }
        public var range: Range<Int> { offset..<end }
        /// "0x218 ramdisk_image".
        public var description: String { "\(hex(offset)) \(name)" }

        init(_ name: String, _ offset: Int, _ size: Int, since: ProtocolVersion? = nil, _ access: FieldAccess? = nil) {
            self.name = name; self.offset = offset; self.size = size; self.since = since; self.access = access
        }
    }

    /// The setup header, §1.2, in offset order.
    public static let header: [Field] = [
        .setupSects, .rootFlags, .syssize, .ramSize, .vidMode, .rootDev, .bootFlag, .jump, .header, .version, .realmodeSwtch, .startSysSeg,
        .kernelVersion, .typeOfLoader, .loadflags, .setupMoveSize, .code32Start, .ramdiskImage, .ramdiskSize, .bootsectKludge, .heapEndPtr,
        .extLoaderVer, .extLoaderType, .cmdLinePtr, .initrdAddrMax, .kernelAlignment, .relocatableKernel, .minAlignment, .xloadflags, .cmdlineSize,
        .hardwareSubarch, .hardwareSubarchData, .payloadOffset, .payloadLength, .setupData, .prefAddress, .initSize, .handoverOffset, .kernelInfoOffset,
    ]

    /// The fields of boot_params outside the setup header, §2.1 (padding left out), in offset order.
    public static let outsideHeader: [Field] = [
        .screenInfo, .apmBiosInfo, .tbootAddr, .istInfo, .acpiRsdpAddr, .hd0Info, .hd1Info, .sysDescTable, .olpcOfwHeader,
        .extRamdiskImage, .extRamdiskSize, .extCmdLinePtr, .ccBlobAddress, .edidInfo, .efiInfo, .altMemK, .scratch, .e820Entries,
        .eddbufEntries, .eddMbrSigBufEntries, .kbdStatus, .secureBoot, .sentinel, .eddMbrSigBuffer, .e820Table, .eddbuf,
    ]

    /// Every named field in offset order; bytes between them are padding.
    public static let fields: [Field] = (outsideHeader + header).sorted { $0.offset < $1.offset }

    /// The field called `name` in the spec (setup header or boot_params), if any.
    public static func field(named name: String) -> Field? { fields.first { $0.name == name } }

    /// The named fields covering `range`, with the runs between them as "padding" fields.
    public static func fields(covering range: Range<Int>) -> [Field] {
        var out: [Field] = []
        var at = range.lowerBound
        while at < range.upperBound {
            if let f = fields.first(where: { $0.range.contains(at) }) {
                out.append(f); at = f.end
            } else {
                let next = fields.first { $0.offset > at }?.offset ?? size
                out.append(Field("padding", at, next - at)); at = next
            }
        }
        return out
    }
}

/// How the boot protocol documents a setup-header field (spec §1.2 "Doc type").
public enum FieldAccess: String, Sendable {
    case readOnly = "R", write = "W", modify = "M", kernelInternal = "int"
}

// MARK: The setup header, §1.2 (offset, size, first protocol version, doc type).

public extension ZeroPage.Field {
    private static let v200 = ProtocolVersion(2, 0)
    /// `setup_sects`, 0x1F1: setup sectors after the boot sector; 0 means 4.
    static let setupSects = Self("setup_sects", 0x1F1, 1, since: v200, .readOnly)
    static let rootFlags = Self("root_flags", 0x1F2, 2, since: v200, .modify)
    /// `syssize`, 0x1F4: protected-mode size in 16-byte units (16 bits valid before 2.04).
    static let syssize = Self("syssize", 0x1F4, 4, since: v200, .readOnly)
    static let ramSize = Self("ram_size", 0x1F8, 2, since: v200, .kernelInternal)
    static let vidMode = Self("vid_mode", 0x1FA, 2, since: v200, .modify)
    static let rootDev = Self("root_dev", 0x1FC, 2, since: v200, .modify)
    /// `boot_flag`, 0x1FE: 0xAA55.
    static let bootFlag = Self("boot_flag", 0x1FE, 2, since: v200, .readOnly)
    /// `jump`, 0x200: a short jump; byte 0x201 is its displacement, so the header ends at 0x202 + byte[0x201].
    static let jump = Self("jump", 0x200, 2, since: v200, .readOnly)
    /// `header`, 0x202: "HdrS" (0x53726448).
    static let header = Self("header", 0x202, 4, since: v200, .readOnly)
    /// `version`, 0x206: (major << 8) | minor.
    static let version = Self("version", 0x206, 2, since: v200, .readOnly)
    static let realmodeSwtch = Self("realmode_swtch", 0x208, 4, since: v200, .modify)
    static let startSysSeg = Self("start_sys_seg", 0x20C, 2, since: v200, .readOnly)
    static let kernelVersion = Self("kernel_version", 0x20E, 2, since: v200, .readOnly)
    /// `type_of_loader`, 0x210: nonzero, or the kernel ignores the initrd (BP-13).
    static let typeOfLoader = Self("type_of_loader", 0x210, 1, since: v200, .write)
    /// `loadflags`, 0x211 (LoadFlags).
    static let loadflags = Self("loadflags", 0x211, 1, since: v200, .modify)
    static let setupMoveSize = Self("setup_move_size", 0x212, 2, since: v200, .modify)
    static let code32Start = Self("code32_start", 0x214, 4, since: v200, .modify)
    /// `ramdisk_image`, 0x218: low half of the initrd address (high half in ext_ramdisk_image).
    static let ramdiskImage = Self("ramdisk_image", 0x218, 4, since: v200, .write)
    /// `ramdisk_size`, 0x21C: low half of the initrd size (high half in ext_ramdisk_size).
    static let ramdiskSize = Self("ramdisk_size", 0x21C, 4, since: v200, .write)
    static let bootsectKludge = Self("bootsect_kludge", 0x220, 4, since: v200, .kernelInternal)
    /// `heap_end_ptr`, 0x224 (2.01+): end of the setup heap, minus 0x200, from the real-mode base.
    static let heapEndPtr = Self("heap_end_ptr", 0x224, 2, since: ProtocolVersion(2, 1), .write)
    static let extLoaderVer = Self("ext_loader_ver", 0x226, 1, since: ProtocolVersion(2, 2), .write)
    static let extLoaderType = Self("ext_loader_type", 0x227, 1, since: ProtocolVersion(2, 2), .write)
    /// `cmd_line_ptr`, 0x228 (2.02+): low half of the command-line address (high half in ext_cmd_line_ptr).
    static let cmdLinePtr = Self("cmd_line_ptr", 0x228, 4, since: ProtocolVersion(2, 2), .write)
    /// `initrd_addr_max`, 0x22C (2.03+): the highest initrd byte, inclusive.
    static let initrdAddrMax = Self("initrd_addr_max", 0x22C, 4, since: ProtocolVersion(2, 3), .readOnly)
    /// `kernel_alignment`, 0x230 (2.05+; a loader may lower it from 2.10).
    static let kernelAlignment = Self("kernel_alignment", 0x230, 4, since: ProtocolVersion(2, 5), .modify)
    static let relocatableKernel = Self("relocatable_kernel", 0x234, 1, since: ProtocolVersion(2, 5), .readOnly)
    /// `min_alignment`, 0x235 (2.10+): log2 of the required alignment.
    static let minAlignment = Self("min_alignment", 0x235, 1, since: ProtocolVersion(2, 10), .readOnly)
    /// `xloadflags`, 0x236 (2.12+; XLoadFlags).
    static let xloadflags = Self("xloadflags", 0x236, 2, since: ProtocolVersion(2, 12), .readOnly)
    /// `cmdline_size`, 0x238 (2.06+): longest command line without its NUL; 255 before.
    static let cmdlineSize = Self("cmdline_size", 0x238, 4, since: ProtocolVersion(2, 6), .readOnly)
    /// `hardware_subarch`, 0x23C (2.07+): 0 for a PC.
    static let hardwareSubarch = Self("hardware_subarch", 0x23C, 4, since: ProtocolVersion(2, 7), .write)
    static let hardwareSubarchData = Self("hardware_subarch_data", 0x240, 8, since: ProtocolVersion(2, 7), .write)
    static let payloadOffset = Self("payload_offset", 0x248, 4, since: ProtocolVersion(2, 8), .readOnly)
    static let payloadLength = Self("payload_length", 0x24C, 4, since: ProtocolVersion(2, 8), .readOnly)
    /// `setup_data`, 0x250 (2.09+): the first setup_data node, 0 for none.
    static let setupData = Self("setup_data", 0x250, 8, since: ProtocolVersion(2, 9), .write)
    /// `pref_address`, 0x258 (2.10+).
    static let prefAddress = Self("pref_address", 0x258, 8, since: ProtocolVersion(2, 10), .readOnly)
    /// `init_size`, 0x260 (2.10+): the memory the kernel needs from its runtime start.
    static let initSize = Self("init_size", 0x260, 4, since: ProtocolVersion(2, 10), .readOnly)
    /// `handover_offset`, 0x264 (2.11+): the EFI handover entry, from the protected-mode start.
    static let handoverOffset = Self("handover_offset", 0x264, 4, since: ProtocolVersion(2, 11), .readOnly)
    /// `kernel_info_offset`, 0x268 (2.15+).
    static let kernelInfoOffset = Self("kernel_info_offset", 0x268, 4, since: ProtocolVersion(2, 15), .readOnly)
}

// MARK: boot_params outside the setup header, §2.1.

public extension ZeroPage.Field {
    static let screenInfo = Self("screen_info", 0x000, 0x40)
    static let apmBiosInfo = Self("apm_bios_info", 0x040, 0x14)
    static let tbootAddr = Self("tboot_addr", 0x058, 8)
    static let istInfo = Self("ist_info", 0x060, 0x10)
    /// `acpi_rsdp_addr`, 0x070: the RSDP, or 0 for "scan for it" (BP-16).
    static let acpiRsdpAddr = Self("acpi_rsdp_addr", 0x070, 8)
    static let hd0Info = Self("hd0_info", 0x080, 0x10)
    static let hd1Info = Self("hd1_info", 0x090, 0x10)
    static let sysDescTable = Self("sys_desc_table", 0x0A0, 0x10)
    static let olpcOfwHeader = Self("olpc_ofw_header", 0x0B0, 0x10)
    /// `ext_ramdisk_image`, 0x0C0 (2.12+, §3): bits 63..32 of the initrd address.
    static let extRamdiskImage = Self("ext_ramdisk_image", 0x0C0, 4, since: ProtocolVersion(2, 12))
    /// `ext_ramdisk_size`, 0x0C4 (2.12+): bits 63..32 of the initrd size.
    static let extRamdiskSize = Self("ext_ramdisk_size", 0x0C4, 4, since: ProtocolVersion(2, 12))
    /// `ext_cmd_line_ptr`, 0x0C8 (2.12+): bits 63..32 of the command-line address.
    static let extCmdLinePtr = Self("ext_cmd_line_ptr", 0x0C8, 4, since: ProtocolVersion(2, 12))
    static let ccBlobAddress = Self("cc_blob_address", 0x13C, 4)
    static let edidInfo = Self("edid_info", 0x140, 0x80)
    /// `efi_info`, 0x1C0–0x1DF (§2.2).
    static let efiInfo = Self("efi_info", 0x1C0, 0x20)
    static let altMemK = Self("alt_mem_k", 0x1E0, 4)
    /// `scratch`, 0x1E4: the 32-bit entry's temporary stack word.
    static let scratch = Self("scratch", 0x1E4, 4)
    /// `e820_entries`, 0x1E8: valid entries in e820_table (≤ 128).
    static let e820Entries = Self("e820_entries", 0x1E8, 1)
    static let eddbufEntries = Self("eddbuf_entries", 0x1E9, 1)
    static let eddMbrSigBufEntries = Self("edd_mbr_sig_buf_entries", 0x1EA, 1)
    static let kbdStatus = Self("kbd_status", 0x1EB, 1)
    static let secureBoot = Self("secure_boot", 0x1EC, 1)
    /// `sentinel`, 0x1EF: must be 0 (BP-12).
    static let sentinel = Self("sentinel", 0x1EF, 1)
    static let eddMbrSigBuffer = Self("edd_mbr_sig_buffer", 0x290, 0x40)
    /// `e820_table`, 0x2D0: 128 × 20-byte boot_e820_entry.
    static let e820Table = Self("e820_table", 0x2D0, ZeroPage.e820TableEntries * E820Entry.byteSize)
    static let eddbuf = Self("eddbuf", 0xD00, 0x1EC)

    // Sub-fields a loader touches inside the structures above (§2.2); not in `ZeroPage.fields`.
    /// `screen_info.cl_magic`, 0x020: 0xA33F for the pre-2.02 command-line protocol.
    static let clMagic = Self("cl_magic", 0x020, 2)
    /// `screen_info.cl_offset`, 0x022: the command line's offset from the real-mode base.
    static let clOffset = Self("cl_offset", 0x022, 2)
    /// `efi_info.efi_loader_signature`, 0x1C0: "EL64" or "EL32".
    static let efiLoaderSignature = Self("efi_loader_signature", 0x1C0, 4)
    /// `efi_info.efi_systab`, 0x1C4: bits 31..0 of the EFI system table's address.
    static let efiSystab = Self("efi_systab", 0x1C4, 4)
    /// `efi_info.efi_memdesc_size`, 0x1C8: bytes per memory descriptor.
    static let efiMemdescSize = Self("efi_memdesc_size", 0x1C8, 4)
    /// `efi_info.efi_memdesc_version`, 0x1CC: 1.
    static let efiMemdescVersion = Self("efi_memdesc_version", 0x1CC, 4)
    /// `efi_info.efi_memmap`, 0x1D0: bits 31..0 of the memory map's address.
    static let efiMemmap = Self("efi_memmap", 0x1D0, 4)
    /// `efi_info.efi_memmap_size`, 0x1D4: the memory map's size in bytes.
    static let efiMemmapSize = Self("efi_memmap_size", 0x1D4, 4)
    /// `efi_info.efi_systab_hi`, 0x1D8: bits 63..32 of efi_systab ("EL64" only).
    static let efiSystabHi = Self("efi_systab_hi", 0x1D8, 4)
    /// `efi_info.efi_memmap_hi`, 0x1DC: bits 63..32 of efi_memmap ("EL64" only).
    static let efiMemmapHi = Self("efi_memmap_hi", 0x1DC, 4)
    /// The fields of `efi_info` in offset order (§2.2).
    static let efiInfoFields: [Self] = [.efiLoaderSignature, .efiSystab, .efiMemdescSize, .efiMemdescVersion, .efiMemmap, .efiMemmapSize, .efiSystabHi, .efiMemmapHi]
}

public extension ZeroPage {
    /// E820_MAX_ENTRIES_ZEROPAGE: entries e820_table holds.
    static let e820TableEntries = 128
    /// The zero-page offset of e820_table entry `i`.
    static func e820Offset(_ i: Int) -> Int { Field.e820Table.offset + i * E820Entry.byteSize }
}

public extension Array where Element == UInt8 {
    /// The value of `f` (at most 8 bytes), read little-endian at its offset; nil when the
    /// bytes do not reach it.
    func field(_ f: ZeroPage.Field) -> UInt64? { le(f.offset, f.size) }
    /// Writes the low `f.size` bytes of `value` at `f`'s offset. Callers write only into
    /// buffers they sized themselves; a field outside the buffer is our own bug and traps.
    mutating func put(_ value: UInt64, _ f: ZeroPage.Field) { put(value, at: f.offset, width: f.size) }
}
