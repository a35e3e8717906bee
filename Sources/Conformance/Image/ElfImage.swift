/// ELF note types the loader cares about (`XEN_ELFNOTE_*`), an open set.
public struct ElfNoteType: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// XEN_ELFNOTE_PHYS32_ENTRY: 32-bit physical PVH entry point.
    public static let phys32Entry = ElfNoteType(rawValue: 18)
    /// XEN_ELFNOTE_PHYS32_RELOC: the image may be relocated (alignment, min, max).
    public static let phys32Reloc = ElfNoteType(rawValue: 19)
}

/// One ELF note, as walked from a PT_NOTE segment with 4-byte alignment (spec §5).
public struct ElfNote: Sendable, Equatable, Hashable {
    public let name: String
    public let type: UInt32
    public let desc: [UInt8]
    /// File offset of the note header.
    public let offset: UInt64
    /// File offset of the desc bytes.
    public let descOffset: UInt64
}

/// A PT_LOAD program header.
public struct ElfSegment: Sendable, Equatable, Hashable {
    public let index: Int
    public let offset: UInt64
    public let vaddr: UInt64
    public let paddr: UInt64
    public let fileSize: UInt64
    public let memorySize: UInt64
    public let align: UInt64
    public let flags: UInt32
    /// [p_paddr, p_paddr + p_memsz), checked not to wrap when the header was read (BP-75).
    public let physicalRange: AddressRange
}

/// The PVH relocation note's three values (BP-68), with the defaults filled in.
public struct PVHRelocation: Sendable, Equatable {
    public let alignment: UInt64
    public let minimum: UInt64
    public let maximum: UInt64
    public init(alignment: UInt64, minimum: UInt64, maximum: UInt64) { self.alignment = alignment; self.minimum = minimum; self.maximum = maximum }
}

/// A validated ELF64 x86-64 vmlinux. Every value read from the file is checked before use:
/// header fields, program-header table bounds, segment file ranges, address arithmetic, and
/// the entry point against the loaded segments.
public struct ElfImage: Sendable {
    public let fileSize: UInt64
    public let entry: UInt64
    public let segments: [ElfSegment]
    public let notes: [ElfNote]
    /// p_align of each PT_NOTE segment, in program-header order (4 as Linux links them; the
    /// notes are 4-byte padded whatever it says, spec §5).
    public let noteAlignments: [UInt64]
    /// Lowest p_paddr of the PT_LOAD segments.
    public let physicalStart: UInt64
    /// Highest p_paddr + p_memsz (spec: kernel_end is the maximum over segments).
    public let physicalEnd: UInt64
    /// [physicalStart, physicalEnd): what the segments span.
    public let physicalRange: AddressRange
    /// The PVH entry from a "Xen" note of type 18, low 32 bits (BP-60); nil without a note.
    public let pvhEntry: UInt32?
    public let relocation: PVHRelocation?
    public let warnings: [Warning]

    static let PT_LOAD: UInt32 = 1, PT_NOTE: UInt32 = 4
    /// Bound on program headers: the ELF field is 16 bits; PN_XNUM (0xFFFF) extension unsupported.
    static let maxProgramHeaders = 0xFFFE
    /// Bound on one note's name and desc: a real note is tiny; this stops hostile sizes.
    static let maxNoteSize: UInt64 = 1 << 20

    /// The file's ELF header (64 bytes), program header table, and the bytes of each PT_NOTE:
    /// what BP-73…BP-77 are judged on, here and in a snapshot's image record.
    public let headerBytes: [UInt8]
    public let programHeaderBytes: [UInt8]
    public let noteSegments: [(offset: UInt64, bytes: [UInt8])]

    public init(source: some ByteSource) throws(ImageError) {
        let size = source.size
        // BP-73 identity, BP-74 program header table, BP-75 PT_LOAD segments, BP-76 e_entry,
        // BP-77 notes (spec digest §4.13), each by its own check below.
        guard size >= 64 else { throw Self.err("BP-73", "file size", 0, "at least 64 bytes (ELF64 header)", "\(size) bytes") }
        let eh: [UInt8]
        do { eh = try source.read(at: 0, count: 64) } catch { throw Self.err("BP-73", "file", 0, "readable", error.description) }
        try Self.checkIdentity(eh, fileSize: size)
        let (phoff, phnum) = try Self.checkProgramHeaderTable(eh, fileSize: size)
        let table: [UInt8]
        do { table = try source.read(at: phoff, count: phnum * 56) } catch { throw Self.err("BP-74", "program headers", phoff, "readable", error.description) }
        let segments = try Self.checkLoadSegments(table, phoff: phoff, fileSize: size)
        let noteHeaders = try Self.checkNoteSegments(table, phoff: phoff, fileSize: size)
        let entry = eh.u64(24)!
        try Self.checkEntry(entry, segments: segments.map(\.physicalRange))
        var notes: [ElfNote] = []
        var noteBytes: [(offset: UInt64, bytes: [UInt8])] = []
        var warnings: [Warning] = []
        for (off, len, align, i) in noteHeaders {
            let raw: [UInt8]
            do { raw = try source.read(at: off, count: Int(len)) } catch { throw Self.err("BP-77", "phdr[\(i)] notes", off, "readable", error.description) }
            if align != 0 && align != 4 {
                warnings.append(Warning(rule: "BP-60", message: "PT_NOTE phdr[\(i)] has p_align \(align); notes walked with 4-byte alignment as Linux emits them"))
            }
            notes += try Self.walkNotes(raw, base: off) { f, o, e, x in Self.err("BP-77", f, o, e, x) }
            noteBytes.append((off, raw))
        }
        headerBytes = eh; programHeaderBytes = table; noteSegments = noteBytes
        // PVH entry note (BP-60): name "Xen", type 18, desc 4 or 8 bytes, low 32 bits.
        var pvh: UInt32? = nil
        var reloc: PVHRelocation? = nil
        for n in notes where n.name == "Xen" {
            if n.type == ElfNoteType.phys32Entry.rawValue {
                guard n.desc.count == 4 || n.desc.count == 8 else {
                    throw ImageError(rule: "BP-60", field: "Xen note type 18 descsz", offset: n.offset + 4, expected: "4 or 8", found: "\(n.desc.count)")
                }
                if n.desc.count == 8, n.desc.u32(4)! != 0 {
                    throw ImageError(rule: "BP-60", field: "Xen note type 18 desc", offset: n.descOffset, expected: "a 32-bit entry (upper half 0)", found: "0x" + n.desc.reversed().hexString)
                }
                let e = n.desc.u32(0)!
                guard segments.contains(where: { $0.physicalRange.contains(UInt64(e)) }) else {
                    throw ImageError(rule: "BP-60", field: "Xen note type 18 desc", offset: n.descOffset, expected: "a PVH entry inside a PT_LOAD segment", found: hex(e))
                }
                pvh = e
            } else if n.type == ElfNoteType.phys32Reloc.rawValue {
                let a = n.desc.u32(0).map(UInt64.init)
                let alignment: UInt64 = a ?? (segments.map(\.align).filter { $0 >= 0x1000 }.max() ?? 0x200000)
                guard alignment.isPowerOfTwo else {
                    throw ImageError(rule: "BP-68", field: "Xen note type 19 alignment", offset: n.descOffset, expected: "a power of two", found: hex(alignment))
                }
                reloc = PVHRelocation(alignment: alignment, minimum: n.desc.u32(4).map(UInt64.init) ?? 0, maximum: n.desc.u32(8).map(UInt64.init) ?? 0xFFFF_FFFF)
            }
        }
        fileSize = size
        self.entry = entry
        self.segments = segments.sorted { $0.paddr < $1.paddr }
        self.notes = notes
        noteAlignments = noteHeaders.map(\.2)
        physicalRange = segments.dropFirst().reduce(segments[0].physicalRange) { $0.spanning($1.physicalRange) }
        physicalStart = physicalRange.start
        physicalEnd = physicalRange.end
        pvhEntry = pvh
        relocation = reloc
        self.warnings = warnings
    }

    static func err(_ rule: RuleID, _ field: String, _ off: UInt64, _ exp: String, _ found: String) -> ImageError {
        ImageError(rule: rule, field: field, offset: off, expected: exp, found: found)
    }

    /// BP-73: e_ident, e_type, e_machine and e_version of the 64-byte ELF header.
    public static func checkIdentity(_ eh: [UInt8], fileSize: UInt64) throws(ImageError) {
        guard fileSize >= 64, eh.count >= 64 else { throw err("BP-73", "file size", 0, "at least 64 bytes (ELF64 header)", "\(min(fileSize, UInt64(eh.count))) bytes") }
        guard eh[0] == 0x7F, eh[1] == 0x45, eh[2] == 0x4C, eh[3] == 0x46 else {
            throw err("BP-73", "e_ident[EI_MAG]", 0, "7f 45 4c 46 (\"\\x7fELF\")", Array(eh[0..<4]).hexString)
        }
        guard eh[4] == 2 else { throw err("BP-73", "e_ident[EI_CLASS]", 4, "2 (ELFCLASS64)", "\(eh[4])") }
        guard eh[5] == 1 else { throw err("BP-73", "e_ident[EI_DATA]", 5, "1 (ELFDATA2LSB)", "\(eh[5])") }
        guard eh[6] == 1 else { throw err("BP-73", "e_ident[EI_VERSION]", 6, "1 (EV_CURRENT)", "\(eh[6])") }
        let type = eh.u16(16)!
        guard type == 2 else { throw err("BP-73", "e_type", 16, "2 (ET_EXEC)", "\(type)") }
        let machine = eh.u16(18)!
        guard machine == 62 else { throw err("BP-73", "e_machine", 18, "62 (EM_X86_64)", "\(machine)") }
        let version = eh.u32(20)!
        guard version == 1 else { throw err("BP-73", "e_version", 20, "1 (EV_CURRENT)", "\(version)") }
    }

    /// BP-74: e_phentsize, e_phnum, and the table [e_phoff, +56·e_phnum) inside the file.
    public static func checkProgramHeaderTable(_ eh: [UInt8], fileSize: UInt64) throws(ImageError) -> (phoff: UInt64, phnum: Int) {
        guard let phoff = eh.u64(32), let phentsize = eh.u16(54), let n = eh.u16(56) else { throw err("BP-74", "ELF header", 0, "64 bytes", "\(eh.count) bytes") }
        let phnum = Int(n)
        guard phentsize == 56 else { throw err("BP-74", "e_phentsize", 54, "56 (sizeof Elf64_Phdr)", "\(phentsize)") }
        guard phnum > 0, phnum <= maxProgramHeaders else { throw err("BP-74", "e_phnum", 56, "1…\(maxProgramHeaders)", "\(phnum)") }
        let tableSize = UInt64(phnum) * 56
        guard let tableEnd = AddressRange.make(phoff, length: tableSize)?.end, tableEnd <= fileSize else {
            throw err("BP-74", "e_phoff", 32, "program header table [e_phoff, +\(hex(tableSize))) inside the file (\(hex(fileSize)) bytes)", hex(phoff))
        }
        return (phoff, phnum)
    }

    /// BP-75: every PT_LOAD of the table (read at `phoff`) inside the file, not wrapping, with a
    /// power-of-two alignment and a physical range no other overlaps; at least one with memory.
    public static func checkLoadSegments(_ table: [UInt8], phoff: UInt64, fileSize: UInt64) throws(ImageError) -> [ElfSegment] {
        var segments: [ElfSegment] = []
        for i in 0..<(table.count / 56) {
            let b = i * 56, at = phoff &+ UInt64(b)
            guard table.u32(b)! == PT_LOAD else { continue }
            let flags = table.u32(b + 4)!, off = table.u64(b + 8)!, vaddr = table.u64(b + 16)!, paddr = table.u64(b + 24)!
            let filesz = table.u64(b + 32)!, memsz = table.u64(b + 40)!, align = table.u64(b + 48)!
            guard filesz <= memsz else { throw err("BP-75", "phdr[\(i)].p_filesz", at &+ 32, "≤ p_memsz (\(hex(memsz)))", hex(filesz)) }
            guard let fe = AddressRange.make(off, length: filesz)?.end, fe <= fileSize else {
                throw err("BP-75", "phdr[\(i)].p_offset", at &+ 8, "[p_offset, +p_filesz \(hex(filesz))) inside the file (\(hex(fileSize)) bytes)", hex(off))
            }
            guard let range = AddressRange.make(paddr, length: memsz) else {
                throw err("BP-75", "phdr[\(i)].p_paddr", at &+ 24, "p_paddr + p_memsz (\(hex(memsz))) without wrapping past 2^64", hex(paddr))
            }
            guard align == 0 || align.isPowerOfTwo else { throw err("BP-75", "phdr[\(i)].p_align", at &+ 48, "0 or a power of two", hex(align)) }
            if memsz == 0 { continue }
            let seg = ElfSegment(index: i, offset: off, vaddr: vaddr, paddr: paddr, fileSize: filesz, memorySize: memsz, align: align, flags: flags, physicalRange: range)
            if let clash = segments.first(where: { $0.physicalRange.overlaps(range) }) {
                throw err("BP-75", "phdr[\(i)].p_paddr", at &+ 24, "no overlap with phdr[\(clash.index)] \(clash.physicalRange)", range.description)
            }
            segments.append(seg)
        }
        guard !segments.isEmpty else { throw err("BP-75", "e_phnum", 56, "at least one PT_LOAD with p_memsz > 0", "none among \(table.count / 56) program headers") }
        return segments
    }

    /// BP-77, first half: every PT_NOTE inside the file and bounded. Returns (offset, size,
    /// p_align, index) of each.
    static func checkNoteSegments(_ table: [UInt8], phoff: UInt64, fileSize: UInt64) throws(ImageError) -> [(UInt64, UInt64, UInt64, Int)] {
        var out: [(UInt64, UInt64, UInt64, Int)] = []
        for i in 0..<(table.count / 56) where table.u32(i * 56)! == PT_NOTE {
            let b = i * 56, at = phoff &+ UInt64(b)
            let off = table.u64(b + 8)!, filesz = table.u64(b + 32)!, align = table.u64(b + 48)!
            guard let fe = AddressRange.make(off, length: filesz)?.end, fe <= fileSize else {
                throw err("BP-77", "phdr[\(i)].p_offset", at &+ 8, "PT_NOTE [p_offset, +p_filesz \(hex(filesz))) inside the file (\(hex(fileSize)) bytes)", hex(off))
            }
            guard filesz <= maxNoteSize * 4 else { throw err("BP-77", "phdr[\(i)].p_filesz", at &+ 32, "a PT_NOTE of at most \(hex(maxNoteSize * 4)) bytes", hex(filesz)) }
            out.append((off, filesz, align, i))
        }
        return out
    }

    /// BP-76: e_entry inside a PT_LOAD segment's physical range (the kernel links it so, §5).
    public static func checkEntry(_ entry: UInt64, segments: [AddressRange]) throws(ImageError) {
        guard segments.contains(where: { $0.contains(entry) }) else {
            throw err("BP-76", "e_entry", 24, "inside a PT_LOAD segment's physical range (\(segments.map(\.description).joined(separator: ", ")))", hex(entry))
        }
    }

    /// Walks `{namesz, descsz, type, name, desc}` records with 4-byte padding, bounds-checked.
    static func walkNotes(_ raw: [UInt8], base: UInt64, err: (String, UInt64, String, String) -> ImageError) throws(ImageError) -> [ElfNote] {
        var notes: [ElfNote] = []
        var p: UInt64 = 0
        let n = UInt64(raw.count)
        while p + 12 <= n {
            let at = base + p
            let namesz = UInt64(raw.u32(Int(p))!), descsz = UInt64(raw.u32(Int(p) + 4)!), type = raw.u32(Int(p) + 8)!
            guard namesz <= maxNoteSize, descsz <= maxNoteSize else {
                throw err("note namesz/descsz", at, "each ≤ \(hex(maxNoteSize))", "namesz \(hex(namesz)), descsz \(hex(descsz))")
            }
            let nameStart = p + 12
            let descStart = nameStart + namesz.alignedUp(4)!
            let next = descStart + descsz.alignedUp(4)!
            guard descStart + descsz <= n else {
                throw err("note at +\(hex(p))", at, "name (\(namesz)) and desc (\(descsz)) inside the PT_NOTE segment (\(n) bytes)", "ends at +\(hex(descStart + descsz))")
            }
            let nameBytes = raw[Int(nameStart)..<Int(nameStart + namesz)].prefix { $0 != 0 }
            notes.append(ElfNote(name: String(decoding: nameBytes, as: UTF8.self), type: type, desc: Array(raw[Int(descStart)..<Int(descStart + descsz)]), offset: at, descOffset: base + descStart))
            p = next
        }
        return notes
    }
}

/// A kernel file, recognised by content: ELF magic, else a bzImage.
public enum KernelImage: Sendable {
    case bzImage(BzImage)
    case elf(ElfImage)

    public init(source: some ByteSource) throws(ImageError) {
        let magic = (try? source.read(at: 0, count: 4)) ?? []
        if magic == [0x7F, 0x45, 0x4C, 0x46] { self = .elf(try ElfImage(source: source)) } else { self = .bzImage(try BzImage(source: source)) }
    }
    public var warnings: [Warning] {
        switch self { case .bzImage(let b): b.warnings; case .elf(let e): e.warnings }
    }
    public var formatName: String {
        switch self { case .bzImage: "bzImage"; case .elf: "ELF vmlinux" }
    }
}
