/// §4.8 16-bit (real-mode) entry state of the spec digest (shared/spec/x86-boot-protocol.md): BP-45…BP-46.
extension RuleCatalogue {
    static let entry16: [Rule] = [
        Rule("BP-45", "real-mode part placement (16-bit entry)", reference: "§4.8; BOOT memory layout",
             statement: "The real-mode part is at X = 0x90000 for protocols < 2.02, else at X ≥ 0x10000, with the header at X+0x1F1.") { c in
            guard c.entryPoint == .setup16 else { return .na("not the 16-bit entry (a VMM loader enters at 32/64/PVH; the 16-bit entry needs BIOS services)") }
            guard let x = c.B, let zp = c.zp else { return noZeroPage(c) }
            // 0x90000 binds old kernels (no "HdrS") and zImages. A 2.00/2.01 bzImage may be
            // loaded elsewhere: the kernel moves setup_move_size bytes to 0x90000 (§1.2
            // setup_move_size, §3 2.00; boot.rst), which BP-30 judges.
            let bz = c.version >= 0x0200 && zp.field(.header) == UInt64(BzImage.headerMagic) && c.zeroPageLoadFlags?.contains(.loadedHigh) == true
            return .check([(bz ? x >= 0x1_0000 : x == 0x9_0000, "real-mode base X = \(hex(x)) for protocol \(ProtocolVersion(rawValue: c.version))\(bz ? "" : ", not a bzImage: 0x90000")"),
                           (zp.field(.header) == UInt64(BzImage.headerMagic), "no HdrS at X+0x202")], ok: "X = \(hex(x))")
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
                let heap = c.zeroPageLoadFlags?.contains(.canUseHeap) == true && zp.field(.heapEndPtr)! != 0
                conds.append((heap, "heap_end_ptr/CAN_USE_HEAP not set"))
                // The stack grows down from SP inside the heap the loader declared; above the
                // heap's end lies the command line (BP-28). The kernel keeps SP as given when
                // SS = DS (header.S start_of_setup). SP = 0 stands for 0x10000.
                if heap {
                    let heapEnd = zp.field(.heapEndPtr)! + 0x200, top = sp == 0 ? 0x1_0000 : sp
                    let sects = zp.field(.setupSects)!, setupEnd = ((sects == 0 ? 4 : sects) + 1) * 512
                    conds.append((top <= heapEnd && top > setupEnd, "SP = \(hex(sp)) is outside the setup heap (\(hex(setupEnd)), \(hex(heapEnd))]"))
                }
            }
            return .check(conds, ok: "CS \(hex(e.cs.selector)), DS/ES/SS \(hex(seg)), SP \(hex(sp)), IF 0")
        },
    ]
}
