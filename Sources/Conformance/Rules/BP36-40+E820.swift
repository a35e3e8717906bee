/// §4.6 e820 of the spec digest (shared/spec/x86-boot-protocol.md): BP-36…BP-40.
extension RuleCatalogue {
    static let e820: [Rule] = [
        Rule("BP-35", "e820 count and order", reference: "§4.6; BPH; ZP; E820C; PGT64",
             statement: "e820_entries ≤ 128; entries do not overlap. Unsorted entries only warn: the kernel sorts the table itself, though the decompressor's trampoline search assumes the order.") { c in
            guard c.hasMemoryMap else { return noMemoryMap(c) }
            var conds: [(Bool, String)] = [(c.e820Count <= 128, "e820_entries = \(c.e820Count) > 128")]
            let sorted = c.e820.sorted { $0.address < $1.address }
            for (a, b) in zip(sorted, sorted.dropFirst()) where a.size != 0 && b.size != 0 {
                // An entry whose end wraps past 2^64 runs over every entry above it.
                let (aEnd, wraps) = a.address.addingReportingOverflow(a.size)
                conds.append((!wraps && b.address >= aEnd, wraps ? "entry \(b) lies above \(a), whose end wraps past 2^64" : "entry \(b) overlaps \(a)"))
            }
            let j = Judgement.check(conds, ok: "\(c.e820Count) entries, sorted, disjoint")
            guard j.outcome == .pass else { return j }
            if let k = c.e820.indices.dropLast().first(where: { c.e820[$0 + 1].address < c.e820[$0].address }) {
                return .warn("entries not sorted by address (entry \(k + 1) \(c.e820[k + 1]) comes after \(c.e820[k])); the kernel sorts the table itself (§2.3), but the decompressor's trampoline search walks it from the end assuming the order (de facto)")
            }
            return j
        },
        Rule("BP-36", "at least two e820 entries", reference: "§4.6; E820C append_e820_table",
             statement: "e820_entries ≥ 2, or the kernel discards the table.") { c in
            guard c.hasMemoryMap else { return noMemoryMap(c) }
            return c.e820Count >= 2 ? .pass("\(c.e820Count) entries") : .fail("e820_entries = \(c.e820Count): the kernel ignores the table and fabricates 640 KiB + alt_mem_k")
        },
        Rule("BP-37", "no wrapping e820 entry", reference: "§4.6; E820C __append_e820_table",
             statement: "No entry with size ≠ 0 has addr + size − 1 past 2^64.") { c in
            guard c.hasMemoryMap else { return noMemoryMap(c) }
            let bad = c.e820.filter { $0.size != 0 && $0.address.addingReportingOverflow($0.size - 1).overflow }
            return bad.isEmpty ? .pass("no entry wraps") : .fail("entries wrap past 2^64 (the kernel rejects the whole table): \(bad.map { "[\(hex($0.address)), +\(hex($0.size))]" }.joined(separator: ", "))")
        },
        // Only entries that describe memory (size ≠ 0) have a type to judge, as BP-37 and
        // BP-35 read them: the kernel omits empty regions when it builds its table (E820C
        // `e820__update_table`), so a zeroed slot, such as the slots past the entries a loader
        // wrote when e820_entries overstates them, is no entry of type 0 (issue 14).
        Rule("BP-38", "e820 types a loader may emit", reference: "§4.6; E820T; E820C e820__update_table",
             statement: "Every entry with size ≠ 0 has a type among 1, 2, 3, 4, 5, 7, 12, 0xEFFFFFFF; never 128.") { c in
            guard c.hasMemoryMap else { return noMemoryMap(c) }
            let entries = c.e820.filter { $0.size != 0 }
            let bad = entries.filter { !E820Type.loaderTypes.contains($0.type) }
            return bad.isEmpty ? .pass("types \(Set(entries.map(\.type.rawValue)).sorted()) in the \(entries.count) entries with size ≠ 0") : .fail("types not for loaders: \(bad.map(\.description).joined(separator: ", "))")
        },
        Rule("BP-39", "RAM below 1 MiB, legacy hole not RAM", reference: "§4.6; RM; PGT64; PVHC",
             statement: "Some e820 RAM lies below 1 MiB (for the real-mode trampoline) and 0xA0000–0xFFFFF is not RAM.") { c in
            guard c.hasMemoryMap else { return noMemoryMap(c) }
            let low = c.ram.contains { $0.start < 0x9_F000 }
            let hole = RAMLayout.legacyHole
            let holeRAM = c.ram.filter { $0.overlaps(hole) }
            // A RAM entry whose end wraps has no range in `ram`; from below 1 MiB it runs over the hole.
            let wrapping = c.e820.filter { $0.type == .ram && $0.size != 0 && $0.range == nil && $0.address < hole.end }
            return .check([(low, "no e820 RAM below 0x9F000: \"Real mode trampoline was not allocated\""),
                           (holeRAM.isEmpty, "legacy hole \(hole) is RAM in \(holeRAM.map(\.description).joined(separator: ", "))"),
                           (wrapping.isEmpty, "legacy hole \(hole) is RAM in \(wrapping.map(\.description).joined(separator: ", ")), whose end wraps past 2^64")],
                          ok: "low RAM \(c.ram.first?.description ?? "-"), legacy hole \(hole) not RAM")
        },
        Rule("BP-40", "boot objects inside e820 RAM", reference: "§4.6; BOOT; SETUPC; KASLR",
             statement: "W, boot_params, the command line, the initrd and setup_data all lie in e820 RAM.") { c in
            guard c.hasMemoryMap else { return noMemoryMap(c) }
            let objs = c.bootObjectsAndWindow
            return .check(objs.map { (c.isRAM($0.1), "\($0.0) \($0.1) is not inside e820 RAM") } + c.wrapConditions(window: true),
                          ok: "\(objs.map { "\($0.0) \($0.1)" }.joined(separator: ", ")) in e820 RAM")
        },
    ]
}
