/// A boot protocol version, `(major << 8) | minor` as stored at offset 0x206.
public struct ProtocolVersion: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ major: UInt8, _ minor: UInt8) { rawValue = UInt16(major) << 8 | UInt16(minor) }
    public var major: Int { Int(rawValue >> 8) }
    public var minor: Int { Int(rawValue & 0xFF) }
    public var description: String { "\(major).\(minor < 10 ? "0" : "")\(minor)" }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    /// Parses "2.15" or "0x020F".
    public init?(string: String) {
        if string.hasPrefix("0x"), let v = UInt16(string.dropFirst(2), radix: 16) { self.init(rawValue: v); return }
        let parts = string.split(separator: ".")
        guard parts.count == 2, let ma = UInt8(parts[0]), let mi = UInt8(parts[1]) else { return nil }
        self.init(ma, mi)
    }
    public static let newestKnown = ProtocolVersion(2, 15)
}

/// `loadflags`, offset 0x211 (spec §1.3).
public struct LoadFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// LOADED_HIGH: protected-mode code loads at 0x100000 (bzImage).
    public static let loadedHigh = LoadFlags(rawValue: 0x01)
    /// KASLR_FLAG: kernel-internal.
    public static let kaslr = LoadFlags(rawValue: 0x02)
    /// QUIET_FLAG.
    public static let quiet = LoadFlags(rawValue: 0x20)
    /// KEEP_SEGMENTS (obsolete).
    public static let keepSegments = LoadFlags(rawValue: 0x40)
    /// CAN_USE_HEAP: heap_end_ptr is valid.
    public static let canUseHeap = LoadFlags(rawValue: 0x80)
    static let names: [(LoadFlags, String)] = [(.loadedHigh, ".loadedHigh"), (.kaslr, ".kaslr"), (.quiet, ".quiet"), (.keepSegments, ".keepSegments"), (.canUseHeap, ".canUseHeap")]
    public var description: String { flagDescription(rawValue: UInt64(rawValue), names: Self.names.map { (UInt64($0.0.rawValue), $0.1) }) }
}

/// `xloadflags`, offset 0x236, protocol 2.12+ (spec §1.4).
public struct XLoadFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let kernel64 = XLoadFlags(rawValue: 0x01)           // XLF_KERNEL_64
    public static let canBeLoadedAbove4G = XLoadFlags(rawValue: 0x02) // XLF_CAN_BE_LOADED_ABOVE_4G
    public static let efiHandover32 = XLoadFlags(rawValue: 0x04)      // XLF_EFI_HANDOVER_32
    public static let efiHandover64 = XLoadFlags(rawValue: 0x08)      // XLF_EFI_HANDOVER_64
    public static let efiKexec = XLoadFlags(rawValue: 0x10)           // XLF_EFI_KEXEC
    public static let fiveLevel = XLoadFlags(rawValue: 0x20)          // XLF_5LEVEL
    public static let fiveLevelEnabled = XLoadFlags(rawValue: 0x40)   // XLF_5LEVEL_ENABLED
    public static let memEncryption = XLoadFlags(rawValue: 0x80)      // XLF_MEM_ENCRYPTION
    static let names: [(UInt64, String)] = [(0x01, ".kernel64"), (0x02, ".canBeLoadedAbove4G"), (0x04, ".efiHandover32"), (0x08, ".efiHandover64"), (0x10, ".efiKexec"), (0x20, ".fiveLevel"), (0x40, ".fiveLevelEnabled"), (0x80, ".memEncryption")]
    public var description: String { flagDescription(rawValue: UInt64(rawValue), names: Self.names) }
}

func flagDescription(rawValue: UInt64, names: [(UInt64, String)]) -> String {
    var parts = names.filter { rawValue & $0.0 != 0 }.map(\.1)
    let rest = rawValue & ~names.reduce(0) { $0 | $1.0 }
    if rest != 0 { parts.append(hex(rest)) }
    return "[" + parts.joined(separator: ", ") + "]"
}

/// How the boot protocol documents a field (spec §1.2 "Doc type").
public enum FieldAccess: String, Sendable {
    case readOnly = "R", write = "W", modify = "M", kernelInternal = "int"
}

/// One setup-header field: its name in the spec, its byte offset (file and zero page alike),
/// its size, the protocol version that introduced it, and how a loader may touch it.
public struct HeaderField: Hashable, Sendable {
    public let name: String
    public let offset: Int
    public let size: Int
    public let since: ProtocolVersion
    public let access: FieldAccess
    public var end: Int { offset + size }
}

/// The setup header field table, spec §1.2. Offsets are the same in the file and the zero page.
public enum SetupHeaderLayout {
    public static let start = 0x1F1
    /// The permanent limit: the jump at 0x200 is a short jump (spec §1.1).
    public static let maximumEnd = 0x281
    static let v200 = ProtocolVersion(2, 0)
    public static let fields: [HeaderField] = [
        .init(name: "setup_sects", offset: 0x1F1, size: 1, since: v200, access: .readOnly),
        .init(name: "root_flags", offset: 0x1F2, size: 2, since: v200, access: .modify),
        .init(name: "syssize", offset: 0x1F4, size: 4, since: v200, access: .readOnly),
        .init(name: "ram_size", offset: 0x1F8, size: 2, since: v200, access: .kernelInternal),
        .init(name: "vid_mode", offset: 0x1FA, size: 2, since: v200, access: .modify),
        .init(name: "root_dev", offset: 0x1FC, size: 2, since: v200, access: .modify),
        .init(name: "boot_flag", offset: 0x1FE, size: 2, since: v200, access: .readOnly),
        .init(name: "jump", offset: 0x200, size: 2, since: v200, access: .readOnly),
        .init(name: "header", offset: 0x202, size: 4, since: v200, access: .readOnly),
        .init(name: "version", offset: 0x206, size: 2, since: v200, access: .readOnly),
        .init(name: "realmode_swtch", offset: 0x208, size: 4, since: v200, access: .modify),
        .init(name: "start_sys_seg", offset: 0x20C, size: 2, since: v200, access: .readOnly),
        .init(name: "kernel_version", offset: 0x20E, size: 2, since: v200, access: .readOnly),
        .init(name: "type_of_loader", offset: 0x210, size: 1, since: v200, access: .write),
        .init(name: "loadflags", offset: 0x211, size: 1, since: v200, access: .modify),
        .init(name: "setup_move_size", offset: 0x212, size: 2, since: v200, access: .modify),
        .init(name: "code32_start", offset: 0x214, size: 4, since: v200, access: .modify),
        .init(name: "ramdisk_image", offset: 0x218, size: 4, since: v200, access: .write),
        .init(name: "ramdisk_size", offset: 0x21C, size: 4, since: v200, access: .write),
        .init(name: "bootsect_kludge", offset: 0x220, size: 4, since: v200, access: .kernelInternal),
        .init(name: "heap_end_ptr", offset: 0x224, size: 2, since: ProtocolVersion(2, 1), access: .write),
        .init(name: "ext_loader_ver", offset: 0x226, size: 1, since: ProtocolVersion(2, 2), access: .write),
        .init(name: "ext_loader_type", offset: 0x227, size: 1, since: ProtocolVersion(2, 2), access: .write),
        .init(name: "cmd_line_ptr", offset: 0x228, size: 4, since: ProtocolVersion(2, 2), access: .write),
        .init(name: "initrd_addr_max", offset: 0x22C, size: 4, since: ProtocolVersion(2, 3), access: .readOnly),
        .init(name: "kernel_alignment", offset: 0x230, size: 4, since: ProtocolVersion(2, 5), access: .modify),
        .init(name: "relocatable_kernel", offset: 0x234, size: 1, since: ProtocolVersion(2, 5), access: .readOnly),
        .init(name: "min_alignment", offset: 0x235, size: 1, since: ProtocolVersion(2, 10), access: .readOnly),
        .init(name: "xloadflags", offset: 0x236, size: 2, since: ProtocolVersion(2, 12), access: .readOnly),
        .init(name: "cmdline_size", offset: 0x238, size: 4, since: ProtocolVersion(2, 6), access: .readOnly),
        .init(name: "hardware_subarch", offset: 0x23C, size: 4, since: ProtocolVersion(2, 7), access: .write),
        .init(name: "hardware_subarch_data", offset: 0x240, size: 8, since: ProtocolVersion(2, 7), access: .write),
        .init(name: "payload_offset", offset: 0x248, size: 4, since: ProtocolVersion(2, 8), access: .readOnly),
        .init(name: "payload_length", offset: 0x24C, size: 4, since: ProtocolVersion(2, 8), access: .readOnly),
        .init(name: "setup_data", offset: 0x250, size: 8, since: ProtocolVersion(2, 9), access: .write),
        .init(name: "pref_address", offset: 0x258, size: 8, since: ProtocolVersion(2, 10), access: .readOnly),
        .init(name: "init_size", offset: 0x260, size: 4, since: ProtocolVersion(2, 10), access: .readOnly),
        .init(name: "handover_offset", offset: 0x264, size: 4, since: ProtocolVersion(2, 11), access: .readOnly),
        .init(name: "kernel_info_offset", offset: 0x268, size: 4, since: ProtocolVersion(2, 15), access: .readOnly),
    ]
    public static func field(_ name: String) -> HeaderField? { fields.first { $0.name == name } }

    /// Fields BP-10 forbids a loader to modify (kernel_alignment is handled apart: it may be lowered).
    public static let readOnlyForLoader: Set<String> = [
        "setup_sects", "syssize", "boot_flag", "jump", "header", "version", "kernel_version",
        "initrd_addr_max", "relocatable_kernel", "min_alignment", "xloadflags", "cmdline_size",
        "payload_offset", "payload_length", "pref_address", "init_size", "handover_offset", "kernel_info_offset",
    ]
}

/// The setup header of a bzImage, decoded from its bytes by explicit offset.
///
/// Holds the raw bytes of [0x1F1, headerEnd) plus typed accessors. A field that lies past the
/// header's declared end reads as nil: it does not exist in this image.
public struct SetupHeader: Sendable, Equatable {
    /// Bytes 0x000..<headerEnd of the image file (the boot sector and the header).
    public let bytes: [UInt8]
    public var headerEnd: Int { bytes.count }

    public init(bytes: [UInt8]) { self.bytes = bytes }

    func value(_ name: String) -> UInt64? {
        guard let f = SetupHeaderLayout.field(name), f.end <= headerEnd else { return nil }
        return bytes.le(f.offset, f.size)
    }

    /// `setup_sects`, offset 0x1F1. 0 means 4.
    public var setupSectorCount: Int { let v = Int(bytes[0x1F1]); return v == 0 ? 4 : v }
    /// Size of the real-mode part: (setup_sects'+1)*512.
    public var setupSize: Int { (setupSectorCount + 1) * 512 }
    /// `syssize`, offset 0x1F4, in 16-byte units (only 16 bits valid before 2.04).
    public var syssize: UInt32 { UInt32(value("syssize") ?? 0) }
    /// `boot_flag`, offset 0x1FE; must be 0xAA55.
    public var bootFlag: UInt16 { UInt16(value("boot_flag") ?? 0) }
    /// `header`, offset 0x202; "HdrS" = 0x53726448.
    public var magic: UInt32 { UInt32(value("header") ?? 0) }
    /// `version`, offset 0x206.
    public var version: ProtocolVersion { ProtocolVersion(rawValue: UInt16(value("version") ?? 0)) }
    /// `kernel_version`, offset 0x20E.
    public var kernelVersionOffset: UInt16 { UInt16(value("kernel_version") ?? 0) }
    /// `loadflags`, offset 0x211.
    public var loadFlags: LoadFlags { LoadFlags(rawValue: UInt8(value("loadflags") ?? 0)) }
    /// `code32_start`, offset 0x214.
    public var code32Start: UInt32 { UInt32(value("code32_start") ?? 0) }
    /// `initrd_addr_max`, offset 0x22C (2.03+); 0x37FFFFFF before (inclusive).
    public var initrdAddressMax: UInt32 { version >= ProtocolVersion(2, 3) ? UInt32(value("initrd_addr_max") ?? 0x37FF_FFFF) : 0x37FF_FFFF }
    /// `kernel_alignment`, offset 0x230 (2.05+).
    public var kernelAlignment: UInt32? { version >= ProtocolVersion(2, 5) ? value("kernel_alignment").map(UInt32.init) : nil }
    /// `relocatable_kernel`, offset 0x234 (2.05+).
    public var relocatable: Bool { version >= ProtocolVersion(2, 5) && (value("relocatable_kernel") ?? 0) != 0 }
    /// `min_alignment`, offset 0x235 (2.10+): log2 of the required alignment.
    public var minAlignmentLog2: UInt8? { version >= ProtocolVersion(2, 10) ? value("min_alignment").map { UInt8($0) } : nil }
    /// `xloadflags`, offset 0x236 (2.12+).
    public var xloadFlags: XLoadFlags { version >= ProtocolVersion(2, 12) ? XLoadFlags(rawValue: UInt16(value("xloadflags") ?? 0)) : [] }
    /// `cmdline_size`, offset 0x238 (2.06+); 255 before.
    public var commandLineLimit: UInt32 { version >= ProtocolVersion(2, 6) ? UInt32(value("cmdline_size") ?? 255) : 255 }
    /// `payload_offset`, `payload_length`, offsets 0x248/0x24C (2.08+).
    public var payloadOffset: UInt32? { version >= ProtocolVersion(2, 8) ? value("payload_offset").map(UInt32.init) : nil }
    public var payloadLength: UInt32? { version >= ProtocolVersion(2, 8) ? value("payload_length").map(UInt32.init) : nil }
    /// `pref_address`, offset 0x258 (2.10+).
    public var preferredAddress: UInt64? { version >= ProtocolVersion(2, 10) ? value("pref_address") : nil }
    /// `init_size`, offset 0x260 (2.10+).
    public var initSize: UInt32? { version >= ProtocolVersion(2, 10) ? value("init_size").map(UInt32.init) : nil }
    /// `handover_offset`, offset 0x264 (2.11+).
    public var handoverOffset: UInt32? { version >= ProtocolVersion(2, 11) ? value("handover_offset").map(UInt32.init) : nil }
    /// `kernel_info_offset`, offset 0x268 (2.15+).
    public var kernelInfoOffset: UInt32? { version >= ProtocolVersion(2, 15) ? value("kernel_info_offset").map(UInt32.init) : nil }

    /// Every field present in this header with its value, in offset order (for `inspect`).
    public var decodedFields: [(field: HeaderField, value: UInt64)] {
        SetupHeaderLayout.fields.compactMap { f in
            guard f.end <= headerEnd, let v = bytes.le(f.offset, f.size) else { return nil }
            return (f, v)
        }
    }
}
