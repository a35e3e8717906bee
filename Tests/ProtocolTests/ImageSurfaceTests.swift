import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// An Image header written by hand from the field tables: booting.rst §4 for arm64 (code0,
/// code1, text_offset, image_size, flags, res2–res4, magic "ARM\x64" at 0x38, res5 = the PE
/// header offset at 0x3C) and boot-image-header.rst for riscv64 (the same up to flags, then
/// version at 0x20, the deprecated magic "RISCV\0\0\0" at 0x30, magic2 "RSC\x05" at 0x38, res3 =
/// the PE header offset at 0x3C). Every field little-endian.
struct ImageHeaderRecipe: Sendable {
    var architecture: ImageHeader.Architecture = .arm64
    var mz = true
    var textOffset: UInt64 = 0
    var imageSize: UInt64 = 0x224_0000
    /// arm64: 0xA is little-endian, 4K pages, bit 3 set (the Debian 6.12 kernel's word).
    var flags: UInt64 = 0xA
    var version: UInt32 = 2
    var deprecatedMagic = true
    var magic2 = true
    var peOffset: UInt32 = 0x40
    var fileSize: UInt64 = 0x214_6200

    static func riscv64(_ edit: (inout ImageHeaderRecipe) -> Void = { _ in }) -> ImageHeaderRecipe {
        var r = ImageHeaderRecipe(architecture: .riscv64, textOffset: 0x20_0000, imageSize: 0x23A_0000, flags: 0)
        edit(&r)
        return r
    }
    static func arm64(_ edit: (inout ImageHeaderRecipe) -> Void = { _ in }) -> ImageHeaderRecipe {
        var r = ImageHeaderRecipe()
        edit(&r)
        return r
    }

    var bytes: [UInt8] {
        var b = [UInt8](repeating: 0, count: 64)
        func put(_ v: UInt64, _ at: Int, _ width: Int) { for i in 0..<width { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
        put(mz ? 0x5A4D : 0x1F20_03D5, 0x00, 4)   // code0: "MZ"…, or an arm64 NOP
        put(0x1400_0000, 0x04, 4)                   // code1: a branch
        put(textOffset, 0x08, 8)
        put(imageSize, 0x10, 8)
        put(flags, 0x18, 8)
        switch architecture {
        case .arm64:
            put(0x644D_5241, 0x38, 4)               // "ARM\x64"
        case .riscv64:
            put(UInt64(version), 0x20, 4)
            if deprecatedMagic { put(0x56_4353_4952, 0x30, 8) }   // "RISCV\0\0\0"
            if magic2 { put(0x0543_5352, 0x38, 4) }               // "RSC\x05"
        }
        put(UInt64(peOffset), 0x3C, 4)
        return b
    }

    func surface() throws -> [SurfaceItem] {
        let b = bytes
        return Surface.of(image: try ImageHeader(b, architecture: architecture, fileSize: fileSize), header: b)
    }
}

/// One change to an Image header, the key that must report it, its impact and whether it is
/// build noise, and words its reason must hold.
struct ImageImpactCase: Sendable, CustomTestStringConvertible {
    let name: String
    let old: ImageHeaderRecipe
    let new: ImageHeaderRecipe
    let key: String
    let impact: SurfaceChange.Impact
    var noise = false
    var reasonMentions: [String] = []
    var testDescription: String { name }
}

/// The protocol-visible surface of arm64 and riscv64 Images (issue 16, item 5) and the impact of
/// each change: pure, from hand-written headers, and from Debian's Images when Corpus/real has them.
@Suite("ImageSurface")
struct ImageSurfaceTests {
    typealias R = ImageHeaderRecipe

    static let cases: [ImageImpactCase] = [
        ImageImpactCase(name: "arm64 text_offset 0x80000 → 0", old: R.arm64 { $0.textOffset = 0x8_0000 }, new: R.arm64(), key: "image.text_offset",
                        impact: .breaking, reasonMentions: ["0x80000", "2MB aligned base", "hard-code"]),
        ImageImpactCase(name: "riscv64 text_offset 0x200000 → 0x400000", old: R.riscv64(), new: R.riscv64 { $0.textOffset = 0x40_0000 }, key: "image.text_offset",
                        impact: .breaking, reasonMentions: ["0x200000", "boot-image-header.rst"]),
        ImageImpactCase(name: "image_size grows", old: R.arm64(), new: R.arm64 { $0.imageSize = 0x300_0000 }, key: "image.image_size",
                        impact: .needsAttention, reasonMentions: ["0xDC0000 more bytes", "image_size bytes", "initrd"]),
        ImageImpactCase(name: "image_size shrinks (build noise)", old: R.riscv64(), new: R.riscv64 { $0.imageSize = 0x200_0000 }, key: "image.image_size",
                        impact: .informational, noise: true, reasonMentions: ["shrank by 0x3A0000"]),
        ImageImpactCase(name: "image_size becomes 0 (a pre-3.17 header)", old: R.arm64 { $0.textOffset = 0x8_0000 }, new: R.arm64 { $0.imageSize = 0 }, key: "image.image_size",
                        impact: .needsAttention, reasonMentions: ["0x80000", "v3.17"]),
        ImageImpactCase(name: "arm64 flags bit 3 cleared", old: R.arm64(), new: R.arm64 { $0.flags = 0x2 }, key: "image.flags.placement",
                        impact: .needsAttention, reasonMentions: ["base of DRAM", "bit 3"]),
        ImageImpactCase(name: "arm64 flags bit 3 set", old: R.arm64 { $0.flags = 0x2 }, new: R.arm64(), key: "image.flags.placement",
                        impact: .needsAttention, reasonMentions: ["48-bit", "bit 3"]),
        ImageImpactCase(name: "page size 4K → 64K", old: R.arm64(), new: R.arm64 { $0.flags = 0xE }, key: "image.flags.page_size",
                        impact: .needsAttention, reasonMentions: ["4K to 64K", "2 MB aligned base"]),
        ImageImpactCase(name: "page size stated for the first time", old: R.arm64 { $0.flags = 0x8 }, new: R.arm64(), key: "image.flags.page_size",
                        impact: .informational, reasonMentions: ["no duty"]),
        ImageImpactCase(name: "arm64 kernel turns big-endian", old: R.arm64(), new: R.arm64 { $0.flags = 0xB }, key: "image.flags.endianness",
                        impact: .breaking, reasonMentions: ["byte order", "bit 0"]),
        ImageImpactCase(name: "a reserved flag bit appears", old: R.arm64(), new: R.arm64 { $0.flags = 0x1A }, key: "image.flags.reserved",
                        impact: .needsAttention, reasonMentions: ["reserved"]),
        ImageImpactCase(name: "the EFI stub goes (\"MZ\" disappears)", old: R.arm64(), new: R.arm64 { $0.mz = false; $0.peOffset = 0 }, key: "pe.mz",
                        impact: .needsAttention, reasonMentions: ["Non-EFI loaders", "EFI loaders", "§6.3"]),
        ImageImpactCase(name: "the EFI stub comes (\"MZ\" appears)", old: R.riscv64 { $0.mz = false; $0.peOffset = 0 }, new: R.riscv64(), key: "pe.mz",
                        impact: .informational, reasonMentions: ["non-EFI loaders ignore"]),
        ImageImpactCase(name: "the PE header offset appears", old: R.arm64 { $0.mz = false; $0.peOffset = 0 }, new: R.arm64(), key: "pe.header_offset",
                        impact: .informational, reasonMentions: ["0x3C", "non-EFI loaders ignore"]),
        ImageImpactCase(name: "the PE header moves", old: R.arm64(), new: R.arm64 { $0.peOffset = 0x80 }, key: "pe.header_offset",
                        impact: .informational, reasonMentions: ["0x3C"]),
        ImageImpactCase(name: "riscv64 header version 0.1 → 0.2", old: R.riscv64 { $0.version = 1 }, new: R.riscv64(), key: "image.version",
                        impact: .informational, reasonMentions: ["0.1 to 0.2"]),
        ImageImpactCase(name: "riscv64 header version 0.2 → 0.1", old: R.riscv64(), new: R.riscv64 { $0.version = 1 }, key: "image.version",
                        impact: .needsAttention, reasonMentions: ["went down"]),
        ImageImpactCase(name: "riscv64 drops the deprecated \"RISCV\" magic", old: R.riscv64(), new: R.riscv64 { $0.deprecatedMagic = false }, key: "image.magic",
                        impact: .needsAttention, reasonMentions: ["RSC\\x05", "deprecates"]),
        ImageImpactCase(name: "riscv64 loses magic2", old: R.riscv64(), new: R.riscv64 { $0.magic2 = false }, key: "image.magic2",
                        impact: .breaking, reasonMentions: ["magic2"]),
        ImageImpactCase(name: "the file grows (build noise)", old: R.riscv64(), new: R.riscv64 { $0.fileSize += 0x1000 }, key: "size.file",
                        impact: .informational, noise: true),
    ]

    @Test(arguments: cases)
    func eachChangeIsClassified(_ c: ImageImpactCase) throws {
        let d = Surface.diff(old: try c.old.surface(), new: try c.new.surface())
        let change = try #require(d.first { $0.key == c.key }, "no change to \(c.key) in \(d.map(\.key))")
        #expect(change.impact == c.impact, "\(change)")
        #expect(change.noise == c.noise, "\(change)")
        for w in c.reasonMentions { #expect(change.reason.contains(w), "\(change.reason)") }
        // One change, one class: no other item outranks the one the case is about.
        #expect(d.allSatisfy { $0.impact <= c.impact }, "\(d.filter { $0.impact > c.impact })")
    }

    /// The conforming side: the same header twice changes nothing.
    @Test(arguments: cases)
    func theSameHeaderHasNoChanges(_ c: ImageImpactCase) throws {
        #expect(Surface.diff(old: try c.old.surface(), new: try c.old.surface()).isEmpty)
        #expect(Surface.diff(old: try c.new.surface(), new: try c.new.surface()).isEmpty)
    }

    /// Every item of both architectures, by key and value, as the header tables define them.
    @Test func itemsAreTheHeaderFields() throws {
        let arm = Dictionary(uniqueKeysWithValues: try R.arm64().surface().map { ($0.key, $0.value) })
        #expect(arm == [
            "format": "arm64 Image", "architecture": "arm64", "image.text_offset": "0x0", "image.image_size": "0x2240000", "image.flags": "0xA",
            "image.flags.endianness": "little-endian (bit 0 clear)", "image.flags.page_size": "4K",
            "image.flags.placement": "anywhere: a 2 MB aligned base with all image_size bytes within 48-bit physical addresses (bit 3 set)",
            "image.magic": "\"ARM\\x64\" at 0x38", "pe.mz": "present (\"MZ\" at 0: an EFI stub)", "pe.header_offset": "0x40", "size.file": "0x2146200",
        ])
        let rv = Dictionary(uniqueKeysWithValues: try R.riscv64 { $0.deprecatedMagic = false; $0.mz = false; $0.peOffset = 0 }.surface().map { ($0.key, $0.value) })
        #expect(rv == [
            "format": "riscv64 Image", "architecture": "riscv64", "image.text_offset": "0x200000", "image.image_size": "0x23A0000", "image.flags": "0x0",
            "image.flags.endianness": "little-endian (bit 0 clear)", "image.version": "0.2", "image.magic": "absent", "image.magic2": "\"RSC\\x05\" at 0x38",
            "pe.mz": "absent", "pe.header_offset": "0x0", "size.file": "0x2146200",
        ])
        // Page sizes by name (booting.rst flags bits 1–2), and riscv64's reserved bits above bit 0.
        let pages = try [0x8, 0xA, 0xC, 0xE].map { f in try R.arm64 { $0.flags = UInt64(f) }.surface().first { $0.key == "image.flags.page_size" }?.value }
        #expect(pages == ["unspecified", "4K", "16K", "64K"])
        #expect(try R.riscv64 { $0.flags = 0x6 }.surface().first { $0.key == "image.flags.reserved" }?.value == "0x6")
    }

    /// An arm64 header from before v3.17 (image_size 0): text_offset is taken as 0x80000 and
    /// there are no flags (booting.rst); moving to a modern header breaks loaders that relied on it.
    @Test func aPre317HeaderIsJudgedByWhatBootingRstAssumes() throws {
        let old = try R.arm64 { $0.imageSize = 0; $0.textOffset = 0x1234; $0.flags = 0 }.surface()
        #expect(old.first { $0.key == "image.text_offset" }?.value == "0x80000")
        #expect(old.first { $0.key == "image.header" }?.value.contains("the field holds 0x1234") == true, "\(old)")
        #expect(!old.contains { $0.key.hasPrefix("image.flags") })
        let d = Surface.diff(old: old, new: try R.arm64().surface())
        #expect(d.first { $0.key == "image.text_offset" }?.impact == .breaking)
        #expect(d.first { $0.key == "image.image_size" }?.impact == .needsAttention)
        #expect(d.first { $0.key == "image.header" }?.impact == .needsAttention)
        #expect(d.filter { $0.key.hasPrefix("image.flags.") }.allSatisfy { $0.impact == .informational }, "\(d)")
    }

    /// Kernels of different architectures are refused, each named with its architecture.
    @Test func differentArchitecturesAreRefused() throws {
        let arm = try R.arm64().surface(), rv = try R.riscv64().surface()
        #expect(throws: SurfaceMismatch(oldName: "a", oldArchitecture: "arm64", oldFormat: "arm64 Image", newName: "b", newArchitecture: "riscv64", newFormat: "riscv64 Image")) {
            try Surface.diff(old: arm, new: rv, oldName: "a", newName: "b")
        }
        let bz = try KernelImage(source: MemorySource(name: "bz", bytes: try SyntheticImage.build(["kind": "bzImage"], id: "bz")))
        guard case .bzImage(let b) = bz else { Issue.record("the synthetic bzImage is not a bzImage"); return }
        do {
            _ = try Surface.diff(old: Surface.of(bzImage: b), new: rv, oldName: "vmlinuz-6.12", newName: "Image-7.2")
            Issue.record("an x86 kernel against a riscv64 Image was compared")
        } catch {
            #expect(error.description.contains("vmlinuz-6.12 (bzImage, x86)") && error.description.contains("Image-7.2 (riscv64 Image, riscv64)"), "\(error)")
        }
        #expect(try Surface.diff(old: arm, new: arm, oldName: "a", newName: "a").isEmpty)
    }

    /// Debian's Images (Corpus/real, tools/build-corpus.sh): their headers as Corpus/README.md
    /// records them, each against itself unchanged, and arm64 6.12 against riscv64 7.2 refused.
    @Test func realImages() throws {
        let kernels = (try? RealCorpus.imageKernels(directory: Repo.corpus)) ?? nil
        guard let kernels, let arm = kernels.first(where: { $0.format == "arm64" }), let rv = kernels.first(where: { $0.format == "riscv64" }) else {
            try Test.cancel("no arm64 and riscv64 Images in Corpus/real/manifest.json: run tools/build-corpus.sh")
        }
        func surface(_ k: RealKernel) throws -> [String: String] {
            let src = try FileSource(path: k.path)
            let head = try src.read(at: 0, count: 64)
            let arch = try #require(ImageHeader.architecture(of: head))
            let items = Surface.of(image: try ImageHeader(head, architecture: arch, fileSize: src.size), header: head)
            #expect(Surface.diff(old: items, new: items).isEmpty, "\(k.name) against itself")
            return Dictionary(uniqueKeysWithValues: items.map { ($0.key, $0.value) })
        }
        let a = try surface(arm), r = try surface(rv)
        #expect(a["image.text_offset"] == "0x0" && a["image.image_size"] == "0x2240000" && a["image.flags"] == "0xA" && a["pe.header_offset"] == "0x40", "\(a)")
        #expect(r["image.text_offset"] == "0x200000" && r["image.image_size"] == "0x23A0000" && r["image.version"] == "0.2" && r["image.magic2"] == "\"RSC\\x05\" at 0x38", "\(r)")
        let items = { (d: [String: String]) in d.map { SurfaceItem($0.key, $0.value) } }
        #expect(throws: SurfaceMismatch.self) { try Surface.diff(old: items(a), new: items(r), oldName: arm.name, newName: rv.name) }
    }
}
