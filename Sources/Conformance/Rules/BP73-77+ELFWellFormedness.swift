/// §4.13 ELF vmlinux well-formedness of the spec digest (shared/spec/x86-boot-protocol.md):
/// BP-73…BP-77.
///
/// The reference loader refuses an ELF that breaks one of these before it loads anything
/// (`ElfImage`, an `ImageError` naming the rule). A loader that loaded one anyway is judged here
/// on what the snapshot's image record holds of the file: the 64-byte ELF header, the program
/// header table and the bytes of each PT_NOTE, checked by the same §4.13 checks
/// (`ElfImage.checkIdentity`, `checkProgramHeaderTable`, `checkLoadSegments`, `checkEntry`,
/// `walkNotes`), so a failure names the field, its file offset, and the expected and found
/// values. A rule whose subject cannot be read because an earlier one fails is n/a, naming
/// that failure (no cascades); so is one whose facts the record does not hold (a snapshot
/// written before they were recorded).
extension RuleCatalogue {
    static let elfWellFormedness: [Rule] = [
        Rule("BP-73", "ELF identity: ELF64, little-endian, ET_EXEC, EM_X86_64", reference: "§4.13; gABI; LDS",
             statement: "e_ident starts 0x7F \"ELF\"; EI_CLASS = 2 (ELFCLASS64), EI_DATA = 1 (little-endian), EI_VERSION = 1; e_type = 2 (ET_EXEC); e_machine = 62 (EM_X86_64); e_version = 1.") { c in
            let i = c.s.image
            guard c.isElf else { return notElf }
            guard i.headerBytes.count == 64 || i.fileSize < 64 else { return noElfHeader }
            do { try ElfImage.checkIdentity(i.headerBytes, fileSize: i.fileSize) } catch { return .fail("\(error), yet it was loaded") }
            let h = i.headerBytes
            return .pass("e_ident \(Array(h[0..<4]).hexString), class \(h[4]), data \(h[5]), version \(h[6]); e_type \(h.u16(16)!), e_machine \(h.u16(18)!), e_version \(h.u32(20)!)")
        },
        Rule("BP-74", "ELF program header table in the file", reference: "§4.13; gABI",
             statement: "e_phentsize = 56; 1 ≤ e_phnum < 0xFFFF; [e_phoff, e_phoff + 56·e_phnum) lies inside the file and does not wrap.") { c in
            let i = c.s.image
            if let unread = identifiedHeader(c) { return unread }
            let (phoff, phnum): (UInt64, Int)
            do { (phoff, phnum) = try ElfImage.checkProgramHeaderTable(i.headerBytes, fileSize: i.fileSize) } catch { return .fail("\(error), yet it was loaded") }
            return .pass("e_phentsize 56, e_phnum \(phnum): table [\(hex(phoff)), \(hex(phoff + UInt64(phnum) * 56))) inside the \(hex(i.fileSize))-byte file")
        },
        Rule("BP-75", "ELF PT_LOAD segments well formed", reference: "§4.13; gABI; §5",
             statement: "Every PT_LOAD: p_filesz ≤ p_memsz; [p_offset, p_offset + p_filesz) inside the file; p_paddr + p_memsz does not wrap; p_align is 0 or a power of two; no two PT_LOAD physical ranges overlap.") { c in
            let t: ProgramHeaders
            switch programHeaders(c) { case .read(let h): t = h; case .unread(let j): return j }
            do {
                let segs = try ElfImage.checkLoadSegments(t.table, phoff: t.phoff, fileSize: c.s.image.fileSize)
                return .pass("\(segs.count) PT_LOAD: " + segs.map { "phdr[\($0.index)] file [\(hex($0.offset)), +\(hex($0.fileSize))) → \($0.physicalRange) align \(hex($0.align))" }.joined(separator: ", ") + "; inside the \(hex(c.s.image.fileSize))-byte file, disjoint")
            } catch { return .fail("\(error), yet it was loaded") }
        },
        Rule("BP-76", "ELF e_entry inside a PT_LOAD", reference: "§4.13; LDS; §5",
             statement: "e_entry (plus any relocation delta) lies inside [p_paddr, p_paddr + p_memsz) of some PT_LOAD.") { c in
            let t: ProgramHeaders
            switch programHeaders(c) { case .read(let h): t = h; case .unread(let j): return j }
            let segs: [ElfSegment]
            do { segs = try ElfImage.checkLoadSegments(t.table, phoff: t.phoff, fileSize: c.s.image.fileSize) } catch { return .na("the PT_LOAD segments fail BP-75 (\(error)): no ranges to hold e_entry") }
            let entry = c.s.image.headerBytes.u64(24)!
            do { try ElfImage.checkEntry(entry, segments: segs.map(\.physicalRange)) } catch { return .fail("\(error), yet it was loaded") }
            let home = segs.first { $0.physicalRange.contains(entry) }!
            // The same delta moves e_entry and the segments, so the file's values decide.
            return .pass("e_entry \(hex(entry)) inside phdr[\(home.index)] \(home.physicalRange)")
        },
        Rule("BP-77", "ELF notes walked inside their PT_NOTE", reference: "§4.13; ELFN; §5",
             statement: "Each PT_NOTE lies inside the file; notes are walked with 4-byte padding, each note's header, name and desc inside its PT_NOTE, namesz and descsz bounded.") { c in
            let t: ProgramHeaders
            switch programHeaders(c) { case .read(let h): t = h; case .unread(let j): return j }
            let headers: [(UInt64, UInt64, UInt64, Int)]
            do { headers = try ElfImage.checkNoteSegments(t.table, phoff: t.phoff, fileSize: c.s.image.fileSize) } catch { return .fail("\(error), yet it was loaded") }
            guard let segs = c.s.image.noteSegments, segs.count == headers.count, zip(segs, headers).allSatisfy({ $0.offset == $1.0 && UInt64($0.bytes.count) == $1.1 }) else {
                return .na("the image record does not hold the bytes of the \(headers.count) PT_NOTE segment(s)")
            }
            var count = 0
            for s in segs {
                do { count += try ElfImage.walkNotes(s.bytes, base: s.offset) { f, o, e, x in ElfImage.err("BP-77", f, o, e, x) }.count } catch { return .fail("\(error), yet it was loaded") }
            }
            return .pass("\(count) note(s) in \(segs.count) PT_NOTE segment(s) at \(segs.map { "[\(hex($0.offset)), +\(hex(UInt64($0.bytes.count))))" }.joined(separator: ", ")), each inside its segment")
        },
    ]

    static let notElf = Judgement.na("not an ELF image")
    static let noElfHeader = Judgement.na("the image record does not hold the ELF header")

    /// nil when the record holds an ELF header that BP-73 accepts; else why the fields past
    /// the identity are not read (n/a).
    static func identifiedHeader(_ c: RuleContext) -> Judgement? {
        let i = c.s.image
        guard c.isElf else { return notElf }
        guard i.headerBytes.count == 64 || i.fileSize < 64 else { return noElfHeader }
        do { try ElfImage.checkIdentity(i.headerBytes, fileSize: i.fileSize) } catch { return .na("the ELF header fails BP-73 (\(error)): the fields past the identity are not read") }
        return nil
    }

    /// The program header table as the record holds it, at e_phoff.
    struct ProgramHeaders { let table: [UInt8]; let phoff: UInt64 }
    /// The table BP-75…BP-77 read, or why they cannot: not an ELF, BP-73 or BP-74 fails (named),
    /// or the record does not hold the table.
    enum ProgramHeaderView { case read(ProgramHeaders), unread(Judgement) }
    static func programHeaders(_ c: RuleContext) -> ProgramHeaderView {
        let i = c.s.image
        if let unread = identifiedHeader(c) { return .unread(unread) }
        let (phoff, phnum): (UInt64, Int)
        do { (phoff, phnum) = try ElfImage.checkProgramHeaderTable(i.headerBytes, fileSize: i.fileSize) } catch { return .unread(.na("the program header table fails BP-74 (\(error)): it is not read")) }
        guard i.programHeaders.count == phnum * 56 else { return .unread(.na("the image record holds \(i.programHeaders.count) bytes of program headers, not e_phnum \(phnum) × 56")) }
        return .read(ProgramHeaders(table: i.programHeaders, phoff: phoff))
    }
}
