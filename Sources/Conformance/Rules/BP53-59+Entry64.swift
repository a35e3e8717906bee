/// §4.10 64-bit entry state of the spec digest (shared/spec/x86-boot-protocol.md): BP-53…BP-59.
extension RuleCatalogue {
    static let entry64: [Rule] = [
        Rule("BP-53", "RIP = L + 0x200 (bzImage 64-bit entry)", reference: "§4.10; CH64", statement: "The 64-bit entry is at offset 0x200 of the protected-mode image.") { c in
            guard c.entryPoint == .long64, c.isBz else { return .na("not the bzImage 64-bit entry") }
            let (want, wraps) = c.L.addingReportingOverflow(0x200)
            guard !wraps else { return .fail("L \(hex(c.L)) + 0x200 wraps past 2^64: there is no 64-bit entry to jump to (RIP = \(hex(c.entry.rip)))") }
            return c.entry.rip == want ? .pass("RIP = L + 0x200 = \(hex(c.entry.rip))") : .fail("RIP = \(hex(c.entry.rip)), expected L + 0x200 = \(hex(want))")
        },
        Rule("BP-54", "long mode with paging", reference: "§4.10; CH64", statement: "CR0.PE, CR0.PG, CR4.PAE, EFER.LME and EFER.LMA set; CR4.LA57 only with XLF_5LEVEL.") { c in
            guard c.entryPoint == .long64 else { return .na("not the 64-bit entry") }
            let e = c.entry
            var conds: [(Bool, String)] = [(e.cr0 & EntryState.cr0PE != 0, "CR0.PE = 0"), (e.cr0 & EntryState.cr0PG != 0, "CR0.PG = 0"),
                                           (e.cr4 & EntryState.cr4PAE != 0, "CR4.PAE = 0"), (e.efer & EntryState.eferLME != 0, "EFER.LME = 0"), (e.efer & EntryState.eferLMA != 0, "EFER.LMA = 0")]
            if e.cr4 & EntryState.cr4LA57 != 0 { conds.append((c.isBz && c.xloadflags.contains(.fiveLevel), "CR4.LA57 = 1 without XLF_5LEVEL")) }
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
            var conds: [(Bool, String)] = []
            if c.isBz, let initSize = c.img(.initSize) {
                if let k = AddressRange.make(c.L, length: initSize) { objs.append(("[L, L+init_size)", k)) } else { conds.append((false, "[L, L+init_size): L \(hex(c.L)) + init_size \(hex(initSize)) wraps past 2^64")) }
            }
            if let w = c.window { objs.append(("W", w)) } else if let p = c.windowProblem { conds.append((false, "kernel window: " + p)) }
            if let z = c.zeroPageRange { objs.append(("zero page", z)) }
            if let cl = c.commandLineRange { objs.append(("command line", cl)) } else if let a = c.commandLineAddress { conds.append((false, "command line \(hex(a)) + \((c.commandLineText?.count ?? 0) + 1) wraps past 2^64")) }
            for (n, r) in objs { if let u = c.firstUnmapped(r) { conds.append((false, "\(n) \(r) not identity-mapped at \(hex(u)) (CR3 \(hex(c.entry.cr3)))")) } }
            return .check(conds, ok: "\(objs.map { "\($0.0) \($0.1)" }.joined(separator: ", ")) identity-mapped")
        },
        Rule("BP-59", "never the EFI handover entry", reference: "§4.10; BOOT \"EFI Handover Protocol\"",
             statement: "A non-EFI loader never enters at L + handover_offset (+ 0x200).") { c in
            guard c.isBz, let hov = c.header(.handoverOffset), hov != 0 else { return .na("no handover_offset") }
            guard c.entryPoint == .long64 || c.entryPoint == .protected32 else { return .na("entry \(c.entryPoint.rawValue)") }
            let (at, w1) = c.L.addingReportingOverflow(hov), (bad, w2) = at.addingReportingOverflow(c.entryPoint == .long64 ? 0x200 : 0)
            guard !w1 && !w2 else { return .na("the handover entry L \(hex(c.L)) + handover_offset \(hex(hov))\(c.entryPoint == .long64 ? " + 0x200" : "") wraps past 2^64: no address to avoid") }
            return c.entry.rip != bad ? .pass("RIP \(hex(c.entry.rip)) ≠ handover entry \(hex(bad))") : .fail("RIP = \(hex(bad)) is the EFI handover entry, without EFI")
        },
    ]
}
