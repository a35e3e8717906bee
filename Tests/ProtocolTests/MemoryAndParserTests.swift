import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

@Suite("GuestMemory")
struct GuestMemoryTests {
    @Test("a 64 GiB guest costs what is written, not what is reserved")
    func sparse() throws {
        let layout = try RAMLayout(size: 64 << 30)
        let m = try GuestMemory(ranges: layout.slots)
        let before = m.residentBytes()
        try m.write([UInt8](repeating: 0xAB, count: 1 << 20), at: 0x1000000)
        try m.write([UInt8](repeating: 0xCD, count: 1 << 20), at: (40 << 30))
        let after = m.residentBytes()
        #expect(after - before <= (2 << 20) + (64 << 10), "resident grew by \(after - before) bytes for 2 MiB written")
        #expect(m.bytes(at: 40 << 30, count: 2) == [0xCD, 0xCD])
    }

    @Test("reads and writes outside RAM are errors, not traps")
    func bounds() throws {
        let m = try GuestMemory(ranges: try RAMLayout(size: 64 << 20).slots)
        #expect(throws: GuestMemoryError.outsideRAM(address: (64 << 20) - 1, length: 2, what: "write")) { try m.write([1, 2], at: (64 << 20) - 1) }
        #expect(throws: GuestMemoryError.self) { try m.write([1], at: UInt64.max) }
        #expect(m.bytes(at: UInt64.max - 1, count: 8) == nil)
        #expect(m.sha256(at: 1 << 40, length: 16) == nil)
    }

    /// HarnessKVM's poison option: every byte outside the kept ranges holds the pattern's byte
    /// for its address (address & 7), kept bytes are untouched, in every slot, whatever the
    /// alignment of the ranges' ends.
    @Test("poison fills what the loader did not write, and nothing else")
    func poison() throws {
        let m = try GuestMemory(ranges: [try AddressRange(start: 0, end: 0x1_0000), try AddressRange(start: 0x10_0000, end: 0x11_0000)])
        try m.write([1, 2, 3, 4, 5], at: 0x1003)
        let pattern: UInt64 = 0x0807_0605_0403_0201   // byte k of every word is k + 1
        m.poison(pattern: pattern, keep: [try AddressRange(start: 0x1003, end: 0x1008), try AddressRange(start: 0x2000, end: 0x2001)])
        #expect(m.bytes(at: 0xFFE, count: 12) == [7, 8, 1, 2, 3, 1, 2, 3, 4, 5, 1, 2])
        #expect(m.bytes(at: 0x1003, count: 5) == [1, 2, 3, 4, 5], "kept bytes changed")
        #expect(m.bytes(at: 0x1008, count: 2) == [1, 2], "the byte after a kept range holds the pattern for its address")
        #expect(m.bytes(at: 0x2000, count: 2) == [0, 2], "a kept byte stays 0, its neighbour is poisoned")
        #expect(m.bytes(at: 0, count: 8) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(m.bytes(at: 0xFFF8, count: 8) == [1, 2, 3, 4, 5, 6, 7, 8], "end of the low slot")
        #expect(m.bytes(at: 0x10_0000, count: 4) == [1, 2, 3, 4], "the second slot")
        #expect(m.bytes(at: 0x10_FFFD, count: 3) == [6, 7, 8], "end of the second slot")
    }

    /// Whole 2 MiB chunks are poisoned by a private mapping of one pattern chunk: the guest
    /// reads the pattern there, a write stays in its own chunk, and kept bytes that share a
    /// chunk with poison are untouched.
    @Test("poisoned 2 MiB chunks read the pattern and stay private")
    func poisonChunks() throws {
        let m = try GuestMemory(ranges: [try AddressRange(start: 0, end: 16 << 20)])
        try m.write([9, 9, 9], at: 0x30_0001)
        let pattern: UInt64 = 0x0807_0605_0403_0201
        m.poison(pattern: pattern, keep: [try AddressRange(start: 0x30_0001, end: 0x30_0004)])
        for a: UInt64 in [0, 0x1F_FFF8, 0x20_0000, 0x40_0000, 0xFF_FFF8] {
            #expect(m.bytes(at: a, count: 8) == [1, 2, 3, 4, 5, 6, 7, 8], "\(hex(a))")
        }
        #expect(m.bytes(at: 0x30_0000, count: 6) == [1, 9, 9, 9, 5, 6], "a kept range inside a chunk")
        try m.write([0xEE], at: 0x40_0000)
        #expect(m.bytes(at: 0x40_0000, count: 2) == [0xEE, 2])
        #expect(m.bytes(at: 0x60_0000, count: 2) == [1, 2], "a write in one chunk shows in another")
    }

    /// isZero compares a page at a time: a nonzero byte is found wherever it sits in the range
    /// (first byte, first of a guest page, first of the second 4 KiB compared, last byte), and
    /// a byte just outside changes nothing.
    @Test("isZero finds one nonzero byte anywhere in a multi-page range, and none outside it")
    func isZero() throws {
        let m = try GuestMemory(ranges: [AddressRange(start: 0, end: 16 << 20)])
        let start: UInt64 = 0x10_0003, length: UInt64 = 3 * 4096 + 10   // unaligned, four pages touched
        #expect(m.isZero(at: start, length: length) == true)
        #expect(m.isZero(at: start, length: 0) == true)
        try m.write([1], at: start - 1); try m.write([1], at: start + length)
        #expect(m.isZero(at: start, length: length) == true, "bytes just outside the range are not in it")
        for at in [start, start + 0xFFD, start + 4096, start + length - 1] {
            try m.write([0x80], at: at)
            #expect(m.isZero(at: start, length: length) == false, "nonzero byte at \(hex(at)) missed")
            try m.write([0], at: at)
        }
        #expect(m.isZero(at: (16 << 20) - 1, length: 2) == nil, "a range leaving RAM is not judged")
    }

    /// SHA-256 digests and hash64 values print as lowercase hex, two digits a byte.
    @Test("digests and hash64 values print as fixed-width lowercase hex")
    func hexText() {
        #expect(sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var h = RegionHasher(); h.update(Array("abc".utf8))
        #expect(h.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hash64Text(0x0A) == "000000000000000a")
        #expect(hash64Text(0xFEDC_BA98_7654_3210) == "fedcba9876543210")
    }

    @Test("the PCI hole is not RAM; high RAM starts at 4 GiB")
    func layout() throws {
        let l = try RAMLayout(size: 8 << 30)
        #expect(l.slots == [AddressRange(constantStart: 0, end: 0xC000_0000), AddressRange(constantStart: 1 << 32, end: (1 << 32) + (5 << 30))])
        #expect(l.e820.filter { $0.type == .ram }.count == 3)
        #expect(throws: GuestMemoryError.self) { _ = try RAMLayout(size: 1 << 20) }
        #expect(throws: GuestMemoryError.self) { _ = try RAMLayout(size: (64 << 20) + 1) }
    }
}

@Suite("Parsers")
struct ParsersTests {
    @Test("a bzImage newer than 2.15 loads with a visible warning")
    func newerVersionWarns() throws {
        let c = try syntheticImage("bz-2.16-newer")
        let bz = try BzImage(source: MemorySource(name: c.id, bytes: c.image))
        #expect(bz.header.version == ProtocolVersion(2, 16))
        #expect(bz.warnings.contains { $0.rule == "BP-04" && $0.message.contains("newer than 2.15") })
    }

    /// Numbers are trimmed of spaces, tabs and other Unicode spaces (Zs) only: a value with
    /// neither at its ends skips Foundation's trim, and a CR or LF still makes it no number.
    @Test("numbers are trimmed of spaces and tabs, nothing else")
    func numbers() {
        #expect(parseNumber("0x7000") == 0x7000 && parseNumber("4096") == 4096)
        #expect(parseNumber(" 0x1F\t") == 0x1F && parseNumber("\u{00A0}12\u{3000}") == 12)
        #expect(parseNumber("12\r") == nil && parseNumber("\n12") == nil && parseNumber("") == nil && parseNumber("0x") == nil)
    }

    @Test("a truncated bzImage names the field, offset, expected and found values")
    func truncation() throws {
        let c = try syntheticImage("bz-2.15")
        let cut = Array(c.image.prefix(0x800))
        #expect(throws: ImageError(rule: "BP-01", field: "setup_sects", offset: 0x1F1, expected: "file longer than (setup_sects'+1)*512 = 0xA00", found: "file size 0x800")) {
            _ = try BzImage(source: MemorySource(name: "cut", bytes: cut))
        }
    }

    @Test("every prefix of an image is rejected or loaded, never a trap", arguments: ["bz-2.15", "pvh-desc8"])
    func everyPrefix(_ id: String) throws {
        let c = try syntheticImage(id)
        var stride = 1
        var n = 0
        while n < c.image.count {
            _ = try? KernelImage(source: MemorySource(name: "prefix", bytes: Array(c.image.prefix(n))))
            n += stride; if n > 0x1100 { stride = 0x400 }
        }
    }

    @Test("ELF notes are walked with 4-byte alignment and both PVH desc sizes")
    func notes() throws {
        for id in ["pvh-desc4", "pvh-desc8"] {
            let c = try syntheticImage(id)
            let e = try ElfImage(source: MemorySource(name: id, bytes: c.image))
            #expect(e.pvhEntry == 0x100_0040, "\(id)")
            #expect(e.notes.map(\.name) == ["Linux", "Xen"])
        }
    }

    @Test("command lines are validated, never truncated")
    func commandLine() {
        #expect(throws: CommandLineError.tooLong(length: 256, limit: 255, source: "cmdline_size", offset: nil)) { _ = try KernelCommandLine(String(repeating: "a", count: 256), limit: 255) }
        #expect(throws: CommandLineError.containsNUL(position: 3)) { _ = try KernelCommandLine("abc\u{0}d", limit: 255) }
        #expect(throws: CommandLineError.notASCIIPrintable(position: 1, byte: 0x0A)) { _ = try KernelCommandLine("a\nb", limit: 255) }
        #expect((try? KernelCommandLine("console=ttyS0", limit: 255))?.terminated.last == 0)
    }

    @Test("a directory, a missing file and an empty file give errors")
    func badFiles() {
        #expect(throws: SourceError.notRegularFile(path: "/tmp")) { _ = try FileSource(path: "/tmp") }
        #expect(throws: SourceError.self) { _ = try FileSource(path: "/nonexistent/kernel") }
        #expect(throws: ImageError.self) { _ = try KernelImage(source: MemorySource(name: "empty", bytes: [])) }
    }
}

@Suite("LoaderLimits")
struct LoaderLimitsTests {
    /// The setup_data chain has room before the zero page; a longer seed is an error, not an overlap.
    @Test("an oversized RNG seed is refused with BP-41")
    func seedSize() throws {
        let c = try syntheticImage("bz-2.15")
        var o = c.options
        o.rngSeed = [UInt8](repeating: 7, count: ReferenceLoader.maximumSeedSize + 1)
        #expect { _ = try ReferenceLoader.load(kernel: MemorySource(name: c.id, bytes: c.image), options: o) } throws: { ($0 as? LoadError)?.rule == "BP-41" }
        o.rngSeed = [UInt8](repeating: 7, count: ReferenceLoader.maximumSeedSize)
        #expect(throws: Never.self) { _ = try ReferenceLoader.load(kernel: MemorySource(name: c.id, bytes: c.image), options: o) }
    }

    /// A kernel that does not fit in guest RAM names the placement rule (BP-22: the window must be
    /// usable RAM), not BP-19 (the copy's fidelity), as it once did (issue 14).
    @Test func kernelPastTheEndOfRAMNamesThePlacementRule() throws {
        let c = try syntheticImage("bz-2.15")
        var o = c.options
        o.memorySize = 64 << 20
        #expect(throws: Never.self) { _ = try ReferenceLoader.load(kernel: MemorySource(name: c.id, bytes: c.image), options: o) }
        o.memorySize = 16 << 20   // RAM ends at 16 MiB, where pref_address puts the kernel
        #expect { _ = try ReferenceLoader.load(kernel: MemorySource(name: c.id, bytes: c.image), options: o) } throws: { e in
            guard case .placement(let p)? = e as? LoadError else { return false }
            return p.rule == "BP-22" && p.field == "protected-mode image" && p.offset == nil && p.found.hasSuffix("which does not fit") && p.expected.contains("inside guest RAM")
        }
    }
}

extension LoaderLimitsTests {
    /// A non-relocatable kernel runs at pref_address; with pref_address below 1 MiB its window
    /// W would cover the GDT, zero page and page tables the loader puts there. The loader
    /// refuses it by BP-22 instead of overlapping them (found by the placement property with
    /// pref_address 0, init_size 0x1000).
    @Test func windowInTheFirstMiBIsRefused() throws {
        var img = try syntheticImage("bz-2.15").image
        img.replaceSubrange(0x258..<0x260, with: [UInt8](repeating: 0, count: 8))   // pref_address 0
        img[0x234] = 0                                                              // not relocatable
        img.replaceSubrange(0x260..<0x264, with: [0x00, 0x10, 0x00, 0x00])          // init_size 0x1000
        #expect { _ = try ReferenceLoader.load(kernel: MemorySource(name: "low", bytes: img), options: LoadOptions()) } throws: { e in
            guard case .placement(let p)? = e as? LoadError else { return false }
            return p.rule == "BP-22" && p.field == "pref_address" && p.offset == 0x258 && p.found.hasSuffix("W = [0x0, 0x1000)") && p.expected.contains("at or above 1 MiB")
        }
    }
}

extension LoaderLimitsTests {
    /// With high placement the zero page, setup_data and command line sit at 4 GiB and the initrd
    /// at 4 GiB + 1 MiB; a relocatable kernel whose pref_address is 4 GiB would run there. The
    /// loader refuses it by BP-22 instead of overlapping them (found by the placement property:
    /// pref_address 0x100000000, init_size 0x1000, --high).
    @Test func windowOverTheHighBootDataIsRefused() throws {
        var img = try syntheticImage("bz-2.15").image
        img.replaceSubrange(0x258..<0x260, with: [0, 0, 0, 0, 1, 0, 0, 0])        // pref_address 4 GiB
        img.replaceSubrange(0x260..<0x264, with: [0x00, 0x10, 0x00, 0x00])      // init_size 0x1000
        img[0x236] |= 0x03                                                      // XLF_KERNEL_64, XLF_CAN_BE_LOADED_ABOVE_4G
        var o = LoadOptions(); o.memorySize = 6 << 30; o.entry = .long64; o.highPlacement = true
        #expect { _ = try ReferenceLoader.load(kernel: MemorySource(name: "high", bytes: img), options: o) } throws: { e in
            guard case .placement(let p)? = e as? LoadError else { return false }
            return p.rule == "BP-22" && "\(p)".contains("[0x100000000, 0x100001000)")
        }
        o.highPlacement = false
        #expect(throws: Never.self) { _ = try ReferenceLoader.load(kernel: MemorySource(name: "high", bytes: img), options: o) }
    }
}

@Suite("Mutation")
struct MutationTests {
    /// SplitMix64: a fixed sequence, so a failure reproduces.
    struct Rng { var s: UInt64; mutating func next() -> UInt64 { s &+= 0x9E37_79B9_7F4A_7C15; var z = s; z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB; return z ^ (z >> 31) } }

    /// Corrupts 1–4 bytes in the parts a loader parses (boot sector and setup header, or ELF
    /// header, program headers and notes), then loads and judges. A trap here kills the run.
    @Test("corrupted headers end in an error or a load, never a trap", arguments: ["bz-2.15", "bz-2.02", "pvh-desc8"])
    func corruptHeaders(_ id: String) throws {
        let c = try syntheticImage(id)
        let region = c.kind == "elf" ? 0..<0x480 : 0x1E0..<0x290
        var rng = Rng(s: UInt64(id.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }))
        var loaded = 0, rejected = 0
        for _ in 0..<400 {
            var img = c.image
            for _ in 0...(rng.next() % 4) {
                let at = region.lowerBound + Int(rng.next() % UInt64(region.count))
                img[at] = rng.next() % 3 == 0 ? 0xFF : UInt8(truncatingIfNeeded: rng.next())
            }
            var o = c.options
            o.entry = rng.next() % 2 == 0 ? nil : (c.kind == "elf" ? .pvh : .protected32)
            let src = MemorySource(name: "mutant", bytes: img)
            do {
                let r = try ReferenceLoader.load(kernel: src, initrd: MemorySource(name: "i", bytes: [1, 2, 3]), options: o)
                _ = judge(try BootSnapshot.of(r, kernel: src, initrd: MemorySource(name: "i", bytes: [1, 2, 3]), commandLine: o.commandLine))
                loaded += 1
            } catch {
                #expect(!"\(error)".isEmpty); rejected += 1
            }
        }
        #expect(loaded + rejected == 400)
        #expect(rejected > 0, "no mutant was rejected: the mutation reaches nothing")
    }
}

extension LoaderLimitsTests {
    /// A command line the loader refuses names BP-27 with the field that decides it: the limit
    /// field and its offset (cmdline_size at 0x238 from protocol 2.06, none before), or the byte
    /// of the line at fault.
    @Test func commandLineRefusalsAreTyped() throws {
        let img = try syntheticImage("bz-2.15").image
        let limit = try #require(img.u32(0x238))
        func refusal(_ image: [UInt8], _ line: String) -> CommandLineError? {
            var o = LoadOptions(); o.commandLine = line
            do { _ = try ReferenceLoader.load(kernel: MemorySource(name: "c", bytes: image), options: o); return nil }
            catch { if case .commandLine(let c) = error { return c }; return nil }
        }
        let long = try #require(refusal(img, String(repeating: "a", count: Int(limit) + 1)))
        #expect(long.rule == "BP-27" && long.field == "cmdline_size" && long.offset == 0x238 && long.position == nil)
        #expect(long.expected == "at most \(limit) bytes excluding the NUL" && long.found == "\(limit + 1) bytes")
        #expect(LoadError.commandLine(long).field.map { [$0.name, $0.offset.map { hex($0) } ?? "-"] } == ["cmdline_size", "0x238"])
        #expect("\(long)" == "BP-27: cmdline_size at offset 0x238: expected at most \(limit) bytes excluding the NUL, found \(limit + 1) bytes")
        // Protocol 2.02 has no cmdline_size: the limit is 255 and no header field is named.
        let old = try #require(refusal(try syntheticImage("bz-2.02").image, String(repeating: "b", count: 256)))
        #expect(old.field == "command line" && old.offset == nil && old.found == "256 bytes" && old.expected == "at most 255 bytes excluding the NUL (255 before protocol 2.06)")
        let ctl = try #require(refusal(img, "console=ttyS0\u{1B}x"))
        #expect(ctl.field == "command line" && ctl.position == 13 && ctl.found == "0x1B at byte 13" && ctl.offset == nil)
        #expect(refusal(img, "console=ttyS0\tquiet") == nil)
    }
}
