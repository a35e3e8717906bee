/// §4.5 Initrd of the spec digest (shared/spec/x86-boot-protocol.md): BP-31…BP-35.
extension RuleCatalogue {
    static let initrd: [Rule] = [
        Rule("BP-31", "ramdisk fields describe the loaded initrd", reference: "§4.5; BOOT; SETUPC",
             statement: "ramdisk_image/size (with ext_* halves), or PVH module 0, describe the loaded initrd exactly; all 0 without one.") { c in
            guard c.zp != nil || c.si != nil else { return noZeroPage(c) }
            if let why = c.moduleListUnseen { return .na(why) }
            guard let size = c.s.inputs.initrdSize, let want = c.s.inputs.initrdSHA256 else {
                let f = c.initrdFields
                return f == nil || (f!.image == 0 && f!.size == 0) ? .pass("no initrd, fields 0") : .fail("no initrd was given, but the fields say \(hex(f!.image)) + \(hex(f!.size))")
            }
            guard let (r, rs) = c.initrdFields, r != 0 || rs != 0 else { return .fail("an initrd of \(hex(size)) bytes was given but the ramdisk fields are 0") }
            guard rs == size else { return .fail("ramdisk size is \(hex(rs)), the initrd is \(hex(size)) bytes") }
            if let p = c.initrdProblem { return .fail(p + ": no memory holds the initrd there") }
            guard let h = c.memory.sha256(at: r, length: rs) else { return .fail("initrd range [\(hex(r)), +\(hex(rs))) is not in guest memory") }
            return h == want ? .pass("initrd at \(hex(r)), \(hex(rs)) bytes, content matches") : .fail("memory at \(hex(r)) (+\(hex(rs))) is not the initrd (sha256 \(h.prefix(16))… vs \(want.prefix(16))…)")
        },
        Rule("BP-32", "initrd below initrd_addr_max", reference: "§4.5; BOOT initrd_addr_max; KEXEC; QEMU",
             statement: "R + RS − 1 ≤ initrd_addr_max (2.03+) or 0x37FFFFFF; lifted for the 64-bit entry with XLF_CAN_BE_LOADED_ABOVE_4G.") { c in
            guard c.isBz else { return notBz }
            if let p = c.initrdProblem { return .fail(p + ": its last byte is past every limit") }
            guard let r = c.initrd, !r.isEmpty else { return .na("no initrd") }
            if c.entryPoint == .long64 && c.xloadflags.contains(.canBeLoadedAbove4G) { return .pass("limit lifted (64-bit entry, XLF_CAN_BE_LOADED_ABOVE_4G); initrd \(r)") }
            let max = c.header(.initrdAddrMax) ?? 0x37FF_FFFF
            return r.end - 1 <= max ? .pass("last byte \(hex(r.end - 1)) ≤ \(hex(max))") : .fail("initrd \(r) ends at \(hex(r.end - 1)) > initrd_addr_max \(hex(max))")
        },
        Rule("BP-33", "initrd page-aligned", reference: "§4.5 (de facto); SETUPC; KEXEC; QEMU",
             statement: "R is a multiple of 4096.") { c in
            // R alone decides alignment, so a range that wraps (BP-32, BP-34) is judged too.
            guard let start = c.initrd.map(\.start) ?? (c.initrdProblem != nil ? c.initrdFields?.image : nil), c.initrd?.isEmpty != true else { return .na("no initrd") }
            return start % 4096 == 0 ? .pass("R = \(hex(start))") : .fail("initrd at \(hex(start)) is not 4 KiB-aligned")
        },
        Rule("BP-34", "initrd in RAM, clear of W and boot data", reference: "§4.5; KASLR mem_avoid",
             statement: "The initrd is in e820 RAM and overlaps neither W, boot_params, the command line nor setup_data.") { c in
            if let p = c.initrdProblem { return .fail(p + ": the initrd lies in no RAM") }
            guard let r = c.initrd, !r.isEmpty else { return .na("no initrd") }
            var conds: [(Bool, String)] = c.inRAM(r, "initrd")
            conds += c.clearOfWindow(r, "initrd")
            let others = c.bootObjects.filter { $0.0 != "initrd" }
            for (name, o) in others { conds.append((!r.overlaps(o), "initrd \(r) overlaps \(name) \(o)")) }
            conds += c.wrapConditions(window: false).filter { !$0.1.hasPrefix("initrd") }
            return .check(conds, ok: "initrd \(r) in RAM and clear of W \(c.window?.description ?? "(none)"), \(others.map { "\($0.0) \($0.1)" }.joined(separator: ", "))")
        },
    ]
}
