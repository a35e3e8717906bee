import Conformance
import Foundation
import Testing

/// Every synthetic case does what its manifest entry (written from the spec) says.
@Suite("SyntheticCorpus")
struct SyntheticCorpusTests {
    @Test("case behaves as the manifest says", arguments: Synthetic.cases)
    func caseMatchesManifest(_ c: CorpusCase) throws {
        let run = try #require(Synthetic.runs[c.id])
        #expect(run.problems.isEmpty, "\(c.id): \(run.problems.joined(separator: "\n"))")
    }

    @Test("at least 60 cases, and the issue's variants are all present")
    func coverageOfVariants() {
        #expect(Synthetic.cases.count >= 60)
        let ids = Set(Synthetic.cases.map(\.id))
        for v in ["bz-2.00", "bz-2.01-initrd-quiet", "bz-2.02", "bz-2.03", "bz-2.05-relocatable", "bz-2.06", "bz-2.08", "bz-2.10", "bz-2.12", "bz-2.15", "bz-2.16-newer",
                  "bz-no-hdrs", "bz-bad-boot-flag", "bz-no-load-high", "bz-setup-sects-zero", "bz-truncated-setup", "bz-syssize-too-big", "bz-nonrelocatable",
                  "bz-align-16m", "bz-init-size-too-big", "bz-no-xlf-kernel64", "bz-above-4g", "pvh-desc4", "pvh-desc8", "pvh-missing-note", "pvh-wrong-name",
                  "pvh-wrong-type", "pvh-truncated-note", "pvh-huge-note"] {
            #expect(ids.contains(v), "missing corpus case \(v)")
        }
    }

    /// Golden snapshots guard against unintended change on top of the manifest's expectations.
    @Test("snapshot matches its golden file", arguments: Synthetic.cases.filter { Synthetic.runs[$0.id]?.snapshot != nil })
    func goldenSnapshot(_ c: CorpusCase) throws {
        let run = try #require(Synthetic.runs[c.id])
        let snap = try #require(run.snapshot)
        let text = SnapshotJSON.string(snap, verdicts: run.verdicts)
        let path = Repo.golden + "/\(c.id).json"
        if Repo.recording {
            try FileManager.default.createDirectory(atPath: Repo.golden, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            Issue.record("no golden snapshot \(path); record with CONFORM_RECORD_GOLDEN=1 swift test --filter SyntheticCorpus"); return
        }
        let expected = try JSONSerialization.jsonObject(with: data)
        let found = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let diff = JSONDifference.diff(expected: expected, found: found)
        #expect(diff.isEmpty, "\(c.id) differs from its golden snapshot:\n\(diff.prefix(20).map(\.description).joined(separator: "\n"))")
    }

    @Test("snapshot JSON is deterministic")
    func deterministicJSON() throws {
        let c = try syntheticImage("bz-2.15")
        let a = SyntheticCorpus.run(c), b = SyntheticCorpus.run(c)
        let sa = try #require(a.snapshot), sb = try #require(b.snapshot)
        #expect(SnapshotJSON.string(sa, verdicts: a.verdicts) == SnapshotJSON.string(sb, verdicts: b.verdicts))
    }

    @Test("the field-level diff names the changed field")
    func diffNamesField() throws {
        let run = try #require(Synthetic.runs["bz-2.15"])
        let good = try JSONSerialization.jsonObject(with: SnapshotJSON.data(SnapshotJSON.object(run.snapshot!)))
        let bad = try #require(Synthetic.runs["fault-type-of-loader-zero"]?.snapshot)
        let other = try JSONSerialization.jsonObject(with: SnapshotJSON.data(SnapshotJSON.object(bad)))
        let paths = JSONDifference.diff(expected: good, found: other).map(\.path)
        #expect(paths.contains("zeroPage.header.type_of_loader"))
    }
}

/// Every rule of the spec is in the catalogue, and the corpus exercises each both ways.
@Suite("RuleCatalogue")
struct RuleCatalogueTests {
    @Test("the catalogue holds BP-01 … BP-72 and the EFI entries' BP-80 … BP-91, once each")
    func allRules() {
        let ids = RuleCatalogue.all.map(\.id)
        #expect(ids == (Array(1...72) + Array(80...91)).map { String(format: "BP-%02d", $0) })
        for r in RuleCatalogue.all { #expect(!r.statement.isEmpty && !r.reference.isEmpty && !r.title.isEmpty, "\(r.id) lacks text") }
    }

    /// The EFI entries' rules (BP-80…BP-91) need UEFI firmware, which the reference loader is
    /// not: their passing and failing cases are hand-made states (`EFIEntries`).
    @Test("every rule has a passing and a failing corpus case", arguments: RuleCatalogue.all.map(\.id).filter { $0 < "BP-80" })
    func passAndFail(_ id: String) {
        let outcomes = Synthetic.runs.values.compactMap { $0.verdicts.first { $0.rule == id }?.outcome }
        #expect(outcomes.contains(.pass), "\(id) never passes in the corpus")
        #expect(outcomes.contains(.fail), "\(id) never fails in the corpus")
    }

    /// The rules judge what is in memory, not what the loader meant: a snapshot whose memory
    /// was changed after the load is judged on the change (BP-13 pinned here).
    @Test("rules read guest memory, not loader bookkeeping")
    func rulesReadMemory() throws {
        let c = try syntheticImage("bz-2.15")
        let run = SyntheticCorpus.run(c)
        let r = try #require(run.result)
        try r.memory.write([0], at: try #require(r.bootParams) + 0x210)
        let v = judge(try #require(run.snapshot))
        #expect(v.first { $0.rule == "BP-13" }?.outcome == .fail)
    }

    /// BP-38 judges the e820 entries that describe memory (issue 14). A loader that claims 200
    /// entries fails BP-35; the zeroed slots past the entries it wrote are no entries of type
    /// 0 (the kernel omits empty regions, E820C `e820__update_table`). A sized entry of type 0
    /// still fails BP-38.
    @Test("BP-38 judges e820 entries, not the empty slots past them")
    func e820TypesOfEntries() throws {
        let run = SyntheticCorpus.run(try syntheticImage("bz-2.15"))
        let r = try #require(run.result), b = try #require(r.bootParams), snap = try #require(run.snapshot)
        let count = try #require(r.memory.bytes(at: b + 0x1E8, count: 1)?.first)
        try r.memory.write([200], at: b + 0x1E8)
        var v = judge(snap)
        #expect(v.first { $0.rule == "BP-35" }?.outcome == .fail)
        #expect(v.first { $0.rule == "BP-38" }?.outcome == .pass, "\(String(describing: v.first { $0.rule == "BP-38" }))")
        try r.memory.write(E820Entry(address: 0x1_0000_0000_0000, size: 0x1000, type: E820Type(rawValue: 0)).bytes, at: b + 0x2D0 + 20 * UInt64(count))
        v = judge(snap)
        #expect(v.first { $0.rule == "BP-38" }?.evidence == "types not for loaders: [0x1000000000000, 0x1000000001000) type 0")
    }

    /// A snapshot captured from elsewhere (only the bytes a probe reports) is judged the same way.
    @Test("captured memory judges like guest memory")
    func capturedMemory() throws {
        let run = try #require(Synthetic.runs["bz-2.15"])
        let r = try #require(run.result)
        var snap = try #require(run.snapshot)
        var pieces: [(start: UInt64, bytes: [UInt8])] = []
        for reg in r.regions where reg.range.length <= 0x10_0000 { pieces.append((reg.range.start, r.memory.bytes(at: reg.range.start, count: Int(reg.range.length))!)) }
        var hashes: [AddressRange: String] = [:]
        for reg in r.regions where reg.range.length > 0x10_0000 { hashes[reg.range] = r.memory.sha256(at: reg.range.start, length: reg.range.length) }
        // The kernel's tail holds kernel_info; keep its bytes too.
        pieces.append((r.kernelAddress, r.memory.bytes(at: r.kernelAddress, count: Int(snap.image.protectedModeLength))!))
        snap.memory = CapturedMemory(pieces: pieces, hashes: hashes)
        let a = judge(run.snapshot!).map { "\($0.rule) \($0.outcome.rawValue)" }
        let b = judge(snap).map { "\($0.rule) \($0.outcome.rawValue)" }
        #expect(a == b)
    }
}
