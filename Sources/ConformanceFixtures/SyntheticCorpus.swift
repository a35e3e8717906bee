import Conformance
import Foundation

/// What a corpus case must do, written from the spec (never recorded from the loader).
public enum Expectation: Sendable, Equatable {
    /// The loader refuses: this rule, this field (a header field, a load option, a guest
    /// range), and the field's offset in the image when it has one (image and placement errors).
    case rejected(rule: RuleID, field: String?, offset: UInt64?)
    /// The loader places things here (keys: kernel, zeroPage, cmdline, initrd, entry,
    /// startInfo), exactly these rules fail, at least these pass, the loader warns exactly
    /// these (`warns`), and exactly these rules' verdicts are `warn` (`warnVerdicts`).
    case loads(placement: [String: UInt64], fail: ExpectedFailures, pass: Set<RuleID>, warns: Set<RuleID>, warnVerdicts: Set<RuleID>)
}

/// The rules a case expects to fail, each with a reason a reviewer can check against the spec
/// digest (issue 14). The exact fail set is both together.
public struct ExpectedFailures: Sendable, Equatable {
    /// The rules the case's defect breaks, each with the clause of
    /// shared/spec/x86-boot-protocol.md it violates: "§4.6 BP-35: e820_entries ≤ 128 — …".
    public let bySpec: [RuleID: String]
    /// The rules that fail as a consequence of that defect, each with a one-line reason.
    public let also: [RuleID: String]
    public init(bySpec: [RuleID: String], also: [RuleID: String]) { self.bySpec = bySpec; self.also = also }
    public static let none = ExpectedFailures(bySpec: [:], also: [:])
    /// The exact set of rules that must fail.
    public var rules: Set<RuleID> { Set(bySpec.keys).union(also.keys) }
    /// The clause or reason written for `rule`.
    public func reason(_ rule: RuleID) -> String? { bySpec[rule] ?? also[rule] }

    /// Reads `expect.failBySpec` (required, `{}` when no rule fails) and `expect.alsoFails`
    /// (optional). Every key is a rule of the catalogue, in one of the two only; a clause
    /// starts with a section of the spec digest that the rule's reference names and the rule
    /// id ("§4.6 BP-35: "); a reason is one line.
    static func read(_ e: Fields) throws(ManifestError) -> ExpectedFailures {
        if e.has("fail") {
            throw .badValue(caseID: e.id, key: "expect.fail", found: "\(e.d["fail"]!) (the bare rule list is gone: write expect.failBySpec, rule to spec clause, and expect.alsoFails, rule to reason)")
        }
        guard e.has("failBySpec") else { throw .badValue(caseID: e.id, key: "expect.failBySpec", found: "missing (write {} when no rule fails)") }
        let bySpec = try reasons(e, "failBySpec"), also = try reasons(e, "alsoFails")
        for (rule, clause) in bySpec.sorted(by: { $0.key < $1.key }) {
            let key = "expect.failBySpec.\(rule)"
            let sections = RuleCatalogue.all.first { $0.id == rule }.map { sectionsCited(by: $0.reference) } ?? []
            let parts = clause.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let head = parts[0].split(separator: " ").map(String.init)
            let text = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            guard head.count == 2, head[1] == rule.rawValue, sections.contains(head[0]), !text.isEmpty else {
                throw .badValue(caseID: e.id, key: key, found: "\"\(clause)\" (expected \"\(sections.first ?? "§?") \(rule): \", the spec digest's clause, then what the case does; \(rule)'s sections: \(sections.joined(separator: ", ")))")
            }
        }
        if let rule = also.keys.sorted().first(where: { bySpec[$0] != nil }) {
            throw .badValue(caseID: e.id, key: "expect.alsoFails.\(rule)", found: "\(rule) is in expect.failBySpec too")
        }
        return ExpectedFailures(bySpec: bySpec, also: also)
    }

    /// An object of rule id to one line of text, each id a rule of the catalogue.
    private static func reasons(_ e: Fields, _ k: String) throws(ManifestError) -> [RuleID: String] {
        guard e.has(k) else { return [:] }
        guard let d = e.d[k] as? [String: String] else { throw .badValue(caseID: e.id, key: "expect.\(k)", found: "\(e.d[k]!) (expected an object of rule id to text)") }
        for (rule, text) in d.sorted(by: { $0.key < $1.key }) {
            guard RuleCatalogue.all.contains(where: { $0.id.rawValue == rule }) else { throw .badValue(caseID: e.id, key: "expect.\(k).\(rule)", found: "no such rule in the catalogue") }
            guard !text.isEmpty, !text.contains("\n") else { throw .badValue(caseID: e.id, key: "expect.\(k).\(rule)", found: "\"\(text)\" (expected one line)") }
        }
        return Dictionary(uniqueKeysWithValues: d.map { (RuleID($0.key), $0.value) })
    }

    /// The spec digest's sections a rule's reference names: "§4.2, §2.4; BPH" → §4.2, §2.4.
    static func sectionsCited(by reference: String) -> [String] {
        reference.split(whereSeparator: { $0 == ";" || $0 == "," || $0 == " " }).map(String.init).filter { $0.hasPrefix("§") }
    }
}

/// One synthetic corpus case: a recipe for an image, how to load it, what must happen.
public struct CorpusCase: Sendable, CustomStringConvertible {
    public let id: String
    public let about: String
    public let kind: String
    public let image: [UInt8]
    public let initrd: [UInt8]?
    public let options: LoadOptions
    public let faults: [LoaderFault]
    public let expectation: Expectation
    public var description: String { id }
}

/// The result of running one case.
public struct CaseRun: @unchecked Sendable {
    // @unchecked: the LoadResult is immutable after the run.
    public let corpusCase: CorpusCase
    public let result: LoadResult?
    public let snapshot: BootSnapshot?
    public let verdicts: [Verdict]
    public let error: LoadError?
    /// Differences from the expectation; empty when the case behaves as the manifest says.
    public let problems: [String]
}

public enum SyntheticCorpus {
    /// Reads `manifest.json`: {"cases": [{id, about, image: {kind, …recipe}, initrd, load, faults, expect}]}, where
    /// expect is {rejected: {rule, field, offset}} or {failBySpec, alsoFails, pass, warns, warnVerdicts,
    /// placement} (`ExpectedFailures`). Errors name the case and the key.
    /// With `probe`, the probe variants instead: each case that loads cleanly with no fault,
    /// rebuilt around the probe kernel with the same header recipe and load options.
    public static func load(manifest path: String, probe: ProbeBuild? = nil) throws(ManifestError) -> [CorpusCase] {
        let obj: Any
        do { obj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw .unreadable(path: path, reason: "\(error.localizedDescription)")
        }
        guard let root = obj as? [String: Any], let cases = root["cases"] as? [[String: Any]] else {
            throw .unreadable(path: path, reason: "expected {\"cases\": [...]}")
        }
        var out: [CorpusCase] = []
        var seen: Set<String> = []
        for c in cases {
            guard let id = c["id"] as? String, !seen.contains(id) else { throw .unreadable(path: path, reason: "case without a unique id: \(c["id"] ?? "nil")") }
            seen.insert(id)
            let f = Fields(id: id, d: c)
            if let probe {
                if probeEligible(f) { out.append(try parse(f, probe: probe)) }
            } else {
                out.append(try parse(f))
            }
        }
        if let probe { for c in efiProbeVariants { out.append(try parse(Fields(id: c["id"] as? String ?? "", d: c), probe: probe)) } }
        return out
    }

    /// Probe variants for the EFI entries (issue 12), built only around the probe kernel: its
    /// EFI code is what the PE header and handover_offset point at. Setup is 7 sectors, so the
    /// protected-mode image starts at 0x1000 = SectionAlignment, as the PE section table needs.
    static var efiProbeVariants: [[String: Any]] { [
        ["id": "efi-pe", "about": "PE/COFF EFI application and bzImage in one (EFI stub entry), with the 64-bit handover entry too",
         "image": ["kind": "bzImage", "setupSects": 7, "efi": ["pe": true, "handover64": true]] as [String: Any],
         "initrd": "0x5000", "expect": ["failBySpec": [String: String]()]],
        ["id": "efi-handover", "about": "64-bit EFI handover entry, no PE header: OVMF's -kernel falls back to its legacy (handover) loader",
         "image": ["kind": "bzImage", "setupSects": 7, "efi": ["handover64": true]] as [String: Any],
         "initrd": "0x5000", "expect": ["failBySpec": [String: String]()]],
    ] }

    /// Recipe keys that change bytes the probe's code lives in, or entry addresses it relies on.
    static let probeBreakingKeys = ["patch", "truncateTo", "syssize", "headerEnd", "entry", "phoff", "phentsize", "phnum", "reloc"]

    /// A case that loads cleanly is a probe variant unless it says `"probeVariant": false`
    /// (with the reason in its `about`).
    static func probeEligible(_ f: Fields) -> Bool {
        guard f.bool("probeVariant") != false, let img = f.sub("image"), ["bzImage", "elf"].contains(img.str("kind") ?? ""), f.strings("faults").isEmpty,
              let e = f.sub("expect"), e.sub("rejected") == nil, !e.has("fail"),
              e.sub("failBySpec")?.d.isEmpty ?? true, e.sub("alsoFails")?.d.isEmpty ?? true else { return false }
        if probeBreakingKeys.contains(where: { img.has($0) }) { return false }
        if img.sub("pvh") != nil { return false }   // custom PVH notes; `pvh: false` (no note) stays
        return true
    }

    static func parse(_ f: Fields, probe: ProbeBuild? = nil) throws(ManifestError) -> CorpusCase {
        guard let img = f.sub("image"), let kind = img.str("kind") else { throw .badValue(caseID: f.id, key: "image.kind", found: "missing") }
        let bytes: [UInt8]
        switch kind {
        case "bzImage": bytes = try SyntheticImage.bzImage(Fields(id: f.id, d: img.d), probe: probe)
        case "elf": bytes = try SyntheticImage.elf(Fields(id: f.id, d: img.d), probe: probe)
        default: throw .badValue(caseID: f.id, key: "image.kind", found: kind)
        }
        var initrd: [UInt8]? = nil
        if f.has("initrd") { initrd = patternBytes(count: try f.size("initrd", 0, max: 256 << 20), seed: f.id + "/initrd") }
        var o = LoadOptions()
        o.rngSeed = LoadOptions.corpusSeed
        if let l = f.sub("load") {
            if let m = try l.num("memory") { o.memorySize = m }
            if let e = l.str("entry") { guard let ep = EntryPoint(rawValue: e) else { throw .badValue(caseID: f.id, key: "load.entry", found: e) }; o.entry = ep }
            if let c = l.str("cmdline") { o.commandLine = c }
            if let h = l.bool("high") { o.highPlacement = h }
            o.kernelAddress = try l.num("kernelAddress")
            if l.bool("noSeed") == true { o.rngSeed = nil }
            if let i = l.bool("indirect") { o.indirectSetupData = i }
            if let r = l.bool("rsdp") { o.acpiRSDP = r }
        }
        var faults: [LoaderFault] = []
        for n in f.strings("faults") {
            guard let fault = LoaderFault.named(n) else { throw .badValue(caseID: f.id, key: "faults", found: n) }
            faults.append(fault)
        }
        guard let e = f.sub("expect") else { throw .badValue(caseID: f.id, key: "expect", found: "missing") }
        var exp: Expectation
        if let r = e.sub("rejected") {
            guard let rule = r.str("rule") else { throw .badValue(caseID: f.id, key: "expect.rejected.rule", found: "missing") }
            exp = .rejected(rule: RuleID(rule), field: r.str("field"), offset: try r.num("offset"))
        } else {
            var placement: [String: UInt64] = [:]
            if let p = e.sub("placement") { for k in p.d.keys { placement[k] = try p.num(k) } }
            exp = .loads(placement: placement, fail: try ExpectedFailures.read(e), pass: Set(e.strings("pass").map { RuleID($0) }), warns: Set(e.strings("warns").map { RuleID($0) }), warnVerdicts: Set(e.strings("warnVerdicts").map { RuleID($0) }))
            // A probe variant's image differs from the recipe's own (size, entry bytes); only
            // "no rule fails" carries over.
            if probe != nil { exp = .loads(placement: [:], fail: .none, pass: [], warns: [], warnVerdicts: []) }
        }
        return CorpusCase(id: f.id, about: f.str("about") ?? "", kind: kind, image: bytes, initrd: initrd, options: o, faults: faults, expectation: exp)
    }

    /// Loads, applies faults, judges, and compares with the expectation.
    public static func run(_ c: CorpusCase) -> CaseRun {
        let kernel = MemorySource(name: c.id, bytes: c.image)
        let initrd = c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) }
        let result: LoadResult
        do { result = try ReferenceLoader.load(kernel: kernel, initrd: initrd, options: c.options) } catch {
            var problems: [String] = []
            switch c.expectation {
            case let .rejected(rule, field, offset):
                if error.rule != rule { problems.append("rejected by \(error.rule ?? "no rule"), expected \(rule): \(error)") }
                // Image and placement errors alike name a field, and its offset when it is a header field.
                let named = error.field
                if let field, named?.name != field { problems.append("error names field \(named?.name ?? "none"), expected \(field): \(error)") }
                if let offset, named?.offset != offset { problems.append("error names offset \(named?.offset.map { hex($0) } ?? "none"), expected \(hex(offset)): \(error)") }
            case .loads: problems.append("expected to load, was rejected: \(error)")
            }
            return CaseRun(corpusCase: c, result: nil, snapshot: nil, verdicts: [], error: error, problems: problems)
        }
        var snap: BootSnapshot
        do { snap = try BootSnapshot.of(result, kernel: kernel, initrd: initrd, commandLine: c.options.commandLine) } catch {
            return CaseRun(corpusCase: c, result: result, snapshot: nil, verdicts: [], error: .source(error), problems: ["snapshot failed: \(error)"])
        }
        if !c.faults.isEmpty {
            var t = FaultTarget(snapshot: snap, result: result)
            for f in c.faults { f.apply(&t) }
            snap = t.snapshot
            snap.producer = "reference-loader+faults(\(c.faults.map(\.name).joined(separator: ",")))"
        }
        let verdicts = judge(snap)
        var problems: [String] = []
        switch c.expectation {
        case .rejected(let rule, _, _):
            problems.append("expected rejection by \(rule), but it loaded")
        case let .loads(placement, fail, pass, warns, warnVerdicts):
            let warned = Set(result.warnings.map(\.rule))
            for w in warns.subtracting(warned).sorted() { problems.append("expected a \(w) warning; warnings were \(result.warnings)") }
            for w in warned.subtracting(warns).sorted() { problems.append("unexpected \(w) warning: \(result.warnings.filter { $0.rule == w })") }
            let observed: [String: UInt64?] = [
                "kernel": result.kernelAddress, "zeroPage": result.bootParams, "cmdline": result.commandLine.address,
                "initrd": result.initrd?.start, "entry": result.entry.rip, "startInfo": result.startInfo,
            ]
            for (k, want) in placement.sorted(by: { $0.key < $1.key }) {
                guard let got = observed[k] else { problems.append("unknown placement key \(k)"); continue }
                if got != want { problems.append("\(k) at \(got.map { hex($0) } ?? "none"), expected \(hex(want))") }
            }
            let failed = Set(verdicts.filter { $0.outcome == .fail }.map(\.rule))
            for r in failed.subtracting(fail.rules).sorted() { problems.append("\(r) fails unexpectedly: \(verdicts.first { $0.rule == r }!.evidence)") }
            for r in fail.rules.subtracting(failed).sorted() { problems.append("\(r) expected to fail (\(fail.reason(r)!)), was \(verdicts.first { $0.rule == r }.map { "\($0.outcome.rawValue): \($0.evidence)" } ?? "not judged")") }
            let warnedRules = Set(verdicts.filter { $0.outcome == .warn }.map(\.rule))
            for r in warnedRules.subtracting(warnVerdicts).sorted() { problems.append("\(r) warns unexpectedly: \(verdicts.first { $0.rule == r }!.evidence)") }
            for r in warnVerdicts.subtracting(warnedRules).sorted() { problems.append("\(r) expected to warn, was \(verdicts.first { $0.rule == r }.map { "\($0.outcome.rawValue): \($0.evidence)" } ?? "not judged")") }
            for r in pass.sorted() {
                if let v = verdicts.first(where: { $0.rule == r }), v.outcome != .pass { problems.append("\(r) expected to pass, was \(v.outcome.rawValue): \(v.evidence)") }
            }
        }
        return CaseRun(corpusCase: c, result: result, snapshot: snap, verdicts: verdicts, error: nil, problems: problems)
    }
}
