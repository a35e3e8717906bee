/// Every loader rule of `shared/spec/x86-boot-protocol.md` (BP-01…BP-77), of the EFI entries
/// (docs/EFI.md, BP-80…BP-91), and BP-92 (the e820 map against the guest's memory, derived
/// from §2.3 and §4.6; `BP92+E820AgainstMemory.swift`), in id order.
public enum RuleCatalogue {
    public static let all: [Rule] = (image + zeroPage + placement + commandLine + initrd + e820 + setupData + entry16 + entry32 + entry64 + pvh + elf + elfWellFormedness + efi + memoryMap)
        .sorted { $0.id < $1.id }
    public static func rule(_ id: RuleID) -> Rule? { all.first { $0.id == id } }

    static let notBz = Judgement.na("not a bzImage")
    static let noZeroPage = Judgement.na("no zero page readable at the entry's boot_params pointer")
    /// n/a, with the reason there is no zero page to judge (RuleContext.zeroPageProblem).
    static func noZeroPage(_ c: RuleContext) -> Judgement { c.zeroPageProblem.map { .na($0) } ?? noZeroPage }
    /// n/a, with the reason there is no memory map to judge (RuleContext.memoryMapUnseen).
    static func noMemoryMap(_ c: RuleContext) -> Judgement { c.memoryMapUnseen.map { .na($0) } ?? noZeroPage(c) }
}

