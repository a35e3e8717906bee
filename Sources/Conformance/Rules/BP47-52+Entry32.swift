/// §4.9 32-bit protected-mode entry state of the spec digest (shared/spec/x86-boot-protocol.md): BP-47…BP-52.
extension RuleCatalogue {
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
            let objs = c.bootObjectsAndWindow
            return .check(objs.map { ($0.1.end <= 1 << 32, "\($0.0) \($0.1) above 4 GiB") } + c.wrapConditions(window: true),
                          ok: "below 4 GiB: \(objs.map { "\($0.0) \($0.1)" }.joined(separator: ", "))")
        },
    ]
}
