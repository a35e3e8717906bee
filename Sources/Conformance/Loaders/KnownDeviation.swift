/// A real loader's departure from a rule, recorded with its evidence, so the judge can say
/// "this failure is the loader's, and here is why" instead of hiding the rule. A deviation is
/// recorded only after deciding the loader, not the judge, is wrong (DESIGN.md, "Real
/// loaders"); the tests that boot the loader check that each recorded deviation still occurs,
/// so the list cannot go stale without a test failing.
public struct KnownDeviation: Sendable, CustomStringConvertible {
    /// The loader's id in the matrix (`qemu-pc`, `grub-bios-linux16`, …).
    public let loader: String
    /// The rule it breaks.
    public let rule: String
    /// What the loader does, in one sentence.
    public let what: String
    /// Where in the loader's source it happens, and what the spec says instead.
    public let evidence: String
    /// Whether it shows with this image (the header a variant carries decides most of them).
    public let applies: @Sendable (ImageRecord) -> Bool
    /// The boot produces no probe report at all (the deviation breaks the kernel itself).
    public let preventsReport: Bool

    public var description: String { "known \(loader) deviation (\(rule)): \(what) [\(evidence)]" }

    /// The protocol version of a bzImage record (0 without "HdrS").
    static func version(_ i: ImageRecord) -> UInt16 {
        guard i.format == .bzImage, i.headerBytes.u32(0x202) == 0x5372_6448 else { return 0 }
        return i.headerBytes.u16(0x206) ?? 0
    }
    static func headerEnd(_ i: ImageRecord) -> Int { i.headerBytes.count > 0x201 ? 0x202 + Int(i.headerBytes[0x201]) : 0 }
}

public enum KnownDeviations {
    public static let all: [KnownDeviation] = [
        // QEMU 7.2, pc-bios/optionrom/linuxboot_dma.c, load_kernel(): "if (readw_addr32(setup_addr
        // + 0x206) < 0x203) writel_addr32(setup_addr + 0x22c, 0x37ffffff)". initrd_addr_max
        // (0x22C) exists from protocol 2.03 (spec §1.2, §3); before that the loader must treat
        // 0x37FFFFFF as the limit, not write it into the image's real-mode code.
        KnownDeviation(loader: "qemu-pc", rule: "BP-04",
                       what: "writes initrd_addr_max = 0x37FFFFFF at X+0x22C for protocols before 2.03, where that field does not exist",
                       evidence: "qemu pc-bios/optionrom/linuxboot_dma.c load_kernel(); spec §1.2 initrd_addr_max (2.03+), §4.1 BP-04",
                       applies: { i in let v = KnownDeviation.version(i); return v >= 0x0200 && v < 0x0203 && KnownDeviation.headerEnd(i) + 3 <= 0x22C },
                       preventsReport: false),
        // Same write; for a 2.02 header (ending at 0x22C) the four bytes are the first
        // instruction after the header, which the header's jump at 0x200 leads to. The probe's
        // setup code never runs (FF FF is an invalid opcode; SeaBIOS's default #UD handler
        // returns to it), so there is no report: a real 2.02 kernel's setup code is corrupted
        // the same way.
        KnownDeviation(loader: "qemu-pc", rule: "BP-04",
                       what: "writes initrd_addr_max at X+0x22C over the first instruction after a 2.02 header: the setup code never runs, no report",
                       evidence: "qemu pc-bios/optionrom/linuxboot_dma.c load_kernel(); spec §1.2 initrd_addr_max (2.03+), §4.1 BP-04",
                       applies: { i in let v = KnownDeviation.version(i); return v >= 0x0200 && v < 0x0203 && KnownDeviation.headerEnd(i) + 3 > 0x22C },
                       preventsReport: true),
    ]

    /// The deviations of `loader` that show with `image`.
    public static func of(loader: String, image: ImageRecord) -> [KnownDeviation] {
        all.filter { $0.loader == loader && $0.applies(image) }
    }
}
