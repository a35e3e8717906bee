/// BP-92, ours: the e820 map against the memory the guest actually has. Derived from the spec
/// digest (shared/spec/x86-boot-protocol.md) §2.3 and §4.6, which state no such rule; the
/// derivation is written beside the rule.
extension RuleCatalogue {
    static let memoryMap: [Rule] = [
        // Derived from:
        // - §2.3 and E820C: the kernel takes the handed-over map (sorted and merged, nothing
        //   else checked) as the machine's memory; memblock gets exactly its type-1 ranges.
        // - BP-24 (KASLR process_e820_entries) and BP-22: the decompressor and KASLR may put
        //   the kernel anywhere in type-1 RAM, so RAM the guest does not have (in the PCI hole
        //   below 4 GiB, past the end of RAM) is where the kernel may land on nothing.
        // - BP-39: below 1 MiB the legacy hole 0xA0000–0xFFFFF is backed but kept out of the
        //   map on purpose, so the "left out" half starts at 1 MiB.
        // A map that leaves guest RAM out loses it; the historical form is high RAM above
        // 4 GiB missing from the map of a guest given more than 3 GiB.
        Rule("BP-92", "e820 agrees with the guest's memory", reference: "§2.3, §4.6 (derived from BP-22, BP-24, BP-39); E820C; KASLR process_e820_entries",
             statement: "Every e820 RAM range is memory the guest has (none in the PCI hole or past the end of RAM), and all of the guest's memory from 1 MiB up is in the map.") { c in
            guard c.hasMemoryMap else { return noMemoryMap(c) }
            guard let backed = c.memory.backedRanges else {
                return .na("the guest's memory layout is not in this view (a probe's report or a snapshot file holds what was read, not what was backed)")
            }
            let have = AddressRange.union(backed), mapped = AddressRange.union(c.e820.compactMap(\.range))
            var conds: [(Bool, String)] = []
            for r in c.ram { for gap in r.uncovered(by: have) { conds.append((false, "e820 RAM \(gap) is not guest memory (the guest has \(have.map(\.description).joined(separator: ", ")))")) } }
            for m in have where m.end > 0x10_0000 {
                // m.end > 1 MiB, so [max(start, 1 MiB), end) is a range.
                for gap in (try? AddressRange(start: max(m.start, 0x10_0000), end: m.end))?.uncovered(by: mapped) ?? [] { conds.append((false, "guest memory \(gap) is missing from the e820 map")) }
            }
            return .check(conds, ok: "e820 RAM \(c.ram.map(\.description).joined(separator: ", ")) is guest memory, and guest memory \(have.map(\.description).joined(separator: ", ")) from 1 MiB up is in the map")
        },
    ]
}
