import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// Every synthetic case does what its manifest entry (written from the spec) says.
@Suite("SyntheticCorpus")
struct SyntheticCorpusTests {
    @Test("case behaves as the manifest says", arguments: Synthetic.cases)
    func caseMatchesManifest(_ c: CorpusCase) throws {
        let run = try #require(Synthetic.runs[c.id])
        #expect(run.problems.isEmpty, "\(c.id): \(run.problems.joined(separator: "\n"))")
    }

    /// A manifest that does not load fails here with its error (issue 14): the corpus is then
    /// empty, so the parameterised tests have no case to run and cannot fail.
    @Test("the manifest loads")
    func manifestLoads() throws {
        #expect(try !Synthetic.manifest.require().isEmpty)
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

    /// Every refusal names a BP rule and a field, typed (issue 14): each rejected case's
    /// LoadError carries the rule, field and offset its manifest entry names, with the expected
    /// and found values, whether the image failed to parse or could not be placed.
    @Test("every rejected case names its rule and field, typed")
    func rejectionsAreTyped() throws {
        let rejected = Synthetic.cases.compactMap { c -> (CorpusCase, RuleID, String?, UInt64?)? in
            guard case let .rejected(rule, field, offset) = c.expectation else { return nil }
            return (c, rule, field, offset)
        }
        #expect(rejected.count >= 50)
        for (c, rule, field, offset) in rejected {
            let e = try #require(Synthetic.runs[c.id]?.error, "\(c.id) loaded")
            #expect(e.rule == rule && rule.number != nil, "\(c.id): \(e)")
            #expect(field != nil, "\(c.id): the manifest names no field")
            let named = try #require(e.field, "\(c.id): \(e) names no field")
            #expect(named.name == field && named.offset == offset, "\(c.id): \(e)")
            switch e {
            case .image(let i): #expect(!i.expected.isEmpty && !i.found.isEmpty, "\(c.id): \(e)")
            case .placement(let p): #expect(!p.expected.isEmpty && !p.found.isEmpty, "\(c.id): \(e)")
            case .commandLine: break
            case .source, .memory: Issue.record("\(c.id): refused by the host, not by a rule: \(e)")
            }
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
            let old = FileManager.default.contents(atPath: path), new = Data(text.utf8)
            let change = try GoldenChange.of(old: old, new: new)
            if old != new { try new.write(to: URL(fileURLWithPath: path)) }
            print("golden \(c.id): \(change)")
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

    /// Golden files and cases correspond one to one (issue 14): a file left by a renamed,
    /// removed or now-rejected case is an orphan; a case that loads without a file is missing.
    /// While recording, the missing ones are being written, so only orphans count.
    @Test("every golden file has a case that loads, and every such case has one")
    func goldenFilesMatchCases() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Repo.golden)
        let audit = GoldenAudit(files: files, casesWithSnapshot: Synthetic.runs.values.filter { $0.snapshot != nil }.map(\.corpusCase.id))
        #expect(audit.orphans.isEmpty, "golden files with no case that loads (delete them): \(audit.orphans.joined(separator: ", "))")
        if !Repo.recording {
            #expect(audit.missing.isEmpty, "cases with no golden file (record with CONFORM_RECORD_GOLDEN=1 swift test --filter SyntheticCorpus): \(audit.missing.joined(separator: ", "))")
        }
    }

    @Test("re-recording names added, unchanged and changed goldens, and the verdicts that moved")
    func goldenChangeReport() throws {
        let run = try #require(Synthetic.runs["bz-2.15"])
        let text = Data(SnapshotJSON.string(try #require(run.snapshot), verdicts: run.verdicts).utf8)
        var object = try #require(try JSONSerialization.jsonObject(with: text) as? [String: Any])
        var verdicts = try #require(object["verdicts"] as? [String: String])
        verdicts["BP-38"] = "fail"; verdicts["BP-99"] = "pass"; object["verdicts"] = verdicts; object["producer"] = "other"
        let changed = try JSONSerialization.data(withJSONObject: object)
        #expect(try GoldenChange.of(old: nil, new: text) == .added)
        #expect(try GoldenChange.of(old: text, new: text) == .unchanged)
        let change = try GoldenChange.of(old: text, new: changed)
        #expect(change == .changed(verdicts: ["BP-38: pass → fail", "BP-99: (absent) → pass"], otherFields: ["producer"]))
        #expect(change.description == "changed: BP-38: pass → fail, BP-99: (absent) → pass; 1 other field (producer)")
        #expect(GoldenAudit(files: ["gone.json", "kept.json", "README.md"], casesWithSnapshot: ["kept", "new"]) == GoldenAudit(orphans: ["gone"], missing: ["new"]))
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
    @Test("the catalogue holds BP-01 … BP-77, the EFI entries' BP-80 … BP-91 and BP-92, once each")
    func allRules() {
        let ids = RuleCatalogue.all.map(\.id)
        #expect(ids == (Array(1...77) + Array(80...92)).map { RuleID(number: $0) })
        for r in RuleCatalogue.all { #expect(!r.statement.isEmpty && !r.reference.isEmpty && !r.title.isEmpty, "\(r.id) lacks text") }
    }

    /// Each rule declares the formats and protocol versions it applies to (RuleScope), and the
    /// judge keeps to them: on every corpus case, a rule whose scope excludes the image is n/a
    /// with the declared reason, and the version bounds are the first versions of the fields
    /// the rules read (spec digest §1.2 via the field table).
    @Test("rules are n/a outside their declared formats and versions")
    func declaredScopes() throws {
        var excluded = 0
        for run in Synthetic.runs.values {
            guard let s = run.snapshot else { continue }
            for v in run.verdicts {
                let rule = try #require(RuleCatalogue.rule(v.rule))
                guard rule.entries.contains(s.entry.entryPoint),
                      let why = rule.scope.exclusion(format: s.image.format, version: ProtocolVersion(rawValue: RuleContext(s).version)) else { continue }
                excluded += 1
                #expect(v.outcome == .notApplicable && v.evidence == why, "\(run.corpusCase.id): \(v)")
            }
        }
        #expect(excluded > 100, "the corpus exercises the declared scopes (\(excluded) verdicts)")
        #expect(RuleScope.of("BP-09").versions?.lowerBound == ZeroPage.Field.kernelInfoOffset.since)
        #expect(RuleScope.of("BP-18").versions?.lowerBound == ZeroPage.Field.hardwareSubarch.since)
        #expect(RuleScope.of("BP-26").versions?.lowerBound == ZeroPage.Field.cmdLinePtr.since)
        #expect(RuleScope.of("BP-30").versions?.upperBound == ZeroPage.Field.cmdLinePtr.since)
        #expect(RuleScope.of("BP-41").versions?.lowerBound == ZeroPage.Field.setupData.since)
        let bz206 = try #require(Synthetic.runs["bz-2.06"]?.verdicts.first { $0.rule == "BP-41" })
        #expect(bz206.outcome == .notApplicable && bz206.evidence == "applies from protocol 2.09; this image is 2.06", "\(bz206)")
        let elf = try #require(Synthetic.runs["elf-direct-64"]?.verdicts.first { $0.rule == "BP-01" })
        #expect(elf.outcome == .notApplicable && elf.evidence == "applies to bzImage images; this is an ELF vmlinux", "\(elf)")
    }

    /// Rule ids are a type, but every text and JSON form keeps the spec's "BP-27" spelling.
    @Test("rule ids print, encode and sort as the spec's BP-nn")
    func ruleIDForms() throws {
        let id: RuleID = "BP-27"
        #expect(id == RuleID(number: 27) && id.number == 27 && "\(id)" == "BP-27" && RuleID(number: 5).rawValue == "BP-05")
        #expect(RuleID("ELF").number == nil && [RuleID("BP-80"), "BP-09", "BP-72"].sorted() == ["BP-09", "BP-72", "BP-80"])
        let w = String(decoding: try JSONEncoder().encode(Warning(rule: "BP-06", message: "m")), as: UTF8.self)
        #expect(w.contains("\"rule\":\"BP-06\""), "\(w)")
        #expect(try JSONDecoder().decode(Warning.self, from: Data(w.utf8)).rule == "BP-06")
        let run = try #require(Synthetic.runs.values.first { $0.snapshot != nil })
        #expect(try #require(run.verdicts.first { $0.rule == "BP-13" }).description.hasPrefix("BP-13 "))
        let o = SnapshotJSON.object(try #require(run.snapshot), verdicts: run.verdicts)
        #expect(JSONSerialization.isValidJSONObject(o) && (o["verdicts"] as? [String: String])?["BP-13"] != nil)
    }

    /// The EFI entries' rules (BP-80…BP-91) need UEFI firmware, which the reference loader is
    /// not: their passing and failing cases are hand-made states (`EFIEntries`).
    @Test("every rule has a passing and a failing corpus case", arguments: RuleCatalogue.all.map(\.id).filter { !EFIEntriesTests.efiRules.contains($0) })
    func passAndFail(_ id: RuleID) {
        let outcomes = Synthetic.runs.values.compactMap { $0.verdicts.first { $0.rule == id }?.outcome }
        #expect(outcomes.contains(.pass), "\(id) never passes in the corpus")
        #expect(outcomes.contains(.fail), "\(id) never fails in the corpus")
    }

    /// BP-73…BP-77 judge the image record of a loaded ELF (spec §4.13): a failure names the
    /// field, offset, expected and found values; the rules an earlier failure leaves unread are
    /// n/a naming it; a record without the ELF's raw facts (an older snapshot file) is n/a.
    @Test("ELF well-formedness is judged on the image record, without cascades")
    func elfWellFormedness() throws {
        func verdicts(_ id: String) throws -> [RuleID: Verdict] {
            Dictionary(uniqueKeysWithValues: try #require(Synthetic.runs[id]).verdicts.map { ($0.rule, $0) })
        }
        let i386 = try verdicts("fault-elf-loads-i386")
        #expect(i386["BP-73"]?.evidence == "BP-73: e_machine at offset 0x12: expected 62 (EM_X86_64), found 3, yet it was loaded")
        for id: RuleID in ["BP-74", "BP-75", "BP-76", "BP-77"] { #expect(i386[id]?.outcome == .notApplicable && i386[id]?.evidence.contains("fails BP-73") == true, "\(String(describing: i386[id]))") }
        let short = try verdicts("fault-elf-loads-short-phentsize")
        #expect(short["BP-74"]?.evidence == "BP-74: e_phentsize at offset 0x36: expected 56 (sizeof Elf64_Phdr), found 32, yet it was loaded")
        for id: RuleID in ["BP-75", "BP-76", "BP-77"] { #expect(short[id]?.outcome == .notApplicable && short[id]?.evidence.contains("fails BP-74") == true, "\(String(describing: short[id]))") }
        #expect(try verdicts("fault-elf-enters-outside-segments")["BP-76"]?.evidence.contains("e_entry at offset 0x18: expected inside a PT_LOAD segment's physical range") == true)
        #expect(try verdicts("fault-elf-loads-note-past-segment")["BP-77"]?.evidence.hasPrefix("BP-77: note at +0x0 at offset 0x400") == true)
        let good = try verdicts("elf-direct-64")
        #expect(good["BP-75"]?.evidence.contains("→ [0x1000000,") == true, "\(String(describing: good["BP-75"]))")
        #expect(try verdicts("bz-2.15")["BP-73"]?.outcome == .notApplicable)

        var old = try #require(Synthetic.runs["elf-direct-64"]?.snapshot)
        old.image.headerBytes = []; old.image.programHeaders = []; old.image.noteSegments = nil
        for v in judge(old, rules: RuleCatalogue.all.filter { ("BP-73"..."BP-77").contains($0.id) }) {
            #expect(v.outcome == .notApplicable && v.evidence.contains("does not hold the ELF header"), "\(v)")
        }
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
        snap.memory = CapturedMemory(pieces: pieces, hashes: hashes, backed: r.memory.backedRanges)
        let a = judge(run.snapshot!).map { "\($0.rule) \($0.outcome.rawValue)" }
        let b = judge(snap).map { "\($0.rule) \($0.outcome.rawValue)" }
        #expect(a == b)
    }
}

/// The manifest's format (issue 14): a manifest that does not parse fails the tests with an
/// error naming the case and key, never cancels them; every expected failure carries its spec
/// clause or reason, and exactly their union must fail.
@Suite("SyntheticManifest")
struct SyntheticManifestTests {
    /// A one-case manifest with `expect` as given, in a temporary file.
    static func manifest(expect: String) -> String {
        #"{"cases": [{"id": "c", "about": "a", "image": {"kind": "bzImage"}, "initrd": "0x5000", "expect": "# + expect + "}]}"
    }

    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString).json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A broken manifest: what is wrong, its text, and the key the error names ("" for a file
    /// that is no manifest at all).
    struct Corrupt: Sendable, CustomTestStringConvertible {
        let what: String, text: String, key: String
        init(_ what: String, _ text: String, _ key: String) { self.what = what; self.text = text; self.key = key }
        var testDescription: String { what }
    }

    static let corrupt: [Corrupt] = [
        Corrupt("not JSON", #"{"cases": ["#, ""),
        Corrupt("no cases", #"{"about": "x"}"#, ""),
        Corrupt("the old bare fail list", manifest(expect: #"{"fail": ["BP-35"]}"#), "expect.fail"),
        Corrupt("no failBySpec", manifest(expect: #"{"pass": ["BP-13"]}"#), "expect.failBySpec"),
        Corrupt("failBySpec a list", manifest(expect: #"{"failBySpec": ["BP-35"]}"#), "expect.failBySpec"),
        Corrupt("a rule not in the catalogue", manifest(expect: #"{"failBySpec": {"BP-99": "§4.6 BP-99: none"}}"#), "expect.failBySpec.BP-99"),
        Corrupt("a section the rule is not in", manifest(expect: #"{"failBySpec": {"BP-35": "§4.1 BP-35: e820_entries ≤ 128"}}"#), "expect.failBySpec.BP-35"),
        Corrupt("another rule's clause", manifest(expect: #"{"failBySpec": {"BP-35": "§4.6 BP-36: at least 2 entries"}}"#), "expect.failBySpec.BP-35"),
        Corrupt("a clause without text", manifest(expect: #"{"failBySpec": {"BP-35": "§4.6 BP-35: "}}"#), "expect.failBySpec.BP-35"),
        Corrupt("a clause without a section", manifest(expect: #"{"failBySpec": {"BP-35": "e820_entries ≤ 128"}}"#), "expect.failBySpec.BP-35"),
        Corrupt("a reason of two lines", manifest(expect: #"{"failBySpec": {}, "alsoFails": {"BP-11": "one\ntwo"}}"#), "expect.alsoFails.BP-11"),
        Corrupt("an empty reason", manifest(expect: #"{"failBySpec": {}, "alsoFails": {"BP-11": ""}}"#), "expect.alsoFails.BP-11"),
        Corrupt("a rule in both", manifest(expect: #"{"failBySpec": {"BP-35": "§4.6 BP-35: e820_entries ≤ 128"}, "alsoFails": {"BP-35": "again"}}"#), "expect.alsoFails.BP-35"),
    ]

    @Test("a corrupt manifest fails, naming the case and key", arguments: corrupt)
    func corruptManifest(_ m: Corrupt) throws {
        let (what, key) = (m.what, m.key)
        let path = try Self.write(m.text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = SyntheticManifest.load(path: path)
        #expect(loaded.cases.isEmpty, "\(what)")
        #expect(throws: ManifestError.self, "\(what)") { try loaded.require() }
        switch loaded.error {
        case let .unreadable(p, _)?: #expect(key.isEmpty && p == path, "\(what): \(loaded.error!)")
        case let .badValue(caseID, k, _)?: #expect(caseID == "c" && k == key, "\(what): \(loaded.error!)")
        case nil: Issue.record("\(what): the manifest loaded")
        }
    }

    @Test("failBySpec and alsoFails are read with their clauses and reasons")
    func readsClauses() throws {
        let path = try Self.write(Self.manifest(expect: #"{"failBySpec": {"BP-35": "§4.6 BP-35: e820_entries ≤ 128 — 200"}, "alsoFails": {"BP-11": "a reason"}}"#))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let c = try #require(try SyntheticManifest.load(path: path).require().first)
        guard case let .loads(_, fail, _, _, _) = c.expectation else { Issue.record("\(c.expectation)"); return }
        #expect(fail == ExpectedFailures(bySpec: ["BP-35": "§4.6 BP-35: e820_entries ≤ 128 — 200"], also: ["BP-11": "a reason"]))
        #expect(fail.rules == ["BP-35", "BP-11"])
    }

    /// The fail set is still exact: a rule missing from both lists fails unexpectedly, and a
    /// listed rule that passes is reported with its reason.
    @Test("exactly the union of failBySpec and alsoFails must fail")
    func unionIsExact() throws {
        let data = try #require(FileManager.default.contents(atPath: Repo.corpus + "/synthetic/manifest.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var c = try #require((root["cases"] as? [[String: Any]])?.first { $0["id"] as? String == "fault-e820-omits-window" })
        var expect = try #require(c["expect"] as? [String: Any])
        var also = try #require(expect["alsoFails"] as? [String: String])
        also["BP-22"] = nil; also["BP-13"] = "listed, but type_of_loader is set"
        expect["alsoFails"] = also; c["expect"] = expect
        let path = try Self.write(String(decoding: try JSONSerialization.data(withJSONObject: ["cases": [c]]), as: UTF8.self))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = SyntheticCorpus.run(try #require(try SyntheticManifest.load(path: path).require().first))
        #expect(run.problems.count == 2, "\(run.problems)")
        #expect(run.problems.contains { $0.hasPrefix("BP-22 fails unexpectedly") }, "\(run.problems)")
        #expect(run.problems.contains { $0.hasPrefix("BP-13 expected to fail (listed, but type_of_loader is set), was pass") }, "\(run.problems)")
    }
}
