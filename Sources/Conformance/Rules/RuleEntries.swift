/// Which entry points each rule applies to, declared rather than discovered: a rule is judged
/// only on a boot that came in through one of its entries, and is n/a elsewhere with the reason
/// ("applies to the 32 and 64 entries; this boot entered at 16").
///
/// The split follows who builds what at each entry (spec digest §2.4, §4.2, §4.8):
/// - At the **16-bit** entry the loader hands over the real-mode part of the image at X, with
///   the header fields it wrote at X+0x1F1; the kernel's own setup code then builds boot_params
///   (zero-filled, header copied, e820 from INT 15h). So zero-page construction (BP-11, BP-12,
///   BP-15, BP-16, BP-17, BP-24: bytes outside the header, which at X are the image's own boot
///   sector) is no loader obligation there, and rules that need a memory map use the firmware's.
/// - At the **32/64-bit** entries the loader builds the zero page itself.
/// - **PVH** hands over start_info instead of a zero page (BP-60…BP-69).
/// - At the **EFI entries** the firmware and the kernel's stub take part: at the handover
///   entries the loader hands over boot_params (header copied, command line, initrd), at the
///   stub entry nothing but the image handle and system table; the stub builds e820 from the
///   EFI memory map and places the kernel itself (docs/EFI.md §4.14).
public enum RuleEntries {
    static let handover: Set<EntryPoint> = [.efiHandover32, .efiHandover64]
    static let efi: Set<EntryPoint> = handover.union([.efiStub])
    /// Entries where a bzImage's header fields reach the kernel from the loader.
    static let bz: Set<EntryPoint> = Set<EntryPoint>([.setup16, .protected32, .long64]).union(efi)
    /// Entries where the loader builds boot_params itself.
    static let builtZeroPage: Set<EntryPoint> = Set<EntryPoint>([.protected32, .long64]).union(handover)
    static let any: Set<EntryPoint> = Set(EntryPoint.allCases)

    static let table: [RuleID: Set<EntryPoint>] = {
        var t: [RuleID: Set<EntryPoint>] = [:]
        for id: RuleID in ["BP-01", "BP-02", "BP-03", "BP-04", "BP-05", "BP-07", "BP-09", "BP-10"] { t[id] = bz }
        t["BP-06"] = [.long64]; t["BP-08"] = [.long64]
        for id: RuleID in ["BP-11", "BP-12", "BP-15", "BP-16"] { t[id] = builtZeroPage }
        for id: RuleID in ["BP-17", "BP-24"] { t[id] = [.protected32, .long64] }
        for id: RuleID in ["BP-13", "BP-14", "BP-18", "BP-26", "BP-28", "BP-30", "BP-32"] { t[id] = bz }
        for id: RuleID in ["BP-20", "BP-21", "BP-23", "BP-29"] { t[id] = [.setup16, .protected32, .long64] }
        for id: RuleID in ["BP-19", "BP-27", "BP-31", "BP-33"] { t[id] = any }
        for id: RuleID in ["BP-22", "BP-34"] { t[id] = any.subtracting(efi) }
        for id: RuleID in ["BP-35", "BP-36", "BP-37", "BP-38", "BP-39", "BP-40"] { t[id] = [.setup16, .protected32, .long64] }
        for id: RuleID in ["BP-41", "BP-42", "BP-43", "BP-44"] { t[id] = bz }
        for id: RuleID in ["BP-25", "BP-45", "BP-46"] { t[id] = [.setup16] }
        for id: RuleID in ["BP-47", "BP-48", "BP-49", "BP-50", "BP-51", "BP-52"] { t[id] = [.protected32] }
        for id: RuleID in ["BP-53", "BP-54", "BP-55", "BP-56", "BP-57", "BP-58"] { t[id] = [.long64] }
        t["BP-59"] = [.protected32, .long64]
        for n in 60...69 { t[RuleID(number: n)] = [.pvh] }
        for id: RuleID in ["BP-70", "BP-71", "BP-72"] { t[id] = [.long64] }
        for n in 73...77 { t[RuleID(number: n)] = [.long64, .pvh] }   // every ELF entry (§4.13)
        for id: RuleID in ["BP-80", "BP-81", "BP-83", "BP-84", "BP-85"] { t[id] = handover }
        for id: RuleID in ["BP-82", "BP-87", "BP-88", "BP-89", "BP-90"] { t[id] = efi }
        t["BP-86"] = [.efiStub]
        t["BP-91"] = [.protected32, .long64]
        t["BP-92"] = [.setup16, .protected32, .long64, .pvh]
        return t
    }()

    /// The entries rule `id` applies to (every entry for an id the table does not name).
    public static func of(_ id: RuleID) -> Set<EntryPoint> { table[id] ?? any }

    /// Why a rule does not apply at `entry`, where a sentence says more than the entry list.
    static func reason(_ id: RuleID, at entry: EntryPoint) -> String? {
        guard entry.isEFI, placedByTheStub.contains(id) else { return nil }
        return "EFI entry: the stub builds e820 from the EFI memory map and places the kernel itself (x86-stub.c setup_e820, efi_decompress_kernel); see BP-88, BP-90"
    }
    /// Pre-EFI rules whose subject the stub, not the loader, decides at the EFI entries.
    static let placedByTheStub: Set<RuleID> = ["BP-17", "BP-20", "BP-21", "BP-22", "BP-23", "BP-24", "BP-29", "BP-34", "BP-35", "BP-36", "BP-37", "BP-38", "BP-39", "BP-40"]

    /// "16, 32 and 64", in the enum's order.
    static func list(_ s: Set<EntryPoint>) -> String {
        let names = EntryPoint.allCases.filter(s.contains).map(\.rawValue)
        return names.count <= 1 ? names.joined() : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }
}
