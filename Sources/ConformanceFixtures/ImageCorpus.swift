import Conformance
import Foundation

/// The synthetic arm64/riscv64 Image corpus (`Corpus/synthetic-image/manifest.json`): recipes
/// for Image files (header fields, length), how to load them (platform, command line,
/// initrd, faults), and what the protocol requires to happen, written from booting.rst,
/// boot.rst and boot-image-header.rst and the reference Image loader's documented layout
/// (DESIGN.md), never recorded from the loader.
public struct ImageCorpusCase: Sendable, CustomStringConvertible {
    public let id: String
    public let about: String
    public let architecture: ImageBootSnapshot.Architecture
    public let image: [UInt8]
    public let options: ImageLoadOptions
    public let faults: [ImageLoaderFault]
    public let expectation: ImageExpectation
    public var description: String { id }
}

public enum ImageExpectation: Sendable, Equatable {
    /// The loader refuses: this rule, this field, at this offset of the Image (header
    /// refusals) or none (placement refusals).
    case rejected(rule: RuleID, field: String, offset: Int?)
    /// The loader places the kernel, DTB and initrd at these addresses (keys kernel, dtb,
    /// initrd); exactly these rules fail (rule → the document's clause it breaks) and exactly
    /// these rules warn.
    case loads(placement: [String: UInt64], fail: [RuleID: String], warn: Set<RuleID>)
}

/// What a case did and how it differs from its expectation.
public struct ImageCaseRun: Sendable {
    public let corpusCase: ImageCorpusCase
    public let snapshot: ImageBootSnapshot?
    public let verdicts: [Verdict]
    public let error: ImageLoadError?
    /// Each way the run differs from the manifest; empty when it behaves as written.
    public let problems: [String]
}

public enum ImageCorpus {
    /// The recipe's default file length: the header and a body of a byte pattern.
    static let defaultFileSize: UInt64 = 0x1_0000

    /// Reads the manifest; every error names the case and key.
    public static func load(manifest path: String) throws(ManifestError) -> [ImageCorpusCase] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path, reason: "no such file, or not readable") }
        let root: [String: Any]
        do {
            guard let r = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw ManifestError.badValue(caseID: "(manifest)", key: "(top level)", found: "not an object") }
            root = r
        } catch let e as ManifestError { throw e } catch { throw .badValue(caseID: "(manifest)", key: "(file)", found: "not JSON: \(error.localizedDescription)") }
        guard let cases = root["cases"] as? [[String: Any]] else { throw .badValue(caseID: "(manifest)", key: "cases", found: "missing or not a list of objects") }
        var seen = Set<String>()
        return try cases.map { (d: [String: Any]) throws(ManifestError) -> ImageCorpusCase in
            let c = try read(d)
            guard seen.insert(c.id).inserted else { throw .badValue(caseID: c.id, key: "id", found: "a second case with this id") }
            return c
        }
    }

    static func read(_ d: [String: Any]) throws(ManifestError) -> ImageCorpusCase {
        guard let id = d["id"] as? String, !id.isEmpty else { throw .badValue(caseID: "(unnamed)", key: "id", found: "\(d["id"] ?? "missing")") }
        func num(_ o: [String: Any], _ k: String, _ path: String) throws(ManifestError) -> UInt64? {
            guard let v = o[k] else { return nil }
            guard let s = v as? String, let n = parseNumber(s) else { throw .badValue(caseID: id, key: path, found: "\(v) (expected \"0x…\")") }
            return n
        }
        let known: Set<String> = ["id", "about", "arch", "header", "fileSize", "platform", "commandLine", "initrdSize", "faults", "expect"]
        if let k = d.keys.sorted().first(where: { !known.contains($0) }) { throw .badValue(caseID: id, key: k, found: "an unknown key") }
        guard let archText = d["arch"] as? String, let arch = ImageBootSnapshot.Architecture(rawValue: archText) else { throw .badValue(caseID: id, key: "arch", found: "\(d["arch"] ?? "missing") (expected arm64 or riscv64)") }
        let h = d["header"] as? [String: Any] ?? [:]
        let headerKeys: Set<String> = ["text_offset", "image_size", "flags", "version", "magic", "magic2", "pe_offset"]
        if let k = h.keys.sorted().first(where: { !headerKeys.contains($0) }) { throw .badValue(caseID: id, key: "header.\(k)", found: "an unknown header field") }
        var fields: [String: UInt64] = [:]
        for k in headerKeys { if let v = try num(h, k, "header.\(k)") { fields[k] = v } }
        let image = synthesize(id: id, arch, fields: fields, fileSize: try num(d, "fileSize", "fileSize") ?? defaultFileSize)

        let p = d["platform"] as? [String: Any] ?? [:]
        var platform = ImagePlatform.qemuVirt(arch, ramSize: try num(p, "ramSize", "platform.ramSize") ?? 512 << 20, exceptionLevel: try num(p, "el", "platform.el") ?? 1)
        platform.iccSreEL2 = try num(p, "iccSreEL2", "platform.iccSreEL2")
        let initrd = try num(d, "initrdSize", "initrdSize").map { n in (0..<Int(n)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) } }
        let options = ImageLoadOptions(platform: platform, commandLine: d["commandLine"] as? String ?? "console=ttyAMA0 panic=-1", initrd: initrd)

        let faults = try (d["faults"] as? [String] ?? []).map { (n: String) throws(ManifestError) -> ImageLoaderFault in
            guard let f = ImageLoaderFault.named(n), f.architectures.contains(arch) else { throw .badValue(caseID: id, key: "faults", found: "\(n) (no such \(arch) fault)") }
            return f
        }
        guard let e = d["expect"] as? [String: Any] else { throw .badValue(caseID: id, key: "expect", found: "missing") }
        let expectation: ImageExpectation
        if let r = e["rejected"] as? [String: Any] {
            guard let rule = r["rule"] as? String, ImageRuleCatalogue.rule(RuleID(rule)) != nil, let field = r["field"] as? String else {
                throw .badValue(caseID: id, key: "expect.rejected", found: "\(r) (expected rule, a catalogue id, and field)")
            }
            expectation = .rejected(rule: RuleID(rule), field: field, offset: try num(r, "offset", "expect.rejected.offset").map { Int($0) })
        } else if let l = e["loads"] as? [String: Any] {
            var placement: [String: UInt64] = [:]
            for k in ["kernel", "dtb", "initrd"] { if let v = try num(l, k, "expect.loads.\(k)") { placement[k] = v } }
            guard placement["kernel"] != nil else { throw .badValue(caseID: id, key: "expect.loads.kernel", found: "missing") }
            guard let fail = l["failBySpec"] as? [String: String] else { throw .badValue(caseID: id, key: "expect.loads.failBySpec", found: "missing (write {} when no rule fails)") }
            for (rule, clause) in fail {
                guard let r = ImageRuleCatalogue.rule(RuleID(rule)), r.architecture == arch else { throw .badValue(caseID: id, key: "expect.loads.failBySpec.\(rule)", found: "not an \(arch) rule of the catalogue") }
                guard !clause.isEmpty, !clause.contains("\n") else { throw .badValue(caseID: id, key: "expect.loads.failBySpec.\(rule)", found: "\"\(clause)\" (expected one line: the clause broken)") }
            }
            let warn = Set((l["warn"] as? [String] ?? []).map { RuleID($0) })
            expectation = .loads(placement: placement, fail: Dictionary(uniqueKeysWithValues: fail.map { (RuleID($0.key), $0.value) }), warn: warn)
        } else { throw .badValue(caseID: id, key: "expect", found: "neither rejected nor loads") }
        return ImageCorpusCase(id: id, about: d["about"] as? String ?? "", architecture: arch, image: image, options: options, faults: faults, expectation: expectation)
    }

    /// An Image of `fileSize` bytes (a short file is cut, header included): the header with
    /// the recipe's fields over the architecture's defaults, then a byte pattern seeded by
    /// the case id. Defaults: arm64 text_offset 0, image_size 2 MiB, flags 0xA (LE, 4K pages,
    /// place anywhere), as a 6.12 4K build writes; riscv64 text_offset 0x200000, image_size
    /// 2 MiB, flags 0, version 0.2, both magics, as head.S writes. code0/code1 are placeholder
    /// words (the bytes are never executed): arm64 0xFA405A4D ("MZ"), riscv64 a `j` over the
    /// header.
    public static func synthesize(id: String, _ arch: ImageBootSnapshot.Architecture, fields: [String: UInt64], fileSize: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: max(Int(min(fileSize, 1 << 26)), ImageHeader.size))
        var seed = UInt64(truncatingIfNeeded: id.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) })
        for i in ImageHeader.size..<b.count { seed = seed &* 6364136223846793005 &+ 1442695040888963407; b[i] = UInt8(truncatingIfNeeded: seed >> 56) }
        func f(_ k: String, _ d: UInt64) -> UInt64 { fields[k] ?? d }
        switch arch {
        case .arm64:
            b.put32(0xFA40_5A4D, at: 0); b.put32(0x1400_0010, at: 4)
            b.put64(f("text_offset", 0), at: 0x08); b.put64(f("image_size", 2 << 20), at: 0x10); b.put64(f("flags", 0xA), at: 0x18)
            b.put64(0, at: 0x20); b.put64(0, at: 0x28); b.put64(0, at: 0x30)
            b.put32(UInt32(truncatingIfNeeded: f("magic", UInt64(ImageHeader.arm64Magic))), at: 0x38)
        case .riscv64:
            b.put32(0x0400_006F, at: 0); b.put32(0, at: 4)
            b.put64(f("text_offset", 0x20_0000), at: 0x08); b.put64(f("image_size", 2 << 20), at: 0x10); b.put64(f("flags", 0), at: 0x18)
            b.put32(UInt32(truncatingIfNeeded: f("version", 2)), at: 0x20); b.put32(0, at: 0x24); b.put64(0, at: 0x28)
            b.put64(f("magic", ImageHeader.riscvMagic), at: 0x30)
            b.put32(UInt32(truncatingIfNeeded: f("magic2", UInt64(ImageHeader.riscvMagic2))), at: 0x38)
        }
        b.put32(UInt32(truncatingIfNeeded: f("pe_offset", 0)), at: 0x3C)
        return Array(b.prefix(Int(min(fileSize, UInt64(b.count)))))
    }

    public static func run(_ c: ImageCorpusCase) -> ImageCaseRun {
        let loaded: ImageLoadResult
        do { loaded = try ReferenceImageLoader.load(c.image, c.options) } catch {
            var problems: [String] = []
            switch c.expectation {
            case let .rejected(rule, field, offset):
                if error.rule != rule || error.field != field || error.offset != offset {
                    problems.append("refused as \(error) (rule \(error.rule), field \(error.field), offset \(error.offset.map(hex) ?? "none")); expected \(rule), \(field), \(offset.map(hex) ?? "none")")
                }
            case .loads: problems.append("refused: \(error)")
            }
            return ImageCaseRun(corpusCase: c, snapshot: nil, verdicts: [], error: error, problems: problems)
        }
        var s = loaded.snapshot
        for f in c.faults { s = f.applied(to: s) }
        if !c.faults.isEmpty { s.producer = ReferenceImageLoader.producer + "+faults(\(c.faults.map(\.name).joined(separator: ",")))" }
        let verdicts = judge(s)
        var problems: [String] = []
        switch c.expectation {
        case let .rejected(rule, _, _): problems.append("loaded; expected a refusal by \(rule)")
        case let .loads(placement, fail, warn):
            let found: [String: UInt64?] = ["kernel": s.loadAddress, "dtb": s.dtbAddress, "initrd": s.initrd?.start]
            for (k, v) in placement.sorted(by: { $0.key < $1.key }) where found[k] != .some(v) {
                problems.append("\(k) at \(found[k]??.description ?? "nowhere"), expected \(hex(v))")
            }
            let failed = Set(verdicts.filter { $0.outcome == .fail }.map(\.rule)), warned = Set(verdicts.filter { $0.outcome == .warn }.map(\.rule))
            for v in verdicts {
                if v.outcome == .fail && fail[v.rule] == nil { problems.append("\(v) (not expected to fail)") }
                if v.outcome == .warn && !warn.contains(v.rule) { problems.append("\(v) (not expected to warn)") }
            }
            for r in Set(fail.keys).subtracting(failed).sorted() { problems.append("\(r) did not fail (\(fail[r]!)): \(verdicts.first { $0.rule == r }?.description ?? "not judged")") }
            for r in warn.subtracting(warned).sorted() { problems.append("\(r) did not warn: \(verdicts.first { $0.rule == r }?.description ?? "not judged")") }
        }
        return ImageCaseRun(corpusCase: c, snapshot: s, verdicts: verdicts, error: nil, problems: problems)
    }
}
