/// §4.3 Kernel placement of the spec digest (shared/spec/x86-boot-protocol.md): BP-19…BP-25.
extension RuleCatalogue {
    static let placement: [Rule] = [
        Rule("BP-19", "kernel copied byte for byte", reference: "§4.3, §5; BOOT; DEB",
             statement: "bzImage: guest [L, L+len) equals the file from (setup_sects'+1)*512 to its end. ELF: every PT_LOAD is at p_paddr (+ one common delta) with its file bytes, and [p_filesz, p_memsz) is zero.") { c in
            if c.isBz {
                let len = c.s.image.protectedModeLength
                guard AddressRange.make(c.L, length: len) != nil else { return .fail("L \(hex(c.L)) + the protected-mode image's \(hex(len)) bytes wraps past 2^64: the image lies nowhere") }
                guard let h = c.memory.sha256(at: c.L, length: len) else { return .na("[L, L+\(hex(len))) not in the snapshot") }
                return h == c.s.image.protectedModeSHA256 ? .pass("[\(hex(c.L)), +\(hex(len))) matches the file (sha256 \(h.prefix(16))…)")
                    : .fail(h.hasPrefix("hash64:") ? "guest [\(hex(c.L)), +\(hex(len))) as the probe checksummed it (\(h)) is not the file's protected-mode image: not copied byte for byte"
                            : "guest [\(hex(c.L)), +\(hex(len))) has sha256 \(h.prefix(16))…, the file's protected-mode image has \(c.s.image.protectedModeSHA256.prefix(16))…")
            }
            guard let lo = c.s.image.segments.map(\.paddr).min() else { return .na("no segments") }
            let delta = c.L &- lo
            var conds: [(Bool, String)] = []
            for (i, seg) in c.s.image.segments.enumerated() {
                let at = seg.paddr &+ delta
                guard let placed = AddressRange.make(at, length: max(seg.memorySize, seg.fileSize)) else {
                    conds.append((false, "segment \(i) at \(hex(at)) + \(hex(max(seg.memorySize, seg.fileSize))) bytes wraps past 2^64")); continue
                }
                guard let h = c.memory.sha256(at: at, length: seg.fileSize) else { return .na("segment \(i) at \(hex(at)) not in the snapshot") }
                conds.append((h == seg.sha256, "segment \(i) at \(hex(at)) (\(hex(seg.fileSize)) bytes) differs from the file"))
                if seg.memorySize > seg.fileSize {
                    let z = c.memory.isZero(at: at + seg.fileSize, length: seg.memorySize - seg.fileSize)
                    conds.append((z != false, "segment \(i) BSS [\(hex(at + seg.fileSize)), \(hex(placed.end))) is not zero-filled"))
                }
            }
            return .check(conds, ok: "\(c.s.image.segments.count) segments at p_paddr + \(hex(delta)) match the file")
        },
        Rule("BP-20", "non-relocatable kernel at 0x100000", reference: "§4.3; BOOT \"Loading the rest\", pref_address",
             statement: "A non-relocatable image, or one older than 2.05, is loaded at L = 0x100000.") { c in
            guard c.isBz else { return notBz }
            guard !c.relocatable else { return .na("relocatable kernel") }
            return c.L == 0x10_0000 ? .pass("L = 0x100000") : .fail("non-relocatable kernel loaded at \(hex(c.L)), expected 0x100000")
        },
        Rule("BP-21", "relocatable kernel aligned", reference: "§4.3; BOOT; MISC; ASMBOOT",
             statement: "A relocatable image sits at a multiple of kernel_alignment; a lowered kernel_alignment (2.10+) is a power of two ≥ 1<<min_alignment.") { c in
            guard c.isBz else { return notBz }
            guard c.relocatable else { return .na("not relocatable") }
            guard let zp = c.zp else { return noZeroPage(c) }
            let a = zp.field(.kernelAlignment)!, img = c.img(.kernelAlignment) ?? 0
            // 0x100000 is where every bzImage may be loaded (BOOT "Loading the rest"); a
            // relocatable kernel loaded there aligns itself up (CH64 startup_32: L rounded up to
            // kernel_alignment, at least LOAD_PHYSICAL_ADDR). The alignment binds a loader that
            // chooses another address.
            let atDefault = c.L == 0x10_0000
            var conds: [(Bool, String)] = [(atDefault || (a != 0 && c.L % a == 0), "L \(hex(c.L)) is not a multiple of kernel_alignment \(hex(a))")]
            if a != img {
                let minA = UInt64(1) << (c.img(.minAlignment) ?? 21)
                conds.append((a.isPowerOfTwo && a >= minA, "kernel_alignment lowered from \(hex(img)) to \(hex(a)), below 1<<min_alignment = \(hex(minA)) or not a power of two"))
            }
            return .check(conds, ok: atDefault && c.L % max(a, 1) != 0 ? "L = 0x100000, the default address; the kernel aligns itself to \(hex(a))" : "L \(hex(c.L)) aligned to \(hex(a))")
        },
        Rule("BP-22", "kernel window W is RAM and clear", reference: "§4.3; BOOT init_size; CH64; KASLR",
             statement: "W = [RT, RT+init_size), RT = relocatable ? align_up(max(L, pref_address), kernel_alignment) : pref_address, is e820 RAM and overlaps no boot_params, command line, initrd or setup_data.") { c in
            if let p = c.windowProblem { return .fail(p + ": W lies in no RAM") }
            guard let w = c.window else { return .na(c.isBz ? "protocol \(ProtocolVersion(rawValue: c.version)) has no init_size" : "no kernel range") }
            var conds: [(Bool, String)] = c.memoryMapUnseen == nil ? [(c.isRAM(w), "W \(w) is not inside e820 RAM")] : []
            for (name, r) in c.bootObjects { conds.append((!r.overlaps(w), "\(name) \(r) overlaps W \(w)")) }
            conds += c.wrapConditions(window: false)
            let objs = c.bootObjects.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
            return .check(conds, ok: c.memoryMapUnseen.map { "W \(w) clear of \(objs) (RAM not judged: \($0))" } ?? "W \(w) in RAM and clear of \(objs)")
        },
        Rule("BP-23", "pref_address preferred", reference: "§4.3; BOOT pref_address, min_alignment",
             statement: "A relocatable 2.10+ kernel is loaded at pref_address when that memory is free.") { c in
            guard c.isBz else { return notBz }
            guard c.relocatable, let pref = c.header(.prefAddress), let initSize = c.header(.initSize) else { return .na("needs a relocatable kernel with protocol ≥ 2.10") }
            let a = c.z(.kernelAlignment) ?? 1
            if c.L == pref || (pref % max(a, 1) != 0 && c.L == pref.alignedUp(max(a, 1))) { return .pass("L = pref_address \(hex(pref))") }
            // pref_address binds "a relocating bootloader" (BOOT pref_address); one that loads at
            // the traditional 0x100000 does not relocate, and the kernel moves itself up.
            if c.L == 0x10_0000 { return .pass("L = 0x100000 (not relocated); the kernel moves itself to pref_address \(hex(pref))") }
            guard let w = AddressRange.make(pref, length: initSize) else { return .na("pref_address \(hex(pref)) + init_size \(hex(initSize)) wraps past 2^64: no window to prefer") }
            if !c.isRAM(w) { return .pass("[pref_address, +init_size) \(w) is not all RAM; L = \(hex(c.L))") }
            return .fail("L = \(hex(c.L)) though [pref_address, +init_size) \(w) is free RAM")
        },
        Rule("BP-24", "firmware tables outside RAM", reference: "§4.3; KASLR choose_random_location",
             statement: "ACPI and other tables that must survive KASLR lie in e820 types 2/3/4, never RAM.") { c in
            guard let zp = c.zp else { return noZeroPage(c) }
            let a = zp.field(.acpiRsdpAddr)!
            guard a != 0 else { return .na("no RSDP handed over") }
            guard let r = AddressRange.make(a, length: 20) else { return .fail("RSDP address \(hex(a)) + 20 wraps past 2^64") }
            let ok = c.e820.contains { [.reserved, .acpi, .nvs].contains($0.type) && ($0.range?.contains(r) ?? false) }
            return ok ? .pass("RSDP \(r) in a reserved/ACPI/NVS range") : .fail("RSDP \(r) is not in an e820 type 2/3/4 range (KASLR may overwrite it)")
        },
        Rule("BP-25", "code32_start = L for a relocated 16-bit boot", reference: "§4.3; BOOT code32_start; PM",
             statement: "For the 16-bit entry with a relocated kernel, code32_start = L.") { c in
            guard c.entryPoint == .setup16 else { return .na("not the 16-bit entry (a VMM loader enters at 32/64/PVH; the 16-bit entry needs BIOS services)") }
            guard let zp = c.zp else { return noZeroPage(c) }
            let v = zp.field(.code32Start)!
            return v == c.L ? .pass("code32_start \(hex(v))") : .fail("code32_start is \(hex(v)), L is \(hex(c.L))")
        },
    ]
}
