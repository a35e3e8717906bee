import Conformance
import ConformanceFixtures
import Testing

/// One class of surface change (issue 15, "Loader impact"): two synthetic images whose recipes
/// differ in one thing, the key that must change, its impact, and whether it is build noise.
struct ImpactCase: Sendable, CustomTestStringConvertible {
    let name: String
    let old: [String: any Sendable]
    let new: [String: any Sendable]
    let key: String
    let impact: SurfaceChange.Impact
    var noise = false
    /// Words the reason must contain (the rule, the history a maintainer needs).
    var reasonMentions: [String] = []
    var testDescription: String { name }
}

/// Recipes: a bzImage (SyntheticImage.bzImage keys) and an ELF vmlinux with two PT_LOADs
/// (text R-X at 0x1000000, data RW- at 0x1200000) entered near the start of text.
func bz(_ extra: [String: any Sendable] = [:]) -> [String: any Sendable] { extra.merging(["kind": "bzImage"]) { a, _ in a } }
func elf(entry: UInt64 = 0x100_0100, segments: [[String: String]]? = nil, _ extra: [String: any Sendable] = [:]) -> [String: any Sendable] {
    let two = [["paddr": "0x1000000", "fileSize": "0x10000", "memSize": "0x10000", "flags": "5"],
               ["paddr": "0x1200000", "fileSize": "0x10000", "memSize": "0x10000", "flags": "6"]]
    return extra.merging(["kind": "elf", "entry": hex(entry), "segments": segments ?? two]) { a, _ in a }
}
let threeSegments = [["paddr": "0x1000000", "fileSize": "0x10000", "memSize": "0x10000", "flags": "5"],
                     ["paddr": "0x1200000", "fileSize": "0x10000", "memSize": "0x10000", "flags": "6"],
                     ["paddr": "0x1400000", "fileSize": "0x10000", "memSize": "0x10000", "flags": "7"]]

@Suite("SurfaceImpact")
struct SurfaceImpactTests {
    static func surface(_ recipe: [String: any Sendable], _ id: String) throws -> [SurfaceItem] {
        let bytes = try SyntheticImage.build(recipe, id: id)
        switch try KernelImage(source: MemorySource(name: id, bytes: bytes)) {
        case .bzImage(let b): return Surface.of(bzImage: b)
        case .elf(let e): return Surface.of(elf: e)
        }
    }

    /// Each class flagged: the change is there with its impact, noise flag and reason.
    static let flagged: [ImpactCase] = [
        ImpactCase(name: "entry moves to another PT_LOAD (Linux 6.17)", old: elf(), new: elf(entry: 0x120_0100), key: "elf.entry.segment",
                   impact: .needsAttention, reasonMentions: ["6.17", ".head.text", "BP-76"]),
        ImpactCase(name: "entry leaves the head of text", old: elf(), new: elf(entry: 0x100_8000), key: "elf.entry.position",
                   impact: .needsAttention, reasonMentions: ["start of text", "BP-70"]),
        ImpactCase(name: "init_size grows", old: bz(["initSize": "0x800000"]), new: bz(["initSize": "0x900000"]), key: "header.init_size",
                   impact: .needsAttention, reasonMentions: ["0x100000 more bytes", "BP-22"]),
        ImpactCase(name: "setup_type_max rises", old: bz(["setupTypeMax": "0x80000009"]), new: bz(["setupTypeMax": "0x8000000A"]), key: "kernel_info.setup_type_max",
                   impact: .needsAttention, reasonMentions: ["new setup_data types", "BP-43"]),
        ImpactCase(name: "setup_type_max falls", old: bz(["setupTypeMax": "0x8000000A"]), new: bz(["setupTypeMax": "0x80000009"]), key: "kernel_info.setup_type_max",
                   impact: .breaking, reasonMentions: ["BP-43"]),
        ImpactCase(name: "an xloadflags bit appears", old: bz(["xloadflags": "0x03"]), new: bz(["xloadflags": "0x13"]), key: "xloadflags.XLF_EFI_KEXEC",
                   impact: .needsAttention, reasonMentions: ["now advertised"]),
        ImpactCase(name: "an xloadflags bit disappears", old: bz(["xloadflags": "0x13"]), new: bz(["xloadflags": "0x03"]), key: "xloadflags.XLF_EFI_KEXEC",
                   impact: .needsAttention, reasonMentions: ["no longer advertised"]),
        ImpactCase(name: "XLF_CAN_BE_LOADED_ABOVE_4G disappears", old: bz(["xloadflags": "0x03"]), new: bz(["xloadflags": "0x01"]), key: "xloadflags.XLF_CAN_BE_LOADED_ABOVE_4G",
                   impact: .breaking, reasonMentions: ["BP-07"]),
        ImpactCase(name: "protocol version bump", old: bz(["version": "2.12"]), new: bz(["version": "2.15"]), key: "protocol",
                   impact: .needsAttention, reasonMentions: ["leaves the new ones", "BP-04"]),
        ImpactCase(name: "protocol version falls", old: bz(["version": "2.15"]), new: bz(["version": "2.12"]), key: "protocol",
                   impact: .breaking, reasonMentions: ["BP-04"]),
        ImpactCase(name: "PVH entry note gone", old: elf(), new: elf(["pvh": false]), key: "entry.pvh", impact: .breaking, reasonMentions: ["BP-60"]),
        ImpactCase(name: "PVH entry moves to another PT_LOAD", old: elf(), new: elf(["pvh": ["value": "0x1200040"]]), key: "pvh.segment",
                   impact: .needsAttention, reasonMentions: ["BP-60"]),
        ImpactCase(name: "PVH relocation bounds change", old: elf(["reloc": ["max": "0x3FFFFFFF"]]), new: elf(["reloc": ["max": "0x1FFFFFFF"]]), key: "pvh.relocation",
                   impact: .needsAttention, reasonMentions: ["BP-68"]),
        ImpactCase(name: "PVH relocation note gone", old: elf(["reloc": [String: String]()]), new: elf(), key: "pvh.relocation", impact: .breaking, reasonMentions: ["BP-68"]),
        ImpactCase(name: "a PT_LOAD segment removed", old: elf(segments: threeSegments), new: elf(), key: "elf.load.layout",
                   impact: .needsAttention, reasonMentions: ["merged", "p_paddr"]),
        ImpactCase(name: "a segment's permissions change", old: elf(), new: elf(segments: [threeSegments[0], ["paddr": "0x1200000", "fileSize": "0x10000", "memSize": "0x10000", "flags": "7"]]),
                   key: "elf.phdr.1", impact: .needsAttention, reasonMentions: ["permissions"]),
        ImpactCase(name: "payload size changes (build noise)", old: bz(["pmSize": "0x10000"]), new: bz(["pmSize": "0x12000"]), key: "size.syssize",
                   impact: .informational, noise: true),
        ImpactCase(name: "entry moves within the head (build noise)", old: elf(), new: elf(entry: 0x100_0200), key: "elf.entry",
                   impact: .informational, noise: true),
        ImpactCase(name: "PVH entry moves within its segment (build noise)", old: elf(), new: elf(["pvh": ["value": "0x1000080"]]), key: "entry.pvh",
                   impact: .informational, noise: true),
    ]

    @Test(arguments: flagged)
    func eachClassIsFlagged(_ c: ImpactCase) throws {
        let d = Surface.diff(old: try Self.surface(c.old, c.name + "/old"), new: try Self.surface(c.new, c.name + "/new"))
        let change = try #require(d.first { $0.key == c.key }, "no change to \(c.key) in \(d.map(\.key))")
        #expect(change.impact == c.impact, "\(change)")
        #expect(change.noise == c.noise, "\(change)")
        for w in c.reasonMentions { #expect(change.reason.contains(w), "\(change.reason)") }
        if c.impact == .breaking { #expect(d.contains { $0.impact == .breaking }) }
    }

    /// The conforming side of every class: building the same recipe twice changes nothing, and
    /// the noise-only cases raise nothing above informational.
    @Test(arguments: flagged)
    func theSameImageHasNoChanges(_ c: ImpactCase) throws {
        #expect(Surface.diff(old: try Self.surface(c.old, c.name), new: try Self.surface(c.old, c.name)).isEmpty)
        if c.noise {
            let d = Surface.diff(old: try Self.surface(c.old, c.name + "/old"), new: try Self.surface(c.new, c.name + "/new"))
            #expect(d.allSatisfy { $0.impact == .informational }, "\(d.filter { $0.impact != .informational })")
        }
    }

    /// Growth only: a smaller init_size or a higher limit is informational.
    @Test func shrinkingAndGrowingLimitsAreInformational() throws {
        var d = Surface.diff(old: try Self.surface(bz(["initSize": "0x900000"]), "a"), new: try Self.surface(bz(["initSize": "0x800000"]), "b"))
        #expect(d.first { $0.key == "header.init_size" }?.impact == .informational)
        d = Surface.diff(old: try Self.surface(bz(["cmdlineSize": "0x7FF"]), "a"), new: try Self.surface(bz(["cmdlineSize": "0xFFF"]), "b"))
        #expect(d.first { $0.key == "header.cmdline_size" }?.impact == .informational)
        d = Surface.diff(old: try Self.surface(bz(["cmdlineSize": "0xFFF"]), "a"), new: try Self.surface(bz(["cmdlineSize": "0x7FF"]), "b"))
        #expect(d.first { $0.key == "header.cmdline_size" }?.impact == .needsAttention)
    }

    /// ElfImage refuses an entry outside every PT_LOAD (BP-76), so the case is judged from items.
    @Test func anEntryOutsideEveryPTLOADIsBreaking() {
        let d = Surface.diff(old: [SurfaceItem("elf.entry.segment", "PT_LOAD 0 (R-X)")], new: [SurfaceItem("elf.entry.segment", "outside every PT_LOAD")])
        #expect(d.first?.impact == .breaking && d.first?.reason.contains("BP-76") == true)
    }

    /// When the entry changes segment, its position within the segment follows and is not
    /// counted twice.
    @Test func theEntryMoveIsOneNeedsAttention() throws {
        let d = Surface.diff(old: try Self.surface(elf(), "a"), new: try Self.surface(elf(entry: 0x120_8000), "b"))
        #expect(d.filter { $0.impact == .needsAttention }.map(\.key) == ["elf.entry.segment"], "\(d)")
    }

    /// Xen and Linux notes appear by name (spec §5's table), unknown types by number.
    @Test func notesAreNamed() throws {
        let keys = Set(try Self.surface(elf(["reloc": [String: String]()]), "notes").map(\.key))
        #expect(keys.isSuperset(of: ["elf.note.Xen.PHYS32_ENTRY", "elf.note.Xen.PHYS32_RELOC", "elf.note.Linux.LTO_INFO"]), "\(keys.sorted())")
        #expect(Surface.noteName("Xen", 10) == "FEATURES" && Surface.noteName("Linux", 0x100) == "BUILD_SALT" && Surface.noteName("Xen", 99) == "type 0x63")
    }
}
