import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import PropertyBased
import Synchronization
import Testing

/// Snapshot files (`boot-snapshot/1`) read back: round trips, and errors that name the field.
@Suite("SnapshotFiles")
struct SnapshotFileTests {
    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
    static func bytes(_ o: [String: Any]) -> [UInt8] { [UInt8](SnapshotJSON.data(o)) }
    static func decodeError(_ o: [String: Any]) -> SnapshotDecodeError? {
        do { _ = try SnapshotJSON.decode(bytes(o)); return nil } catch { return error }
    }

    /// Every snapshot the synthetic corpus makes (valid images and loader faults) decodes, and
    /// encodes back to the same bytes; the verdicts come back as the file recorded them.
    @Test("every corpus snapshot decodes and encodes back byte for byte", arguments: Synthetic.cases.filter { Synthetic.runs[$0.id]?.snapshot != nil })
    func corpusRoundTrip(_ c: CorpusCase) throws {
        let run = try #require(Synthetic.runs[c.id])
        let snap = try #require(run.snapshot)
        let text = SnapshotJSON.string(snap, verdicts: run.verdicts)
        let decoded: DecodedSnapshot
        do { decoded = try SnapshotJSON.decode(Array(text.utf8)) } catch { Issue.record("\(c.id): \(error)"); return }
        #expect(SnapshotJSON.string(decoded.snapshot, verdicts: run.verdicts) == text)
        #expect(decoded.verdicts == Dictionary(uniqueKeysWithValues: run.verdicts.map { ($0.rule.rawValue, $0.outcome) }))
        #expect(decoded.snapshot.entry == snap.entry)
        #expect(decoded.snapshot.inputs == snap.inputs)
        // The file keeps a bzImage's header from 0x1F0 (the boot sector before it is not
        // recorded); an ELF's 64-byte header, program headers and notes whole (BP-73…BP-77).
        var image = snap.image
        if image.format == .bzImage { image.headerBytes = image.headerBytes.enumerated().map { $0.offset < 0x1F0 ? 0 : $0.element } }
        #expect(decoded.snapshot.image == image, "image record")
    }

    /// The golden files in the repository are valid snapshot files.
    @Test("the golden snapshot files decode")
    func goldenFilesDecode() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Repo.golden).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count >= 100)
        for f in files {
            let data = try #require(FileManager.default.contents(atPath: Repo.golden + "/" + f))
            do {
                let d = try SnapshotJSON.decode([UInt8](data))
                #expect(!d.verdicts.isEmpty, "\(f) has no verdicts")
            } catch { Issue.record("\(f): \(error)") }
        }
    }

    /// A field that disagrees with the bytes it is derived from, a malformed value or a missing
    /// one: each is refused with its path, the expected and the found value.
    @Test("a bad field is named with its path, expected and found value")
    func badFieldsAreNamed() throws {
        let run = try #require(Synthetic.runs["bz-2.15"])
        let good = try Self.json(SnapshotJSON.string(try #require(run.snapshot), verdicts: run.verdicts))
        #expect(Self.decodeError(good) == nil)

        var o = good
        var zp = try #require(o["zeroPage"] as? [String: Any]), header = try #require(zp["header"] as? [String: String])
        header["type_of_loader"] = "0x7"; zp["header"] = header; o["zeroPage"] = zp
        var e = Self.decodeError(o)
        #expect(e?.path == "zeroPage.header.type_of_loader" && e?.found == "0x7", "\(String(describing: e))")

        o = good; o["format"] = "boot-snapshot/2"
        #expect(Self.decodeError(o)?.path == "format")

        o = good; zp = try #require(o["zeroPage"] as? [String: Any])
        var rows = try #require(zp["rows"] as? [String: String]); rows["0x210"] = "abc"; zp["rows"] = rows; o["zeroPage"] = zp
        e = Self.decodeError(o)
        #expect(e?.path == "zeroPage.rows.0x210" && e?.expected == "16 bytes as 32 hex digits", "\(String(describing: e))")

        o = good; rows["0x210"] = nil; rows["0x1001"] = String(repeating: "00", count: 16); zp["rows"] = rows; o["zeroPage"] = zp
        #expect(Self.decodeError(o)?.path == "zeroPage.rows.0x1001")

        o = good; var entry = try #require(o["entry"] as? [String: Any]), regs = try #require(entry["registers"] as? [String: String])
        regs["rsi"] = nil; entry["registers"] = regs; o["entry"] = entry
        e = Self.decodeError(o)
        #expect(e?.path == "entry.registers.rsi" && e?.found == "(absent)")

        o = good; entry = try #require(o["entry"] as? [String: Any]); regs = try #require(entry["registers"] as? [String: String])
        regs["rip"] = "0x1_0000"; entry["registers"] = regs; o["entry"] = entry
        #expect(Self.decodeError(o)?.path == "entry.registers.rip")

        o = good; o["e820"] = []   // the zero-page rows still hold the map
        e = Self.decodeError(o)
        #expect(e?.path == "e820" && e?.found == "[]", "\(String(describing: e))")

        #expect(throws: SnapshotDecodeError.self) { try SnapshotJSON.decode(Array("{\"format\": ".utf8)) }
        #expect(throws: SnapshotDecodeError.self) { try SnapshotJSON.decode(Array("[1, 2]".utf8)) }
    }

    /// PVH snapshots carry start_info, the memmap table and the module list.
    @Test("a PVH snapshot's tables come back")
    func pvhTables() throws {
        let run = try #require(Synthetic.runs["pvh-desc8"])
        let snap = try #require(run.snapshot)
        let d = try SnapshotJSON.decode(Array(SnapshotJSON.string(snap).utf8))
        let a = RuleContext(snap), b = RuleContext(d.snapshot)
        #expect(b.si == a.si && b.si != nil)
        #expect(b.e820 == a.e820 && !b.e820.isEmpty)
        #expect(b.commandLineText == a.commandLineText)
        #expect(b.initrd == a.initrd)
    }

    /// Random zero pages (any count, pointers anywhere) give snapshots that decode and encode
    /// back byte for byte, and the decoder reads the same e820, command line and initrd.
    @Test func randomZeroPagesRoundTrip() throws {
        let run = try #require(Synthetic.runs["bz-2.15"])
        let base = try #require(run.snapshot)
        let rsi = base.entry.rsi
        var state: UInt64 = 0xD1B5_4A32_D192_ED03
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        for round in 0..<150 {
            let density = next() % 4
            var zp = (0..<4096).map { _ in next() % 4 < density ? UInt8(truncatingIfNeeded: next()) : 0 }
            if round % 3 == 0 { zp.put32(UInt32(truncatingIfNeeded: rsi) + 0x800, at: 0x228); zp.put32(0, at: 0x0C8) }  // a command line inside the page
            var snap = base
            snap.memory = CapturedMemory(pieces: [(rsi, zp)])
            let text = SnapshotJSON.string(snap)
            do {
                let d = try SnapshotJSON.decode(Array(text.utf8))
                #expect(SnapshotJSON.string(d.snapshot) == text, "round \(round)")
                let a = RuleContext(snap), b = RuleContext(d.snapshot)
                #expect(a.e820 == b.e820 && a.commandLineText == b.commandLineText && a.initrd == b.initrd, "round \(round)")
            } catch { Issue.record("round \(round): \(error)") }
        }
    }

    /// Any change to a file's bytes: the decoder never traps; when it accepts the file, what it
    /// read encodes to the document it was given.
    @Test func mutatedFilesDecodeOrAreRefused() async throws {
        let run = try #require(Synthetic.runs["pvh-desc8"])
        let text = Array(SnapshotJSON.string(try #require(run.snapshot)).utf8)
        let accepted = Mutex(0), refused = Mutex(0)
        @Sendable func check(_ b: [UInt8]) {
            guard let d = try? SnapshotJSON.decode(b) else { refused.withLock { $0 += 1 }; return }
            accepted.withLock { $0 += 1 }
            let given = try? JSONSerialization.jsonObject(with: Data(b)), again = try? JSONSerialization.jsonObject(with: SnapshotJSON.data(SnapshotJSON.object(d.snapshot)))
            #expect(given != nil && again != nil && JSONDifference.diff(expected: given!, found: again!).isEmpty)
        }
        // Any bytes anywhere: nearly always refused.
        await propertyCheck(count: 300, input: Gen.int(in: 0...(text.count - 1)).array(of: 1...4), Gen.uint8().array(of: 1...4)) { at, with in
            var b = text
            for (i, p) in at.enumerated() { b[p] = with[i % with.count] }
            check(b)
        }
        // Digits changed to digits: mostly still a document, so the accepting half is exercised.
        let digits = text.indices.filter { (0x30...0x39).contains(text[$0]) }
        await propertyCheck(count: 300, input: Gen.int(in: 0...(digits.count - 1)).array(of: 1...4), Gen.uint8(in: 0x30...0x39).array(of: 1...4)) { at, with in
            var b = text
            for (i, p) in at.enumerated() { b[digits[p]] = with[i % with.count] }
            check(b)
        }
        // Both halves of the property are exercised, not only the refusals.
        let (a, r) = (accepted.withLock { $0 }, refused.withLock { $0 })
        #expect(a + r >= 600 && a >= 100 && r >= 100, "accepted \(a), refused \(r)")
    }

    /// start_info: any 56 bytes read field by field write back to the same bytes, and any
    /// fields written read back the same.
    @Test func startInfoRoundTrips() async {
        await propertyCheck(count: 300, input: Gen.uint8().array(of: StartInfo.size)) { raw in
            #expect(StartInfo.Fields(bytes: raw).bytes == raw)
        }
        await propertyCheck(count: 300, input: Gen.uint64(), Gen.uint64(), Gen.uint32()) { a, b, c in
            var f = StartInfo.Fields()
            f.magic = UInt32(truncatingIfNeeded: a); f.version = c; f.flags = UInt32(truncatingIfNeeded: b >> 32); f.nrModules = UInt32(truncatingIfNeeded: a >> 32)
            f.modlist = a; f.cmdline = b; f.rsdp = a ^ b; f.memmap = b &+ 1; f.memmapEntries = c &* 3; f.reserved = UInt32(truncatingIfNeeded: b)
            #expect(StartInfo.Fields(bytes: f.bytes) == f)
        }
        let e = [E820Entry(address: 0, size: 0x9FC00, type: .ram), E820Entry(address: 0x100000, size: 0x3FF00000, type: .ram), E820Entry(address: 0xFEC00000, size: 0x1000, type: .reserved)]
        #expect(StartInfo.memmapEntries(StartInfo.memmap(e)) == e)
        #expect(StartInfo.memmapEntries(Array(StartInfo.memmap(e).dropLast())) == Array(e.dropLast()))
    }
}
