/// Facts about the kernel file a snapshot was made from, recorded from the file itself.
public struct ImageRecord: Sendable, Equatable {
    public enum Format: String, Sendable { case bzImage, elf }
    public struct Segment: Sendable, Equatable {
        public let paddr: UInt64, fileSize: UInt64, memorySize: UInt64, align: UInt64
        /// SHA-256 of the segment's file bytes.
        public let sha256: String
        public init(paddr: UInt64, fileSize: UInt64, memorySize: UInt64, align: UInt64, sha256: String) {
            self.paddr = paddr; self.fileSize = fileSize; self.memorySize = memorySize; self.align = align; self.sha256 = sha256
        }
    }
    public struct Note: Sendable, Equatable { public let name: String; public let type: UInt32; public let desc: [UInt8] }
    /// A PT_NOTE's bytes as the file holds them, and their file offset (BP-77).
    public struct NoteSegment: Sendable, Equatable {
        public let offset: UInt64, bytes: [UInt8]
        public init(offset: UInt64, bytes: [UInt8]) { self.offset = offset; self.bytes = bytes }
    }

    public var format: Format
    public var fileSize: UInt64
    public var sha256: String
    /// bzImage: the file's first min(0x290, size) bytes (boot sector and setup header). ELF:
    /// the 64-byte ELF header (BP-73, BP-74, BP-76); empty when the record does not hold it.
    public var headerBytes: [UInt8] = []
    /// bzImage: the protected-mode image's file offset, length and SHA-256 (BP-19).
    public var protectedModeOffset: UInt64 = 0, protectedModeLength: UInt64 = 0, protectedModeSHA256 = ""
    /// ELF: e_entry, PT_LOAD segments, notes.
    public var elfEntry: UInt64 = 0
    public var segments: [Segment] = []
    public var notes: [Note] = []
    /// ELF: each PT_NOTE's p_align (the notes themselves are 4-byte padded, spec §5).
    public var noteAlignments: [UInt64] = []
    /// ELF: the program header table as the file holds it, e_phnum × 56 bytes (BP-74, BP-75,
    /// BP-77); empty when the record does not hold it.
    public var programHeaders: [UInt8] = []
    /// ELF: every PT_NOTE's bytes (BP-77); nil when the record does not hold them.
    public var noteSegments: [NoteSegment]? = nil

    public init(format: Format, fileSize: UInt64, sha256: String) { self.format = format; self.fileSize = fileSize; self.sha256 = sha256 }

    /// Records a kernel file. Only the raw facts a rule needs: bytes, hashes, program headers.
    public static func record(_ image: KernelImage, source: some ByteSource) throws(SourceError) -> ImageRecord {
        let fileHash = try sourceSHA256(of: source, offset: 0, length: source.size)
        switch image {
        case .bzImage(let bz):
            var r = ImageRecord(format: .bzImage, fileSize: source.size, sha256: fileHash)
            r.headerBytes = try source.read(at: 0, count: Int(min(UInt64(SetupHeaderLayout.areaEnd), source.size)))
            r.protectedModeOffset = bz.protectedModeOffset
            r.protectedModeLength = bz.protectedModeLength
            r.protectedModeSHA256 = try sourceSHA256(of: source, offset: bz.protectedModeOffset, length: bz.protectedModeLength)
            return r
        case .elf(let elf):
            var r = ImageRecord(format: .elf, fileSize: source.size, sha256: fileHash)
            r.elfEntry = elf.entry
            for s in elf.segments {
                r.segments.append(Segment(paddr: s.paddr, fileSize: s.fileSize, memorySize: s.memorySize, align: s.align, sha256: try sourceSHA256(of: source, offset: s.offset, length: s.fileSize)))
            }
            r.notes = elf.notes.map { Note(name: $0.name, type: $0.type, desc: $0.desc) }
            r.noteAlignments = elf.noteAlignments
            r.headerBytes = elf.headerBytes
            r.programHeaders = elf.programHeaderBytes
            r.noteSegments = elf.noteSegments.map { NoteSegment(offset: $0.offset, bytes: $0.bytes) }
            return r
        }
    }
}

/// SHA-256 of [offset, offset+length) of a source, read in 8 MiB pieces.
public func sourceSHA256(of source: some ByteSource, offset: UInt64, length: UInt64) throws(SourceError) -> String {
    var h = RegionHasher()
    var done: UInt64 = 0
    while done < length {
        let n = Int(min(length - done, 8 << 20))
        h.update(try source.read(at: offset + done, count: n)); done += UInt64(n)
    }
    return h.finalizeHex()
}

/// What the loader was asked to load besides the kernel, so rules can tell whether it arrived.
public struct InputRecord: Sendable, Equatable {
    /// The record of a command line and an initrd file as given.
    public static func of(commandLine: String, initrd: (any ByteSource)?) throws(SourceError) -> InputRecord {
        var r = InputRecord(commandLine: Array(commandLine.utf8))
        if let initrd {
            r.initrdSize = initrd.size
            r.initrdSHA256 = try sourceSHA256(of: initrd, offset: 0, length: initrd.size)
        }
        return r
    }

    /// The command line the user gave, without a NUL.
    public var commandLine: [UInt8]
    public var initrdSize: UInt64?
    public var initrdSHA256: String?
    public init(commandLine: [UInt8], initrdSize: UInt64? = nil, initrdSHA256: String? = nil) {
        self.commandLine = commandLine; self.initrdSize = initrdSize; self.initrdSHA256 = initrdSHA256
    }
}

/// A boot snapshot: guest memory plus the entry state, and the facts of the inputs. This is
/// what every rule judges, whether our loader made it or a probe kernel reported it.
public struct BootSnapshot: Sendable {
    /// Who produced it ("reference-loader", or a probe's report of another loader).
    public var producer: String
    public var image: ImageRecord
    public var inputs: InputRecord
    public var entry: EntryState
    /// L as observed: where the protected-mode image or the first ELF segment is (BP-19 checks).
    public var kernelAddress: UInt64
    public var memory: any GuestMemoryReading
    /// Named regions written (informational; rules do not trust them).
    public var regions: [Region]
    public var warnings: [Warning]
    /// 16-bit entry: the memory map the firmware returns to INT 15h, AX=E820 (what the
    /// kernel's setup code will read), as the probe asked for it before anything changed.
    /// nil when unknown; empty when the firmware gave none.
    public var firmwareMemoryMap: [E820Entry]?
    /// What an EFI entry learned from the firmware (probe reports only; nil otherwise).
    public var efi: EFIFacts? = nil

    public init(producer: String, image: ImageRecord, inputs: InputRecord, entry: EntryState, kernelAddress: UInt64, memory: any GuestMemoryReading, regions: [Region], warnings: [Warning] = [],
                firmwareMemoryMap: [E820Entry]? = nil) {
        self.producer = producer; self.image = image; self.inputs = inputs; self.entry = entry
        self.kernelAddress = kernelAddress; self.memory = memory; self.regions = regions; self.warnings = warnings
        self.firmwareMemoryMap = firmwareMemoryMap
    }

    /// The snapshot of a reference-loader result.
    public static func of(_ r: LoadResult, kernel: some ByteSource, initrd: (any ByteSource)?, commandLine: String) throws(SourceError) -> BootSnapshot {
        let image = try ImageRecord.record(r.image, source: kernel)
        let inputs = try InputRecord.of(commandLine: commandLine, initrd: initrd)
        // At the 16-bit entry the memory map comes from the firmware, which for the reference
        // loader is the VMM that boots it (HarnessKVM's INT 15h serves this e820).
        return BootSnapshot(producer: "reference-loader", image: image, inputs: inputs, entry: r.entry, kernelAddress: r.kernelAddress, memory: r.memory, regions: r.regions, warnings: r.warnings,
                            firmwareMemoryMap: r.entry.entryPoint == .setup16 ? r.e820 : nil)
    }
}
