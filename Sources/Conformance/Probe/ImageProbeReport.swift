/// What an Image probe (Corpus/probe-arm64, Corpus/probe-riscv64) reported on the UART it found
/// in the device tree: the entry registers, the CPU state, where it was loaded and its bytes'
/// checksum, and the device tree the loader handed over (format "IMAGEPROBE 1", framed as the
/// x86 probe's report: DESIGN.md "Image probe report"). Pure: parsing never traps; a malformed
/// report is an `ImageProbeReportError` naming the line, its byte offset, the field, what was
/// expected and what was found.
public struct ImageProbeReport: Sendable, Equatable {
    public static let header = "IMAGEPROBE 1"
    /// Limits that keep a hostile or corrupt report from costing unbounded memory or time:
    /// booting.rst caps the DTB at 2 MiB; the probe lists at most 64 ranges per property.
    public static let maximumLines = 20_000, maximumPieceBytes = 2 << 20

    /// arm64 or riscv64: the one enum of the Image code (`ImageBootSnapshot.Architecture`).
    public typealias Architecture = ImageBootSnapshot.Architecture

    /// A register read that may trap; the probe reads ICC_SRE_EL2 only where ID_AA64PFR0_EL1.GIC
    /// says the GICv3 system registers exist ("absent" otherwise) and reports a trap as "trap".
    public enum GuardedRead: Sendable, Equatable { case value(UInt64), trapped, absent }

    /// arm64: the state booting.rst §4 asks for, as the probe read it at entry (DAIF, CurrentEL)
    /// and just after (SCTLR of the entry EL, CNTFRQ_EL0, and at EL2 HCR_EL2 and ICC_SRE_EL2).
    public struct ARM64State: Sendable, Equatable {
        public var exceptionLevel: UInt64 = 0
        public var daif: UInt64 = 0
        /// SCTLR_EL1, SCTLR_EL2 or SCTLR_EL3: the one of the entry EL.
        public var sctlr: UInt64 = 0
        public var cntfrq: UInt64 = 0
        public var idAA64PFR0: UInt64 = 0
        public var hcrEL2: UInt64? = nil
        public var iccSreEL2: GuardedRead? = nil
        public init(exceptionLevel: UInt64 = 0, daif: UInt64 = 0, sctlr: UInt64 = 0, cntfrq: UInt64 = 0, idAA64PFR0: UInt64 = 0, hcrEL2: UInt64? = nil, iccSreEL2: GuardedRead? = nil) {
            self.exceptionLevel = exceptionLevel; self.daif = daif; self.sctlr = sctlr; self.cntfrq = cntfrq; self.idAA64PFR0 = idAA64PFR0
            self.hcrEL2 = hcrEL2; self.iccSreEL2 = iccSreEL2
        }
    }
    /// riscv64: sstatus and satp at entry, and what the SBI base extension answered.
    public struct RISCV64State: Sendable, Equatable {
        public var sstatus: UInt64 = 0
        public var satp: UInt64 = 0
        public var sbiSpecVersion: UInt64 = 0, sbiSpecError: UInt64 = 0
        public var sbiImplementationID: UInt64 = 0, sbiImplementationVersion: UInt64 = 0
        /// sbi_probe_extension("SRST"): nonzero when System Reset is there.
        public var sbiSystemReset: UInt64 = 0
        public init(sstatus: UInt64 = 0, satp: UInt64 = 0, sbiSpecVersion: UInt64 = 0, sbiSpecError: UInt64 = 0, sbiImplementationID: UInt64 = 0,
                    sbiImplementationVersion: UInt64 = 0, sbiSystemReset: UInt64 = 0) {
            self.sstatus = sstatus; self.satp = satp; self.sbiSpecVersion = sbiSpecVersion; self.sbiSpecError = sbiSpecError
            self.sbiImplementationID = sbiImplementationID; self.sbiImplementationVersion = sbiImplementationVersion; self.sbiSystemReset = sbiSystemReset
        }
    }
    public enum CPUState: Sendable, Equatable { case arm64(ARM64State), riscv64(RISCV64State) }

    public struct UART: Sendable, Equatable {
        public enum Kind: String, Sendable { case pl011, ns16550a }
        /// Where the probe found it: "stdout-path", "first-okay" (the first compatible node whose
        /// status is absent or "okay"), or "platform-default" (the device tree named none).
        public var kind: Kind, address: UInt64, regShift: UInt64, source: String
        public init(kind: Kind, address: UInt64, regShift: UInt64, source: String) { self.kind = kind; self.address = address; self.regShift = regShift; self.source = source }
    }
    /// A range the probe checksummed (ProbeHash64).
    public struct Hash: Sendable, Equatable {
        public var address: UInt64, length: UInt64, hash64: UInt64
        public init(address: UInt64, length: UInt64, hash64: UInt64) { self.address = address; self.length = length; self.hash64 = hash64 }
        /// Whether the bytes the probe checksummed are `file`'s: the same length and ProbeHash64.
        public func matches(_ file: [UInt8]) -> Bool { length == UInt64(file.count) && hash64 == ProbeHash64.of(file) }
    }
    /// Bytes the probe copied out.
    public struct Piece: Sendable, Equatable {
        public var address: UInt64, bytes: [UInt8]
        public init(address: UInt64, bytes: [UInt8]) { self.address = address; self.bytes = bytes }
    }
    /// The FDT header at x0 / a1 (Devicetree Specification v0.4 §5.2), as found; `valid` when the
    /// probe could walk it (magic, sizes and block offsets inside totalsize ≤ 2 MiB).
    public struct FDTHeader: Sendable, Equatable {
        public var address: UInt64, magic: UInt64
        public var totalSize: UInt64 = 0, offStruct: UInt64 = 0, offStrings: UInt64 = 0, offReservationMap: UInt64 = 0
        public var version: UInt64 = 0, lastCompatibleVersion: UInt64 = 0, bootCPUID: UInt64 = 0
        public var sizeStrings: UInt64 = 0, sizeStruct: UInt64 = 0
        public var valid = false
        /// A header as the `fdt` line gives it when the magic is wrong (nothing else read).
        public init(address: UInt64, magic: UInt64) { self.address = address; self.magic = magic }
    }
    /// A reg entry of a /memory node, a /reserved-memory child, or the reservation block.
    public struct Region: Sendable, Equatable {
        public var node: String, address: UInt64, size: UInt64
        public init(node: String, address: UInt64, size: UInt64) { self.node = node; self.address = address; self.size = size }
    }
    public struct Exception: Sendable, Equatable {
        public var cause: UInt64, pc: UInt64, address: UInt64
        public init(cause: UInt64, pc: UInt64, address: UInt64) { self.cause = cause; self.pc = pc; self.address = address }
    }

    public var architecture: Architecture
    public var variant = ""
    /// Where Image byte 0 was at entry (the loader's load address) and the file's length.
    public var loadAddress: UInt64 = 0, imageLength: UInt64 = 0
    /// x0–x3 (arm64) or a0–a3 (riscv64) at entry.
    public var entryRegisters: [UInt64] = []
    public var cpu: CPUState
    public var uart: UART? = nil
    /// The checksum of [loadAddress, loadAddress + imageLength) as the probe found it.
    public var image: Hash? = nil
    public var fdt: FDTHeader? = nil
    public var reservationMap: [Region] = []
    public var memory: [Region] = []
    public var reservedMemory: [Region] = []
    /// reg of each /cpus child (arm64 MPIDR affinity, riscv64 hart id).
    public var cpuNodes: [Region] = []
    /// /chosen bootargs, the property's bytes (with its NUL).
    public var bootargs: Piece? = nil
    /// /chosen linux,initrd-start and linux,initrd-end.
    public var initrdStart: UInt64? = nil, initrdEnd: UInt64? = nil
    public var initrd: Hash? = nil
    /// The initrd range lies outside every /memory range, so the probe did not read it.
    public var initrdUnreadable = false
    /// The whole blob (totalsize bytes at the FDT address).
    public var dtb: Piece? = nil
    /// Where the probe's walk of the structure block stopped short of FDT_END (a malformed tree).
    public var walkStoppedAt: UInt64? = nil
    /// Nodes whose reg the probe could not decode (#address-cells or #size-cells beyond 2).
    public var unreadableCells: [String] = []
    public var exceptions: [Exception] = []
    public var exceptionCount: UInt64 = 0
    /// The report's lines, the header and the end line included.
    public var lineCount = 0

    /// The command line as the loader wrote it: bootargs up to its NUL.
    public var commandLine: String? { bootargs.map { String(decoding: $0.bytes.prefix { $0 != 0 }, as: UTF8.self) } }
}

/// Why a report was refused: the report line (1-based; 0 for the report as a whole), the byte
/// offset where that line starts in the serial output (CRLF read as LF), the field, what the
/// format expects there and what the report held.
public struct ImageProbeReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int, offset: Int
    public let field: String, expected: String, found: String
    public init(line: Int, offset: Int, field: String, expected: String, found: String) {
        self.line = line; self.offset = offset; self.field = field; self.expected = expected; self.found = found
    }
    public var description: String {
        "image probe report line \(line) (byte \(offset)): \(field): expected \(expected), found \(found)"
    }
}

extension ImageProbeReport {
    /// Lines every report has, in every architecture; riscv64 adds `sbi`.
    public static let requiredLines = ["arch", "base", "reg", "cpu", "uart", "hash64 image", "fdt"]

    /// Finds the report in serial output (firmware banners before it are ignored), checks the
    /// framing (line count, hash64, one report), and parses every line.
    public static func parse(serial raw: [UInt8]) throws(ImageProbeReportError) -> ImageProbeReport {
        let frame: ProbeFrame
        do { frame = try ProbeFrame.read(serial: raw, header: header, maximumLines: maximumLines) } catch {
            throw ImageProbeReportError(line: error.line, offset: error.offset, field: "framing", expected: "one '\(header)' report with a matching end line", found: error.message)
        }
        let endLine = frame.lines.count + 1
        var parser = LineParser()
        for (k, (offset, raw)) in frame.lines.enumerated().dropFirst() {
            try parser.parse(String(decoding: raw, as: UTF8.self), line: k + 1, offset: offset)
        }
        func missing(_ what: String) -> ImageProbeReportError {
            ImageProbeReportError(line: endLine, offset: frame.endOffset, field: what, expected: "a '\(what)' line before the end line", found: "none (never read as zeros)")
        }
        for kind in requiredLines where parser.seen[kind] == nil { throw missing(kind) }
        guard let arch = parser.architecture, let cpu = parser.cpu else { throw missing("cpu") }
        var r = parser.report(arch, cpu: cpu)
        if arch == .riscv64 {
            guard let sbi = parser.sbi else { throw missing("sbi") }
            r.cpu = .riscv64(sbi)
        }
        r.lineCount = endLine
        if let dtb = r.dtb, let fdt = r.fdt, fdt.valid, UInt64(dtb.bytes.count) != fdt.totalSize || dtb.address != fdt.address {
            throw ImageProbeReportError(line: parser.seen["mem dtb"] ?? endLine, offset: parser.offsets["mem dtb"] ?? frame.endOffset, field: "mem dtb",
                                        expected: "the blob at the fdt address \(hex(fdt.address)), totalsize \(hex(fdt.totalSize)) bytes",
                                        found: "\(dtb.bytes.count) bytes at \(hex(dtb.address))")
        }
        return r
    }

    /// One line at a time; what a line kind needs before it (the `arch` line before `reg`) is
    /// checked as the lines come.
    struct LineParser {
        var seen: [String: Int] = [:], offsets: [String: Int] = [:]
        var architecture: Architecture? = nil
        var cpu: CPUState? = nil
        var sbi: RISCV64State? = nil
        var r = ImageProbeReport(architecture: .arm64, cpu: .arm64(ARM64State()))

        func report(_ arch: Architecture, cpu: CPUState) -> ImageProbeReport {
            var out = r; out.architecture = arch; out.cpu = cpu; return out
        }

        /// Kinds that repeat; every other kind appears at most once.
        static let repeating: Set<String> = ["rsvmap", "dt-memory", "dt-reserved", "dt-cpu", "dt-reg-cells", "exception"]

        mutating func parse(_ line: String, line number: Int, offset: Int) throws(ImageProbeReportError) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let tag = words.first else { return }
            func bad(_ field: String, _ expected: String, _ found: String) -> ImageProbeReportError {
                ImageProbeReportError(line: number, offset: offset, field: field, expected: expected, found: found)
            }
            let key = ["mem", "hash64", "unreadable"].contains(tag) && words.count > 1 ? tag + " " + words[1] : tag
            if !Self.repeating.contains(tag) {
                if let was = seen[key] { throw bad(key, "one '\(key)' line (the first is line \(was))", "a second one") }
            }
            seen[key] = seen[key] ?? number
            offsets[key] = offsets[key] ?? offset
            // key=value words; values that are not numbers ("trap", "stdout-path") stay text.
            var text: [String: String] = [:]
            for w in words.dropFirst() {
                let kv = w.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { text[String(kv[0])] = String(kv[1]) }
            }
            func need(_ k: String) throws(ImageProbeReportError) -> UInt64 {
                guard let t = text[k] else { throw bad("\(tag) \(k)", "\(k)=NUMBER", "no \(k)= in '\(line.prefix(120))'") }
                guard let v = parseNumber(t) else { throw bad("\(tag) \(k)", "a number", "'\(t.prefix(40))'") }
                return v
            }
            func num(_ i: Int, _ what: String) throws(ImageProbeReportError) -> UInt64 {
                guard i < words.count else { throw bad("\(key) \(what)", "a number", "the line ends") }
                guard let v = parseNumber(words[i]) else { throw bad("\(key) \(what)", "a number", "'\(words[i].prefix(40))'") }
                return v
            }
            func arch() throws(ImageProbeReportError) -> Architecture {
                guard let a = architecture else { throw bad(tag, "the 'arch' line before it", "no architecture yet") }
                return a
            }
            switch tag {
            case "arch":
                guard words.count == 2, let a = Architecture(rawValue: words[1]) else {
                    throw bad("arch", "arm64 or riscv64", "'\(words.dropFirst().joined(separator: " ").prefix(40))'")
                }
                architecture = a; r.architecture = a
            case "variant": r.variant = words.count > 1 ? words[1] : ""
            case "base": r.loadAddress = try need("addr"); r.imageLength = try need("len")
            case "reg":
                var regs: [UInt64] = []
                for name in try arch().registerNames { regs.append(try need(name)) }
                r.entryRegisters = regs
            case "cpu":
                switch try arch() {
                case .arm64:
                    var s = ARM64State()
                    s.exceptionLevel = try need("el"); s.daif = try need("daif"); s.sctlr = try need("sctlr")
                    s.cntfrq = try need("cntfrq"); s.idAA64PFR0 = try need("id_aa64pfr0")
                    guard s.exceptionLevel <= 3 else { throw bad("cpu el", "0…3 (CurrentEL bits [3:2])", hex(s.exceptionLevel)) }
                    if text["hcr_el2"] != nil { s.hcrEL2 = try need("hcr_el2") }
                    switch text["icc_sre_el2"] {
                    case nil: break
                    case "trap": s.iccSreEL2 = .trapped
                    case "absent": s.iccSreEL2 = .absent
                    default: s.iccSreEL2 = .value(try need("icc_sre_el2"))
                    }
                    cpu = .arm64(s)
                case .riscv64:
                    var s = RISCV64State()
                    s.sstatus = try need("sstatus"); s.satp = try need("satp")
                    cpu = .riscv64(s)
                }
            case "sbi":
                guard try arch() == .riscv64, case .riscv64(var s)? = cpu else { throw bad("sbi", "an 'sbi' line only after a riscv64 'cpu' line", line.prefix(80).description) }
                s.sbiSpecVersion = try need("spec_version"); s.sbiSpecError = try need("spec_error")
                s.sbiImplementationID = try need("impl_id"); s.sbiImplementationVersion = try need("impl_version")
                s.sbiSystemReset = try need("srst")
                sbi = s
            case "uart":
                guard words.count >= 2, let kind = UART.Kind(rawValue: words[1]) else { throw bad("uart", "pl011 or ns16550a", "'\(words.dropFirst().first ?? "")'") }
                guard let from = text["from"], ["stdout-path", "first-okay", "platform-default"].contains(from) else {
                    throw bad("uart from", "stdout-path, first-okay or platform-default", "'\(text["from"] ?? "")'")
                }
                r.uart = UART(kind: kind, address: try need("addr"), regShift: try need("reg_shift"), source: from)
            case "hash64":
                guard words.count == 5, ["image", "initrd"].contains(words[1]) else { throw bad(key, "hash64 image|initrd ADDR LEN VALUE", "\(words.count) words") }
                let h = Hash(address: try num(2, "address"), length: try num(3, "length"), hash64: try num(4, "value"))
                if words[1] == "image" { r.image = h } else { r.initrd = h }
            case "fdt":
                var f = FDTHeader(address: try need("addr"), magic: try need("magic"))
                if text["totalsize"] != nil {
                    f.totalSize = try need("totalsize"); f.offStruct = try need("off_struct"); f.offStrings = try need("off_strings")
                    f.offReservationMap = try need("off_rsvmap"); f.version = try need("version"); f.lastCompatibleVersion = try need("last_comp")
                    f.bootCPUID = try need("boot_cpuid"); f.sizeStrings = try need("size_strings"); f.sizeStruct = try need("size_struct")
                    f.valid = try need("valid") == 1
                }
                r.fdt = f
            case "rsvmap": r.reservationMap.append(Region(node: "/memreserve/", address: try need("addr"), size: try need("size")))
            case "dt-memory", "dt-reserved":
                guard words.count >= 2, words[1].hasPrefix("/") else { throw bad(tag, "a node path", "'\(words.dropFirst().first ?? "")'") }
                let region = Region(node: words[1], address: try need("addr"), size: try need("size"))
                guard (tag == "dt-memory" ? r.memory.count : r.reservedMemory.count) < 4096 else { throw bad(tag, "at most 4096 ranges", "more") }
                if tag == "dt-memory" { r.memory.append(region) } else { r.reservedMemory.append(region) }
            case "dt-cpu":
                guard words.count >= 2, words[1].hasPrefix("/"), r.cpuNodes.count < 4096 else { throw bad(tag, "a node path (at most 4096 CPUs)", "'\(words.dropFirst().first ?? "")'") }
                r.cpuNodes.append(Region(node: words[1], address: try need("reg"), size: 0))
            case "dt-reg-cells": r.unreadableCells.append(words.dropFirst().joined(separator: " "))
            case "dt-walk-stopped": r.walkStoppedAt = try need("offset")
            case "mem":
                guard words.count == 5, ["bootargs", "dtb"].contains(words[1]) else { throw bad(key, "mem bootargs|dtb ADDR LEN DATA", "\(words.count) words") }
                let addr = try num(2, "address"), len = try num(3, "length")
                guard len <= UInt64(ImageProbeReport.maximumPieceBytes) else { throw bad("\(key) length", "at most \(hex(UInt64(ImageProbeReport.maximumPieceBytes)))", hex(len)) }
                guard let bytes = ProbeReport.decodeMem(words[4], length: Int(len)) else { throw bad("\(key) data", "hex pairs and .N. zero runs making \(len) bytes", "data that does not decode to that") }
                if words[1] == "dtb" { r.dtb = Piece(address: addr, bytes: bytes) } else { r.bootargs = Piece(address: addr, bytes: bytes) }
            case "initrd": r.initrdStart = try need("start"); r.initrdEnd = try need("end")
            case "unreadable":
                guard words.count >= 2, words[1] == "initrd" else { throw bad(key, "unreadable initrd", "'\(words.dropFirst().first ?? "")'") }
                r.initrdUnreadable = true
            case "exception":
                let n = try arch().exceptionNames
                guard r.exceptions.count < 64 else { throw bad(tag, "at most 64 exception lines", "more") }
                r.exceptions.append(Exception(cause: try need(n[0]), pc: try need(n[1]), address: try need(n[2])))
            case "exceptions": r.exceptionCount = try need("count")
            default: break   // newer report lines are skipped, not refused
            }
        }
    }
}
