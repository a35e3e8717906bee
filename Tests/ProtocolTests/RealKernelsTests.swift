import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// The Debian 6.1 and 6.12 kernels fetched by tools/build-corpus.sh: every image loads with
/// the reference loader and passes every applicable rule.
@Suite("RealKernels")
struct RealKernelsTests {
    static func requireCorpus() throws -> [RealKernel] { try RealCorpusManifest.repository.require() }

    /// A corrupt manifest fails the tests that need the corpus with its error; only a missing
    /// one means "not built" (issue 14: `try?` once turned the first into the second).
    @Test func corruptManifestIsAnErrorNotAMissingCorpus() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: true)
        let missing = RealCorpusManifest.load(directory: dir)
        #expect(missing.error == nil && missing.kernels.isEmpty)
        try Data("{\"images\": [{\"name\": 1}".utf8).write(to: URL(fileURLWithPath: dir + "/real/manifest.json"))
        let corrupt = RealCorpusManifest.load(directory: dir)
        guard case .unreadable(let path, _)? = corrupt.error else { Issue.record("expected unreadable, got \(String(describing: corrupt.error))"); return }
        #expect(path == dir + "/real/manifest.json")
        #expect(throws: ManifestError.self) { try corrupt.require() }
    }

    @Test("the corpus has a bzImage and an ELF vmlinux of 6.1 and 6.12, cloud and generic")
    func eightImages() throws {
        let k = try Self.requireCorpus()
        for series in ["6.1", "6.12"] {
            for flavour in ["cloud", "generic"] {
                for format in ["bzImage", "elf"] {
                    #expect(k.contains { $0.series == series && $0.flavour == flavour && $0.format == format && $0.version.hasPrefix(series + ".") },
                            "missing \(format) of \(series) \(flavour)")
                }
            }
        }
    }

    @Test("every real image loads and passes every applicable rule", .hangGuard)
    func loadsAndPasses() throws {
        let initrd = MemorySource(name: "initrd", bytes: RealCorpus.testInitrd())
        for k in try Self.requireCorpus() {
            let src = try FileSource(path: k.path)
            for entry in k.entries {
                var o = LoadOptions(); o.entry = entry; o.rngSeed = LoadOptions.corpusSeed
                let r = try ReferenceLoader.load(kernel: src, initrd: initrd, options: o)
                let s = try BootSnapshot.of(r, kernel: src, initrd: initrd, commandLine: o.commandLine)
                #expect(s.image.sha256 == k.sha256, "\(k.name): file changed since the corpus was built")
                let v = judge(s)
                #expect(!v.contains { $0.outcome == .fail }, "\(k.name) entry \(entry.rawValue): \(v.filter { $0.outcome == .fail })")
                // The rules of the entry used must all apply and pass, not merely "not fail".
                let required: [String]
                switch (k.format, entry) {
                case ("elf", .pvh): required = (60...69).map { String(format: "BP-%02d", $0) } + ["BP-19", "BP-27", "BP-31", "BP-33", "BP-34"]
                case ("elf", _): required = ["BP-70", "BP-71", "BP-72", "BP-19", "BP-54", "BP-55", "BP-56", "BP-57", "BP-58"] + (11...18).map { String(format: "BP-%02d", $0) }
                case (_, .protected32): required = (47...52).map { String(format: "BP-%02d", $0) } + (1...19).filter { $0 != 6 && $0 != 8 }.map { String(format: "BP-%02d", $0) }
                default: required = (53...59).map { String(format: "BP-%02d", $0) } + (1...19).map { String(format: "BP-%02d", $0) } + ["BP-21", "BP-22", "BP-23"]
                }
                let notPassing = required.filter { id in v.first { $0.rule.rawValue == id }?.outcome != .pass }
                #expect(notPassing.isEmpty, "\(k.name) entry \(entry.rawValue): \(notPassing) did not pass: \(v.filter { notPassing.contains($0.rule.rawValue) })")
            }
        }
    }

    @Test("the Debian images carry the protocol facts of the spec digest")
    func protocolFacts() throws {
        for k in try Self.requireCorpus() {
            switch try KernelImage(source: FileSource(path: k.path)) {
            case .bzImage(let bz):
                #expect(bz.header.version == ProtocolVersion(2, 15), "\(k.name)")
                #expect(bz.header.xloadFlags.isSuperset(of: [.kernel64, .canBeLoadedAbove4G]), "\(k.name)")
                #expect(bz.header.preferredAddress == 0x100_0000 && bz.header.kernelAlignment == 0x20_0000 && bz.header.minAlignmentLog2 == 21, "\(k.name)")
                #expect(bz.kernelInfo?.setupTypeMax == 0x8000_0009, "\(k.name)")
                #expect(bz.payloadFormat != nil, "\(k.name)")
            case .elf(let e):
                #expect(e.pvhEntry != nil, "\(k.name): no PVH note")
                // PHYS32_RELOC arrived after 6.1: the 6.12 vmlinux has it (spec §5), 6.1 does not.
                if k.version.hasPrefix("6.12.") { #expect(e.relocation == PVHRelocation(alignment: 0x20_0000, minimum: 0x100_0000, maximum: 0x3FFF_FFFF), "\(k.name)") }
                if k.version.hasPrefix("6.1.") { #expect(e.relocation == nil, "\(k.name)") }
                #expect(e.physicalStart == 0x100_0000, "\(k.name)")
            }
        }
    }
}
