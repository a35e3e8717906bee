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
            return (zp.field(.header) == c.imageHeader.field(.header), "RSI = \(hex(b)) does not hold the image's setup header (no \"HdrS\" at +0x202)")
        }
        return (true, "")
    }



}
