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
    /// Bits 2–4: unused, must be 0 (HDR comment).
    public static let unused = LoadFlags(rawValue: 0x1C)
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

/// The setup header's place in the image and the zero page (spec §1.1); its fields are
/// `ZeroPage.header`.
public enum SetupHeaderLayout {
    public static let start = ZeroPage.Field.setupSects.offset
    /// The permanent limit: the jump at 0x200 is a short jump (spec §1.1).
    public static let maximumEnd = 0x281
    /// Where the bytes a loader may copy from the image's header area stop: edd_mbr_sig_buffer,
    /// 0x290, which the header must stay clear of (§1.1, §2.4).
    public static let areaEnd = ZeroPage.Field.eddMbrSigBuffer.offset
    public static var fields: [ZeroPage.Field] { ZeroPage.header }
    /// The header field called `name` in the spec.
    public static func field(_ name: String) -> ZeroPage.Field? { ZeroPage.header.first { $0.name == name } }
    /// The header's declared end, 0x202 + byte[0x201] (§2.4), or nil when `bytes` is too short to hold byte 0x201.
    public static func declaredEnd(_ bytes: [UInt8]) -> Int? {
        bytes.u8(ZeroPage.Field.jump.offset + 1).map { ZeroPage.Field.jump.end + Int($0) }
    }
    /// The end a header of protocol `v` needs to hold every field of its version (§3).
    public static func end(for v: ProtocolVersion) -> Int {
        ZeroPage.header.filter { $0.since! <= min(v, .newestKnown) }.map(\.end).max()!
    }

    /// Fields BP-10 forbids a loader to modify (kernel_alignment is handled apart: it may be lowered).
    public static let readOnlyForLoader: [ZeroPage.Field] = [
        .setupSects, .syssize, .bootFlag, .jump, .header, .version, .kernelVersion,
        .initrdAddrMax, .relocatableKernel, .minAlignment, .xloadflags, .cmdlineSize,
        .payloadOffset, .payloadLength, .prefAddress, .initSize, .handoverOffset, .kernelInfoOffset,
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

    /// `f`'s value, when `f` lies inside the declared header.
    public func value(_ f: ZeroPage.Field) -> UInt64? { f.end <= headerEnd ? bytes.field(f) : nil }
    /// `f`'s value, when this header's protocol version has `f` (its `since`) and `f` lies inside
    /// the declared header.
    public func versioned(_ f: ZeroPage.Field) -> UInt64? { version >= (f.since ?? .newestKnown) ? value(f) : nil }

    /// `setup_sects`, offset 0x1F1. 0 means 4.
    public var setupSectorCount: Int { let v = Int(bytes.field(.setupSects) ?? 0); return v == 0 ? 4 : v }
    /// Size of the real-mode part: (setup_sects'+1)*512.
    public var setupSize: Int { (setupSectorCount + 1) * 512 }
    /// `syssize`, offset 0x1F4, in 16-byte units (only 16 bits valid before 2.04).
    public var syssize: UInt32 { UInt32(value(.syssize) ?? 0) }
    /// `boot_flag`, offset 0x1FE; must be 0xAA55.
    public var bootFlag: UInt16 { UInt16(value(.bootFlag) ?? 0) }
    /// `header`, offset 0x202; "HdrS" = 0x53726448.
    public var magic: UInt32 { UInt32(value(.header) ?? 0) }
    /// `version`, offset 0x206.
    public var version: ProtocolVersion { ProtocolVersion(rawValue: UInt16(value(.version) ?? 0)) }
    /// `kernel_version`, offset 0x20E.
    public var kernelVersionOffset: UInt16 { UInt16(value(.kernelVersion) ?? 0) }
    /// `loadflags`, offset 0x211.
    public var loadFlags: LoadFlags { LoadFlags(rawValue: UInt8(value(.loadflags) ?? 0)) }
    /// `code32_start`, offset 0x214.
    public var code32Start: UInt32 { UInt32(value(.code32Start) ?? 0) }
    /// `initrd_addr_max`, offset 0x22C (2.03+); 0x37FFFFFF before (inclusive).
    public var initrdAddressMax: UInt32 { UInt32(versioned(.initrdAddrMax) ?? 0x37FF_FFFF) }
    /// `kernel_alignment`, offset 0x230 (2.05+).
    public var kernelAlignment: UInt32? { versioned(.kernelAlignment).map(UInt32.init) }
    /// `relocatable_kernel`, offset 0x234 (2.05+).
    public var relocatable: Bool { (versioned(.relocatableKernel) ?? 0) != 0 }
    /// `min_alignment`, offset 0x235 (2.10+): log2 of the required alignment.
    public var minAlignmentLog2: UInt8? { versioned(.minAlignment).map { UInt8($0) } }
    /// `xloadflags`, offset 0x236 (2.12+).
    public var xloadFlags: XLoadFlags { XLoadFlags(rawValue: UInt16(versioned(.xloadflags) ?? 0)) }
    /// `cmdline_size`, offset 0x238 (2.06+); 255 before.
    public var commandLineLimit: UInt32 { UInt32(versioned(.cmdlineSize) ?? 255) }
    /// `payload_offset`, `payload_length`, offsets 0x248/0x24C (2.08+).
    public var payloadOffset: UInt32? { versioned(.payloadOffset).map(UInt32.init) }
    public var payloadLength: UInt32? { versioned(.payloadLength).map(UInt32.init) }
    /// `pref_address`, offset 0x258 (2.10+).
    public var preferredAddress: UInt64? { versioned(.prefAddress) }
    /// `init_size`, offset 0x260 (2.10+).
    public var initSize: UInt32? { versioned(.initSize).map(UInt32.init) }
    /// `handover_offset`, offset 0x264 (2.11+).
    public var handoverOffset: UInt32? { versioned(.handoverOffset).map(UInt32.init) }
    /// `kernel_info_offset`, offset 0x268 (2.15+).
    public var kernelInfoOffset: UInt32? { versioned(.kernelInfoOffset).map(UInt32.init) }

    /// Every field present in this header with its value, in offset order (for `inspect`).
    public var decodedFields: [(field: ZeroPage.Field, value: UInt64)] {
        ZeroPage.header.compactMap { f in value(f).map { (f, $0) } }
    }
}
