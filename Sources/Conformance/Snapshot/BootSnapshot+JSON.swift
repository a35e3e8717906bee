import Foundation

/// The documented JSON form of a boot snapshot (`DESIGN.md`, "Snapshot JSON").
///
/// Numbers that are addresses or register values are hex strings ("0x1000000"), because JSON
/// numbers lose precision above 2^53. Keys are sorted, so the same snapshot always gives the
/// same bytes. Large regions are recorded by SHA-256; the zero page and start_info are kept
/// as 16-byte rows of hex (only nonzero rows), and decoded field by field.
public enum SnapshotJSON {
    public static let formatVersion = "boot-snapshot/1"

    public static func object(_ s: BootSnapshot, verdicts: [Verdict]? = nil) -> [String: Any] {
        var o: [String: Any] = ["format": formatVersion, "producer": s.producer, "kernelAddress": hex(s.kernelAddress)]
        o["image"] = image(s.image)
        var inputs: [String: Any] = ["commandLine": String(decoding: s.inputs.commandLine, as: UTF8.self)]
        if let size = s.inputs.initrdSize { inputs["initrd"] = ["size": hex(size), "sha256": s.inputs.initrdSHA256 ?? ""] }
        o["inputs"] = inputs
        o["entry"] = entry(s.entry)
        o["regions"] = s.regions.map { r -> [String: Any] in
            ["name": r.name, "address": hex(r.range.start), "length": hex(r.range.length), "sha256": s.memory.sha256(at: r.range.start, length: r.range.length) ?? "not captured"]
        }
        let c = RuleContext(s)
        if let b = c.B, let zp = c.zp {
            var z: [String: Any] = ["address": hex(b), "rows": rows(zp)]
            var header: [String: String] = [:]
            let end = c.isBz ? c.imageHeaderEnd : SetupHeaderLayout.end(for: .newestKnown)
            for f in ZeroPage.header where f.end <= end { header[f.name] = hex(zp.field(f)!) }
            z["header"] = header
            z["ext"] = Dictionary(uniqueKeysWithValues: Self.zeroPageOutsideHeader.map { ($0.name, hex(zp.field($0)!)) })
            o["zeroPage"] = z
        }
        if let a = c.startInfo, let f = c.si {
            o["startInfo"] = ["address": hex(a), "rows": rows(f.bytes), "magic": hex(f.magic), "version": hex(f.version), "nr_modules": hex(f.nrModules),
                              "modlist_paddr": hex(f.modlist), "cmdline_paddr": hex(f.cmdline), "rsdp_paddr": hex(f.rsdp), "memmap_paddr": hex(f.memmap), "memmap_entries": hex(f.memmapEntries)]
        }
        o["e820"] = c.e820.map(e820Object)
        if let fw = s.firmwareMemoryMap { o["firmwareE820"] = fw.map(e820Object) }
        if let a = c.commandLineAddress { o["commandLine"] = ["address": hex(a), "text": c.commandLineText.map { String(decoding: $0, as: UTF8.self) } ?? "(no NUL within the limit)"] }
        if let r = c.initrd { o["initrd"] = ["address": hex(r.start), "size": hex(r.length)] }
        // "next" as the node's header holds it, so a cycle or a dangling pointer survives a round trip.
        o["setupData"] = c.setupNodes.map { n -> [String: Any] in
            ["address": hex(n.address), "type": hex(n.type), "length": hex(n.length), "next": hex(c.memory.bytes(at: n.address, count: SetupData.headerSize).flatMap(SetupData.parseHeader)?.next ?? 0)]
        }
        o["warnings"] = s.warnings.map(\.description)
        if let verdicts { o["verdicts"] = Dictionary(uniqueKeysWithValues: verdicts.map { ($0.rule.rawValue, $0.outcome.rawValue) }) }
        return o
    }

    /// The boot_params fields outside the setup header that "zeroPage.ext" decodes.
    static let zeroPageOutsideHeader: [ZeroPage.Field] = [.acpiRsdpAddr, .extRamdiskImage, .extRamdiskSize, .extCmdLinePtr, .sentinel, .e820Entries]

    static func e820Object(_ e: E820Entry) -> [String: Any] { ["address": hex(e.address), "size": hex(e.size), "type": hex(e.type.rawValue)] }

    static func image(_ i: ImageRecord) -> [String: Any] {
        var o: [String: Any] = ["format": i.format.rawValue, "fileSize": hex(i.fileSize), "sha256": i.sha256]
        switch i.format {
        case .bzImage:
            o["headerRows"] = rows(i.headerBytes, from: 0x1F0)
            o["protectedMode"] = ["offset": hex(i.protectedModeOffset), "length": hex(i.protectedModeLength), "sha256": i.protectedModeSHA256]
        case .elf:
            o["entry"] = hex(i.elfEntry)
            o["segments"] = i.segments.map { ["paddr": hex($0.paddr), "fileSize": hex($0.fileSize), "memorySize": hex($0.memorySize), "align": hex($0.align), "sha256": $0.sha256] }
            o["notes"] = i.notes.map { ["name": $0.name, "type": hex($0.type), "desc": $0.desc.hexString] }
            o["noteAlign"] = i.noteAlignments.map { hex($0) }
            if !i.headerBytes.isEmpty { o["header"] = i.headerBytes.hexString }
            if !i.programHeaders.isEmpty { o["programHeaders"] = i.programHeaders.hexString }
            if let n = i.noteSegments { o["noteSegments"] = n.map { ["offset": hex($0.offset), "bytes": $0.bytes.hexString] } }
        }
        return o
    }

    static func entry(_ e: EntryState) -> [String: Any] {
        var regs: [String: String] = [:]
        for (n, v) in e.generalRegisters { regs[n] = hex(v) }
        var segs: [String: Any] = [:]
        for (n, s) in e.segments {
            segs[n] = ["selector": hex(s.selector), "base": hex(s.base), "limit": hex(s.limit), "type": hex(s.type), "present": s.present, "dpl": Int(s.dpl), "db": s.db, "s": s.s, "l": s.l, "g": s.g]
        }
        return ["entryPoint": e.entryPoint.rawValue, "registers": regs, "cr0": hex(e.cr0), "cr3": hex(e.cr3), "cr4": hex(e.cr4), "efer": hex(e.efer),
                "gdtr": ["base": hex(e.gdtr.base), "limit": hex(e.gdtr.limit)], "idtr": ["base": hex(e.idtr.base), "limit": hex(e.idtr.limit)], "segments": segs]
    }

    /// Nonzero 16-byte rows, keyed by offset ("0x1F0": "00ff27…").
    static func rows(_ b: [UInt8], from start: Int = 0) -> [String: String] {
        var out: [String: String] = [:]
        var o = start - start % 16
        while o < b.count {
            let row = b.slice(o, 16)
            if row.contains(where: { $0 != 0 }) {
                let digits = String(o, radix: 16, uppercase: true)   // "0x%03X" without Foundation's formatter
                out["0x" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits] = row.hexString
            }
            o += 16
        }
        return out
    }

    public static func data(_ object: [String: Any]) -> Data {
        // Sorted keys and fixed formatting: the same snapshot always gives the same bytes.
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
    }

    public static func string(_ s: BootSnapshot, verdicts: [Verdict]? = nil) -> String {
        String(decoding: data(object(s, verdicts: verdicts)), as: UTF8.self) + "\n"
    }
}

/// A field-level difference between two JSON documents, by dotted path.
public struct JSONDifference: Equatable, CustomStringConvertible, Sendable {
    public let path: String
    public let expected: String?
    public let found: String?
    public var description: String { "\(path): expected \(expected ?? "(absent)"), found \(found ?? "(absent)")" }

    /// Flattens JSON to path → scalar text.
    public static func flatten(_ v: Any, prefix: String = "") -> [String: String] {
        var out: [String: String] = [:]
        flatten(v, prefix: prefix, into: &out)
        return out
    }

    /// Into one dictionary, so nested levels are not merged level by level; where two paths
    /// spell the same ("a.b" as a key and as a nesting), the first one written stays.
    static func flatten(_ v: Any, prefix: String, into out: inout [String: String]) {
        if let d = v as? [String: Any] {
            for (k, x) in d { flatten(x, prefix: prefix.isEmpty ? k : prefix + "." + k, into: &out) }
        } else if let a = v as? [Any] {
            for (i, x) in a.enumerated() { flatten(x, prefix: prefix + "[\(i)]", into: &out) }
            if a.isEmpty, out[prefix] == nil { out[prefix] = "[]" }
        } else if out[prefix] == nil {
            if let b = v as? Bool { out[prefix] = b ? "true" : "false" } else { out[prefix] = "\(v)" }
        }
    }

    public static func diff(expected: Any, found: Any) -> [JSONDifference] {
        let a = flatten(expected), b = flatten(found)
        return Set(a.keys).union(b.keys).sorted().compactMap { k in a[k] == b[k] ? nil : JSONDifference(path: k, expected: a[k], found: b[k]) }
    }
}
