import Foundation

/// A snapshot file (`boot-snapshot/1`) read back.
///
/// The file keeps the zero page and start_info as rows, the command line as text, the memory
/// map, the initrd range, the setup_data headers and every region by SHA-256, so the memory of
/// a decoded snapshot holds exactly those bytes (`CapturedMemory`): enough to give the same
/// file back, not the page tables, GDT or kernel bytes a rule would read in a live snapshot.
public struct DecodedSnapshot: Sendable {
    public var snapshot: BootSnapshot
    /// The verdicts the file recorded, by rule id (empty when it has none).
    public var verdicts: [String: Outcome]
}

/// Why a snapshot file could not be read: the JSON path, what was expected there and what was found.
public struct SnapshotDecodeError: Error, Equatable, CustomStringConvertible, Sendable {
    public let path: String
    public let expected: String
    public let found: String
    public init(path: String, expected: String, found: String) { self.path = path; self.expected = expected; self.found = found }
    public var description: String { "snapshot file (\(SnapshotJSON.formatVersion)), \(path): expected \(expected), found \(found)" }
}

extension SnapshotJSON {
    /// Files larger than this are refused before parsing (a snapshot of a real kernel is ~20 KB).
    public static let maxFileBytes = 16 << 20

    /// Reads a snapshot file. Every value is checked for type and range, and the file must be
    /// self-consistent: the snapshot it decodes to must encode to the same document (less the
    /// verdicts), so a hand-edited field that disagrees with the rows it is derived from is
    /// named, never silently dropped.
    public static func decode(_ bytes: [UInt8]) throws(SnapshotDecodeError) -> DecodedSnapshot {
        guard bytes.count <= maxFileBytes else { throw SnapshotDecodeError(path: "(file)", expected: "at most \(maxFileBytes) bytes", found: "\(bytes.count) bytes") }
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            throw SnapshotDecodeError(path: "(file)", expected: "a JSON document", found: "a parse error (\(error.localizedDescription))")
        }
        let root = try Field.object(parsed, "(top level)")
        let decoded = try decodeObject(root)
        // Self-consistency: the same document back, verdicts aside (they are kept as given).
        var given = root
        given.removeValue(forKey: "verdicts")
        let again: Any
        // Written and read back only to compare values as JSON gives them: no key sorting or
        // pretty printing (`data(_:)`), which cost more than the rest of the decode.
        do { again = try JSONSerialization.jsonObject(with: JSONSerialization.data(withJSONObject: object(decoded.snapshot))) } catch {
            throw SnapshotDecodeError(path: "(file)", expected: "a snapshot that encodes again", found: "\(error.localizedDescription)")
        }
        if let d = JSONDifference.diff(expected: given, found: again).first {
            throw SnapshotDecodeError(path: d.path, expected: "\(d.found ?? "(absent)"), which the file's own bytes and fields give", found: d.expected ?? "(absent)")
        }
        return decoded
    }

    static func decodeObject(_ o: [String: Any]) throws(SnapshotDecodeError) -> DecodedSnapshot {
        let format = try Field.string(o, "format", "")
        guard format == formatVersion else { throw SnapshotDecodeError(path: "format", expected: "\"\(formatVersion)\"", found: "\"\(format.prefix(64))\"") }
        let producer = try Field.string(o, "producer", "")
        let image = try decodeImage(try Field.object(o["image"], "image"))
        let inputsObject = try Field.object(o["inputs"], "inputs")
        var inputs = InputRecord(commandLine: Array(try Field.string(inputsObject, "commandLine", "inputs.").utf8))
        if let rd = inputsObject["initrd"] {
            let r = try Field.object(rd, "inputs.initrd")
            inputs.initrdSize = try Field.hex(r, "size", "inputs.initrd.")
            inputs.initrdSHA256 = try Field.string(r, "sha256", "inputs.initrd.")
        }
        let entry = try decodeEntry(try Field.object(o["entry"], "entry"))
        let kernelAddress = try Field.hex(o, "kernelAddress", "")

        var memory = CapturedMemory()
        var regions: [Region] = []
        for (i, v) in try Field.array(o["regions"], "regions").enumerated() {
            let p = "regions[\(i)]."
            let r = try Field.object(v, "regions[\(i)]")
            let range = try Field.range(r, p)
            regions.append(Region(name: try Field.string(r, "name", p), range: range))
            let sha = try Field.string(r, "sha256", p)
            if sha != "not captured" { memory.hashes[range] = sha }
        }

        // The bytes the file holds, in the order the encoder reads them.
        if let zpValue = o["zeroPage"] {
            let z = try Field.object(zpValue, "zeroPage")
            memory.pieces.append((try Field.hex(z, "address", "zeroPage."), try Field.rows(z, size: 4096, path: "zeroPage.")))
        }
        var startInfo: StartInfo.Fields? = nil
        if let siValue = o["startInfo"] {
            let s = try Field.object(siValue, "startInfo")
            let b = try Field.rows(s, size: StartInfo.size, path: "startInfo.")
            memory.pieces.append((try Field.hex(s, "address", "startInfo."), b))
            startInfo = StartInfo.Fields(bytes: b)
        }
        if let c = o["commandLine"] {
            let cl = try Field.object(c, "commandLine")
            let text = try Field.string(cl, "text", "commandLine.")
            if text != noNUL { memory.pieces.append((try Field.hex(cl, "address", "commandLine."), Array(text.utf8) + [0])) }
        }
        func entries(_ key: String) throws(SnapshotDecodeError) -> [E820Entry] {
            var out: [E820Entry] = []
            for (i, v) in try Field.array(o[key], key).prefix(4097).enumerated() {
                let e = try Field.object(v, "\(key)[\(i)]"), p = "\(key)[\(i)]."
                out.append(E820Entry(address: try Field.hex(e, "address", p), size: try Field.hex(e, "size", p), type: E820Type(rawValue: try Field.hex(e, "type", p, max: UInt64(UInt32.max)).u32)))
            }
            return out
        }
        let e820 = try Field.array(o["e820"], "e820")
        // 16-bit entry: the firmware's INT 15h map, when the snapshot had one.
        let firmwareMap = o["firmwareE820"] == nil ? nil : try entries("firmwareE820")
        if o["zeroPage"] == nil, let si = startInfo, e820.count <= 4096 {
            // PVH: the memmap table the e820 list was read from.
            let list = try entries("e820")
            if !list.isEmpty { memory.pieces.append((si.memmap, StartInfo.memmap(list))) }
            if si.nrModules > 0, let rdValue = o["initrd"] {
                let rd = try Field.object(rdValue, "initrd")
                memory.pieces.append((si.modlist, StartInfo.module(address: try Field.hex(rd, "address", "initrd."), size: try Field.hex(rd, "size", "initrd."))))
            }
        }
        for (i, v) in try Field.array(o["setupData"], "setupData").prefix(257).enumerated() {
            let n = try Field.object(v, "setupData[\(i)]"), p = "setupData[\(i)]."
            let header = SetupData.header(next: try Field.hex(n, "next", p), type: try Field.hex(n, "type", p, max: UInt64(UInt32.max)).u32,
                                          length: try Field.hex(n, "length", p, max: UInt64(UInt32.max)).u32)
            memory.pieces.append((try Field.hex(n, "address", p), header))
        }
        var warnings: [Warning] = []
        for (i, v) in try Field.array(o["warnings"], "warnings").enumerated() {
            guard let text = v as? String else { throw SnapshotDecodeError(path: "warnings[\(i)]", expected: "a string", found: Field.kind(v)) }
            warnings.append(try Field.warning(text, "warnings[\(i)]"))
        }
        var verdicts: [String: Outcome] = [:]
        if let vv = o["verdicts"] {
            for (rule, outcome) in try Field.object(vv, "verdicts") {
                guard let text = outcome as? String, let out = Outcome(rawValue: text) else {
                    throw SnapshotDecodeError(path: "verdicts.\(rule)", expected: "\"pass\", \"fail\", \"warn\" or \"n/a\"", found: Field.kind(outcome))
                }
                verdicts[rule] = out
            }
        }
        let snap = BootSnapshot(producer: producer, image: image, inputs: inputs, entry: entry, kernelAddress: kernelAddress, memory: memory, regions: regions, warnings: warnings,
                                firmwareMemoryMap: firmwareMap)
        return DecodedSnapshot(snapshot: snap, verdicts: verdicts)
    }

    /// What the encoder writes when the command line has no NUL within its limit.
    static let noNUL = "(no NUL within the limit)"

    static func decodeImage(_ o: [String: Any]) throws(SnapshotDecodeError) -> ImageRecord {
        let f = try Field.string(o, "format", "image.")
        guard let format = ImageRecord.Format(rawValue: f) else { throw SnapshotDecodeError(path: "image.format", expected: "\"bzImage\" or \"elf\"", found: "\"\(f.prefix(64))\"") }
        var r = ImageRecord(format: format, fileSize: try Field.hex(o, "fileSize", "image."), sha256: try Field.string(o, "sha256", "image."))
        switch format {
        case .bzImage:
            r.headerBytes = try Field.rows(o, key: "headerRows", size: Int(min(UInt64(SetupHeaderLayout.areaEnd), r.fileSize)), from: 0x1F0, path: "image.")
            let pm = try Field.object(o["protectedMode"], "image.protectedMode")
            r.protectedModeOffset = try Field.hex(pm, "offset", "image.protectedMode.")
            r.protectedModeLength = try Field.hex(pm, "length", "image.protectedMode.")
            r.protectedModeSHA256 = try Field.string(pm, "sha256", "image.protectedMode.")
        case .elf:
            r.elfEntry = try Field.hex(o, "entry", "image.")
            for (i, v) in try Field.array(o["segments"], "image.segments").enumerated() {
                let s = try Field.object(v, "image.segments[\(i)]"), p = "image.segments[\(i)]."
                r.segments.append(.init(paddr: try Field.hex(s, "paddr", p), fileSize: try Field.hex(s, "fileSize", p), memorySize: try Field.hex(s, "memorySize", p),
                                        align: try Field.hex(s, "align", p), sha256: try Field.string(s, "sha256", p)))
            }
            for (i, v) in try Field.array(o["notes"], "image.notes").enumerated() {
                let n = try Field.object(v, "image.notes[\(i)]"), p = "image.notes[\(i)]."
                r.notes.append(.init(name: try Field.string(n, "name", p), type: try Field.hex(n, "type", p, max: UInt64(UInt32.max)).u32, desc: try Field.bytes(n, "desc", p)))
            }
            // BP-73…BP-77's raw facts; a snapshot written before they were recorded has none.
            if o["header"] != nil { r.headerBytes = try Field.bytes(o, "header", "image.", max: 64) }
            if o["programHeaders"] != nil { r.programHeaders = try Field.bytes(o, "programHeaders", "image.", max: 0xFFFE * 56) }
            if o["noteSegments"] != nil {
                r.noteSegments = []
                for (i, v) in try Field.array(o["noteSegments"], "image.noteSegments").enumerated() {
                    let n = try Field.object(v, "image.noteSegments[\(i)]"), p = "image.noteSegments[\(i)]."
                    r.noteSegments?.append(.init(offset: try Field.hex(n, "offset", p), bytes: try Field.bytes(n, "bytes", p, max: 4 << 20)))
                }
            }
            // Absent in snapshot files written before it was recorded.
            if o["noteAlign"] != nil {
                for (i, v) in try Field.array(o["noteAlign"], "image.noteAlign").enumerated() {
                    guard let s = v as? String, let a = parseNumber(s) else { throw SnapshotDecodeError(path: "image.noteAlign[\(i)]", expected: "a hex number", found: "\(v)") }
                    r.noteAlignments.append(a)
                }
            }
        }
        return r
    }

    static func decodeEntry(_ o: [String: Any]) throws(SnapshotDecodeError) -> EntryState {
        let ep = try Field.string(o, "entryPoint", "entry.")
        guard let point = EntryPoint(rawValue: ep) else {
            throw SnapshotDecodeError(path: "entry.entryPoint", expected: EntryPoint.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "), found: "\"\(ep.prefix(64))\"")
        }
        var e = EntryState(entryPoint: point)
        let regs = try Field.object(o["registers"], "entry.registers")
        for (name, _) in e.generalRegisters { _ = e.setGeneralRegister(name, try Field.hex(regs, name, "entry.registers.")) }
        if let extra = regs.keys.sorted().first(where: { k in !e.generalRegisters.contains { $0.0 == k } }) {
            throw SnapshotDecodeError(path: "entry.registers.\(extra)", expected: "one of " + e.generalRegisters.map(\.0).joined(separator: ", "), found: "an unknown register")
        }
        e.cr0 = try Field.hex(o, "cr0", "entry."); e.cr3 = try Field.hex(o, "cr3", "entry.")
        e.cr4 = try Field.hex(o, "cr4", "entry."); e.efer = try Field.hex(o, "efer", "entry.")
        for (key, path) in [("gdtr", "entry.gdtr"), ("idtr", "entry.idtr")] {
            let t = try Field.object(o[key], path)
            let reg = TableRegister(base: try Field.hex(t, "base", path + "."), limit: UInt16(try Field.hex(t, "limit", path + ".", max: 0xFFFF)))
            if key == "gdtr" { e.gdtr = reg } else { e.idtr = reg }
        }
        let segs = try Field.object(o["segments"], "entry.segments")
        for (name, _) in e.segments {
            let s = try Field.object(segs[name], "entry.segments.\(name)"), p = "entry.segments.\(name)."
            let dpl = try Field.int(s, "dpl", p, max: 3)
            let reg = SegmentRegister(selector: UInt16(try Field.hex(s, "selector", p, max: 0xFFFF)), base: try Field.hex(s, "base", p),
                                      limit: try Field.hex(s, "limit", p, max: UInt64(UInt32.max)).u32, type: UInt8(try Field.hex(s, "type", p, max: 0xFF)),
                                      present: try Field.bool(s, "present", p), dpl: UInt8(dpl), db: try Field.bool(s, "db", p), s: try Field.bool(s, "s", p),
                                      l: try Field.bool(s, "l", p), g: try Field.bool(s, "g", p))
            switch name {
            case "cs": e.cs = reg; case "ds": e.ds = reg; case "es": e.es = reg; case "ss": e.ss = reg
            case "fs": e.fs = reg; case "gs": e.gs = reg; default: e.tr = reg
            }
        }
        return e
    }
}

private extension UInt64 {
    /// Callers have checked the value against UInt32.max.
    var u32: UInt32 { UInt32(truncatingIfNeeded: self) }
}

/// Typed access to a parsed JSON document, every failure naming its path.
enum Field {
    static func kind(_ v: Any?) -> String {
        switch v {
        case nil: return "(absent)"
        case let s as String: return "the string \"\(s.prefix(64))\""
        case is [String: Any]: return "an object"
        case is [Any]: return "an array"
        case is NSNull: return "null"
        case let n as NSNumber: return "the number \(n)"
        default: return "a \(type(of: v!))"
        }
    }
    static func object(_ v: Any?, _ path: String) throws(SnapshotDecodeError) -> [String: Any] {
        guard let o = v as? [String: Any] else { throw SnapshotDecodeError(path: path, expected: "an object", found: kind(v)) }
        return o
    }
    static func array(_ v: Any?, _ path: String) throws(SnapshotDecodeError) -> [Any] {
        guard let a = v as? [Any] else { throw SnapshotDecodeError(path: path, expected: "an array", found: kind(v)) }
        guard a.count <= 65_536 else { throw SnapshotDecodeError(path: path, expected: "at most 65,536 elements", found: "\(a.count)") }
        return a
    }
    static func string(_ o: [String: Any], _ key: String, _ prefix: String) throws(SnapshotDecodeError) -> String {
        guard let s = o[key] as? String else { throw SnapshotDecodeError(path: prefix + key, expected: "a string", found: kind(o[key])) }
        return s
    }
    static func bool(_ o: [String: Any], _ key: String, _ prefix: String) throws(SnapshotDecodeError) -> Bool {
        guard let b = o[key] as? Bool else {
            throw SnapshotDecodeError(path: prefix + key, expected: "true or false", found: kind(o[key]))
        }
        return b
    }
    static func int(_ o: [String: Any], _ key: String, _ prefix: String, max: Int) throws(SnapshotDecodeError) -> Int {
        guard let n = o[key] as? NSNumber, let i = Int(exactly: n.doubleValue), (0...max).contains(i) else {
            throw SnapshotDecodeError(path: prefix + key, expected: "an integer 0…\(max)", found: kind(o[key]))
        }
        return i
    }
    /// Bytes as an even number of hex digits, at most `max` of them (1 MiB unless told).
    static func bytes(_ o: [String: Any], _ key: String, _ prefix: String, max: Int = 1 << 20) throws(SnapshotDecodeError) -> [UInt8] {
        let d = try string(o, key, prefix)
        guard d.utf8.count <= 2 * max, let b = [UInt8](hex: d) else {
            throw SnapshotDecodeError(path: prefix + key, expected: "an even number of hex digits (at most \(max) bytes)", found: "\"\(d.prefix(32))…\"")
        }
        return b
    }
    /// "0x…" with 1–16 hex digits, at most `max`.
    static func hex(_ o: [String: Any], _ key: String, _ prefix: String, max: UInt64 = .max) throws(SnapshotDecodeError) -> UInt64 {
        guard let s = o[key] as? String else { throw SnapshotDecodeError(path: prefix + key, expected: "a hex string \"0x…\"", found: kind(o[key])) }
        guard let v = parseHexLiteral(s), v <= max else {
            throw SnapshotDecodeError(path: prefix + key, expected: "a hex string \"0x…\" of at most \(hexText(max))", found: "\"\(s.prefix(64))\"")
        }
        return v
    }
    static func range(_ o: [String: Any], _ prefix: String) throws(SnapshotDecodeError) -> AddressRange {
        let a = try hex(o, "address", prefix), n = try hex(o, "length", prefix)
        guard let r = AddressRange.make(a, length: n) else { throw SnapshotDecodeError(path: prefix + "length", expected: "a range that ends at or below 2^64", found: "\(hexText(a)) + \(hexText(n))") }
        return r
    }
    /// 16-byte rows keyed by offset ("0x1F0": "00ff…") into `size` bytes; rows start at `from`
    /// rounded down to 16, and the last row may be short when `size` is not a multiple of 16.
    static func rows(_ o: [String: Any], key: String = "rows", size: Int, from: Int = 0, path: String) throws(SnapshotDecodeError) -> [UInt8] {
        let rows = try object(o[key], path + key)
        var b = [UInt8](repeating: 0, count: size)
        for (k, v) in rows {
            let p = path + key + "." + k
            guard k.utf8.count <= 6, let o = parseHexLiteral(k), let off = Int(exactly: o), off % 16 == 0, off >= from - from % 16, off < size else {   // 1–4 digits
                throw SnapshotDecodeError(path: p, expected: "a row offset \"0x…\", a multiple of 16 in \(hexText(from - from % 16))…\(hexText(max(size - 1, 0)))", found: "the key \"\(k.prefix(32))\"")
            }
            let want = min(16, size - off)
            guard let text = v as? String, let row = [UInt8](hex: text), row.count == want else {
                throw SnapshotDecodeError(path: p, expected: "\(want) bytes as \(want * 2) hex digits", found: kind(v))
            }
            b.put(bytes: row, at: off)
        }
        return b
    }
    /// "warning BP-nn: message", as `Warning.description` writes it.
    static func warning(_ text: String, _ path: String) throws(SnapshotDecodeError) -> Warning {
        let prefix = "warning "
        guard text.hasPrefix(prefix), let colon = text.range(of: ": ") else {
            throw SnapshotDecodeError(path: path, expected: "\"warning RULE: message\"", found: "\"\(text.prefix(64))\"")
        }
        return Warning(rule: RuleID(String(text[text.index(text.startIndex, offsetBy: prefix.count)..<colon.lowerBound])), message: String(text[colon.upperBound...]))
    }
}

/// `hex` for code inside `Field`, whose own `hex` hides the global one.
private func hexText<T: BinaryInteger>(_ v: T) -> String { hex(v) }
