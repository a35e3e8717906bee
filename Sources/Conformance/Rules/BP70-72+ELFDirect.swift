/// §4.12 ELF vmlinux direct 64-bit entry of the spec digest (shared/spec/x86-boot-protocol.md): BP-70…BP-72.
extension RuleCatalogue {
    static let elf: [Rule] = [
        Rule("BP-70", "direct ELF entry: RIP = e_entry, RSI = boot_params, mapped", reference: "§4.12; H64S; LDS",
             statement: "Entry at e_entry (+ delta) in 64-bit mode; RSI = boot_params; the kernel and boot_params identity-mapped.") { c in
            guard c.isElf, c.entryPoint == .long64 else { return .na("not the direct ELF 64-bit entry") }
            let want = c.s.image.elfEntry &+ elfDelta(c)
            var conds: [(Bool, String)] = [(c.entry.rip == want, "RIP = \(hex(c.entry.rip)), expected e_entry + delta = \(hex(want))"), bootParamsPointer(c)]
            for (n, r) in [("kernel", c.window), ("zero page", c.zeroPageRange)] { if let r, let u = c.firstUnmapped(r) { conds.append((false, "\(n) \(r) not identity-mapped at \(hex(u))")) } }
            if let p = c.windowProblem { conds.append((false, "kernel window: " + p)) }
            return .check(conds, ok: "RIP = \(hex(want)), RSI = \(hex(c.entry.rsi)); kernel \(c.window?.description ?? "(no range)"), zero page \(c.zeroPageRange?.description ?? "(none)") identity-mapped")
        },
        Rule("BP-71", "ELF moved by a multiple of 2 MiB", reference: "§4.12; H64C", statement: "If moved from p_paddr, the delta is a multiple of 2 MiB.") { c in
            guard c.isElf, c.entryPoint == .long64 else { return .na("not the direct ELF 64-bit entry") }
            let d = elfDelta(c)
            return d % 0x20_0000 == 0 ? .pass("delta \(hex(d))") : .fail("kernel moved by \(hex(d)), not a multiple of 2 MiB: __startup_64 spins forever")
        },
        Rule("BP-72", "ELF boot_params built for the kernel", reference: "§4.12; H64C; SETUPC",
             statement: "Built from scratch: type_of_loader ≠ 0, sentinel 0, cmd_line_ptr set, e820 with ≥ 2 entries.") { c in
            guard c.isElf, c.entryPoint == .long64 else { return .na("not the direct ELF 64-bit entry") }
            guard let zp = c.zp else { return noZeroPage(c) }
            let loader = zp.field(.typeOfLoader)!, sentinel = zp.field(.sentinel)!, entries = zp.field(.e820Entries)!
            return .check([(loader != 0, "type_of_loader 0"), (sentinel == 0, "sentinel \(hex(sentinel))"),
                           (zp.field(.cmdLinePtr)! != 0 || zp.field(.extCmdLinePtr)! != 0, "cmd_line_ptr 0"), (entries >= 2, "e820_entries \(entries)")],
                          ok: "type_of_loader \(hex(loader)), \(entries) e820 entries")
        },
    ]
}
