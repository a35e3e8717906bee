import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// The synthetic Image corpus, loaded and run once.
enum ImageSynthetic {
    static let loaded: Result<[ImageCorpusCase], ManifestError> = Result { () throws(ManifestError) in try ImageCorpus.load(manifest: Repo.corpus + "/synthetic-image/manifest.json") }
    static var cases: [ImageCorpusCase] { (try? loaded.get()) ?? [] }
    static let runs: [String: ImageCaseRun] = Dictionary(uniqueKeysWithValues: cases.map { ($0.id, ImageCorpus.run($0)) })
    static var golden: String { Repo.corpus + "/golden-image" }
    /// The cases with a golden snapshot: those that load with no fault (the reference
    /// loader's own output on each representative Image).
    static var goldenCases: [ImageCorpusCase] { cases.filter { $0.faults.isEmpty && runs[$0.id]?.snapshot != nil } }
}

extension ImageCorpusCase: CustomTestStringConvertible {
    public var testDescription: String { id }
}

/// Every synthetic Image case does what its manifest entry says, and every A64/RV rule has a
/// conforming and a violating case.
@Suite("ImageCorpus")
struct ImageCorpusTests {
    @Test("the manifest loads")
    func manifestLoads() throws {
        #expect(try !ImageSynthetic.loaded.get().isEmpty)
    }

    @Test("case behaves as the manifest says", arguments: ImageSynthetic.cases)
    func caseMatchesManifest(_ c: ImageCorpusCase) throws {
        let run = try #require(ImageSynthetic.runs[c.id])
        #expect(run.problems.isEmpty, "\(c.id):\n\(run.problems.joined(separator: "\n"))")
    }

    /// Issue 16: each rule has a passing and a failing case; A64-03's "should" also warns.
    @Test("every A64 and RV rule passes in some case and fails in another")
    func everyRuleBothWays() {
        let verdicts = ImageSynthetic.runs.values.flatMap(\.verdicts)
        for r in ImageRuleCatalogue.all {
            #expect(verdicts.contains { $0.rule == r.id && $0.outcome == .pass }, "\(r.id) passes in no case")
            #expect(verdicts.contains { $0.rule == r.id && $0.outcome == .fail }, "\(r.id) fails in no case")
        }
        #expect(verdicts.contains { $0.rule == "A64-03" && $0.outcome == .warn })
    }

    /// Each fault breaks the rule its case names, and no fault is without a case.
    @Test("every Image fault has a case")
    func everyFaultUsed() {
        let used = Set(ImageSynthetic.cases.flatMap { $0.faults.map(\.name) })
        for f in ImageLoaderFault.all { #expect(used.contains(f.name), "fault \(f.name) has no case") }
    }

    /// The reference loader's own Images pass every rule (none fails; only the deprecated
    /// magic warns).
    @Test("the reference loader's loads pass every rule")
    func referencePasses() {
        for c in ImageSynthetic.cases where c.faults.isEmpty {
            guard let run = ImageSynthetic.runs[c.id], run.snapshot != nil else { continue }
            #expect(!run.verdicts.contains { $0.outcome == .fail }, "\(c.id): \(run.verdicts.filter { $0.outcome == .fail })")
        }
    }

    /// Refusals are typed and name an Image rule, the field, and the header offset for header
    /// refusals; malformed headers never trap.
    @Test("refusals name their rule, field and offset")
    func refusalsTyped() throws {
        let rejected = ImageSynthetic.cases.filter { if case .rejected = $0.expectation { true } else { false } }
        #expect(rejected.count >= 10)
        for c in rejected {
            let e = try #require(ImageSynthetic.runs[c.id]?.error, "\(c.id) loaded")
            #expect(ImageRuleCatalogue.rule(e.rule) != nil && !e.description.isEmpty, "\(c.id): \(e)")
            if case .header(let h) = e { #expect(!h.expected.isEmpty && !h.found.isEmpty) }
        }
    }

    @Test("snapshot matches its golden file", arguments: ImageSynthetic.goldenCases)
    func goldenSnapshot(_ c: ImageCorpusCase) throws {
        let run = try #require(ImageSynthetic.runs[c.id])
        let text = ImageSnapshotJSON.string(try #require(run.snapshot), verdicts: run.verdicts)
        let path = ImageSynthetic.golden + "/\(c.id).json"
        if Repo.recording {
            try FileManager.default.createDirectory(atPath: ImageSynthetic.golden, withIntermediateDirectories: true)
            let old = FileManager.default.contents(atPath: path), new = Data(text.utf8)
            if old != new { try new.write(to: URL(fileURLWithPath: path)) }
            print("golden \(c.id): \(try GoldenChange.of(old: old, new: new))")
            return
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            Issue.record("no golden snapshot \(path); record with CONFORM_RECORD_GOLDEN=1 swift test --filter ImageCorpus"); return
        }
        let diff = JSONDifference.diff(expected: try JSONSerialization.jsonObject(with: data), found: try JSONSerialization.jsonObject(with: Data(text.utf8)))
        #expect(diff.isEmpty, "\(c.id) differs from its golden snapshot:\n\(diff.prefix(20).map(\.description).joined(separator: "\n"))")
        #expect(try ImageSnapshotJSON.decode(data) == run.snapshot, "\(c.id): the golden file does not decode to the snapshot")
    }

    @Test("every Image golden file has a case, and every case that loads without faults has one")
    func goldenFilesMatchCases() throws {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: ImageSynthetic.golden)) ?? []
        let audit = GoldenAudit(files: files, casesWithSnapshot: ImageSynthetic.goldenCases.map(\.id))
        #expect(audit.orphans.isEmpty, "golden files with no case (delete them): \(audit.orphans.joined(separator: ", "))")
        if !Repo.recording { #expect(audit.missing.isEmpty, "cases with no golden file (record with CONFORM_RECORD_GOLDEN=1 swift test --filter ImageCorpus): \(audit.missing.joined(separator: ", "))") }
    }

    @Test("rule ids of the A64 and RV families sort within their family, after BP")
    func ruleOrder() {
        #expect([RuleID("RV-02"), "A64-10", "BP-92", "A64-02", "RV-10"].sorted() == ["BP-92", "A64-02", "A64-10", "RV-02", "RV-10"])
        #expect(RuleID("A64-05").familyNumber == 5 && RuleID("A64-05").number == nil && RuleID(family: .riscv64, number: 3).rawValue == "RV-03")
        #expect(ImageRuleCatalogue.all.map(\.id) == (1...19).map { RuleID(family: .arm64, number: $0) } + (1...14).map { RuleID(family: .riscv64, number: $0) })
        for r in ImageRuleCatalogue.all { #expect(!r.statement.isEmpty && !r.title.isEmpty && (r.reference.contains(".rst") || r.reference.contains("Devicetree Specification")), "\(r.id)") }
    }
}
