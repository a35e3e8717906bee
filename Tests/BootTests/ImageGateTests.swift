import Conformance
import ConformanceFixtures
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Reports
import Runners
import TestSupport
import Testing

/// `conform gate` and `conform diff` on arm64 and riscv64 Images (issue 16, item 5): the file is
/// told by its magic at 0x38, unpacked when it came compressed, and gated on its header surface,
/// the reference Image loader's load judged by A64-nn or RV-nn, and a boot by QEMU's own loader.
@Suite("ImageGate")
struct ImageGateTests {
    /// An arm64 Image file: the booting.rst header (text_offset, image_size, flags 0xA, "ARM\x64"
    /// at 0x38) and 4 KiB of body.
    static func arm64Image(textOffset: UInt64 = 0, imageSize: UInt64 = 0x224_0000) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 0x1000)
        b.put(0x5A4D, at: 0, width: 4)              // "MZ": an EFI stub
        b.put(textOffset, at: 0x08, width: 8)
        b.put(imageSize, at: 0x10, width: 8)
        b.put(0xA, at: 0x18, width: 8)               // LE, 4K pages, bit 3 set
        b.put(0x644D_5241, at: 0x38, width: 4)       // "ARM\x64"
        b.put(0x40, at: 0x3C, width: 4)              // the PE header's offset
        return b
    }

    static func write(_ bytes: [UInt8], _ ws: GateWorkspace, _ name: String) -> String {
        let p = ws.directory + "/" + name
        FileManager.default.createFile(atPath: p, contents: Data(bytes))
        return p
    }

    /// `gzip -c FILE`, for the compressed forms Debian has shipped Images in.
    static func gzip(_ path: String) throws -> [UInt8] {
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env"); p.arguments = ["gzip", "-c", path]
        p.standardOutput = out
        try p.run()
        let d = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "gzip -c \(path) failed")
        return [UInt8](d)
    }

    /// A plain Image, an Image.gz and an EFI zboot image holding the same Image are all read
    /// as that arm64 Image; an x86 bzImage is still a bzImage.
    @Test func anImageIsToldByItsMagicAndUnpacked() throws {
        let ws = try GateWorkspace()
        defer { ws.cleanup() }
        let image = Self.arm64Image()
        let plain = Self.write(image, ws, "Image")
        let gz = try Self.gzip(plain)
        // EFI zboot (drivers/firmware/efi/libstub/zboot-header.S): "MZ", "zimg" at 4, the
        // payload's offset and size at 8 and 12, the compression's name at 0x18.
        var zboot = [UInt8](repeating: 0, count: 0x200)
        zboot.replaceSubrange(0..<2, with: Array("MZ".utf8)); zboot.replaceSubrange(4..<8, with: Array("zimg".utf8))
        zboot.put(0x200, at: 8, width: 4); zboot.put(UInt64(gz.count), at: 12, width: 4)
        zboot.replaceSubrange(0x18..<0x1C, with: Array("gzip".utf8))
        zboot += gz
        let forms: [(String, String?)] = [(plain, nil), (Self.write(gz, ws, "Image.gz"), "gzip-compressed Image"), (Self.write(zboot, ws, "vmlinuz.efi"), "EFI zboot image (gzip payload at 0x200")]
        for (path, how) in forms {
            let k = try ws.kernel(path)
            #expect(k.formatName == "arm64 Image" && k.parsed == nil, "\(path): \(k.formatName)")
            #expect(k.imageHeader?.imageSize == 0x224_0000)
            #expect(k.surface.first { $0.key == "size.file" }?.value == "0x1000", "the file's size after unpacking")
            if let how { #expect(k.payloadNote?.contains(how) == true, "\(k.payloadNote ?? "no note")") } else { #expect(k.payloadNote == nil) }
        }
        var bad = zboot
        bad.replaceSubrange(0x18..<0x1C, with: Array("lzop".utf8))
        let refused = #expect(throws: GateError.self) { try ws.kernel(Self.write(bad, ws, "bad.efi")) }
        #expect(refused?.message.contains("compression name at 0x18") == true && refused?.message.contains("found \"lzop\"") == true, "\(String(describing: refused))")
        let bz = try ws.kernel(Self.write(try syntheticImage("bz-2.15").image, ws, "bz"))
        #expect(bz.formatName == "bzImage" && bz.imageHeader == nil)
    }

    /// The gate on an Image without a boot: image_size growth passes with a needs-attention
    /// change and every A64 rule run on the reference Image loader's load, in every format; a
    /// text_offset change fails; an image_size the loader cannot place fails by its rule; an x86
    /// baseline is refused.
    @Test func theGateJudgesAnImageSurface() throws {
        let ws = try GateWorkspace()
        defer { ws.cleanup() }
        var o = KernelGate.Options(); o.boot = false
        let old = try ws.kernel(Self.write(Self.arm64Image(), ws, "old"))
        let grown = try KernelGate.run(new: try ws.kernel(Self.write(Self.arm64Image(imageSize: 0x300_0000), ws, "grown")), baseline: old, options: o)
        #expect(grown.passed, "\(grown.regressions)")
        #expect(grown.needsAttention.map(\.key) == ["image.image_size"])
        let run = try #require(grown.ruleRuns.first)
        #expect(grown.ruleRuns.count == 1 && run.entry == nil && run.name == "arm64 Image" && run.refused == nil, "\(run.refused ?? "")")
        #expect(run.verdicts.map(\.rule) == ImageRuleCatalogue.rules(for: .arm64).map(\.id) && run.baseline?.count == run.verdicts.count)
        let pass = run.verdicts.filter { $0.outcome == .pass }.count
        #expect(grown.summaryLines.contains { $0.hasPrefix("  arm64 Image (reference Image loader): \(pass) pass") }, "\(grown.summaryLines)")
        #expect(grown.markdown.contains("(arm64 Image)") && grown.markdown.contains("| arm64 Image | \(pass) |"))
        #expect((grown.json["rules"] as? [[String: Any]])?.first?["entry"] as? String == "arm64 Image")
        let x = try JUnit(grown.junitXML)
        #expect(x.failures == 0 && x.tests == x.testcaseElements)
        #expect(grown.junitXML.contains("classname=\"gate.rules.arm64-Image\" name=\"A64-01 "))

        let moved = try KernelGate.run(new: try ws.kernel(Self.write(Self.arm64Image(textOffset: 0x8_0000), ws, "moved")), baseline: old, options: o)
        #expect(!moved.passed && moved.regressions.contains { $0.hasPrefix("surface: image.text_offset 0x0 → 0x80000") }, "\(moved.regressions)")
        #expect(try JUnit(moved.junitXML).failures == 1)

        // 2 GiB of image_size in 1 GiB of RAM: the reference Image loader refuses by its rule.
        let huge = try KernelGate.run(new: try ws.kernel(Self.write(Self.arm64Image(imageSize: 0x8000_0000), ws, "huge")), baseline: old, options: o)
        #expect(!huge.passed && huge.regressions.contains { $0.hasPrefix("rules (arm64 Image): the reference loader refuses the image: A64-04: image_size") && $0.hasSuffix("(the baseline loaded)") }, "\(huge.regressions)")

        let bz = try ws.kernel(Self.write(try syntheticImage("bz-2.15").image, ws, "bz"))
        let mixed = #expect(throws: GateError.self) { try KernelGate.run(new: old, baseline: bz, options: o) }
        #expect(mixed?.message.contains("bz (bzImage, x86)") == true && mixed?.message.contains("old (arm64 Image, arm64)") == true, "\(String(describing: mixed))")
    }

    static let debs: [String] = (try? FileManager.default.contentsOfDirectory(atPath: Repo.corpus + "/real/debs")) ?? []
    static let kernels: [RealKernel] = ((try? RealCorpus.imageKernels(directory: Repo.corpus)) ?? nil) ?? []

    /// Debian's arm64 6.12 and riscv64 7.2 packages gated against their Images in Corpus/real:
    /// no surface change, a boot to userspace by QEMU's loader on virt. Quick tier: arm64 only and
    /// without the boot (ImageKernelBoots boots it there already); the full tier both, booted
    /// (about 3 s of TCG each on an idle host).
    @Test(.timeLimit(.minutes(10)), arguments: TestTier.sample(ImageHandoff.Architecture.allCases.map(\.rawValue), quick: ["arm64"], id: { $0 }))
    func debianImagePackagesPassTheGate(_ arch: String) async throws {
        let a = try #require(ImageHandoff.Architecture(rawValue: arch))
        let m = ImageKernelMachine.of(a)
        guard m.installed else { try Test.cancel("\(m.emulator) is not installed (apt-get install \(m.package))") }
        guard let k = Self.kernels.first(where: { $0.format == arch }) else { try Test.cancel("no \(arch) kernel in Corpus/real/manifest.json: run tools/build-corpus.sh") }
        guard let deb = Self.debs.first(where: { $0.hasSuffix("_\(arch).deb") }) else { try Test.cancel("no \(arch) .deb in Corpus/real/debs: run tools/build-corpus.sh") }
        guard let initrd = RealCorpus.initramfs(directory: Repo.corpus, architecture: arch) else { try Test.cancel("no \(arch) initramfs: run tools/build-corpus.sh (needs the \(arch) cross compiler)") }
        let ws = try GateWorkspace()
        defer { ws.cleanup() }
        var o = KernelGate.Options(); o.imageInitrds[a] = initrd; o.timeout = .seconds(540); o.boot = TestTier.full
        let options = o
        let r = try await offPool { try KernelGate.run(new: try ws.kernel(Repo.corpus + "/real/debs/" + deb), baseline: try ws.kernel(k.path), options: options) }
        #expect(r.passed, "\(r.regressions)")
        #expect(r.changes.isEmpty, "the package's Image is the one in Corpus/real: \(r.changes.map(\.key))")
        #expect(r.new.formatName == "\(arch) Image" && r.new.label.hasPrefix(deb + " → "))
        #expect(r.ruleRuns.count == 1 && r.ruleRuns[0].refused == nil && r.ruleRuns[0].verdicts.count == ImageRuleCatalogue.rules(for: r.new.imageHeader!.architecture).count)
        if TestTier.full {
            #expect(r.boots.count == 1 && r.boots.allSatisfy(\.passed) && r.boots.first?.checks.isEmpty == false)
        } else {
            #expect(r.boots.isEmpty && r.bootSkipped != nil)
        }
        let x = try JUnit(r.junitXML)
        #expect(x.failures == 0 && x.tests == x.testcaseElements)
    }

    /// Debian's arm64 and riscv64 Images are refused as a pair, naming both; no boot is tried.
    @Test func differentArchitecturesAreRefused() throws {
        guard let arm = Self.kernels.first(where: { $0.format == "arm64" }), let rv = Self.kernels.first(where: { $0.format == "riscv64" }) else {
            try Test.cancel("no arm64 and riscv64 kernels in Corpus/real/manifest.json: run tools/build-corpus.sh")
        }
        let ws = try GateWorkspace()
        defer { ws.cleanup() }
        let a = try ws.kernel(arm.path), b = try ws.kernel(rv.path)
        let e = #expect(throws: GateError.self) { try KernelGate.run(new: b, baseline: a, options: KernelGate.Options()) }
        let s = e?.message ?? ""
        #expect(s.contains((arm.path as NSString).lastPathComponent + " (arm64 Image, arm64)") && s.contains((rv.path as NSString).lastPathComponent + " (riscv64 Image, riscv64)"), "\(s)")
    }
}
