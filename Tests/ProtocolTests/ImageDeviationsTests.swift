import Conformance
import ConformanceFixtures
import Testing

/// The Image rows' recorded deviations (`KnownDeviations.imageLoaders`): each matches only its
/// loader, rule and the probe variants whose header makes it show, never an x86 image; each
/// carries its evidence in parts and names a rule of its architecture's catalogue. Select with
/// `swift test --filter ImageDeviations`.
@Suite("ImageDeviations")
struct ImageDeviationsTests {
    /// The probe variants' headers (Corpus/probe-image/variants.py) as subjects, with the
    /// probe's initrd and a command line.
    static let variants: [(id: String, subject: ImageDeviationSubject)] = {
        func v(_ id: String, _ arch: ImageBootSnapshot.Architecture, _ fields: [String: UInt64]) -> (String, ImageDeviationSubject) {
            (id, ImageDeviationSubject(architecture: arch, image: ImageCorpus.synthesize(id: id, arch, fields: fields, fileSize: 0x4000), initrdSize: 0x3005, commandLine: "console=ttyS0 conform.variant=\(id)"))
        }
        let small: UInt64 = 0x9000, big: UInt64 = 512 << 20
        return [
            v("arm64-t0-anywhere", .arm64, ["text_offset": 0, "flags": 0xA, "image_size": small]),
            v("arm64-t0-base", .arm64, ["text_offset": 0, "flags": 0x2, "image_size": small]),
            v("arm64-t80000-anywhere", .arm64, ["text_offset": 0x8_0000, "flags": 0xA, "image_size": small]),
            v("arm64-t80000-base", .arm64, ["text_offset": 0x8_0000, "flags": 0x2, "image_size": small]),
            v("arm64-big", .arm64, ["text_offset": 0, "flags": 0xA, "image_size": big]),
            v("riscv64-t200000", .riscv64, ["text_offset": 0x20_0000, "image_size": 0x7000]),
            v("riscv64-t0", .riscv64, ["text_offset": 0, "image_size": 0x7000]),
            v("riscv64-big", .riscv64, ["text_offset": 0x20_0000, "image_size": big]),
        ]
    }()

    /// What the matrix showed (docs/LOADERS.md): loader → variant → the rules its records
    /// explain there. Every other (loader, variant) pair has none.
    static let expected: [String: [String: Set<RuleID>]] = [
        "u-boot-arm64": ["arm64-t0-anywhere": ["A64-11"], "arm64-t0-base": ["A64-11"], "arm64-t80000-anywhere": ["A64-11"], "arm64-t80000-base": ["A64-11"], "arm64-big": ["A64-11"]],
        "u-boot-riscv64": ["riscv64-t0": ["RV-04"]],
        "qemu-virt-riscv64-fw-dynamic": ["riscv64-big": ["RV-04"]],
        "qemu-virt-riscv64-fw-jump": ["riscv64-big": ["RV-04", "RV-06"]],
    ]
    static let imageLoaders = ["qemu-virt-arm64-el1", "qemu-virt-arm64-el2", "qemu-virt-arm64-secure", "qemu-virt-riscv64-fw-dynamic", "qemu-virt-riscv64-fw-jump",
                               "u-boot-arm64", "u-boot-riscv64", "reference-image-arm64", "reference-image-riscv64"]

    /// Each (loader, variant) gets exactly the records the table names: a record that showed
    /// on another variant or loader, or for another rule, fails here.
    @Test(arguments: imageLoaders)
    func recordsMatchOnlyTheirCells(_ loader: String) {
        for (id, s) in Self.variants {
            let got = Set(KnownDeviations.of(loader: loader, subject: s).map(\.rule))
            #expect(got == Self.expected[loader]?[id] ?? [], "\(loader) × \(id): records for \(got.sorted()), expected \((Self.expected[loader]?[id] ?? []).sorted())")
        }
    }

    /// The reference loader's rows have no record: they pass every rule.
    @Test func referenceRowsHaveNone() {
        #expect(KnownDeviations.all.allSatisfy { !$0.loader.hasPrefix("reference-image-") })
    }

    /// Each Image record: a rule of its architecture's catalogue, evidence in four non-empty
    /// parts that the one-line evidence carries, a loader version, and no x86 match.
    @Test func recordsAreComplete() throws {
        #expect(!KnownDeviations.imageLoaders.isEmpty)
        let x86 = ImageRecord(format: .bzImage, fileSize: 0x1000, sha256: "x86"), inputs = InputRecord(commandLine: Array("console=ttyS0".utf8))
        for d in KnownDeviations.imageLoaders {
            guard case .image(let arch, _) = d.match else { Issue.record("\(d.loader) \(d.rule): not an Image record"); continue }
            let rule = try #require(ImageRuleCatalogue.rule(d.rule), "\(d.rule) is no A64/RV rule")
            #expect(rule.architecture == arch, "\(d.loader) \(d.rule): a \(rule.architecture) rule on a \(arch) record")
            let c = try #require(d.citation)
            for part in [c.source, c.function, c.clause, c.observed] { #expect(!part.isEmpty && d.evidence.contains(part)) }
            #expect(!d.version.isEmpty, "\(d.loader): no version in KnownDeviations.versions")
            #expect(!d.applies(x86, inputs), "\(d.loader) \(d.rule) matches an x86 bzImage")
            // The other architecture's Image never matches.
            for (_, s) in Self.variants where s.architecture != arch { #expect(!d.applies(to: s)) }
        }
        // And no x86 record matches an Image.
        for d in KnownDeviations.all where d.citation == nil { for (_, s) in Self.variants { #expect(!d.applies(to: s), "\(d.loader) \(d.rule) matches an Image") } }
    }
}

/// The x86 records read the image's own header: a hostile one gives no match, never a trap.
@Suite("DeviationHostileHeaders")
struct DeviationHostileHeaderTests {
    /// A 2.10 relocatable header with pref_address, kernel_alignment and init_size as given.
    static func record(pref: UInt64, align: UInt64, initSize: UInt64) -> ImageRecord {
        var h = [UInt8](repeating: 0, count: SetupHeaderLayout.areaEnd)
        h.put(0x020A, .version); h.put(UInt64(BzImage.headerMagic), .header); h.put(1, .relocatableKernel)
        h.put(pref, .prefAddress); h.put(align, .kernelAlignment); h.put(initSize, .initSize); h.put(0x37FF_FFFF, .initrdAddrMax)
        var r = ImageRecord(format: .bzImage, fileSize: 0x10000, sha256: "x")
        r.headerBytes = h
        return r
    }

    @Test func prefAddressNearTheTopNeverTraps() {
        let inputs = InputRecord(commandLine: [], initrdSize: 0x1000)
        // Rounding pref_address up to the alignment would pass 2^64: no window, no overlap.
        #expect(!KnownDeviation.topInitrdSpotOverlapsWindow(Self.record(pref: .max - 0x10, align: 0x20_0000, initSize: 0x1000), inputs))
        // A window that wraps past 2^64 covers the top initrd spot only if it starts below it.
        #expect(!KnownDeviation.topInitrdSpotOverlapsWindow(Self.record(pref: 0xFFFF_FFFF_FFE0_0000, align: 0x20_0000, initSize: 0xFFFF_FFFF), inputs))
        // A window over the top spot (below initrd_addr_max 0x37FFFFFF) is found, as before.
        #expect(KnownDeviation.topInitrdSpotOverlapsWindow(Self.record(pref: 0x3700_0000, align: 0x20_0000, initSize: 0x0200_0000), inputs))
        #expect(!KnownDeviation.topInitrdSpotOverlapsWindow(Self.record(pref: 0x100_0000, align: 0x20_0000, initSize: 0x0100_0000), inputs))
    }
}
