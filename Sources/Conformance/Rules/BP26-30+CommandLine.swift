/// §4.4 Command line of the spec digest (shared/spec/x86-boot-protocol.md): BP-26…BP-30.
extension RuleCatalogue {
    static let commandLine: [Rule] = [
        Rule("BP-26", "cmd_line_ptr nonzero", reference: "§4.4; BOOT cmd_line_ptr",
             statement: "cmd_line_ptr (2.02+) is nonzero even without a user command line.") { c in
            guard let zp = c.zp else { return noZeroPage(c) }
            if c.isBz && c.version < 0x0202 { return .na("protocol \(ProtocolVersion(rawValue: c.version)) has no cmd_line_ptr") }
            let p = zp.field(.cmdLinePtr)! | zp.field(.extCmdLinePtr)! << 32
            return p != 0 ? .pass("cmd_line_ptr \(hex(p))") : .fail("cmd_line_ptr (0x228 | 0x0C8<<32) is 0: the kernel assumes a pre-2.02 loader")
        },
        Rule("BP-27", "command line NUL-terminated within the limit", reference: "§4.4; BOOT; KEXEC",
             statement: "The string at C is NUL-terminated with strlen ≤ cmdline_size (2.06+) or 255, and is what the user asked for, or that cut explicitly to the limit.") { c in
            guard let cAddr = c.commandLineAddress else { return .na("no command line pointer") }
            guard let t = c.commandLineText else {
                if let why = c.commandLineUnseen { return .na(why) }
                return .fail("no NUL within \(c.commandLineLimit + 1) bytes of \(hex(cAddr))")
            }
            if c.commandLineTruncatedToLimit {
                return .pass("\(t.count) bytes + NUL at \(hex(cAddr)): the \(c.s.inputs.commandLine.count)-byte command line asked for, truncated to \(t.count) bytes, the limit \(c.commandLineLimit)")
            }
            return .check([(t == c.s.inputs.commandLine, "command line at \(hex(cAddr)) is \"\(String(decoding: t.prefix(80), as: UTF8.self))\" (\(t.count) bytes), asked for \(c.s.inputs.commandLine.count) bytes \"\(String(decoding: c.s.inputs.commandLine.prefix(80), as: UTF8.self))\"")],
                          ok: "\(t.count) bytes + NUL at \(hex(cAddr)), limit \(c.commandLineLimit)")
        },
        Rule("BP-28", "command line placed for the entry mode", reference: "§4.4; BOOT cmd_line_ptr, memory layout, 64-bit protocol",
             statement: "16-bit: above the setup heap and below 0xA0000. 32-bit: below 4 GiB. 64-bit: anywhere, above 4 GiB only with XLF_CAN_BE_LOADED_ABOVE_4G, identity-mapped.") { c in
            guard c.zp != nil, let cAddr = c.commandLineAddress else { return .na("no command line in a zero page") }
            guard let r = c.commandLineRange else { return .fail("command line \(hex(cAddr)) + \((c.commandLineText?.count ?? 0) + 1) bytes wraps past 2^64") }
            switch c.entryPoint {
            case .setup16:
                // heap_end_ptr exists from 2.01 and means something only with CAN_USE_HEAP; before
                // 2.02 the command line sits in X + [0x9800, 0xA000) (BP-45's old layout).
                let x = c.B!, zp = c.zp!
                var conds: [(Bool, String)] = [(r.end <= 0xA_0000, "command line \(r) above 0xA0000")]
                if c.version >= 0x0201, c.zeroPageLoadFlags?.contains(.canUseHeap) == true {
                    let heapEnd = x + zp.field(.heapEndPtr)! + 0x200
                    conds.append((r.start >= heapEnd, "command line \(r) below the heap end \(hex(heapEnd)) (heap_end_ptr \(hex(zp.field(.heapEndPtr)!)) + 0x200)"))
                }
                if c.version < 0x0202 {
                    // The old layout keeps everything below 0x9A000 (BP-45); X+0x9800 is only
                    // BOOT's sample address for the command line.
                    conds.append((r.end <= 0x9_A000, "command line \(r) ends above 0x9A000 (protocol < 2.02: nothing above 0x9A000)"))
                }
                return .check(conds, ok: "command line \(r) above the setup heap, below 0xA0000")
            case .protected32:
                return r.end <= 1 << 32 ? .pass("command line \(r) below 4 GiB") : .fail("command line \(r) above 4 GiB at the 32-bit entry")
            case .long64:
                var conds: [(Bool, String)] = []
                if c.isBz { conds.append((r.end <= 1 << 32 || c.xloadflags.contains(.canBeLoadedAbove4G), "command line \(r) above 4 GiB without XLF_CAN_BE_LOADED_ABOVE_4G")) }
                if let u = c.firstUnmapped(r) { conds.append((false, "command line \(r) not identity-mapped at \(hex(u))")) }
                return .check(conds, ok: "command line \(r) identity-mapped")
            case .pvh: return .na("PVH: see BP-65")
            case .efiHandover32, .efiHandover64, .efiStub: return .na("EFI entry: the stub reads the command line with boot services running (BP-84, BP-85)")
            }
        },
        Rule("BP-29", "command-line buffer is RAM outside W", reference: "§4.4 (derived); H64C copy_bootdata; ident_map_64.c",
             statement: "The kernel copies max(2048, cmdline_size+1) bytes from C, so that range is e820 RAM outside W.") { c in
            guard c.zp != nil, let cAddr = c.commandLineAddress else { return .na("no command line in a zero page") }
            guard let b = c.commandLineBuffer else { return .fail("buffer C \(hex(cAddr)) + \(hex(max(2048, c.commandLineLimit + 1))) wraps past 2^64") }
            var conds: [(Bool, String)] = c.inRAM(b, "buffer")
            conds += c.clearOfWindow(b, "buffer")
            return .check(conds, ok: "buffer \(b) is RAM outside W \(c.window?.description ?? "(none)")")
        },
        Rule("BP-30", "old-protocol command line (cl_magic)", reference: "§4.4; BOOT",
             statement: "Before 2.02: 0xA33F at real-mode+0x20, the offset at +0x22, and setup_move_size covering the command line.") { c in
            guard c.isBz else { return notBz }
            guard c.version < 0x0202 else { return .na("protocol \(ProtocolVersion(rawValue: c.version)) uses cmd_line_ptr") }
            guard let zp = c.zp else { return noZeroPage(c) }
            guard !c.s.inputs.commandLine.isEmpty else { return .pass("no command line to pass") }
            let magic = zp.field(.clMagic)!, off = zp.field(.clOffset)!, move = zp.field(.setupMoveSize)!
            let placed = UInt64(c.commandLineTruncatedToLimit ? Int(c.commandLineLimit) : c.s.inputs.commandLine.count)
            var conds: [(Bool, String)] = [(magic == 0xA33F, "cl_magic at +0x20 is \(hex(magic)), expected 0xA33F"),
                                           (c.commandLineText == c.s.inputs.commandLine || c.commandLineTruncatedToLimit, "no matching command line at B + \(hex(off))")]
            // setup_move_size matters only when the real-mode part is not already at 0x90000:
            // the kernel then moves that many bytes there (§1.2: "ignore … when real-mode code
            // sits at 0x90000").
            let moved = c.B != 0x9_0000
            if moved {
                conds.append((UInt64(move) >= UInt64(off) + placed + 1, "setup_move_size \(hex(move)) does not cover the command line ending at +\(hex(UInt64(off) + placed + 1))"))
            }
            return .check(conds, ok: "cl_magic 0xA33F, offset \(hex(off)), " + (moved ? "setup_move_size \(hex(move))" : "real-mode part at 0x90000 (nothing moved)"))
        },
    ]
}
