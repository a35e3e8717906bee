import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// Issue 12: what the rules say about another loader's boot as a probe reports it. Expected
/// values come from the spec digest (`shared/spec/x86-boot-protocol.md`), by offset and rule.
@Suite("ProbeJudge")
struct ProbeJudgeTests {
    /// A corpus case loaded by the reference loader.
    static func load(_ id: String) throws -> (LoadResult, BootSnapshot) {
        let c = try syntheticImage(id)
        let kernel = MemorySource(name: c.id, bytes: c.image)
        let initrd = c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) }
        let r = try ReferenceLoader.load(kernel: kernel, initrd: initrd, options: c.options)
        return (r, try BootSnapshot.of(r, kernel: kernel, initrd: initrd, commandLine: c.options.commandLine))
    }

    /// What a probe report holds of a load: the bytes of every region except `dropping`, which
    /// the probe did not read.
    static func probeView(_ r: LoadResult, _ s: BootSnapshot, dropping: Set<String>) -> BootSnapshot {
        var m = CapturedMemory()
        for reg in r.regions where !dropping.contains(reg.name) {
            m.pieces.append((reg.range.start, r.memory.bytes(at: reg.range.start, count: Int(reg.range.length)) ?? []))
        }
        var v = s
        v.memory = m
        return v
    }
}

// MARK: item 1: an ELF zero page built from scratch (BP-72) and BP-27

extension ProbeJudgeTests {
    /// Clears boot_flag, the jump, "HdrS" and version (0x1FE..<0x208) and cmdline_size (0x238)
    /// in a loaded ELF zero page: BP-72 allows a zero page built from scratch without them.
    static func elfZeroPageWithoutHeader() throws -> (LoadResult, BootSnapshot) {
        let (r, s) = try load("elf-direct-64")
        let b = try #require(r.bootParams)
        try r.memory.write([UInt8](repeating: 0, count: 0x208 - 0x1FE), at: b + 0x1FE)
        try r.memory.write([0, 0, 0, 0], at: b + 0x238)
        return (r, s)
    }

    /// BP-27 (issue 12, item 1): the old probe skipped the command line of a zero page without
    /// a version ≥ 2.02, and the judge then failed BP-27 ("no NUL") for bytes nobody read.
    /// With the bytes missing from the report, BP-27 is n/a and says why; nothing fails.
    @Test func elfZeroPageWithoutHeaderDoesNotFailBP27ForUnreadBytes() throws {
        let (r, s) = try Self.elfZeroPageWithoutHeader()
        #expect(try Verdicts.of(s, "BP-27").outcome == .pass, "the whole memory holds the command line")
        #expect(try Verdicts.of(s, "BP-72").outcome == .pass)
        let view = Self.probeView(r, s, dropping: ["cmdline"])
        let v = try Verdicts.of(view, "BP-27")
        #expect(v.outcome == .notApplicable, "\(v)")
        #expect(v.evidence.contains(hex(r.commandLine.address)) && v.evidence.contains("not in"), "\(v.evidence)")
        #expect(Verdicts.failing(view).isEmpty, "\(Verdicts.failing(view))")
    }

}

// MARK: item 2: a command line truncated to cmdline_size (BP-27)

extension ProbeJudgeTests {
    /// BP-27 (issue 12, item 2): "Longer strings are truncated by the kernel, so a conformant
    /// loader rejects or truncates them explicitly." A loader that truncates the requested line
    /// to cmdline_size (0x238 in the image) passes, and the evidence says so and to how much.
    @Test func commandLineTruncatedToCmdlineSizePasses() throws {
        let (r, base) = try Self.load("bz-2.15")
        var s = base
        let limit = Int(try #require(s.image.headerBytes.u32(0x238)))   // cmdline_size, §1.2
        let asked = (0..<(limit + 300)).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        try r.memory.write(Array(asked.prefix(limit)) + [0], at: r.commandLine.address)
        s.inputs.commandLine = asked
        let v = try Verdicts.of(s, "BP-27")
        #expect(v.outcome == .pass, "\(v)")
        #expect(v.evidence.contains("truncated") && v.evidence.contains("\(limit) bytes") && v.evidence.contains("\(asked.count)"), "\(v.evidence)")
        // Cut anywhere else, it is not the requested line.
        try r.memory.write([0], at: r.commandLine.address + 100)
        #expect(try Verdicts.of(s, "BP-27").outcome == .fail)
        // A line within the limit must arrive whole.
        s.inputs.commandLine = Array(asked.prefix(101))
        #expect(try Verdicts.of(s, "BP-27").outcome == .fail)
    }
}

// MARK: item 3: an unsorted e820 warns (BP-35)

extension ProbeJudgeTests {
    /// BP-35 (issue 12, item 3): the kernel sorts and merges the table itself (§2.3), so an
    /// unsorted, non-overlapping table is legal: the verdict warns, it does not fail.
    @Test func unsortedE820Warns() throws {
        let run = SyntheticCorpus.run(try syntheticImage("fault-e820-unsorted"))
        let v = try #require(run.verdicts.first { $0.rule == "BP-35" })
        #expect(v.outcome.rawValue == "warn", "\(v)")
        #expect(v.evidence.contains("not sorted"), "\(v.evidence)")
    }

    /// Overlapping entries still fail BP-35 (count, format, monotonic addresses).
    @Test func overlappingE820Fails() throws {
        let (r, s) = try Self.load("bz-2.15")
        let b = try #require(r.bootParams)
        // Entry 1 (reserved, after RAM [0, 0x9FC00)) moved to start inside entry 0.
        var e = [UInt8](repeating: 0, count: 16)
        e.put64(0x9_F000, at: 0); e.put64(0x1000, at: 8)
        try r.memory.write(e, at: b + 0x2D0 + 20)
        let v = try Verdicts.of(s, "BP-35")
        #expect(v.outcome == .fail, "\(v)")
    }
}

// MARK: item 4: no cascades

extension ProbeJudgeTests {
    /// BP-67 (issue 12, item 4): with a bad start_info magic Linux BUG()s, and the probe reads
    /// no further (no module list, memory map or command line). Only BP-67 fails; the rules
    /// that would read those tables are n/a and say why.
    @Test func badPVHMagicFailsOnlyBP67() throws {
        let (r, s) = try Self.load("pvh-desc8")
        let si = try #require(r.startInfo)
        try r.memory.write([0x79, 0xC5, 0x6E, 0x33], at: si)   // 0x336EC579
        let full = Verdicts.failing(s)
        #expect(Set(full.keys) == ["BP-67"], "\(full)")
        let view = Self.probeView(r, s, dropping: ["pvh.modlist", "pvh.memmap", "cmdline", "initrd"])
        let f = Verdicts.failing(view)
        #expect(Set(f.keys) == ["BP-67"], "\(f)")
        for id: RuleID in ["BP-64", "BP-69"] {
            let v = try Verdicts.of(view, id)
            #expect(v.outcome == .notApplicable && v.evidence.contains("0x336EC579"), "\(v)")
        }
    }

    /// BP-57 (issue 12, item 4): a boot_params pointer of 0 fails the pointer rule; the rules
    /// that read the zero page are n/a, naming the pointer, instead of judging the bytes at 0.
    @Test func zeroBootParamsPointerFailsOnlyThePointerRule() throws {
        var (_, s) = try Self.load("bz-2.15")
        s.entry.rsi = 0
        #expect(Set(Verdicts.failing(s).keys) == ["BP-57"], "\(Verdicts.failing(s))")
        let v = try Verdicts.of(s, "BP-13")
        #expect(v.outcome == .notApplicable && v.evidence.contains("RSI = 0"), "\(v)")

        var (_, e) = try Self.load("elf-direct-64")
        e.entry.rsi = 0
        #expect(Set(Verdicts.failing(e).keys) == ["BP-57", "BP-70"], "\(Verdicts.failing(e))")
    }
}

// MARK: item 5: fields by protocol version; header bytes past the declared end

extension ProbeJudgeTests {
    /// A 2.06 image (header ends at 0x23C, §3) whose bytes [0x23C, 0x290) are code, and a
    /// loader that copied them into the zero page along with the header.
    static func oldHeaderCopiedTo0x290() throws -> (LoadResult, BootSnapshot) {
        let (r, base) = try load("bz-2.06")
        var s = base
        let b = try #require(r.bootParams)
        #expect(s.image.headerBytes[0x201] == 0x3A, "2.06 declares its header end at 0x202 + 0x3A = 0x23C")
        let code = (0x23C..<0x290).map { UInt8(truncatingIfNeeded: 0x90 &+ $0) }
        s.image.headerBytes.replaceSubrange(0x23C..<0x290, with: code)
        try r.memory.write(code, at: b + 0x23C)
        return (r, s)
    }

    /// BP-04, BP-11, BP-18, BP-41 (issue 12, item 5): hardware_subarch is a 2.07 field and
    /// setup_data a 2.09 one; bytes between the header's declared end and 0x290 that equal the
    /// image's are no violation (BP-04's check), and BP-11 agrees.
    @Test func fieldsAreJudgedOnlyForTheVersionsThatDefineThem() throws {
        let (r, s) = try Self.oldHeaderCopiedTo0x290()
        for id: RuleID in ["BP-04", "BP-11"] { let v = try Verdicts.of(s, id); #expect(v.outcome == .pass, "\(v)") }
        for id: RuleID in ["BP-18", "BP-41"] { let v = try Verdicts.of(s, id); #expect(v.outcome == .notApplicable, "\(v)") }
        #expect(Verdicts.failing(s).isEmpty, "\(Verdicts.failing(s))")
        // One byte past the header end that is not the image's: BP-04 and BP-11 both fail.
        try r.memory.write([0x5A], at: try #require(r.bootParams) + 0x240)
        #expect(try Verdicts.of(s, "BP-04").outcome == .fail)
        #expect(try Verdicts.of(s, "BP-11").outcome == .fail)
    }
}

// MARK: item 6: a kernel copied wrong garbles the probe's own strings (BP-19)

extension ProbeJudgeTests {
    /// BP-19 (issue 12, item 6): a variant name the index lacks, with a probe image whose
    /// checksum is no variant's, is a kernel the loader did not copy byte for byte: the judge
    /// says BP-19 fails, and judges as the one variant the garbled name can be, if there is one.
    @Test func garbledVariantNamesBP19() throws {
        let (dir, index) = try ProbeImages.write(["bz-2.10", "bz-2.15", "elf-direct-64"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard case .imageCorrupted(let v, let guess) = index.identify(try ProbeImages.report(variant: "bz-2.1", segmentHash: 0x1234)) else {
            Issue.record("a garbled name with a foreign image checksum is not named a BP-19 failure"); return
        }
        #expect(v.rule == "BP-19" && v.outcome == .fail && v.evidence.contains("byte for byte"), "\(v)")
        #expect(guess == nil, "'bz-2.1' can be bz-2.10 or bz-2.15")
        guard case .imageCorrupted(_, let one) = index.identify(try ProbeImages.report(variant: "elf-dir", segmentHash: 0x1234)) else { Issue.record("not BP-19"); return }
        #expect(one?.id == "elf-direct-64")
        // A name the index lacks on an intact image is that image's variant.
        let c = try #require(Probe.variants.first { $0.id == "bz-2.15" })
        let bz = try BzImage(source: MemorySource(name: c.id, bytes: c.image))
        // The probe's file image (its "segment" line): everything before its scratch.
        let length = Int(try Probe.require().scratch.lowerBound)
        let intact = ProbeHash64.of(c.image[Int(bz.protectedModeOffset)..<Int(bz.protectedModeOffset) + length])
        guard case .sameImage(let same) = index.identify(try ProbeImages.report(variant: "renamed", segmentHash: intact, segmentLength: length)) else { Issue.record("an intact image is not recognised"); return }
        #expect(same.id == "bz-2.15")
        if case .named(let n) = index.identify(try ProbeImages.report(variant: "bz-2.10", segmentHash: 0)) { #expect(n.id == "bz-2.10") } else { Issue.record("an indexed name is not taken as is") }
    }

}

// MARK: item 8: where conform judge finds index.json

extension ProbeJudgeTests {
    static func writeIndex(_ path: String, variants: [String]) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let d = try JSONSerialization.data(withJSONObject: ["format": "probe-index/1", "variants": variants.map { ["id": $0, "image": "\($0).bzImage", "cmdline": ""] }])
        try d.write(to: URL(fileURLWithPath: path))
    }

    /// Issue 12, item 8: `--probe-images DIR` finds index.json anywhere under DIR, preferring
    /// one that lists the report's variant.
    @Test func indexFoundAnywhereUnderTheDirectory() throws {
        let dir = try Scratch.directory("probe-index")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeIndex(dir + "/a/index.json", variants: ["other"])
        try Self.writeIndex(dir + "/b/c/images/index.json", variants: ["bz-2.15"])
        let i = try ProbeIndex.locate(probeImages: dir, report: nil, variant: "bz-2.15", workingDirectory: "/nonexistent")
        #expect(i.file == dir + "/b/c/images/index.json")
        #expect(i.imagePath(try #require(i.variant("bz-2.15"))) == dir + "/b/c/images/bz-2.15.bzImage")
        #expect(throws: ProbeIndexError.self) { try ProbeIndex.locate(probeImages: dir + "/a/none", report: nil, variant: "x", workingDirectory: "/") }
    }

    /// Without the option: next to the report, or in a parent directory (also its images/ and
    /// Corpus/probe/images/), up to four levels up; then ./Corpus/probe/images.
    @Test func indexFoundNextToTheReport() throws {
        let dir = try Scratch.directory("probe-index")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeIndex(dir + "/Corpus/probe/images/index.json", variants: ["bz-2.15"])
        try FileManager.default.createDirectory(atPath: dir + "/runs/qemu/2026", withIntermediateDirectories: true)
        let i = try ProbeIndex.locate(probeImages: nil, report: dir + "/runs/qemu/2026/serial.txt", variant: "bz-2.15", workingDirectory: "/")
        #expect(i.file == dir + "/Corpus/probe/images/index.json")
        let rel = try ProbeIndex.locate(probeImages: nil, report: "runs/qemu/serial.txt", variant: "bz-2.15", workingDirectory: dir)
        #expect(rel.file == dir + "/Corpus/probe/images/index.json")
        // Six levels below: past the bound, and not in the working directory either.
        #expect(throws: ProbeIndexError.self) { try ProbeIndex.locate(probeImages: nil, report: dir + "/1/2/3/4/5/6/serial.txt", variant: "bz-2.15", workingDirectory: "/nonexistent") }
    }
}
