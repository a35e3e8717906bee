import Conformance
import Foundation

/// Why a load result cannot be made into a bundle.
public enum BundleError: Error, Equatable, CustomStringConvertible, Sendable {
    case unsupportedEntry(EntryPoint)
    case aboveFourGiB(what: String, address: UInt64)
    case noRoomForTrampoline(needed: UInt64)
    case nullStackSegment
    case write(path: String, reason: String)

    public var description: String {
        switch self {
        case .unsupportedEntry(let e): "a bundle reproduces the 64-bit, 32-bit and PVH entries; the \(e.rawValue) entry needs BIOS services"
        case let .aboveFourGiB(w, a): "\(w) at 0x\(String(a, radix: 16, uppercase: true)) is above 4 GiB; the trampoline runs in 32-bit mode without paging and cannot reach it"
        case .noRoomForTrampoline(let n): "no free 0x\(String(n, radix: 16, uppercase: true)) bytes between 1 MiB and 4 GiB outside the loader's regions and the kernel window for the trampoline and staged low regions"
        case .nullStackSegment: "the 32-bit entry state has a null SS selector, which cannot be loaded in protected mode"
        case let .write(p, r): "cannot write \(p): \(r)"
        }
    }
}

/// The reference loader's memory image as an ELF that any PVH-capable VMM boots: one PT_LOAD
/// per region the loader wrote, plus a trampoline that recreates the loader's entry state and
/// jumps to the kernel (DESIGN.md, "Bundles").
///
/// - Regions below 1 MiB (GDT, zero page, page tables, command line, …) are staged after the
///   trampoline and copied into place by it, because firmware that runs before a PVH entry
///   (SeaBIOS, qboot) uses low memory.
/// - The trampoline is entered as PVH requires (32-bit protected mode, flat segments, paging
///   off); it ignores the start_info the VMM passes in EBX. It copies the staged regions, loads
///   the loader's GDTR, IDTR and TR (clearing the TSS busy bit first; LTR sets it again, so the
///   GDT bytes end up as the loader wrote them), sets CR4, CR3, EFER and CR0, far-jumps through
///   the loader's code selector, loads the data selectors, RFLAGS and every general register,
///   and jumps to the entry with a jump that neither reads nor writes a register or the stack.
/// - `firmware()` is a 64 KiB `-bios` image for QEMU's `pc` machine that goes from the reset
///   vector straight to the trampoline: no firmware in the way, and nothing else in memory.
public struct PVHBundle: Sendable {
    public struct Segment: Sendable, Equatable {
        public let name: String
        public let address: UInt64
        /// Bytes stored in the file; the rest up to `memorySize` is zero.
        public let fileSize: UInt64
        public let memorySize: UInt64
    }
    public let result: LoadResult
    /// The loaded regions at or above 1 MiB, in address order, then the trampoline segment.
    public let segments: [Segment]
    public let trampoline: UInt64
    /// Trampoline code, its data and stack, then the staged low regions.
    public let trampolineBytes: [UInt8]
    public let staged: [(region: Region, stagedAt: UInt64)]

    public static let lowLimit: UInt64 = RAMLayout.oneMiB
    static let stackSize = 256

    public init(_ r: LoadResult) throws(BundleError) {
        let e = r.entry
        guard [.long64, .protected32, .pvh].contains(e.entryPoint) else { throw .unsupportedEntry(e.entryPoint) }
        if e.entryPoint != .long64 && e.ss.selector == 0 { throw .nullStackSegment }
        for (what, a) in [("GDT base", e.gdtr.base), ("IDT base", e.idtr.base)] where a >= RAMLayout.fourGiB { throw .aboveFourGiB(what: what, address: a) }
        if e.entryPoint != .long64, e.rip >= RAMLayout.fourGiB { throw .aboveFourGiB(what: "the entry point", address: e.rip) }

        let low = r.regions.filter { $0.range.start < Self.lowLimit }.sorted { $0.range.start < $1.range.start }
        let high = r.regions.filter { $0.range.start >= Self.lowLimit }.sorted { $0.range.start < $1.range.start }
        // Code and data take well under 4 KiB; staged regions follow, 16-byte aligned.
        let codeBudget: UInt64 = 0x1000
        var stagedSize: UInt64 = 0
        for g in low { stagedSize = (stagedSize + 15) & ~15; stagedSize += g.range.length }
        let needed = codeBudget + stagedSize
        let busy = r.regions.map(\.range) + [r.kernelWindow]
        var at: UInt64 = Self.lowLimit
        var found: UInt64? = nil
        while let want = AddressRange.make(at, length: needed), want.end <= min(r.layout.lowEnd, RAMLayout.fourGiB) {
            if let clash = busy.filter({ $0.overlaps(want) }).max(by: { $0.end < $1.end }) {
                at = (clash.end + 0xFFF) & ~0xFFF
                continue
            }
            found = at; break
        }
        guard let base = found else { throw .noRoomForTrampoline(needed: needed) }

        var placements: [(Region, UInt64)] = []
        var cursor = base + codeBudget
        for g in low { cursor = (cursor + 15) & ~15; placements.append((g, cursor)); cursor += g.range.length }

        var code = X86Code(origin: base)
        let dataOffset = 0xC00, stackTop = base + codeBudget - 16
        let gdtrAt = base + UInt64(dataOffset), idtrAt = gdtrAt + 8
        code.cli(); code.cld()
        code.mov32(.sp, UInt32(stackTop))
        for (g, from) in placements {
            code.mov32(.si, UInt32(from)); code.mov32(.di, UInt32(g.range.start)); code.mov32(.cx, UInt32(g.range.length)); code.repMovsb()
        }
        code.lgdt(UInt32(gdtrAt), long: false)
        code.lidt(UInt32(idtrAt), long: false)
        if e.tr.present && e.tr.selector != 0 {
            code.andByte(UInt32(e.gdtr.base + UInt64(e.tr.selector & ~7) + 5), 0xFD)
            code.ltr(e.tr.selector)
        }
        code.mov32(.ax, UInt32(truncatingIfNeeded: e.cr4)); code.movCR(4)
        if e.cr3 != 0 { code.mov32(.ax, UInt32(truncatingIfNeeded: e.cr3)); code.movCR(3) }
        let efer = e.efer & ~EntryState.eferLMA
        if efer != 0 {
            code.mov32(.cx, 0xC000_0080); code.mov32(.ax, UInt32(truncatingIfNeeded: efer)); code.mov32(.dx, UInt32(efer >> 32)); code.wrmsr()
        }
        code.mov32(.ax, UInt32(truncatingIfNeeded: e.cr0)); code.movCR(0)
        let farAt = code.bytes.count + 1
        code.jmpFar(selector: e.cs.selector, offset: 0)
        code.patch32(at: farAt, UInt32(code.here))
        let long = e.entryPoint == .long64
        for (s, reg) in [(X86Code.Seg.ds, e.ds), (.es, e.es), (.fs, e.fs), (.gs, e.gs), (.ss, e.ss)] { code.loadSegment(s, reg.present ? reg.selector : 0) }
        code.loadFlags(UInt32(truncatingIfNeeded: e.rflags))
        let regs: [(X86Code.Reg, UInt64)] = [(.ax, e.rax), (.bx, e.rbx), (.cx, e.rcx), (.dx, e.rdx), (.si, e.rsi), (.di, e.rdi), (.bp, e.rbp),
                                             (.r8, e.r8), (.r9, e.r9), (.r10, e.r10), (.r11, e.r11), (.r12, e.r12), (.r13, e.r13), (.r14, e.r14), (.r15, e.r15), (.sp, e.rsp)]
        if long {
            for (reg, v) in regs { code.mov64(reg, v) }
            code.jmpAbsolute64(e.rip)
        } else {
            for (reg, v) in regs where reg.rawValue < 8 { code.mov32(reg, UInt32(truncatingIfNeeded: v)) }
            code.jmpRel32(to: e.rip)
        }
        precondition(code.bytes.count <= dataOffset, "trampoline code outgrew its budget")
        var bytes = code.bytes + [UInt8](repeating: 0, count: dataOffset - code.bytes.count)
        // Pseudo-descriptors: limit u16, base u32 (loaded in 32-bit code).
        for t in [e.gdtr, e.idtr] {
            bytes += le16(t.limit) + [UInt8](littleEndian: t.base, width: 4) + [0, 0]
        }
        bytes += [UInt8](repeating: 0, count: Int(codeBudget) - bytes.count)
        for (g, from) in placements {
            bytes += [UInt8](repeating: 0, count: Int(from - base) - bytes.count)
            bytes += r.memory.bytes(at: g.range.start, count: Int(g.range.length)) ?? []
        }

        var segs: [Segment] = []
        for g in high {
            var file = g.range.length
            // Trailing zeros (ELF bss, unused page-table space) stay out of the file.
            while file > 0 {
                let step = min(file, 0x10000)
                guard r.memory.isZero(at: g.range.start + file - step, length: step) == true else { break }
                file -= step
            }
            while file > 0, r.memory.isZero(at: g.range.start + file - 1, length: 1) == true { file -= 1 }
            segs.append(Segment(name: g.name, address: g.range.start, fileSize: file, memorySize: g.range.length))
        }
        segs.append(Segment(name: "trampoline", address: base, fileSize: UInt64(bytes.count), memorySize: UInt64(bytes.count)))
        result = r; segments = segs; trampoline = base; trampolineBytes = bytes; staged = placements.map { (region: $0.0, stagedAt: $0.1) }
    }

    /// Writes the ELF64: header, one PT_NOTE (Xen PHYS32_ENTRY, 8-byte descriptor) and one
    /// PT_LOAD per segment, each file offset congruent to its address modulo 4 KiB.
    public func write(to path: String) throws(BundleError) {
        let phnum = 1 + segments.count
        let noteOffset = 64 + 56 * phnum
        let note: [UInt8] = le32(4) + le32(8) + le32(18) + Array("Xen\0".utf8) + le64(trampoline)
        var offsets: [UInt64] = []
        var cursor = UInt64(noteOffset + note.count)
        for s in segments {
            var off = (cursor & ~0xFFF) + (s.address & 0xFFF)
            if off < cursor { off += 0x1000 }
            offsets.append(off); cursor = off + s.fileSize
        }
        var head: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        head += le16(2) + le16(62) + le32(1) + le64(trampoline) + le64(64) + le64(0) + le32(0) + le16(64) + le16(56) + le16(UInt16(phnum)) + le16(64) + le16(0) + le16(0)
        head += le32(4) + le32(4) + le64(UInt64(noteOffset)) + le64(0) + le64(0) + le64(UInt64(note.count)) + le64(UInt64(note.count)) + le64(4)
        for (s, off) in zip(segments, offsets) {
            head += le32(1) + le32(7) + le64(off) + le64(s.address) + le64(s.address) + le64(s.fileSize) + le64(s.memorySize) + le64(0x1000)
        }
        head += note
        guard FileManager.default.createFile(atPath: path, contents: Data(head)), let h = FileHandle(forWritingAtPath: path) else {
            throw .write(path: path, reason: String(cString: strerror(errno)))
        }
        defer { try? h.close() }
        do {
            for (s, off) in zip(segments, offsets) {
                try h.seek(toOffset: off)
                if s.name == "trampoline" { try h.write(contentsOf: Data(trampolineBytes)); continue }
                var done: UInt64 = 0
                while done < s.fileSize {
                    let n = min(s.fileSize - done, 8 << 20)
                    guard let b = result.memory.bytes(at: s.address + done, count: Int(n)) else { throw BundleError.write(path: path, reason: "region \(s.name) is outside guest memory") }
                    try h.write(contentsOf: Data(b)); done += n
                }
            }
        } catch let e as BundleError { throw e } catch { throw .write(path: path, reason: error.localizedDescription) }
    }

    /// A 64 KiB firmware image for `qemu-system-x86_64 -M pc -bios`: at the reset vector it
    /// loads a flat GDT, enters 32-bit protected mode and jumps to the trampoline — the state a
    /// PVH entry gets, with no firmware having touched memory.
    /// Loader regions in [0xF0000, 0x100000) (an RSDP, say) are placed in the image too: on
    /// QEMU's pc machine that range reads from the firmware ROM, so the trampoline's copy there
    /// does not stick.
    public func firmware() -> [UInt8] {
        var rom = Self.firmware(jumpingTo: trampoline)
        let window = AddressRange(constantStart: RAMLayout.biosStart, end: RAMLayout.oneMiB)
        for (g, _) in staged where g.range.overlaps(window) {
            let start = max(g.range.start, window.start), end = min(g.range.end, window.end)
            guard end <= window.start + UInt64(Self.stubStart), let bytes = result.memory.bytes(at: start, count: Int(end - start)) else { continue }
            rom.replaceSubrange(Int(start - window.start)..<Int(end - window.start), with: bytes)
        }
        return rom
    }
    /// Where the stub's GDT and code begin inside the 64 KiB image.
    static let stubStart = 0xFF00

    public static func firmware(jumpingTo target: UInt64) -> [UInt8] {
        let size = 0x10000, base: UInt64 = 0xFFFF_0000
        var rom = [UInt8](repeating: 0xF4, count: size)   // hlt everywhere else
        let gdtAt = stubStart, descAt = 0xFF18, codeAt = 0xFF20
        let gdt: [UInt64] = [0, BootGDT.code32, BootGDT.data32]
        for (i, d) in gdt.enumerated() { rom.put64(d, at: gdtAt + 8 * i) }
        let desc = le16(0x17) + le32(UInt32(base) + UInt32(gdtAt))
        rom.replaceSubrange(descAt..<descAt + 6, with: desc)
        // 16-bit code at F000:FF20 (CS base 0xFFFF0000 after reset).
        var c: [UInt8] = [0xFA, 0xFC]                                       // cli; cld
        c += [0x66, 0x2E, 0x0F, 0x01, 0x16] + le16(UInt16(descAt))          // o32 lgdt cs:[desc]
        c += [0x0F, 0x20, 0xC0, 0x0C, 0x01, 0x0F, 0x22, 0xC0]               // mov eax,cr0; or al,1; mov cr0,eax
        let pmAt = codeAt + c.count + 8
        c += [0x66, 0xEA] + le32(UInt32(base) + UInt32(pmAt)) + le16(0x08)  // jmp dword 0x08:pm
        // 32-bit code: flat data selectors, then jump to the trampoline.
        c += [0x66, 0xB8, 0x10, 0x00, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0, 0x8E, 0xE0, 0x8E, 0xE8]
        c += [0xB8] + le32(UInt32(truncatingIfNeeded: target)) + [0xFF, 0xE0]  // mov eax, target; jmp eax
        rom.replaceSubrange(codeAt..<codeAt + c.count, with: c)
        // Reset vector F000:FFF0: jmp near to the code.
        let rel = Int16(codeAt - (0xFFF0 + 3))
        rom.replaceSubrange(0xFFF0..<0xFFF3, with: [0xE9] + le16(UInt16(bitPattern: rel)))
        return rom
    }
}

private func le16(_ v: UInt16) -> [UInt8] { [UInt8](littleEndian: v, width: 2) }
private func le32(_ v: UInt32) -> [UInt8] { [UInt8](littleEndian: v, width: 4) }
private func le64(_ v: UInt64) -> [UInt8] { [UInt8](littleEndian: v, width: 8) }
