/// The loader's memory as it was before the guest ran: every region it wrote, copied (the
/// guest writes its own scratch, so comparisons after the run must not read live memory).
public func preBootCopy(_ r: LoadResult) -> CapturedMemory {
    var m = CapturedMemory()
    for reg in r.regions where reg.range.length <= 256 << 20 {
        if let b = r.memory.bytes(at: reg.range.start, count: Int(reg.range.length)) { m.pieces.append((reg.range.start, b)) }
    }
    return m
}

/// Whether what a probe saw inside the guest is what the loader says it handed over: the entry
/// state register by register, and every byte range and hash the probe reported against the
/// loader's guest memory. Each difference names the field, the loader's value and the guest's.
public func probeDisagreements(loaderEntry: EntryState, loaderMemory: any GuestMemoryReading, report: ProbeReport) -> [String] {
    var out: [String] = []
    let g = report.entryState
    if g.entryPoint != loaderEntry.entryPoint { out.append("entry point: loader \(loaderEntry.entryPoint.rawValue), guest \(g.entryPoint.rawValue)") }
    let lr = Dictionary(uniqueKeysWithValues: loaderEntry.generalRegisters), gr = Dictionary(uniqueKeysWithValues: g.generalRegisters)
    for (name, _) in loaderEntry.generalRegisters where lr[name] != gr[name] {
        out.append("\(name): loader \(hex(lr[name]!)), guest \(hex(gr[name]!))")
    }
    for (name, l, v) in [("cr0", loaderEntry.cr0, g.cr0), ("cr3", loaderEntry.cr3, g.cr3), ("cr4", loaderEntry.cr4, g.cr4), ("efer", loaderEntry.efer, g.efer)] where l != v {
        out.append("\(name): loader \(hex(l)), guest \(hex(v))")
    }
    if g.gdtr != loaderEntry.gdtr { out.append("gdtr: loader \(hex(loaderEntry.gdtr.base))/\(hex(UInt64(loaderEntry.gdtr.limit))), guest \(hex(g.gdtr.base))/\(hex(UInt64(g.gdtr.limit)))") }
    if g.idtr != loaderEntry.idtr { out.append("idtr: loader \(hex(loaderEntry.idtr.base))/\(hex(UInt64(loaderEntry.idtr.limit))), guest \(hex(g.idtr.base))/\(hex(UInt64(g.idtr.limit)))") }
    let gs = Dictionary(uniqueKeysWithValues: g.segments)
    for (name, l) in loaderEntry.segments {
        guard let v = gs[name] else { continue }
        if l.selector != v.selector { out.append("\(name) selector: loader \(hex(UInt64(l.selector))), guest \(hex(UInt64(v.selector)))"); continue }
        // The guest sees the descriptor in the GDT; the loader describes the cached state. A
        // null or unusable selector has no descriptor to compare.
        if l.present, v.present, l != v { out.append("\(name) descriptor: loader \(l), guest's GDT gives \(v)") }
        if l.present != v.present, l.selector != 0 { out.append("\(name): loader present=\(l.present), guest's GDT present=\(v.present)") }
    }
    for p in report.pieces {
        guard let l = loaderMemory.bytes(at: p.address, count: p.bytes.count) else { out.append("\(p.what) at \(hex(p.address)): not in the loader's memory"); continue }
        if l != p.bytes {
            let i = l.indices.first { l[$0] != p.bytes[$0] } ?? 0
            out.append("\(p.what) at \(hex(p.address)): byte \(hex(UInt64(i))) loader \(hex(UInt64(l[i]))), guest \(hex(UInt64(p.bytes[i])))")
        }
    }
    for (a, page) in report.pageTables.sorted(by: { $0.key < $1.key }) {
        guard let l = loaderMemory.bytes(at: a, count: 4096) else { out.append("page table at \(hex(a)): not in the loader's memory"); continue }
        // The CPU sets Accessed (bit 5) and Dirty (bit 6) as it walks; those are not the loader's.
        for i in 0..<512 {
            let x = l.u64(i * 8)! & ~0x60, y = page.u64(i * 8)! & ~0x60
            if x != y { out.append("page table at \(hex(a)) entry \(i): loader \(hex(x)), guest \(hex(y)) (A/D bits ignored)"); break }
        }
    }
    for h in report.hashes {
        var l: UInt64? = nil
        if h.length <= 1 << 30, let b = loaderMemory.bytes(at: h.address, count: Int(h.length)) { l = ProbeHash64.of(b) }
        if l != h.hash64 { out.append("\(h.what) [\(hex(h.address)), +\(hex(h.length))): loader hash64 \(l.map { hex($0) } ?? "unreadable"), guest \(hex(h.hash64))") }
    }
    if report.truncated { out.append("the probe's report was truncated") }
    return out
}
