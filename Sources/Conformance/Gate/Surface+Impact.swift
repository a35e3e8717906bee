/// The surface diff, each change classified by what it means to a loader maintainer
/// (breaking, needs attention, informational) and build noise marked for collapsing.
extension Surface {
    /// What changed from `old` to `new`, in the order the items appear, with the impact of
    /// each and the reason a loader maintainer needs.
    public static func diff(old: [SurfaceItem], new: [SurfaceItem]) -> [SurfaceChange] {
        let o = Dictionary(old.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let n = Dictionary(new.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        var keys: [String] = []
        var seen: Set<String> = []
        for k in (old + new).map(\.key) where seen.insert(k).inserted { keys.append(k) }
        let changed = Set(keys.filter { o[$0] != n[$0] })
        return keys.compactMap { k in
            let a = o[k], b = n[k]
            guard a != b else { return nil }
            let j = judge(key: k, old: a, new: b, changed: changed)
            return SurfaceChange(key: k, old: a, new: b, impact: j.impact, reason: j.reason, noise: j.noise)
        }
    }

    /// The classification of one change.
    struct Judgement {
        let impact: SurfaceChange.Impact
        let reason: String
        var noise = false
        static func breaking(_ r: String) -> Judgement { Judgement(impact: .breaking, reason: r) }
        static func attention(_ r: String) -> Judgement { Judgement(impact: .needsAttention, reason: r) }
        static func info(_ r: String) -> Judgement { Judgement(impact: .informational, reason: r) }
        static func noise(_ r: String) -> Judgement { Judgement(impact: .informational, reason: r, noise: true) }
    }

    /// XLF bits whose loss stops the loaders that use them (BP-06, BP-07, BP-59).
    static let xloadFlagsLoadersNeed: [String: String] = [
        "XLF_KERNEL_64": "the 64-bit entry at L + 0x200 is gone; 64-bit loaders must fall back to the 32-bit entry or refuse (BP-06)",
        "XLF_CAN_BE_LOADED_ABOVE_4G": "loaders that place the kernel, boot_params, command line or initrd at or above 4 GiB must stop (BP-07)",
        "XLF_EFI_HANDOVER_64": "the 64-bit EFI handover entry is gone; EFI loaders that use it (GRUB's linuxefi, OVMF's legacy path) must use the PE entry (BP-59)",
    ]

    static func judge(key k: String, old a: String?, new b: String?, changed: Set<String>) -> Judgement {
        // The part after the payload prefix: a bzImage's payload ELF and an ELF vmlinux judge alike.
        let e = k.hasPrefix("payload.") && k != "payload.format" ? String(k.dropFirst("payload.".count)) : k
        let gone = a != nil && b == nil, appeared = a == nil && b != nil
        let was = a ?? "—", now = b ?? "—"
        if e == "architecture" || e.hasPrefix("image.") || e.hasPrefix("pe.") { return judgeImage(key: e, old: a, new: b) }
        switch e {
        case "format": return .breaking("the image format changed from \(was) to \(now); a loader for one cannot load the other")
        case "protocol":
            guard let a, let b, let va = version(a), let vb = version(b) else { return .attention("the boot protocol version changed") }
            if vb < va { return .breaking("the boot protocol version went down from \(a) to \(b): fields and entries of \(a) are gone, and loaders must not write fields the image lacks (BP-04)") }
            return .attention("protocol \(a) → \(b): the setup header has the fields \(b) adds (spec §3); a loader written for \(a) writes only the fields it knows and leaves the new ones at the image's values (BP-04, BP-10)")
        case "loadflags.LOADED_HIGH" where b == "clear":
            return .breaking("without LOADED_HIGH the image is a zImage, which 32- and 64-bit loaders refuse (BP-05)")
        case "header.relocatable_kernel" where b == "0x0":
            return .breaking("the kernel is no longer relocatable; it must go at 0x100000 or pref_address (BP-20)")
        case "header.init_size":
            guard let x = a.flatMap(parseNumber), let y = b.flatMap(parseNumber) else { return .attention("init_size changed from \(was) to \(now) (BP-22)") }
            if y > x { return .attention("the kernel needs \(hex(y - x)) more bytes of window W = [L, L + init_size) (BP-22): a loader with a tight layout (boot_params, command line, initrd or setup_data placed just above the kernel) must check they stay outside it") }
            return .info("the window W shrank by \(hex(x - y)) (BP-22)")
        case "header.kernel_alignment", "header.min_alignment": return .attention("placement alignment changed: a loader that computes L from it must follow (BP-21, BP-23)")
        case "header.pref_address": return .attention("the preferred load address moved (BP-23); loaders that hard-code it must follow")
        case "header.cmdline_size", "header.initrd_addr_max":
            if let x = a.flatMap(parseNumber), let y = b.flatMap(parseNumber), y > x { return .info("the limit grew: loaders may use more (BP-27, BP-32)") }
            return .attention("the limit fell: command lines or initrds placed to the old limit no longer fit (BP-27, BP-32)")
        case "header.handover_offset", "header.kernel_info_offset":
            if a == "0x0" || b == "0x0" || gone || appeared { return .attention("the structure it points at appeared or went (BP-09, BP-59)") }
            return .noise("an offset into the image that moves with every build; loaders read it from the header")
        case "payload.format":
            if appeared { return .info("the bzImage now states its payload's format (payload_offset and payload_length, spec §3 row 2.08)") }
            return .attention("the payload compression changed: tools that extract the ELF vmlinux from the bzImage (PVH and ELF loaders fed from a bzImage, spec §5) need the \(now) decompressor")
        case "kernel_info.setup_type_max":
            guard let x = a.flatMap(parseNumber), let y = b.flatMap(parseNumber) else {
                return gone ? .attention("kernel_info and its setup_type_max are gone: a loader can no longer check the setup_data types it passes (BP-09, BP-43)")
                            : .info("the kernel now states the highest setup_data type it accepts (BP-43)")
            }
            if y > x { return .attention("the kernel accepts new setup_data types (up to \(now)); a loader may pass them, and setup_data a loader sent before is unaffected (BP-43)") }
            return .breaking("setup_data types above \(now) that loaders pass are now refused (BP-43)")
        default: break
        }
        if e.hasPrefix("xloadflags.") {
            let bit = String(e.dropFirst("xloadflags.".count))
            if bit == "other" { return .attention("bits without a name in spec §3 changed: a loader that checks xloadflags must learn what they mean") }
            if b != "set", a == "set" {
                if let why = xloadFlagsLoadersNeed[bit] { return .breaking(why) }
                return .attention("\(bit) is no longer advertised: a loader that keys behaviour on it (spec §3, xloadflags) must take the path for kernels without it")
            }
            return .attention("\(bit) is now advertised: a new capability loaders may probe for (spec §3: capabilities go into xloadflags without a version bump)")
        }
        if e.hasPrefix("loadflags.") { return .attention("the image's loadflags are what a loader starts from (BP-05, BP-10)") }
        // The PVH entry: gone, or into another segment; its address moves with every build.
        if e == "entry.pvh" || e == "elf.note.Xen.PHYS32_ENTRY" {
            if gone { return .breaking("the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) is gone; PVH loaders cannot boot the image (BP-60)") }
            if appeared { return .info("the image now has a PVH entry note (BP-60): PVH loaders can boot it") }
            return .noise("the PVH entry address moves with every build; loaders read it from the note (BP-60)")
        }
        if e == "pvh.segment" { return .attention("the PVH entry (XEN_ELFNOTE_PHYS32_ENTRY) moved to another segment: a VMM that derives addresses from the PVH entry (assuming it lies in the text segment) must be checked (BP-60, BP-68)") }
        if e == "pvh.relocation" || e == "elf.note.Xen.PHYS32_RELOC" {
            if gone { return .breaking("the PVH relocation note (XEN_ELFNOTE_PHYS32_RELOC) is gone: loaders that move the kernel from p_paddr must stop (BP-68)") }
            if appeared { return .info("the image is now relocatable for PVH (XEN_ELFNOTE_PHYS32_RELOC, BP-68)") }
            return .attention("the PVH relocation bounds changed: a loader that relocates the kernel must place it within them (BP-68)")
        }
        if e.hasPrefix("entry.") && gone { return .breaking("the \(e.dropFirst("entry.".count)) entry point is gone: loaders that use it cannot boot the image") }
        if e.hasPrefix("entry.") && appeared { return .info("a new entry point: \(now)") }
        if e.hasPrefix("entry.efi-handover") { return .noise("the handover entry's offset moves with every build; loaders read handover_offset") }
        // The ELF entry: which segment holds it, and where in it.
        if e == "elf.entry.segment" {
            if b == "outside every PT_LOAD" { return .breaking("e_entry lies in no PT_LOAD segment (BP-76): loaders that check it refuse the image, and the others jump into memory they did not load") }
            return .attention("the ELF entry (e_entry, startup_64) moved to another segment: a loader or VMM that derives addresses from the entry (assuming it lies in the first, text segment near LOAD_PHYSICAL_ADDR) computes wrong ones. Linux 6.17 moved its startup code out of .head.text; a VMM broke on exactly this (BP-70, BP-76)")
        }
        if e == "elf.entry.position" {
            if changed.contains(k.replacingOccurrences(of: "elf.entry.position", with: "elf.entry.segment")) { return .info("follows the entry's move to another segment") }
            return .attention("the ELF entry left the head of its segment: a loader that assumes e_entry is at the start of text (LOAD_PHYSICAL_ADDR) must use e_entry itself (BP-70)")
        }
        if e == "elf.load.layout" {
            return .attention("segments were merged, split or removed; a loader that copies segments by index or expects a particular segment (the per-CPU or init segment) must load every PT_LOAD by p_paddr instead (BP-75, spec §5)")
        }
        if e == "elf.physical_start" { return .attention("the lowest p_paddr moved: loaders that place the kernel at LOAD_PHYSICAL_ADDR must follow (spec §5)") }
        if e.hasPrefix("elf.phdr.") {
            if gone || appeared { return .info("follows the PT_LOAD layout change (elf.load.layout)") }
            return .attention("a segment's permissions or alignment changed: a loader that maps segments with their permissions or checks p_align (2 MiB on x86_64, spec §5) must follow")
        }
        if e.hasPrefix("elf.note.") {
            let name = String(e.dropFirst("elf.note.".count))
            if ["Xen.ENTRY", "Xen.HYPERCALL_PAGE", "Linux.BUILD_SALT", "GNU.BUILD_ID"].contains(name), !gone, !appeared {
                return .noise("\(name) changes with every build (an address or an ID)")
            }
            let owner = name.split(separator: ".").first.map(String.init) ?? ""
            let whose = owner == "Xen" ? " (a Xen PV note: Xen's PV domain builder reads it, PVH and bzImage loaders do not)" : ""
            if gone { return .info("the \(name) note is gone\(whose)") }
            if appeared { return .info("a new \(name) note\(whose)") }
            return .info("the \(name) note changed\(whose)")
        }
        if e.hasPrefix("size.") || e == "elf.entry" { return .noise("changes with every build") }
        if e == "header.heap_end_ptr" { return .info("the image's default for a field the loader writes (a loader that sets CAN_USE_HEAP writes its own heap end)") }
        if e.hasPrefix("kernel_info.") { return gone ? .attention("kernel_info is gone (BP-09)") : .info("kernel_info changed (BP-09)") }
        if appeared { return .info("new in this release") }
        if gone { return .info("gone in this release") }
        return .info("changed")
    }

    static func version(_ s: String) -> ProtocolVersion? {
        let p = s.split(separator: ".")
        guard p.count == 2, let a = UInt16(p[0]), let b = UInt16(p[1]) else { return nil }
        return ProtocolVersion(rawValue: a << 8 | b)
    }
}
