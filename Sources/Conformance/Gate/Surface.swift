/// The protocol-visible surface of a kernel image: everything a loader reads from it. Two
/// releases are compared on this to say what a loader would see change.
public struct SurfaceItem: Sendable, Hashable {
    /// "header.version", "loadflags.LOADED_HIGH", "elf.phdr.1", "elf.note.Xen.18", "entry.64-bit".
    public let key: String
    public let value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

public struct SurfaceChange: Sendable, Equatable {
    /// What a change means to a loader maintainer, least to most urgent.
    public enum Impact: String, Sendable, Comparable, CaseIterable {
        /// Nothing a loader must do.
        case informational
        /// A loader may keep working, but one that relies on the old value must be checked.
        case needsAttention = "needs-attention"
        /// Loaders that use the old surface stop working; the gate fails.
        case breaking
        var rank: Int {
            switch self {
            case .informational: 0
            case .needsAttention: 1
            case .breaking: 2
            }
        }
        public static func < (a: Impact, b: Impact) -> Bool { a.rank < b.rank }
    }
    public let key: String
    public let old: String?
    public let new: String?
    public let impact: Impact
    /// Why it matters to a loader, with the rule where one applies.
    public let reason: String
    /// Build noise: sizes, addresses and IDs that change with every build. Reports group these
    /// and collapse them to one line. Always informational.
    public let noise: Bool
}

public enum Surface {
    /// The flags by their C names (spec §1.3, §1.4), the keys of the surface.
    static let loadFlagNames: [(LoadFlags, String)] = [(.loadedHigh, "LOADED_HIGH"), (.kaslr, "KASLR_FLAG"), (.quiet, "QUIET_FLAG"), (.keepSegments, "KEEP_SEGMENTS"), (.canUseHeap, "CAN_USE_HEAP")]
    static let xloadFlagNames: [(XLoadFlags, String)] = [(.kernel64, "XLF_KERNEL_64"), (.canBeLoadedAbove4G, "XLF_CAN_BE_LOADED_ABOVE_4G"), (.efiHandover32, "XLF_EFI_HANDOVER_32"),
                                                         (.efiHandover64, "XLF_EFI_HANDOVER_64"), (.efiKexec, "XLF_EFI_KEXEC"), (.fiveLevel, "XLF_5LEVEL"),
                                                         (.fiveLevelEnabled, "XLF_5LEVEL_ENABLED"), (.memEncryption, "XLF_MEM_ENCRYPTION")]

    /// The surface of a bzImage, plus its payload's ELF when the caller could decompress it.
    public static func of(bzImage bz: BzImage, payload: ElfImage? = nil) -> [SurfaceItem] {
        let h = bz.header
        var out: [SurfaceItem] = [.init("format", "bzImage"), .init("protocol", h.version.description)]
        // The flag words are items per bit below; the sizes are under size.* (build noise).
        for (f, v) in h.decodedFields where !["kernel_version", "syssize", "payload_length", "payload_offset", "loadflags", "xloadflags"].contains(f.name) {
            out.append(.init("header.\(f.name)", hex(v)))
        }
        // Sizes that change with every build are kept, but under their own keys (info).
        out.append(.init("size.syssize", hex(UInt64(h.syssize))))
        if let l = h.payloadLength { out.append(.init("size.payload_length", hex(UInt64(l)))) }
        for (bit, name) in loadFlagNames { out.append(.init("loadflags.\(name)", h.loadFlags.contains(bit) ? "set" : "clear")) }
        let otherLoad = h.loadFlags.subtracting(LoadFlags(loadFlagNames.map(\.0)))
        if !otherLoad.isEmpty { out.append(.init("loadflags.other", hex(UInt64(otherLoad.rawValue)))) }
        if h.version >= ProtocolVersion(2, 12) {
            for (bit, name) in xloadFlagNames { out.append(.init("xloadflags.\(name)", h.xloadFlags.contains(bit) ? "set" : "clear")) }
            let other = h.xloadFlags.subtracting(XLoadFlags(xloadFlagNames.map(\.0)))
            if !other.isEmpty { out.append(.init("xloadflags.other", hex(UInt64(other.rawValue)))) }
        }
        if let k = bz.kernelInfo {
            out += [.init("kernel_info.size", hex(UInt64(k.size))), .init("kernel_info.size_total", hex(UInt64(k.sizeTotal))), .init("kernel_info.setup_type_max", hex(UInt64(k.setupTypeMax)))]
        }
        if let p = bz.payloadFormat { out.append(.init("payload.format", p.rawValue)) }
        out.append(.init("entry.16-bit", "setup + 0x200 (real mode, CS = setup segment + 0x20)"))
        out.append(.init("entry.32-bit", "L + 0 (code32_start \(hex(UInt64(h.code32Start))))"))
        if h.xloadFlags.contains(.kernel64) { out.append(.init("entry.64-bit", "L + 0x200")) }
        if let ho = h.handoverOffset, ho != 0 { out.append(.init("entry.efi-handover", "L + \(hex(UInt64(ho)))")) }
        if let payload { out += of(elf: payload, prefix: "payload.") }
        return out
    }

    /// The surface of an ELF vmlinux (or a bzImage's payload, under `prefix`). Besides the raw
    /// values it names what a loader derives from them: the PT_LOAD layout, which segment holds
    /// the entry (and the PVH entry) and whether the entry sits at the head of its segment.
    public static func of(elf: ElfImage, prefix: String = "") -> [SurfaceItem] {
        var out: [SurfaceItem] = prefix.isEmpty ? [.init("format", "ELF vmlinux")] : []
        out.append(.init("\(prefix)elf.entry", hex(elf.entry)))
        out.append(.init("\(prefix)elf.physical_start", hex(elf.physicalStart)))
        out.append(.init("\(prefix)elf.load.layout", "\(elf.segments.count) PT_LOAD: " + elf.segments.map { segmentShape($0) }.joined(separator: ", ")))
        if let (s, offset) = segment(holding: elf.entry, in: elf) {
            out.append(.init("\(prefix)elf.entry.segment", "PT_LOAD \(s.index) (\(flagString(s.flags)))"))
            out.append(.init("\(prefix)elf.entry.position", offset < headSize ? "head of its segment (offset < \(hex(headSize)))" : "inside its segment (offset ≥ \(hex(headSize)))"))
            out.append(.init("\(prefix)size.elf.entry.offset", hex(offset)))
        } else {
            out.append(.init("\(prefix)elf.entry.segment", "outside every PT_LOAD"))
        }
        for s in elf.segments {
            out.append(.init("\(prefix)elf.phdr.\(s.index)", "flags \(flagString(s.flags)) align \(hex(s.align))"))
            out.append(.init("\(prefix)size.phdr.\(s.index)", "paddr \(hex(s.paddr)) vaddr \(hex(s.vaddr)) filesz \(hex(s.fileSize)) memsz \(hex(s.memorySize))"))
        }
        out.append(.init("\(prefix)size.elf.extent", hex(elf.physicalEnd &- elf.physicalStart)))
        for n in elf.notes { out.append(.init("\(prefix)elf.note.\(n.name).\(noteName(n.name, n.type))", noteValue(n.desc))) }
        if let p = elf.pvhEntry {
            out.append(.init("\(prefix)entry.pvh", hex(UInt64(p))))
            out.append(.init("\(prefix)pvh.segment", segment(holding: UInt64(p), in: elf).map { "PT_LOAD \($0.0.index) (\(flagString($0.0.flags)))" } ?? "outside every PT_LOAD"))
        }
        if let r = elf.relocation { out.append(.init("\(prefix)pvh.relocation", "align \(hex(r.alignment)) min \(hex(r.minimum)) max \(hex(r.maximum))")) }
        if prefix.isEmpty { out.append(.init("entry.64-bit", "e_entry")) }
        return out
    }

    /// The head of a segment: where .head.text puts startup_64, at the start of the text
    /// segment (spec §5: 6.12's e_entry is 0x1000B53, 0xB53 into PT_LOAD 0).
    static let headSize: UInt64 = 0x1000

    /// The PT_LOAD whose physical range holds `address`, and the offset into it.
    static func segment(holding address: UInt64, in elf: ElfImage) -> (ElfSegment, UInt64)? {
        elf.segments.first { $0.paddr <= address && address - $0.paddr < $0.memorySize }.map { ($0, address - $0.paddr) }
    }

    /// "RW-" with "vaddr 0" for the zero-based per-CPU segment (spec §5).
    static func segmentShape(_ s: ElfSegment) -> String { flagString(s.flags) + (s.vaddr == 0 ? " (vaddr 0)" : "") }

    /// The note type's name: XEN_ELFNOTE_* (include/xen/interface/elfnote.h, spec §5),
    /// LINUX_ELFNOTE_* (include/linux/elfnote*.h), NT_GNU_*; "type 0x…" for others.
    public static func noteName(_ owner: String, _ type: UInt32) -> String {
        let names: [String: [UInt32: String]] = [
            "Xen": [0: "INFO", 1: "ENTRY", 2: "HYPERCALL_PAGE", 3: "VIRT_BASE", 4: "PADDR_OFFSET", 5: "XEN_VERSION", 6: "GUEST_OS", 7: "GUEST_VERSION",
                    8: "LOADER", 9: "PAE_MODE", 10: "FEATURES", 11: "BSD_SYMTAB", 12: "HV_START_LOW", 13: "L1_MFN_VALID", 14: "SUSPEND_CANCEL",
                    15: "INIT_P2M", 16: "MOD_START_PFN", 17: "SUPPORTED_FEATURES", 18: "PHYS32_ENTRY", 19: "PHYS32_RELOC"],
            "Linux": [0x100: "BUILD_SALT", 0x101: "LTO_INFO"],
            "GNU": [1: "ABI_TAG", 3: "BUILD_ID", 4: "GOLD_VERSION", 5: "PROPERTY_TYPE_0"],
        ]
        return names[owner]?[type] ?? "type \(hex(UInt64(type)))"
    }

    /// A note's desc as a loader would read it: a string, a 4- or 8-byte little-endian number,
    /// or the bytes in hex (a size beyond 32 bytes).
    static func noteValue(_ d: [UInt8]) -> String {
        if d.count > 1, d.last == 0, d.dropLast().allSatisfy({ (0x20..<0x7F).contains($0) }) { return "\"" + String(decoding: d.dropLast(), as: UTF8.self) + "\"" }
        if d.count == 4 || d.count == 8, let v = d.le(0, d.count) { return hex(v) }
        return d.count <= 32 ? d.hexString : "\(d.count) bytes"
    }

    static func flagString(_ f: UInt32) -> String { (f & 4 != 0 ? "R" : "-") + (f & 2 != 0 ? "W" : "-") + (f & 1 != 0 ? "X" : "-") }
}
