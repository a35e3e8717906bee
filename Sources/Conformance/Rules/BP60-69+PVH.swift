/// §4.11 PVH entry of the spec digest (shared/spec/x86-boot-protocol.md): BP-60…BP-69.
extension RuleCatalogue {
    static let pvh: [Rule] = [
        Rule("BP-60", "PVH entry from the Xen note", reference: "§4.11; PVHDOC; XEN-EN; PVHS",
             statement: "PVH needs a \"Xen\" note of type 18 (desc 4 or 8 bytes); EIP is its low 32 bits (plus the relocation delta).") { c in
            guard c.entryPoint == .pvh else { return notPVH }
            guard let n = pvhNote(c) else { return .fail("entered through PVH but the image has no Xen note of type 18") }
            guard n.desc.count == 4 || n.desc.count == 8, let e = n.desc.u32(0) else { return .fail("Xen type-18 note desc is \(n.desc.count) bytes, expected 4 or 8") }
            let want = UInt64(e) &+ elfDelta(c)
            return c.entry.rip == want ? .pass("EIP = \(hex(want)) (note \(hex(e)), desc \(n.desc.count) bytes)") : .fail("EIP = \(hex(c.entry.rip)), the note gives \(hex(want))")
        },
        Rule("BP-61", "PVH entry state", reference: "§4.11; PVHDOC; PVHS",
             statement: "32-bit protected mode, paging off: CR0 = PE (ET may read 1), CR4 = 0; flat 32-bit CS, flat DS/ES; busy 32-bit TSS (base 0, limit 0x67); VM = IF = TF = 0; EBX = start_info.") { c in
            guard c.entryPoint == .pvh else { return notPVH }
            let e = c.entry
            // A guest sees TR's selector and, for a nonzero one, the GDT entry; with selector 0
            // the cached state the loader set is invisible to it (DESIGN "What the guest view
            // cannot show"), so a probe's view cannot judge TR then.
            let trUnseen = c.memory.isPartialView && e.tr.selector == 0 && !e.tr.present
            return .check([(e.cr0 & EntryState.cr0PE != 0 && e.cr0 & ~(EntryState.cr0PE | EntryState.cr0ET) == 0, "CR0 = \(hex(e.cr0)), expected PE only"),
                           (e.cr4 == 0, "CR4 = \(hex(e.cr4))"), (e.efer & EntryState.eferLME == 0, "EFER.LME = 1"),
                           (isFlatCode32(e.cs), "CS is not a flat 32-bit execute/read segment"),
                           (isFlatData(e.ds) && isFlatData(e.es), "DS/ES are not flat read/write data"),
                           (trUnseen || (e.tr.type == 0xB && e.tr.base == 0 && e.tr.limit == 0x67 && e.tr.present), "TR is not a busy 32-bit TSS, base 0, limit 0x67 (type \(hex(e.tr.type)), base \(hex(e.tr.base)), limit \(hex(e.tr.limit)))"),
                           (e.rflags & (EntryState.rflagsVM | EntryState.rflagsIF | EntryState.rflagsTF) == 0, "EFLAGS = \(hex(e.rflags)): VM/IF/TF set"),
                           (e.rbx != 0, "EBX = 0")],
                          ok: "CR0 \(hex(e.cr0)), flat CS/DS/ES, EBX \(hex(e.rbx))")
        },
        Rule("BP-62", "start_info layout and strings", reference: "§4.11; SI",
             statement: "hvm_start_info (56 bytes) is readable at EBX; strings are NUL-terminated; zero addresses mean absent and nothing sits at 0.") { c in
            guard c.entryPoint == .pvh else { return notPVH }
            guard let si = c.si else { return .fail("start_info at EBX = \(hex(c.entry.rbx)) is not 56 readable bytes") }
            var conds: [(Bool, String)] = [(c.entry.rbx != 0, "start_info at physical 0")]
            if si.cmdline != 0 && c.commandLineUnseen == nil { conds.append((c.commandLineText != nil, "cmdline_paddr \(hex(si.cmdline)) has no NUL within 2048 bytes")) }
            conds.append(((si.nrModules == 0) == (si.modlist == 0), "nr_modules \(si.nrModules) vs modlist_paddr \(hex(si.modlist))"))
            return .check(conds, ok: "start_info at \(hex(c.entry.rbx))")
        },
        Rule("BP-63", "start_info version ≥ 1 and a memory map", reference: "§4.11; PVHC init_pvh_bootparams",
             statement: "Off Xen, Linux needs version ≥ 1 and memmap_entries > 0, or it BUG()s.") { c in
            guard c.entryPoint == .pvh else { return notPVH }
            guard let si = c.si else { return noStartInfo }
            return .check([(si.version >= 1, "version \(si.version)"), (si.memmapEntries > 0, "memmap_entries 0")], ok: "version \(si.version), \(si.memmapEntries) memmap entries")
        },
        Rule("BP-64", "PVH memory map entries", reference: "§4.11; SI; PVHC",
             statement: "24-byte entries, at most 127, reserved 0, types 1–7 or the Xen OEM types.") { c in
            guard c.entryPoint == .pvh else { return notPVH }
            guard let si = c.si else { return noStartInfo }
            let n = Int(si.memmapEntries)
            guard n <= 127 else { return .fail("memmap_entries \(n) > 127: Linux overflows its 128-slot e820") }
            guard let raw = c.memory.bytes(at: si.memmap, count: n * StartInfo.memmapEntrySize) else { return c.memoryMapUnseen.map { .na($0) } ?? .fail("memmap at \(hex(si.memmap)) unreadable") }
            var conds: [(Bool, String)] = []
            for i in 0..<n {
                let at = i * StartInfo.memmapEntrySize
                let t = raw.field(StartInfo.Layout.MemmapEntry.type, base: at)!, r = raw.field(StartInfo.Layout.MemmapEntry.reserved, base: at)!
                conds.append(((1...7).contains(t) || (0xF000_0001...0xF000_0004).contains(t), "entry \(i) type \(hex(t))"))
                conds.append((r == 0, "entry \(i) reserved = \(hex(r))"))
            }
            return .check(conds, ok: "\(n) entries")
        },
        Rule("BP-65", "module 0 is the initrd, below 4 GiB", reference: "§4.11; SI; PVHC",
             statement: "Modules are 32-byte entries; Linux takes module 0 as the initrd and keeps only 32 bits of its address, size and cmdline_paddr.") { c in
            guard c.entryPoint == .pvh else { return notPVH }
            guard let si = c.si else { return noStartInfo }
            let n = si.nrModules
            var conds: [(Bool, String)] = [(si.cmdline < 1 << 32, "cmdline_paddr \(hex(si.cmdline)) ≥ 4 GiB")]
            if c.s.inputs.initrdSize != nil { conds.append((n >= 1, "an initrd was given but nr_modules = 0")) }
            if n >= 1 {
                guard let m = c.memory.bytes(at: si.modlist, count: StartInfo.modlistEntrySize), let (a, sz) = StartInfo.moduleEntry(m) else { return c.moduleListUnseen.map { .na($0) } ?? .fail("module list at \(hex(si.modlist)) unreadable") }
                let (end, wraps) = a.addingReportingOverflow(sz)
                conds.append((!wraps && end <= 1 << 32 && a != 0, wraps ? "module 0 paddr \(hex(a)) + size \(hex(sz)) wraps past 2^64" : "module 0 [\(hex(a)), +\(hex(sz))) not below 4 GiB"))
                let reserved = m.field(StartInfo.Layout.ModlistEntry.reserved)!
                conds.append((reserved == 0, "module 0 reserved = \(hex(reserved))"))
            }
            return .check(conds, ok: "\(n) module(s), all below 4 GiB")
        },
        Rule("BP-66", "start_info in RAM, tables below 1 GiB", reference: "§4.11 (derived); PVHS; PVHC",
             statement: "start_info is writable RAM; the memory map and module list lie below 1 GiB (the early PVH page tables map only that).") { c in
            guard c.entryPoint == .pvh else { return notPVH }
            guard let si = c.si else { return noStartInfo }
            if let why = c.memoryMapUnseen { return .na("start_info in RAM cannot be judged: " + why) }
            // Each table by start and length; a sum that wraps past 2^64 fails, naming both.
            let spans: [(name: String, start: UInt64, length: UInt64)] = [("start_info", c.entry.rbx, UInt64(StartInfo.size)),
                                                                          ("memory map", si.memmap, UInt64(si.memmapEntries) * UInt64(StartInfo.memmapEntrySize)),
                                                                          ("module list", si.modlist, UInt64(si.nrModules) * UInt64(StartInfo.modlistEntrySize))]
            var conds: [(Bool, String)] = [], seen: [String] = []
            for (i, s) in spans.enumerated() {
                guard let r = AddressRange.make(s.start, length: s.length) else { conds.append((false, "\(s.name) \(hex(s.start)) + \(hex(s.length)) wraps past 2^64")); continue }
                seen.append("\(s.name) \(r)")
                conds.append(i == 0 ? (c.isRAM(r), "start_info \(r) not in RAM") : (r.end <= 1 << 30, "\(s.name) \(r) ends above 1 GiB"))
            }
            return .check(conds, ok: seen.joined(separator: ", ") + ": start_info in RAM, tables below 1 GiB")
        },
        Rule("BP-67", "start_info magic, flags, RSDP", reference: "§4.11; SI; PVHC; XEN-EN",
             statement: "magic = 0x336EC578; flags = 0 for a KVM loader; rsdp_paddr 0 or an RSDP.") { c in
            guard c.entryPoint == .pvh else { return notPVH }
            guard let si = c.si else { return noStartInfo }
            let rsdp = si.rsdp
            return .check([(si.magic == StartInfo.magic, "magic \(hex(si.magic)), expected 0x336EC578"), (si.flags == 0, "flags \(hex(si.flags))"),
                           (rsdp == 0 || c.memory.bytes(at: rsdp, count: 8) == Array("RSD PTR ".utf8), "rsdp_paddr \(hex(rsdp)) is not an RSDP")],
                          ok: "magic 0x336EC578, flags 0")
        },
        Rule("BP-68", "PVH relocation within the type-19 note", reference: "§4.11; XEN-EN; PVHS",
             statement: "Segments move from p_paddr only with a PHYS32_RELOC note, by a multiple of its alignment, within its minimum and maximum.") { c in
            guard c.isElf else { return .na("not an ELF image") }
            guard c.entryPoint == .pvh else { return .na("not the PVH entry (the direct 64-bit entry is BP-71)") }
            let d = elfDelta(c)
            guard d != 0 else { return .pass("not relocated") }
            guard let n = c.s.image.notes.first(where: { $0.name == "Xen" && $0.type == 19 }) else { return .fail("moved by \(hex(d)) without a PHYS32_RELOC note") }
            let align = UInt64(n.desc.u32(0) ?? 0x20_0000), minA = UInt64(n.desc.u32(4) ?? 0), maxA = UInt64(n.desc.u32(8) ?? 0xFFFF_FFFF)
            guard let w = c.window else { return c.windowProblem.map { .fail("kernel window: " + $0) } ?? .na("no kernel range") }
            let end = w.end &- 1
            return .check([(d % max(align, 1) == 0, "delta \(hex(d)) not a multiple of \(hex(align))"), (c.L >= minA, "start \(hex(c.L)) below minimum \(hex(minA))"), (end <= maxA, "last byte \(hex(end)) above maximum \(hex(maxA))")],
                          ok: "moved by \(hex(d)) within (\(hex(align)), \(hex(minA)), \(hex(maxA)))")
        },
        Rule("BP-69", "PVH memory map usable as Linux's e820", reference: "§4.11; PVHC",
             statement: "Linux builds boot_params from start_info; its e820 is the memmap, so the memmap must hold ≥ 2 entries, no wrap, RAM below 1 MiB, and the kernel in RAM.") { c in
            guard c.entryPoint == .pvh else { return notPVH }
            guard c.si != nil else { return noStartInfo }
            if let why = c.memoryMapUnseen { return .na(why) }
            var conds: [(Bool, String)] = [(c.e820Count >= 2, "memmap has \(c.e820Count) entries; Linux discards a map of fewer than 2"),
                                           (!c.e820.contains { $0.size != 0 && $0.address.addingReportingOverflow($0.size - 1).overflow }, "an entry wraps"),
                                           (c.ram.contains { $0.start < 0x9_F000 }, "no RAM below 0x9F000")]
            if let w = c.window { conds.append((c.isRAM(w), "kernel \(w) not in memmap RAM")) } else if let p = c.windowProblem { conds.append((false, "kernel window: " + p)) }
            return .check(conds, ok: "\(c.e820Count)-entry memmap fit for e820, kernel \(c.window?.description ?? "(no range)") in its RAM")
        },
    ]
}

extension RuleCatalogue {
    static let notPVH = Judgement.na("not the PVH entry")
    static let noStartInfo = Judgement.na("no start_info readable at EBX")

    /// The PVH entry from the image's notes: owner "Xen", type 18, desc 4 or 8 bytes.
    static func pvhNote(_ c: RuleContext) -> ImageRecord.Note? {
        c.s.image.notes.first { $0.name == "Xen" && $0.type == 18 }
    }
    static func elfDelta(_ c: RuleContext) -> UInt64 { c.L &- (c.s.image.segments.map(\.paddr).min() ?? c.L) }
}
