/// A parsed bzImage: the setup header plus where the protected-mode image sits in the file.
public struct BzImage: Sendable {
    public let header: SetupHeader
    public let fileSize: UInt64
    /// File offset of the protected-mode image: (setup_sects'+1)*512.
    public var protectedModeOffset: UInt64 { UInt64(header.setupSize) }
    /// Length of the protected-mode image: file size − setup size (BP-19).
    public var protectedModeLength: UInt64 { fileSize - protectedModeOffset }
    /// The kernel_info block (2.15+), when present.
    public let kernelInfo: KernelInfo?
    /// The payload's compression, recognised by its magic (2.08+).
    public let payloadFormat: PayloadFormat?
    /// The kernel version string, if `kernel_version` points at one.
    public let kernelVersionString: String?
    public let warnings: [Warning]

    public static let headerMagic: UInt32 = 0x5372_6448 // "HdrS"
    public static let bootFlag: UInt16 = 0xAA55

    /// Parses and validates a bzImage by the rules BP-01 to BP-05 and BP-09.
    /// (BP-06 and BP-07 depend on the chosen entry and placement; the loader checks them.)
    public init(source: some ByteSource) throws(ImageError) {
        let size = source.size
        // BP-01: at least 1024 bytes before anything else is read.
        guard size >= 1024 else {
            throw ImageError(rule: "BP-01", field: "file size", offset: 0, expected: "at least 1024 bytes", found: "\(size) bytes")
        }
        let first: [UInt8]
        do { first = try source.read(at: 0, count: SetupHeaderLayout.areaEnd) } catch {
            throw ImageError(rule: "BP-01", field: "file", offset: 0, expected: "readable", found: error.description)
        }
        // BP-02: boot_flag.
        let bootFlag = first.field(.bootFlag)!
        guard bootFlag == Self.bootFlag else {
            throw ImageError(rule: "BP-02", field: .bootFlag, expected: hex(Self.bootFlag), found: hex(bootFlag))
        }
        // BP-03: "HdrS"; without it the image uses the old protocol, which we reject.
        let magic = first.field(.header)!
        guard magic == Self.headerMagic else {
            throw ImageError(rule: "BP-03", field: .header, expected: "\(hex(Self.headerMagic)) (\"HdrS\")", found: hex(magic) + " (old protocol, not loadable by a 32/64-bit entry)")
        }
        // Header extent from byte 0x201 (spec §1.1, §2.4).
        let jump = ZeroPage.Field.jump.offset
        guard first[jump] == 0xEB else {
            throw ImageError(rule: "BP-04", field: .jump, expected: "0xEB (short jump)", found: hex(first[jump]))
        }
        let end = SetupHeaderLayout.declaredEnd(first)!
        guard end <= SetupHeaderLayout.maximumEnd else {
            throw ImageError(rule: "BP-04", field: "jump displacement", offset: 0x201, expected: "header end ≤ \(hex(SetupHeaderLayout.maximumEnd))", found: "end \(hex(end))")
        }
        let header = SetupHeader(bytes: Array(first[0..<end]))
        var warnings: [Warning] = []
        let version = header.version
        guard version >= ProtocolVersion(2, 0) else {
            throw ImageError(rule: "BP-05", field: .version, expected: "≥ 0x0200", found: hex(version.rawValue))
        }
        if version > ProtocolVersion.newestKnown {
            warnings.append(Warning(rule: "BP-04", message: "protocol version \(version) is newer than 2.15, the newest this tool knows; fields past 2.15 are kept but not interpreted"))
        }
        // BP-04: every field the version defines must lie inside the declared header.
        let expectedEnd = SetupHeaderLayout.end(for: version)
        guard end >= expectedEnd else {
            throw ImageError(rule: "BP-04", field: "jump displacement", offset: 0x201, expected: "header end ≥ \(hex(expectedEnd)) for protocol \(version)", found: "end \(hex(end))")
        }
        // BP-05: bzImage requires LOADED_HIGH.
        guard header.loadFlags.contains(.loadedHigh) else {
            throw ImageError(rule: "BP-05", field: .loadflags, expected: "LOADED_HIGH (0x01) set", found: "\(hex(header.loadFlags.rawValue)) (zImage)")
        }
        // BP-01: the setup area must be inside the file, and something must follow it.
        let setupSize = UInt64(header.setupSize)
        guard size > setupSize else {
            throw ImageError(rule: "BP-01", field: .setupSects, expected: "file longer than (setup_sects'+1)*512 = \(hex(setupSize))", found: "file size \(hex(size))")
        }
        let pmLength = size - setupSize
        // syssize: from 2.04 the protected-mode length in 16-byte units.
        if version >= ProtocolVersion(2, 4) {
            let declared = UInt64(header.syssize) * 16
            if declared > pmLength {
                throw ImageError(rule: "BP-01", field: .syssize, expected: "syssize*16 ≤ protected-mode length \(hex(pmLength))", found: "\(hex(header.syssize))*16 = \(hex(declared)) (truncated image)")
            }
            if declared != pmLength.alignedUp(16) && declared != pmLength {
                warnings.append(Warning(rule: "BP-19", message: "syssize*16 = \(hex(declared)) differs from the protected-mode length \(hex(pmLength)); loading the whole file tail"))
            }
        }
        // Version-gated placement fields must be sane before placement relies on them.
        if let align = header.kernelAlignment, header.relocatable, !UInt64(align).isPowerOfTwo {
            throw ImageError(rule: "BP-21", field: .kernelAlignment, expected: "a power of two", found: hex(align))
        }
        if let minLog = header.minAlignmentLog2, minLog > 30 || minLog < 12 {
            throw ImageError(rule: "BP-21", field: .minAlignment, expected: "12…30 (log2)", found: "\(minLog)")
        }
        // BP-09: kernel_info for 2.15+.
        var info: KernelInfo? = nil
        if let kio = header.kernelInfoOffset {
            let at = setupSize + UInt64(kio)
            guard let end = AddressRange.make(at, length: 16)?.end, end <= size else {
                throw ImageError(rule: "BP-09", field: .kernelInfoOffset, expected: "kernel_info (16 bytes) inside the file", found: "\(hex(kio)) → file offset \(hex(at)), file size \(hex(size))")
            }
            let raw: [UInt8]
            do { raw = try source.read(at: at, count: 16) } catch {
                throw ImageError(rule: "BP-09", field: "kernel_info", offset: at, expected: "readable", found: error.description)
            }
            let ki = KernelInfo(bytes: raw)
            guard ki.magic == KernelInfo.magicValue else {
                throw ImageError(rule: "BP-09", field: "kernel_info.header", offset: at, expected: "\(hex(KernelInfo.magicValue)) (\"LToP\")", found: hex(ki.magic))
            }
            guard ki.size <= ki.sizeTotal, ki.size >= 16 else {
                throw ImageError(rule: "BP-09", field: "kernel_info.size", offset: at + 4, expected: "16 ≤ size ≤ size_total (\(ki.sizeTotal))", found: "\(ki.size)")
            }
            info = ki
        }
        // Payload format (2.08+), for inspection and vmlinux extraction.
        var format: PayloadFormat? = nil
        if let po = header.payloadOffset, let pl = header.payloadLength, pl >= 4 {
            let at = setupSize + UInt64(po)
            if at + 4 <= size, UInt64(po) + UInt64(pl) <= pmLength, let m = try? source.read(at: at, count: 4) {
                format = PayloadFormat(magic: m)
            } else {
                warnings.append(Warning(rule: "BP-19", message: "payload_offset \(hex(po)) + payload_length \(hex(pl)) runs past the protected-mode image (\(hex(pmLength)) bytes)"))
            }
        }
        var versionString: String? = nil
        if header.kernelVersionOffset != 0 {
            let at = UInt64(header.kernelVersionOffset) + 0x200
            if at < setupSize, let raw = try? source.read(at: at, count: Int(min(128, setupSize - at))) {
                versionString = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        self.header = header
        self.fileSize = size
        self.kernelInfo = info
        self.payloadFormat = format
        self.kernelVersionString = versionString
        self.warnings = warnings
    }
}

/// kernel_info (protocol 2.15+), spec §1.7.
public struct KernelInfo: Sendable, Equatable {
    public static let magicValue: UInt32 = 0x506F_544C // "LToP"
    public let magic: UInt32
    public let size: UInt32
    public let sizeTotal: UInt32
    /// Highest setup_data / setup_indirect type the kernel accepts.
    public let setupTypeMax: UInt32
    public init(bytes: [UInt8]) {
        magic = bytes.u32(0) ?? 0; size = bytes.u32(4) ?? 0; sizeTotal = bytes.u32(8) ?? 0; setupTypeMax = bytes.u32(12) ?? 0
    }
}

/// The compressed payload's format, by magic (spec §3 row 2.08).
public enum PayloadFormat: String, Sendable, CaseIterable {
    case gzip, bzip2, lzma, xz, lz4, zstd, elf
    public init?(magic m: [UInt8]) {
        guard m.count >= 2 else { return nil }
        switch (m[0], m[1]) {
        case (0x1F, 0x8B), (0x1F, 0x9E): self = .gzip
        case (0x42, 0x5A): self = .bzip2
        case (0x5D, 0x00): self = .lzma
        case (0xFD, 0x37): self = .xz
        case (0x02, 0x21): self = .lz4
        case (0x28, 0xB5): self = .zstd
        case (0x7F, 0x45): self = .elf
        default: return nil
        }
    }
}

extension ImageError {
    /// A rejection of setup-header field `field`, named and located by the field table.
    init(rule: RuleID, field: ZeroPage.Field, expected: String, found: String) {
        self.init(rule: rule, field: field.name, offset: UInt64(field.offset), expected: expected, found: found)
    }
}
