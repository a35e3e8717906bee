/// Why an Image header is refused: the rule it breaks, the field, its offset in the file, what
/// was expected and what was found.
public struct ImageHeaderError: Error, Equatable, Sendable, CustomStringConvertible {
    public let rule: RuleID
    public let field: String
    public let offset: Int
    public let expected: String
    public let found: String
    public init(rule: RuleID, field: String, offset: Int, expected: String, found: String) {
        self.rule = rule; self.field = field; self.offset = offset; self.expected = expected; self.found = found
    }
    public var description: String { "\(rule): \(field) at offset \(hex(offset)): expected \(expected), found \(found)" }
}

/// The 64-byte header at the start of an arm64 Image (Documentation/arch/arm64/booting.rst,
/// "4. Call the kernel image"; spec digest §6.1) or a riscv64 Image
/// (Documentation/arch/riscv/boot-image-header.rst; spec digest §6.2). Every field is
/// little-endian at a fixed offset:
///
/// | Offset | arm64 | riscv64 |
/// |---|---|---|
/// | 0x00 | code0 | code0 |
/// | 0x04 | code1 | code1 |
/// | 0x08 | text_offset | text_offset |
/// | 0x10 | image_size | image_size |
/// | 0x18 | flags | flags |
/// | 0x20 | res2 | version (u32), res1 (u32) |
/// | 0x28 | res3 | res2 |
/// | 0x30 | res4 | magic "RISCV\0\0\0" (deprecated from 0.2) |
/// | 0x38 | magic "ARM\x64" | magic2 "RSC\x05" |
/// | 0x3C | res5 (PE header offset) | res3 (PE header offset) |
public struct ImageHeader: Sendable, Equatable {
    public typealias Architecture = ImageBootSnapshot.Architecture
    public static let size = 64
    /// "ARM\x64" at 0x38, little-endian (booting.rst).
    public static let arm64Magic: UInt32 = 0x644D_5241
    /// "RSC\x05" at 0x38 (boot-image-header.rst, magic2).
    public static let riscvMagic2: UInt32 = 0x0543_5352
    /// "RISCV\0\0\0" at 0x30 (boot-image-header.rst, magic; deprecated as of header 0.2).
    public static let riscvMagic: UInt64 = 0x56_4353_4952
    /// booting.rst: "Where image_size is zero, text_offset can be assumed to be 0x80000."
    public static let legacyArm64TextOffset: UInt64 = 0x8_0000

    public let architecture: Architecture
    public let code0: UInt32
    public let code1: UInt32
    /// text_offset as the file holds it (0x08).
    public let textOffsetField: UInt64
    /// image_size (0x10): the bytes from the Image's start the kernel needs free (_end − _text).
    public let imageSize: UInt64
    /// flags (0x18).
    public let flags: UInt64
    /// riscv64 version (0x20): (major << 16) | minor; nil on arm64.
    public let version: UInt32?
    /// res5 (arm64) / res3 (riscv64) at 0x3C: the PE header's offset, 0 without EFI.
    public let peHeaderOffset: UInt32
    /// The file's length.
    public let fileSize: UInt64
    /// What the header says that a loader should hear about but may load: a pre-3.17 arm64
    /// header, a riscv64 header with only the deprecated magic.
    public let warnings: [String]

    /// The offset the loader must honour: text_offset, except on an arm64 header with
    /// image_size 0 (before v3.17), where booting.rst says to assume 0x80000.
    public var textOffset: UInt64 { Self.textOffset(field: textOffsetField, imageSize: imageSize, architecture: architecture) }
    /// `textOffset` from the raw fields, for a reader (the A64/RV rules) that judges a header
    /// this type would refuse.
    public static func textOffset(field: UInt64, imageSize: UInt64, architecture: Architecture) -> UInt64 {
        architecture == .arm64 && imageSize == 0 ? legacyArm64TextOffset : field
    }
    /// flags bit 0: a big-endian kernel.
    public var isBigEndian: Bool { flags & 1 != 0 }
    /// arm64 flags bits 1–2: 0 unspecified, 1 = 4K, 2 = 16K, 3 = 64K.
    public var pageSizeField: UInt64 { (flags >> 1) & 3 }
    /// arm64 flags bit 3: 1 = the 2 MiB-aligned base may be anywhere in the 48-bit physical
    /// space; 0 = as close as possible to the start of DRAM.
    public var placeAnywhere: Bool { architecture == .arm64 && flags & 8 != 0 }
    /// An arm64 header written before v3.17: image_size 0, flags absent.
    public var isPre317: Bool { architecture == .arm64 && imageSize == 0 }
    /// The bytes from the Image's start the loader keeps free: image_size, or the file when
    /// image_size is 0 (arm64 before v3.17; booting.rst asks to keep as much as possible
    /// free after it, which no number bounds).
    public var footprint: UInt64 { Self.footprint(imageSize: imageSize, fileSize: fileSize) }
    /// `footprint` from the raw fields.
    public static func footprint(imageSize: UInt64, fileSize: UInt64) -> UInt64 { max(imageSize, fileSize) }

    /// The architecture whose magic the header holds at 0x38, or nil.
    public static func architecture(of bytes: [UInt8]) -> Architecture? {
        switch bytes.u32(0x38) {
        case arm64Magic: .arm64
        case riscvMagic2: .riscv64
        default: bytes.u64(0x30) == riscvMagic ? .riscv64 : nil
        }
    }

    /// Reads the header of `bytes` (the file, or at least its first 64 bytes with `fileSize`
    /// the file's length) as an Image of `architecture`. Refusals: arm64 A64-01 (short, bad
    /// magic), A64-02 (text_offset not a multiple of 4: code0 would be fetched misaligned);
    /// riscv64 RV-01 (short, neither magic, big-endian flag), RV-02 (image_size 0).
    public init(_ bytes: [UInt8], architecture: Architecture, fileSize: UInt64? = nil) throws(ImageHeaderError) {
        let size = fileSize ?? UInt64(bytes.count)
        let rule: RuleID = architecture == .arm64 ? "A64-01" : "RV-01"
        guard bytes.count >= Self.size, size >= UInt64(Self.size) else {
            throw ImageHeaderError(rule: rule, field: "header", offset: 0, expected: "at least 64 bytes (the Image header)", found: "\(min(UInt64(bytes.count), size)) bytes")
        }
        self.architecture = architecture
        code0 = bytes.u32(0)!; code1 = bytes.u32(4)!
        textOffsetField = bytes.u64(0x08)!; imageSize = bytes.u64(0x10)!; flags = bytes.u64(0x18)!
        peHeaderOffset = bytes.u32(0x3C)!
        self.fileSize = size
        var warnings: [String] = []
        switch architecture {
        case .arm64:
            version = nil
            let magic = bytes.u32(0x38)!
            guard magic == Self.arm64Magic else {
                throw ImageHeaderError(rule: "A64-01", field: "magic", offset: 0x38, expected: "\(hex(Self.arm64Magic)) (\"ARM\\x64\")", found: hex(magic))
            }
            if imageSize == 0 {
                warnings.append("image_size is 0 (a header from before v3.17): text_offset is taken as 0x80000, not \(hex(textOffsetField)), and the flags as 0")
            } else if textOffsetField % 4 != 0 {
                throw ImageHeaderError(rule: "A64-02", field: "text_offset", offset: 0x08, expected: "a multiple of 4 (code0, an instruction, is the kernel's entry)", found: hex(textOffsetField))
            }
            if imageSize != 0 && flags & 1 != 0 { warnings.append("flags bit 0: a big-endian kernel (booting.rst sets the loader no other duty for it)") }
        case .riscv64:
            version = bytes.u32(0x20)!
            let magic2 = bytes.u32(0x38)!
            if magic2 != Self.riscvMagic2 {
                guard bytes.u64(0x30) == Self.riscvMagic else {
                    throw ImageHeaderError(rule: "RV-01", field: "magic2", offset: 0x38, expected: "\(hex(Self.riscvMagic2)) (\"RSC\\x05\"), or the deprecated \"RISCV\" magic at 0x30", found: hex(magic2))
                }
                warnings.append("only the deprecated \"RISCV\" magic at 0x30 (header version \(version! >> 16).\(version! & 0xFFFF)); magic2 \"RSC\\x05\" at 0x38 is absent")
            }
            guard flags & 1 == 0 else {
                throw ImageHeaderError(rule: "RV-01", field: "flags", offset: 0x18, expected: "bit 0 clear (a little-endian kernel: RISC-V Linux is built little-endian only)", found: hex(flags))
            }
            guard imageSize != 0 else {
                throw ImageHeaderError(rule: "RV-02", field: "image_size", offset: 0x10, expected: "nonzero (\"Image size is mandatory for boot loader to load kernel image\")", found: "0")
            }
        }
        self.warnings = warnings
    }
}
