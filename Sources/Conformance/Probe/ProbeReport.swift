/// What a probe kernel reported on its serial port: the entry state and the loader's data as
/// the guest found them (format "BOOTPROBE 1", DESIGN.md "Probe report").
public struct ProbeReport: Sendable {
    public static let header = "BOOTPROBE 1"

    public struct Piece: Sendable, Equatable { public let what: String; public let address: UInt64; public let bytes: [UInt8] }
    /// A range the probe only checksummed (`hash64`, see ProbeHash64).
    public struct Hash: Sendable, Equatable { public let what: String; public let address: UInt64; public let length: UInt64; public let hash64: UInt64 }

    public var variant = ""
    public var entryPoint: EntryPoint = .long64
    /// The probe's own load address (the loader's L) and its image length.
    public var base: UInt64 = 0, imageLength: UInt64 = 0
    public var registers: [String: UInt64] = [:]
    public var control: [String: UInt64] = [:]
    public var gdtr = TableRegister(base: 0, limit: 0), idtr = TableRegister(base: 0, limit: 0)
    /// Selector and, where the GDT holds it, the 8-byte descriptor of cs ds es ss fs gs tr.
    public var segments: [String: (selector: UInt16, descriptor: UInt64?)] = [:]
    /// The 16-bit entry's registers (eax…esp, cs…gs, flags, cr0), when entered that way.
    public var realMode: [String: UInt64]? = nil
    /// 16-bit entry: how the probe's INT 15h, AX=E820 walk ended (`FirmwareMapStatus`) and the
    /// entries it got, before anything changed.
    public var firmwareMapStatus: FirmwareMapStatus? = nil
    public var firmwareMap: [E820Entry] = []
    var firmwareMapCount = 0
    /// What the EFI entries found through boot services (`efi` lines, merged): see EFIFacts.
    public var efi: [String: UInt64] = [:]
    public var pieces: [Piece] = []
    public var hashes: [Hash] = []
    /// Page-table pages as the guest found them, rebuilt from their runs.
    public var pageTables: [UInt64: [UInt8]] = [:]
    /// What the probe could not read ("zeropage addr=… len=…").
    public var unreadable: [String] = []
    public var truncated = false
    /// The report's lines as received (from the header to the end line).
    public var lineCount = 0

    public func piece(_ what: String) -> Piece? { pieces.first { $0.what == what } }

    /// The end of the probe's walk of the firmware's E820 map (Corpus/probe/layout.h E820_*).
    public enum FirmwareMapStatus: UInt64, Sendable {
        case complete = 0, noBIOS = 1, carry = 2, notSMAP = 3, full = 4
        public var description: String {
            switch self {
            case .complete: "complete (the last call returned EBX = 0)"
            case .noBIOS: "not asked: INT 15h's vector does not point into the BIOS area (no firmware)"
            case .carry: "a call returned CF = 1 before the end"
            case .notSMAP: "a call returned EAX != \"SMAP\""
            case .full: "more entries than the probe keeps (64); the rest were not asked for"
            }
        }
    }
    public func hash(_ what: String) -> Hash? { hashes.first { $0.what == what } }
}

public struct ProbeReportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 1-based line number within the report (0: the report as a whole).
    public let line: Int
    public let message: String
    public init(line: Int, message: String) { self.line = line; self.message = message }
    public var description: String { line == 0 ? "probe report: \(message)" : "probe report line \(line): \(message)" }
}

extension ProbeReport {
    /// Limits that keep a hostile or corrupt report from costing unbounded memory or time.
    public static let maximumLines = 10_000, maximumPieceBytes = 1 << 20, maximumPageTables = 4096

    /// Lines every report has; a report without one of them is refused, never read as zeros.
    public static let requiredLines = ["entry", "reg", "cr"]

    /// Finds the report in serial output (anything before the header is ignored), checks its
    /// line count and checksum, and parses it. CRLF line endings (a terminal's capture) read as
    /// LF, which is what the probe checksummed. One report per input: a second header, inside
    /// the report or after its end line, is an error; so is a missing required line or a second
    /// line of a kind that appears once.
    public static func parse(serial raw: [UInt8]) throws(ProbeReportError) -> ProbeReport {
        let frame: ProbeFrame
        do { frame = try ProbeFrame.read(serial: raw, header: header, maximumLines: maximumLines) } catch { throw ProbeReportError(line: error.line, message: error.message) }
        let lines = frame.lines.map(\.bytes)
        var r = ProbeReport()
        r.lineCount = lines.count + 1
        var first: [String: Int] = [:]
        for (k, raw) in lines.enumerated().dropFirst() {
            let line = String(decoding: raw, as: UTF8.self)
            if let key = onceKey(line) {
                if let was = first[key] { throw ProbeReportError(line: k + 1, message: "second '\(key)' line (the first is line \(was))") }
                first[key] = k + 1
            }
            try r.parseLine(line, number: k + 1)
        }
        for kind in requiredLines where first[kind] == nil {
            throw ProbeReportError(line: lines.count + 1, message: "the report ends here without its '\(kind)' line (never read as zeros)")
        }
        if r.firmwareMapStatus != nil, r.firmwareMap.count != r.firmwareMapCount {
            throw ProbeReportError(line: lines.count + 1, message: "the 'fwmap' line announces \(r.firmwareMapCount) entries, \(r.firmwareMap.count) 'fwmap-entry' lines follow")
        }
        return r
    }

    /// The key of a line kind that appears at most once ("entry", "seg cs", "mem zeropage"),
    /// nil for kinds that repeat (setup_data nodes, modules, page-table runs, newer kinds).
    static func onceKey(_ line: String) -> String? {
        let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        guard let tag = words.first else { return nil }
        switch tag {
        case "variant", "entry", "base", "rm", "reg", "cr", "gdtr", "idtr", "truncated": return tag
        case "seg", "mem", "hash64":
            guard words.count > 1, !["setup_data", "module"].contains(words[1]) else { return nil }
            return tag + " " + words[1]
        default: return nil
        }
    }

    /// Serial output with every CR that ends a line (CRLF) removed.
    static func withoutCarriageReturns(_ b: [UInt8]) -> [UInt8] {
        guard b.contains(0x0D) else { return b }
        var out: [UInt8] = []
        out.reserveCapacity(b.count)
        for (k, c) in b.enumerated() where !(c == 0x0D && k + 1 < b.count && b[k + 1] == 0x0A) { out.append(c) }
        return out
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int = 0) -> Int? {
        guard needle.count <= hay.count, from >= 0 else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == needle[0], hay[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    static func keyValues(_ line: String) -> [String: UInt64] {
        var d: [String: UInt64] = [:]
        for w in line.split(separator: " ") {
            let kv = w.split(separator: "=", maxSplits: 1)
            if kv.count == 2, let v = parseNumber(String(kv[1])) { d[String(kv[0])] = v }
        }
        return d
    }

    mutating func parseLine(_ line: String, number: Int) throws(ProbeReportError) {
        func bad(_ m: String) -> ProbeReportError { ProbeReportError(line: number, message: m) }
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let tag = words.first else { return }
        let kv = Self.keyValues(line)
        func need(_ k: String) throws(ProbeReportError) -> UInt64 {
            guard let v = kv[k] else { throw bad("'\(tag)' line lacks \(k)=") }
            return v
        }
        func num(_ i: Int) throws(ProbeReportError) -> UInt64 {
            guard i < words.count, let v = parseNumber(words[i]) else { throw bad("field \(i) of '\(tag)' is not a number: '\(i < words.count ? words[i] : "")'") }
            return v
        }
        switch tag {
        case "variant": variant = words.count > 1 ? words[1] : ""
        case "entry":
            guard words.count == 2, let e = EntryPoint(rawValue: words[1]) else { throw bad("entry must be 16, 32, 64 or pvh, found '\(words.dropFirst().joined(separator: " "))'") }
            entryPoint = e
        case "base": base = try need("addr"); imageLength = try need("len")
        case "rm": realMode = kv
        case "reg":
            for name in ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags"] {
                registers[name] = try need(name)
            }
        case "cr": for name in ["cr0", "cr3", "cr4", "efer"] { control[name] = try need(name) }
        case "gdtr", "idtr":
            let limit = try need("limit")
            guard limit <= 0xFFFF else { throw bad("\(tag) limit \(hex(limit)) exceeds 0xFFFF") }
            let t = TableRegister(base: try need("base"), limit: UInt16(limit))
            if tag == "gdtr" { gdtr = t } else { idtr = t }
        case "seg":
            guard words.count >= 2, ["cs", "ds", "es", "ss", "fs", "gs", "tr"].contains(words[1]) else { throw bad("unknown segment register") }
            let sel = try need("sel")
            guard sel <= 0xFFFF else { throw bad("selector \(hex(sel)) exceeds 0xFFFF") }
            segments[words[1]] = (UInt16(sel), kv["desc"])
        case "mem":
            guard words.count == 5 else { throw bad("mem line needs: mem WHAT ADDR LEN DATA") }
            let addr = try num(2), len = try num(3)
            guard len <= UInt64(Self.maximumPieceBytes) else { throw bad("mem \(words[1]) length \(hex(len)) exceeds \(hex(UInt64(Self.maximumPieceBytes)))") }
            guard let bytes = Self.decodeMem(words[4], length: Int(len)) else { throw bad("mem \(words[1]): data does not decode to \(len) bytes") }
            pieces.append(Piece(what: words[1], address: addr, bytes: bytes))
        case "hash64":
            guard words.count == 5 else { throw bad("hash64 line needs: hash64 WHAT ADDR LEN VALUE") }
            hashes.append(Hash(what: words[1], address: try num(2), length: try num(3), hash64: try num(4)))
        case "pt":
            guard words.count == 7 else { throw bad("pt line needs: pt TABLE LEVEL INDEX COUNT FIRST STRIDE") }
            let table = try num(1), index = try num(3), count = try num(4), first = try num(5), stride = try num(6)
            guard table & 0xFFF == 0, index < 512, count >= 1, count <= 512 - index else { throw bad("pt run [\(index), +\(count)) of table \(hex(table)) is not inside one page-table page") }
            if pageTables[table] == nil {
                guard pageTables.count < Self.maximumPageTables else { throw bad("more than \(Self.maximumPageTables) page-table pages") }
                pageTables[table] = [UInt8](repeating: 0, count: 4096)
            }
            for k in 0..<count { pageTables[table]!.put64(first &+ stride &* k, at: Int(index + k) * 8) }
        case "fwmap":
            guard firmwareMapStatus == nil else { throw bad("a second 'fwmap' line") }
            let st = try need("status")
            guard let status = FirmwareMapStatus(rawValue: st) else { throw bad("fwmap status \(hex(st)) is not one of 0…4") }
            let n = try need("count")
            guard n <= 128 else { throw bad("fwmap count \(n) exceeds 128") }
            firmwareMapStatus = status; firmwareMapCount = Int(n)
        case "fwmap-entry":
            guard firmwareMapStatus != nil else { throw bad("'fwmap-entry' before the 'fwmap' line") }
            guard firmwareMap.count < firmwareMapCount else { throw bad("more 'fwmap-entry' lines than the 'fwmap' count \(firmwareMapCount)") }
            let t = try need("type")
            guard t <= 0xFFFF_FFFF else { throw bad("fwmap-entry type \(hex(t)) exceeds 32 bits") }
            firmwareMap.append(E820Entry(address: try need("addr"), size: try need("size"), type: E820Type(rawValue: UInt32(t))))
        case "unreadable": unreadable.append(words.dropFirst().joined(separator: " "))
        case "truncated": truncated = true
        case "efi": efi.merge(kv) { _, new in new }
        default: break   // newer report lines are skipped, not refused
        }
    }

    /// Hex pairs, with ".N." (N hex) for a run of N zero bytes.
    static func decodeMem(_ s: String, length: Int) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(length)
        let u = Array(s.utf8)
        var i = 0
        func nib(_ c: UInt8) -> UInt8? {
            switch c { case 0x30...0x39: c - 0x30; case 0x61...0x66: c - 0x57; case 0x41...0x46: c - 0x37; default: nil }
        }
        while i < u.count {
            if u[i] == 0x2E {
                guard let close = u[(i + 1)...].firstIndex(of: 0x2E), close > i + 1, close - i <= 17 else { return nil }
                var n = 0
                for c in u[(i + 1)..<close] { guard let d = nib(c) else { return nil }; n = n << 4 | Int(d) }
                guard n <= length - out.count else { return nil }
                out += [UInt8](repeating: 0, count: n)
                i = close + 1
            } else {
                guard i + 1 < u.count, let a = nib(u[i]), let b = nib(u[i + 1]), out.count < length else { return nil }
                out.append(a << 4 | b); i += 2
            }
        }
        return out.count == length ? out : nil
    }
}

/// The probe's checksum: FNV-1a over little-endian 64-bit words (the last zero-padded), then
/// the length mixed in. Cheap for the guest (about four instructions per eight bytes; under a
/// software KVM each guest instruction costs about a microsecond). Not cryptographic: it tells
/// a loader's mistake from the right bytes, not an adversary's forgery.
public struct ProbeHash64: Sendable {
    private var h: UInt64 = 0xCBF2_9CE4_8422_2325
    private var word: UInt64 = 0, filled = 0
    private var length: UInt64 = 0
    static let prime: UInt64 = 0x100_0000_01B3
    public init() {}
    public mutating func update(_ bytes: some Collection<UInt8>) {
        for b in bytes {
            word |= UInt64(b) << (8 * UInt64(filled))
            filled += 1
            if filled == 8 { h = (h ^ word) &* Self.prime; word = 0; filled = 0 }
        }
        length &+= UInt64(bytes.count)
    }
    public var value: UInt64 {
        var x = h
        if filled > 0 { x = (x ^ word) &* Self.prime }
        return (x ^ length) &* Self.prime
    }
    public static func of(_ bytes: some Collection<UInt8>) -> UInt64 { var s = ProbeHash64(); s.update(bytes); return s.value }
}
