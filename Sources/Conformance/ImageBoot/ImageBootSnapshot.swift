import Foundation

/// What the arm64 and riscv64 rules (A64-nn, RV-nn) judge: one hand-over of an Image to a
/// kernel, as the reference Image loader built it or as a probe kernel reported it.
///
/// The contract of issue 16: the probe's report converts into this, and the reference loader
/// produces it from what it built, so one catalogue (`ImageRuleCatalogue`) judges both. Fields
/// a producer cannot know are nil, and the rules that need them are n/a with that reason.
/// Codable; its JSON form (`image-boot-snapshot/1`, `ImageSnapshotJSON`) writes every address,
/// register and size as a hex string ("0x40200000") and byte blobs as lowercase hex.
public struct ImageBootSnapshot: Sendable, Equatable, Codable {
    public enum Architecture: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
        case arm64, riscv64
        public var description: String { rawValue }
        /// The entry registers' names, in order (booting.rst: x0 = DTB, x1–x3 = 0; boot.rst:
        /// a0 = hart id, a1 = DTB).
        public var registerNames: [String] { self == .arm64 ? ["x0", "x1", "x2", "x3"] : ["a0", "a1", "a2", "a3"] }
        /// The names of an exception record's three words (cause, pc, faulting address).
        public var exceptionNames: [String] { self == .arm64 ? ["esr", "elr", "far"] : ["scause", "sepc", "stval"] }
    }

    /// [address, address + size) of guest-physical memory.
    public struct MemoryRange: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
        @Hex public var address: UInt64
        @Hex public var size: UInt64
        public init(address: UInt64, size: UInt64) { self.address = address; self.size = size }
        /// nil when address + size wraps past 2^64.
        public var range: AddressRange? { AddressRange.make(address, length: size) }
        public var description: String { range?.description ?? "\(hex(address)) + \(hex(size)) (wraps)" }
    }

    /// A block of guest memory a loader wrote (known for the reference loader, nil for a probe).
    public struct Region: Sendable, Equatable, Codable {
        public var name: String
        @Hex public var address: UInt64
        @Hex public var size: UInt64
        /// SHA-256 of the bytes written, lowercase hex.
        public var sha256: String
        public init(name: String, address: UInt64, size: UInt64, sha256: String) { self.name = name; self.address = address; self.size = size; self.sha256 = sha256 }
        public var memoryRange: MemoryRange { MemoryRange(address: address, size: size) }
    }

    /// The Image file as given to the loader.
    public struct ImageFile: Sendable, Equatable, Codable {
        /// The first 64 bytes (the whole file when it is shorter): the header of booting.rst §4
        /// or boot-image-header.rst.
        @HexBytes public var header: [UInt8]
        @Hex public var fileSize: UInt64
        /// SHA-256 of the whole file, lowercase hex.
        public var sha256: String
        public init(header: [UInt8], fileSize: UInt64, sha256: String) { self.header = header; self.fileSize = fileSize; self.sha256 = sha256 }
    }

    /// arm64 CPU state at the kernel's first instruction.
    public struct Arm64State: Sendable, Equatable, Codable {
        /// CurrentEL >> 2: 1, 2 or 3.
        @Hex public var exceptionLevel: UInt64
        /// PSTATE.DAIF as `mrs x, daif` reads it: D bit 9, A bit 8, I bit 7, F bit 6.
        @Hex public var daif: UInt64
        /// SCTLR_ELx of the current level: M bit 0 (MMU), C bit 2 (data cache), I bit 12
        /// (instruction cache).
        @Hex public var sctlr: UInt64
        /// CNTFRQ_EL0.
        @Hex public var cntfrq: UInt64
        /// ICC_SRE_EL2 (SRE bit 0, Enable bit 3), when known: a probe entered at EL2 reads it;
        /// the firmware of an EL1 entry set it. nil when unknown.
        @OptionalHex public var iccSreEL2: UInt64?
        /// HCR_EL2, when known (as ICC_SRE_EL2).
        @OptionalHex public var hcrEL2: UInt64?
        /// Whether the platform has a GICv3 used through its system registers (the DT's
        /// interrupt controller is "arm,gic-v3"); nil when unknown.
        public var gicV3: Bool?
        public init(exceptionLevel: UInt64, daif: UInt64, sctlr: UInt64, cntfrq: UInt64, iccSreEL2: UInt64? = nil, hcrEL2: UInt64? = nil, gicV3: Bool? = nil) {
            self.exceptionLevel = exceptionLevel; self.daif = daif; self.sctlr = sctlr; self.cntfrq = cntfrq
            self.iccSreEL2 = iccSreEL2; self.hcrEL2 = hcrEL2; self.gicV3 = gicV3
        }
    }

    /// riscv64 CPU state at the kernel's first instruction (supervisor mode).
    public struct RISCVState: Sendable, Equatable, Codable {
        @Hex public var satp: UInt64
        /// sstatus: SIE bit 1, SPP bit 8.
        @Hex public var sstatus: UInt64
        /// The SBI implementation id (sbi_get_impl_id: 1 is OpenSBI) and specification version
        /// (sbi_get_spec_version), when the probe asked; nil for the reference loader.
        @OptionalHex public var sbiImplementation: UInt64?
        @OptionalHex public var sbiSpecVersion: UInt64?
        /// The hart id the probe learned from the device tree (the cpu node it runs on), when known.
        @OptionalHex public var hartIDFromDeviceTree: UInt64?
        public init(satp: UInt64, sstatus: UInt64, sbiImplementation: UInt64? = nil, sbiSpecVersion: UInt64? = nil, hartIDFromDeviceTree: UInt64? = nil) {
            self.satp = satp; self.sstatus = sstatus; self.sbiImplementation = sbiImplementation
            self.sbiSpecVersion = sbiSpecVersion; self.hartIDFromDeviceTree = hartIDFromDeviceTree
        }
    }

    /// The initrd as found: the range /chosen gives (linux,initrd-start/-end) and the digest
    /// of the bytes there, when they were read.
    public struct InitrdFound: Sendable, Equatable, Codable {
        @Hex public var start: UInt64
        @Hex public var end: UInt64
        public var sha256: String?
        public init(start: UInt64, end: UInt64, sha256: String?) { self.start = start; self.end = end; self.sha256 = sha256 }
    }

    /// What the user asked the loader for.
    public struct Inputs: Sendable, Equatable, Codable {
        public var commandLine: String
        @OptionalHex public var initrdSize: UInt64?
        public var initrdSHA256: String?
        public init(commandLine: String, initrdSize: UInt64? = nil, initrdSHA256: String? = nil) {
            self.commandLine = commandLine; self.initrdSize = initrdSize; self.initrdSHA256 = initrdSHA256
        }
    }

    public var architecture: Architecture
    /// "reference-image-loader", "reference-image-loader+faults(…)", or the probe's runner.
    public var producer: String
    public var image: ImageFile
    /// Guest-physical address of the Image's byte 0.
    @Hex public var loadAddress: UInt64
    /// SHA-256 of `image.fileSize` bytes at `loadAddress` as found there, when read.
    public var loadedSHA256: String?
    /// The machine's RAM as the platform defines it (never taken from the DTB).
    public var ram: [MemoryRange]
    /// Firmware-resident RAM the platform knows of (riscv64: OpenSBI at the start of RAM).
    public var firmware: [MemoryRange]
    /// x0–x3 (arm64) or a0–a3 (riscv64).
    @HexList public var registers: [UInt64]
    public var arm64: Arm64State?
    public var riscv64: RISCVState?
    /// Where the loader put the DTB (the probe: where it found it, x0 or a1).
    @Hex public var dtbAddress: UInt64
    /// The DTB as found in memory (its totalsize bytes), when read.
    @OptionalHexBytes public var dtb: [UInt8]?
    public var initrd: InitrdFound?
    public var inputs: Inputs
    /// The blocks the loader wrote (the reference loader's; nil for a probe's report).
    public var regions: [Region]?
    /// What the loader warned about.
    public var warnings: [String]

    public init(architecture: Architecture, producer: String, image: ImageFile, loadAddress: UInt64, loadedSHA256: String?, ram: [MemoryRange], firmware: [MemoryRange],
                registers: [UInt64], arm64: Arm64State? = nil, riscv64: RISCVState? = nil, dtbAddress: UInt64, dtb: [UInt8]?, initrd: InitrdFound?,
                inputs: Inputs, regions: [Region]? = nil, warnings: [String] = []) {
        self.architecture = architecture; self.producer = producer; self.image = image; self.loadAddress = loadAddress; self.loadedSHA256 = loadedSHA256
        self.ram = ram; self.firmware = firmware; self.registers = registers; self.arm64 = arm64; self.riscv64 = riscv64
        self.dtbAddress = dtbAddress; self.dtb = dtb; self.initrd = initrd; self.inputs = inputs; self.regions = regions; self.warnings = warnings
    }
}

/// The JSON form of an `ImageBootSnapshot` (`image-boot-snapshot/1`): the Codable form with
/// `format` and, for goldens and `--json`, `verdicts`; sorted keys, two-space indentation.
public enum ImageSnapshotJSON {
    public static let format = "image-boot-snapshot/1"

    public static func object(_ s: ImageBootSnapshot, verdicts: [Verdict]? = nil) -> [String: Any] {
        let encoded = (try? JSONEncoder().encode(s)).flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any]
        var o = encoded ?? [:]
        o["format"] = format
        if let verdicts { o["verdicts"] = Dictionary(uniqueKeysWithValues: verdicts.map { ($0.rule.rawValue, $0.outcome.rawValue) }) }
        return o
    }

    public static func string(_ s: ImageBootSnapshot, verdicts: [Verdict]? = nil) -> String {
        String(decoding: SnapshotJSON.data(object(s, verdicts: verdicts)), as: UTF8.self) + "\n"
    }

    /// Reads a snapshot file back; `verdicts` is ignored (judge again). Refuses another
    /// format or a document that does not decode, naming the path.
    public static func decode(_ data: Data) throws(SnapshotDecodeError) -> ImageBootSnapshot {
        guard data.count <= 16 << 20 else { throw SnapshotDecodeError(path: "(file)", expected: "at most 16 MiB", found: "\(data.count) bytes") }
        let root: [String: Any]
        do {
            guard let r = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw SnapshotDecodeError(path: "(top level)", expected: "an object", found: "another JSON value") }
            root = r
        } catch let e as SnapshotDecodeError { throw e } catch {
            throw SnapshotDecodeError(path: "(file)", expected: "a JSON document", found: "a parse error (\(error.localizedDescription))")
        }
        guard root["format"] as? String == format else {
            throw SnapshotDecodeError(path: "format", expected: "\"\(format)\"", found: String(describing: root["format"] ?? "(absent)"))
        }
        do { return try JSONDecoder().decode(ImageBootSnapshot.self, from: data) } catch let DecodingError.dataCorrupted(c) {
            throw SnapshotDecodeError(path: c.codingPath.map(\.stringValue).joined(separator: "."), expected: "a valid value", found: c.debugDescription)
        } catch let DecodingError.keyNotFound(k, c) {
            throw SnapshotDecodeError(path: (c.codingPath + [k]).map(\.stringValue).joined(separator: "."), expected: "a value", found: "(absent)")
        } catch let DecodingError.typeMismatch(t, c) {
            throw SnapshotDecodeError(path: c.codingPath.map(\.stringValue).joined(separator: "."), expected: "a \(t)", found: c.debugDescription)
        } catch {
            throw SnapshotDecodeError(path: "(file)", expected: "an image boot snapshot", found: "\(error)")
        }
    }
}
