/// The protocol-visible surface of a kernel image: everything a loader reads from it. Two
/// releases are compared on this to say what a loader would see change.
public struct SurfaceItem: Sendable, Hashable {
    /// "header.version", "loadflags.LOADED_HIGH", "elf.phdr.1", "elf.note.Xen.18", "entry.64-bit".
    public let key: String
    public let value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

public struct SurfaceChange: Sendable, Equatable {
    public enum Severity: String, Sendable { case info, regression }
    public let key: String
    public let old: String?
    public let new: String?
    public let severity: Severity
    /// Why it matters to a loader.
    public let reason: String
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
        for (f, v) in h.decodedFields where f.name != "kernel_version" && f.name != "syssize" && f.name != "payload_length" && f.name != "payload_offset" {
            out.append(.init("header.\(f.name)", hex(v)))
        }
        // Sizes that change with every build are kept, but under their own keys (info).
        out.append(.init("size.syssize", hex(UInt64(h.syssize))))
        if let l = h.payloadLength { out.append(.init("size.payload_length", hex(UInt64(l)))) }
        for (bit, name) in loadFlagNames { out.append(.init("loadflags.\(name)", h.loadFlags.contains(bit) ? "set" : "clear")) }
        if h.version >= ProtocolVersion(2, 12) {
            for (bit, name) in xloadFlagNames { out.append(.init("xloadflags.\(name)", h.xloadFlags.contains(bit) ? "set" : "clear")) }
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

    public static func of(elf: ElfImage, prefix: String = "") -> [SurfaceItem] {
        var out: [SurfaceItem] = prefix.isEmpty ? [.init("format", "ELF vmlinux")] : []
        out.append(.init("\(prefix)elf.entry", hex(elf.entry)))
        out.append(.init("\(prefix)elf.physical_start", hex(elf.physicalStart)))
        for s in elf.segments {
            out.append(.init("\(prefix)elf.phdr.\(s.index)", "paddr \(hex(s.paddr)) vaddr \(hex(s.vaddr)) align \(hex(s.align)) flags \(flagString(s.flags))"))
            out.append(.init("\(prefix)size.phdr.\(s.index)", "filesz \(hex(s.fileSize)) memsz \(hex(s.memorySize))"))
        }
        for n in elf.notes {
            // The build ID differs on every build; it is kept as a size item so it shows as info.
            let key = n.name == "GNU" && n.type == 3 ? "\(prefix)size.note.GNU.build-id" : "\(prefix)elf.note.\(n.name).\(n.type)"
            out.append(.init(key, n.desc.count <= 16 ? n.desc.map { String(format: "%02x", $0) }.joined() : "\(n.desc.count) bytes"))
        }
        if let p = elf.pvhEntry { out.append(.init("\(prefix)entry.pvh", hex(UInt64(p)))) }
        if let r = elf.relocation { out.append(.init("\(prefix)pvh.relocation", "align \(hex(r.alignment)) min \(hex(r.minimum)) max \(hex(r.maximum))")) }
        if prefix.isEmpty { out.append(.init("entry.64-bit", "e_entry \(hex(elf.entry))")) }
        return out
    }

    static func flagString(_ f: UInt32) -> String { (f & 4 != 0 ? "R" : "-") + (f & 2 != 0 ? "W" : "-") + (f & 1 != 0 ? "X" : "-") }

    /// What changed from `old` to `new`, with what a loader would make of it.
    public static func diff(old: [SurfaceItem], new: [SurfaceItem]) -> [SurfaceChange] {
        let o = Dictionary(old.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let n = Dictionary(new.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        var keys: [String] = []
        for k in (old + new).map(\.key) where !keys.contains(k) { keys.append(k) }
        return keys.compactMap { k in
            let a = o[k], b = n[k]
            guard a != b else { return nil }
            let (sev, why) = judge(key: k, old: a, new: b)
            return SurfaceChange(key: k, old: a, new: b, severity: sev, reason: why)
        }
    }

    static func judge(key k: String, old a: String?, new b: String?) -> (SurfaceChange.Severity, String) {
        if k == "protocol", let a, let b, let va = version(a), let vb = version(b), vb < va { return (.regression, "the boot protocol version went down; loaders that need \(a) features lose them") }
        if k == "format" { return (.regression, "the image format changed; a loader for \(a ?? "-") cannot load it") }
        if k == "loadflags.LOADED_HIGH", b == "clear" { return (.regression, "without LOADED_HIGH the image is a zImage, which 32/64-bit loaders refuse (BP-05)") }
        if k == "xloadflags.XLF_KERNEL_64", b != "set" { return (.regression, "the 64-bit entry is gone (BP-06)") }
        if k == "xloadflags.XLF_CAN_BE_LOADED_ABOVE_4G", b != "set" { return (.regression, "loaders that place boot data above 4 GiB must stop (BP-07)") }
        if k == "header.relocatable_kernel", b == "0x0" { return (.regression, "the kernel is no longer relocatable; it must go at pref_address (BP-20)") }
        if k.hasSuffix("entry.pvh"), b == nil { return (.regression, "the PVH entry note is gone; PVH loaders cannot boot it (BP-60)") }
        if k.hasPrefix("entry."), b == nil { return (.regression, "an entry point is gone") }
        if k == "header.init_size", let a, let b, let x = parseNumber(a), let y = parseNumber(b), y > x {
            return (.info, "the kernel needs \(hex(y - x)) more bytes of window (BP-22): loaders with tight layouts must check")
        }
        if k == "header.kernel_alignment" { return (.info, "placement alignment changed (BP-21)") }
        if k == "header.pref_address" { return (.info, "the preferred load address moved (BP-23)") }
        if k.hasPrefix("size.") { return (.info, "changes with every build") }
        if a == nil { return (.info, "new in this release") }
        if b == nil { return (.info, "gone in this release") }
        return (.info, "changed")
    }

    static func version(_ s: String) -> ProtocolVersion? {
        let p = s.split(separator: ".")
        guard p.count == 2, let a = UInt16(p[0]), let b = UInt16(p[1]) else { return nil }
        return ProtocolVersion(rawValue: a << 8 | b)
    }
}
