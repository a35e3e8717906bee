extension RuleCatalogue {
    static func isFlatCode32(_ s: SegmentRegister) -> Bool { s.base == 0 && s.limit == 0xFFFF_FFFF && s.type & 0xA == 0xA && s.s && s.present && s.db && !s.l }
    static func isFlatData(_ s: SegmentRegister) -> Bool { s.base == 0 && s.limit == 0xFFFF_FFFF && s.type & 0xA == 0x2 && s.s && s.present }
    static func isCode64(_ s: SegmentRegister) -> Bool { s.type & 0xA == 0xA && s.s && s.present && s.l && !s.db }
    /// The cached register state equals what loading the descriptor gives (accessed bit aside).
    static func matches(_ cached: SegmentRegister, _ d: SegmentRegister) -> Bool {
        cached.base == d.base && cached.limit == d.limit && cached.type | 1 == d.type | 1 && cached.s == d.s && cached.present == d.present && cached.db == d.db && cached.l == d.l
    }

    /// GDT checks shared by BP-49 and BP-55.
    static func gdtChecks(_ c: RuleContext, longMode: Bool) -> Judgement {
        let e = c.entry
        guard let cd = c.descriptor(0x10), let dd = c.descriptor(0x18) else {
            return .fail("GDTR (base \(hex(e.gdtr.base)), limit \(hex(e.gdtr.limit))) does not cover selectors 0x10 and 0x18 in guest memory")
        }
        let code = SegmentRegister(selector: 0x10, descriptor: cd), data = SegmentRegister(selector: 0x18, descriptor: dd)
        var conds: [(Bool, String)] = [
            (longMode ? isCode64(code) : isFlatCode32(code), "GDT[0x10] = \(hex(cd)) is not a \(longMode ? "64-bit (L=1, D=0)" : "flat 4 GiB 32-bit") execute/read code segment"),
            (isFlatData(dd == 0 ? SegmentRegister.unusable : data), "GDT[0x18] = \(hex(dd)) is not a flat 4 GiB read/write data segment"),
            (e.cs.selector == 0x10, "CS = \(hex(e.cs.selector)), expected 0x10 (__BOOT_CS)"),
            (matches(e.cs, code), "cached CS state differs from GDT[0x10]"),
        ]
        for (n, s) in [("DS", e.ds), ("ES", e.es), ("SS", e.ss)] {
            conds.append((s.selector == 0x18, "\(n) = \(hex(s.selector)), expected 0x18 (__BOOT_DS)"))
            conds.append((matches(s, data), "cached \(n) state differs from GDT[0x18]"))
        }
        return .check(conds, ok: "GDT at \(hex(e.gdtr.base)): 0x10 = \(hex(cd)), 0x18 = \(hex(dd)); CS 0x10, DS/ES/SS 0x18")
    }

    /// BP-50, BP-56: the flags register has IF clear.
    static func interruptsOff(_ c: RuleContext) -> Judgement {
        c.entry.rflags & EntryState.rflagsIF == 0 ? .pass("IF = 0") : .fail("RFLAGS = \(hex(c.entry.rflags)): IF = 1")
    }

    /// RSI/ESI points at the zero page (BP-51, BP-57, BP-70): readable RAM holding the image's header magic.
    static func bootParamsPointer(_ c: RuleContext) -> (Bool, String) {
        let b = c.entry.rsi
        guard let zp = c.zp else { return (false, b == 0 ? "boot_params pointer is 0: no zero page handed over" : "RSI = \(hex(b)) does not point at 4096 bytes of guest memory") }
        if c.isBz {
            // "HdrS" identifies the copied header; boot_flag is a read-only field BP-10 judges
            // on its own (a loader that clears it still passed the right pointer).
            return (zp.u32(0x202) == c.imageHeader.u32(0x202), "RSI = \(hex(b)) does not hold the image's setup header (no \"HdrS\" at +0x202)")
        }
        return (true, "")
    }

    static let entry16: [Rule] = [
        Rule("BP-45", "real-mode part placement (16-bit entry)", reference: "§4.8; BOOT memory layout",
             statement: "The real-mode part is at X = 0x90000 for protocols < 2.02, else at X ≥ 0x10000, with the header at X+0x1F1.") { c in
            guard c.entryPoint == .setup16 else { return .na("not the 16-bit entry (a VMM loader enters at 32/64/PVH; the 16-bit entry needs BIOS services)") }
            guard let x = c.B, let zp = c.zp else { return noZeroPage(c) }
            // 0x90000 binds old kernels (no "HdrS") and zImages. A 2.00/2.01 bzImage may be
            // loaded elsewhere: the kernel moves setup_move_size bytes to 0x90000 (§1.2
            // setup_move_size, §3 2.00; boot.rst), which BP-30 judges.
            let bz = c.version >= 0x0200 && zp.u32(0x202) == 0x5372_6448 && zp[0x211] & 1 != 0
            return .check([(bz ? x >= 0x1_0000 : x == 0x9_0000, "real-mode base X = \(hex(x)) for protocol \(ProtocolVersion(rawValue: c.version))\(bz ? "" : ", not a bzImage: 0x90000")"),
                           (zp.u32(0x202) == 0x5372_6448, "no HdrS at X+0x202")], ok: "X = \(hex(x))")
        },
        Rule("BP-46", "16-bit entry registers", reference: "§4.8; BOOT \"Running the Kernel\"",
             statement: "CS = (X>>4)+0x20, IP = 0, DS = ES = SS = X>>4, SP inside the setup heap (at most heap_end_ptr + 0x200), IF = 0, heap_end_ptr set with CAN_USE_HEAP (2.01+).") { c in
            guard c.entryPoint == .setup16 else { return .na("not the 16-bit entry (a VMM loader enters at 32/64/PVH; the 16-bit entry needs BIOS services)") }
            guard let x = c.B, let zp = c.zp else { return noZeroPage }
            let seg = UInt16(truncatingIfNeeded: x >> 4), e = c.entry
            var conds: [(Bool, String)] = [(e.rip == 0, "IP = \(hex(e.rip))"), (e.rflags & EntryState.rflagsIF == 0, "IF = 1")]
            conds += [("DS", e.ds), ("ES", e.es), ("SS", e.ss)].map { ($0.1.selector == seg, "\($0.0) = \(hex($0.1.selector)), expected \(hex(seg))") }
            let sp = e.rsp & 0xFFFF
            if c.version >= 0x0201 {
                let heap = zp[0x211] & 0x80 != 0 && zp.u16(0x224)! != 0
                conds.append((heap, "heap_end_ptr/CAN_USE_HEAP not set"))
                // The stack grows down from SP inside the heap the loader declared; above the
                // heap's end lies the command line (BP-28). The kernel keeps SP as given when
                // SS = DS (header.S start_of_setup). SP = 0 stands for 0x10000.
                if heap {
                    let heapEnd = UInt64(zp.u16(0x224)!) + 0x200, top = sp == 0 ? 0x1_0000 : sp
                    let setupEnd = UInt64((zp[0x1F1] == 0 ? 4 : UInt64(zp[0x1F1])) + 1) * 512
                    conds.append((top <= heapEnd && top > setupEnd, "SP = \(hex(sp)) is outside the setup heap (\(hex(setupEnd)), \(hex(heapEnd))]"))
                }
            }
            return .check(conds, ok: "CS \(hex(e.cs.selector)), DS/ES/SS \(hex(seg)), SP \(hex(sp)), IF 0")
        },
    ]

    static let entry32: [Rule] = [
        Rule("BP-47", "EIP = L (32-bit entry)", reference: "§4.9; CH64", statement: "The 32-bit entry is at offset 0 of the protected-mode image.") { c in
            guard c.entryPoint == .protected32 else { return .na("not the 32-bit entry") }
            return c.entry.rip == c.L ? .pass("EIP = L = \(hex(c.L))") : .fail("EIP = \(hex(c.entry.rip)), L = \(hex(c.L))")
        },
        Rule("BP-48", "protected mode, paging off", reference: "§4.9", statement: "CR0.PE = 1 and CR0.PG = 0.") { c in
            guard c.entryPoint == .protected32 else { return .na("not the 32-bit entry") }
            let cr0 = c.entry.cr0
            return .check([(cr0 & EntryState.cr0PE != 0, "CR0.PE = 0"), (cr0 & EntryState.cr0PG == 0, "CR0.PG = 1")], ok: "CR0 = \(hex(cr0))")
        },
        Rule("BP-49", "boot GDT, 32-bit", reference: "§4.9; SEG; PM setup_gdt",
             statement: "GDT 0x10 = flat 4 GiB execute/read 32-bit code, 0x18 = flat read/write data; CS = 0x10, DS = ES = SS = 0x18; cached state matches.") { c in
            guard c.entryPoint == .protected32 else { return .na("not the 32-bit entry") }
            return gdtChecks(c, longMode: false)
        },
        Rule("BP-50", "interrupts off (32-bit)", reference: "§4.9", statement: "EFLAGS.IF = 0.") { c in
            guard c.entryPoint == .protected32 else { return .na("not the 32-bit entry") }
            return interruptsOff(c)
        },
        Rule("BP-51", "ESI = boot_params; EBP = EDI = EBX = 0", reference: "§4.9", statement: "ESI holds the zero page's address; EBP, EDI and EBX are 0.") { c in
            guard c.entryPoint == .protected32 else { return .na("not the 32-bit entry") }
            let e = c.entry
            return .check([bootParamsPointer(c), (e.rbp == 0, "EBP = \(hex(e.rbp))"), (e.rdi == 0, "EDI = \(hex(e.rdi))"), (e.rbx == 0, "EBX = \(hex(e.rbx))")], ok: "ESI = \(hex(e.rsi))")
        },
        Rule("BP-52", "everything below 4 GiB (32-bit)", reference: "§4.9; CH64 startup_32", statement: "W, initrd, boot_params and command line all lie below 4 GiB.") { c in
            guard c.entryPoint == .protected32 else { return .na("not the 32-bit entry") }
            return .check(c.bootObjectsAndWindow.map { ($0.1.end <= 1 << 32, "\($0.0) \($0.1) above 4 GiB") }, ok: "all below 4 GiB")
        },
    ]

    static let entry64: [Rule] = [
        Rule("BP-53", "RIP = L + 0x200 (bzImage 64-bit entry)", reference: "§4.10; CH64", statement: "The 64-bit entry is at offset 0x200 of the protected-mode image.") { c in
            guard c.entryPoint == .long64, c.isBz else { return .na("not the bzImage 64-bit entry") }
            return c.entry.rip == c.L &+ 0x200 ? .pass("RIP = L + 0x200 = \(hex(c.entry.rip))") : .fail("RIP = \(hex(c.entry.rip)), expected L + 0x200 = \(hex(c.L &+ 0x200))")
        },
        Rule("BP-54", "long mode with paging", reference: "§4.10; CH64", statement: "CR0.PE, CR0.PG, CR4.PAE, EFER.LME and EFER.LMA set; CR4.LA57 only with XLF_5LEVEL.") { c in
            guard c.entryPoint == .long64 else { return .na("not the 64-bit entry") }
            let e = c.entry
            var conds: [(Bool, String)] = [(e.cr0 & EntryState.cr0PE != 0, "CR0.PE = 0"), (e.cr0 & EntryState.cr0PG != 0, "CR0.PG = 0"),
                                           (e.cr4 & EntryState.cr4PAE != 0, "CR4.PAE = 0"), (e.efer & EntryState.eferLME != 0, "EFER.LME = 0"), (e.efer & EntryState.eferLMA != 0, "EFER.LMA = 0")]
            if e.cr4 & EntryState.cr4LA57 != 0 { conds.append((c.isBz && c.xloadflags & 0x20 != 0, "CR4.LA57 = 1 without XLF_5LEVEL")) }
            return .check(conds, ok: "CR0 \(hex(e.cr0)), CR4 \(hex(e.cr4)), EFER \(hex(e.efer))")
        },
        Rule("BP-55", "boot GDT, 64-bit", reference: "§4.10; SEG", statement: "GDT 0x10 = 64-bit code (L=1, D=0), 0x18 = flat data; CS = 0x10, DS = ES = SS = 0x18.") { c in
            guard c.entryPoint == .long64 else { return .na("not the 64-bit entry") }
            return gdtChecks(c, longMode: true)
        },
        Rule("BP-56", "interrupts off (64-bit)", reference: "§4.10", statement: "RFLAGS.IF = 0.") { c in
            guard c.entryPoint == .long64 else { return .na("not the 64-bit entry") }
            return interruptsOff(c)
        },
        Rule("BP-57", "RSI = boot_params", reference: "§4.10", statement: "RSI holds the zero page's address.") { c in
            guard c.entryPoint == .long64 else { return .na("not the 64-bit entry") }
            let (ok, why) = bootParamsPointer(c)
            return ok ? .pass("RSI = \(hex(c.entry.rsi))") : .fail(why)
        },
        Rule("BP-58", "identity mapping covers kernel, zero page, command line", reference: "§4.10 (derived); BOOT; CH64; PGT64",
             statement: "VA == PA for [L, L+init_size), W, the zero page and the command-line buffer.") { c in
            guard c.entryPoint == .long64 else { return .na("not the 64-bit entry") }
            var objs: [(String, AddressRange)] = []
            if c.isBz, let initSize = c.img(0x260, 4) { objs.append(("[L, L+init_size)", AddressRange(start: c.L, end: c.L &+ initSize))) }
            if let w = c.window { objs.append(("W", w)) }
            if let z = c.zeroPageRange { objs.append(("zero page", z)) }
            if let cl = c.commandLineRange { objs.append(("command line", cl)) }
            var conds: [(Bool, String)] = []
            for (n, r) in objs { if let u = c.firstUnmapped(r) { conds.append((false, "\(n) \(r) not identity-mapped at \(hex(u)) (CR3 \(hex(c.entry.cr3)))")) } }
            return .check(conds, ok: "\(objs.map(\.0).joined(separator: ", ")) identity-mapped")
        },
        Rule("BP-59", "never the EFI handover entry", reference: "§4.10; BOOT \"EFI Handover Protocol\"",
             statement: "A non-EFI loader never enters at L + handover_offset (+ 0x200).") { c in
            guard c.isBz, c.version >= 0x020B, let hov = c.img(0x264, 4), hov != 0 else { return .na("no handover_offset") }
            let bad = c.entryPoint == .long64 ? c.L &+ hov &+ 0x200 : c.L &+ hov
            guard c.entryPoint == .long64 || c.entryPoint == .protected32 else { return .na("entry \(c.entryPoint.rawValue)") }
            return c.entry.rip != bad ? .pass("RIP \(hex(c.entry.rip)) ≠ handover entry \(hex(bad))") : .fail("RIP = \(hex(bad)) is the EFI handover entry, without EFI")
        },
    ]
}
