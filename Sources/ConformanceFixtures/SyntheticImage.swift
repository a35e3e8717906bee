import Conformance
/// Builds synthetic kernel images from manifest recipes. Deterministic: the same recipe and
/// case id always give the same bytes.
public enum SyntheticImage {
    /// Header end for each protocol version (spec §3 table), from the field table.
    public static func headerEnd(for v: ProtocolVersion) -> Int {
        SetupHeaderLayout.end(for: v)
    }

    /// An image from a recipe as the corpus manifest writes one (`kind` "bzImage" or "elf" and
    /// the keys below), for tests that compare two images built from nearby recipes.
    package static func build(_ recipe: [String: Any], id: String) throws(ManifestError) -> [UInt8] {
        let r = Fields(id: id, d: recipe)
        switch r.str("kind") {
        case "bzImage": return try bzImage(r)
        case "elf": return try elf(r)
        default: throw .badValue(caseID: id, key: "kind", found: r.str("kind") ?? "missing")
        }
    }

    /// A bzImage. Recipe keys (all optional): version, setupSects, pmSize, relocatable,
    /// kernelAlignment, minAlignment, prefAddress, initSize, xloadflags, loadflags, cmdlineSize,
    /// initrdAddrMax, setupTypeMax, handoverOffset, syssize, headerEnd, truncateTo, patch;
    /// probe variants only: efi {pe, handover64} (a PE/COFF header whose entry is the probe's
    /// efi_pe_entry; handover_offset and XLF_EFI_HANDOVER_64 for its efi_handover64).
    static func bzImage(_ r: Fields, probe: ProbeBuild? = nil) throws(ManifestError) -> [UInt8] {
        guard let v = ProtocolVersion(string: r.str("version") ?? "2.15") else { throw .badValue(caseID: r.id, key: "version", found: r.str("version") ?? "") }
        let sects = try r.size("setupSects", 4, max: 255)
        let setupSize = ((sects == 0 ? 4 : sects) + 1) * 512
        let probeImage = probe?.image(variant: r.id)
        var pmSize = try r.size("pmSize", 0x1_0000, max: 64 << 20)
        // A probe variant: the protected-mode image is the probe (its length a multiple of 4 KiB).
        if let probeImage { pmSize = probeImage.count }
        var f = [UInt8](repeating: 0, count: setupSize + pmSize)
        // Boot sector: recognisable junk (a loader copying it into the zero page shows, BP-11).
        f.put(bytes: Array("MZ".utf8) + patternBytes(count: 0x1EF - 2, seed: r.id + "/bootsector"), at: 0)
        f[ZeroPage.Field.sentinel.offset] = 0xFF; f[ZeroPage.Field.sentinel.end] = 0xFF   // sentinel bytes as real images carry them (0x1EF, 0x1F0)
        let end = try r.size("headerEnd", headerEnd(for: v), max: SetupHeaderLayout.areaEnd)
        /// Writes header field `fl` when the header reaches it.
        func set(_ fl: ZeroPage.Field, _ value: UInt64) {
            guard fl.end <= end else { return }
            f.put(value, fl)
        }
        set(.setupSects, UInt64(sects))
        set(.rootFlags, 1)
        set(.syssize, try r.num("syssize", UInt64((pmSize + 15) / 16)))
        set(.vidMode, 0xFFFF)
        set(.bootFlag, 0xAA55)
        f.put(0xEB | UInt64(UInt8(truncatingIfNeeded: end - ZeroPage.Field.jump.end)) << 8, .jump)   // a short jump over the header
        if let s16 = probe?.setup16, setupSize >= 0x400 + s16.count, end + 3 <= 0x400 {
            // The 16-bit entry: a near jump at the header's end to the setup code at 0x400.
            f[end] = 0xE9; f.put16(UInt16(0x400 - (end + 3)), at: end + 1)
            f.put(bytes: s16, at: 0x400)
            // The rest of the sector before the setup code: recognisable bytes, as a real
            // kernel's setup code is there, so a loader that copies the file past the header's
            // end into boot_params shows (BP-04, BP-11, BP-83).
            f.put(bytes: patternBytes(count: 0x400 - (end + 3), seed: r.id + "/setup"), at: end + 3)
        }
        set(.header, UInt64(BzImage.headerMagic))
        set(.version, UInt64(v.rawValue))
        set(.startSysSeg, 0x1000)
        set(.loadflags, try r.num("loadflags", 0x01))
        set(.setupMoveSize, 0x8000)
        set(.code32Start, 0x10_0000)
        set(.heapEndPtr, UInt64(setupSize + 0x400 - 0x200))
        set(.initrdAddrMax, try r.num("initrdAddrMax", 0x7FFF_FFFF))
        set(.kernelAlignment, try r.num("kernelAlignment", 0x20_0000))
        set(.relocatableKernel, (r.bool("relocatable") ?? true) ? 1 : 0)
        set(.minAlignment, try r.num("minAlignment", 21))
        set(.xloadflags, try r.num("xloadflags", 0x03))
        set(.cmdlineSize, try r.num("cmdlineSize", 0x7FF))
        set(.prefAddress, try r.num("prefAddress", 0x100_0000))
        set(.initSize, try r.num("initSize", 0x80_0000))
        set(.handoverOffset, try r.num("handoverOffset", 0))
        // Protected-mode image: pattern bytes, a zstd-magic payload, kernel_info near the end.
        let pm = setupSize
        if let probeImage, let probe {
            f.put(bytes: probeImage, at: pm)
            f.put(bytes: [0x28, 0xB5, 0x2F, 0xFD], at: pm + probe.tail)
            set(.payloadOffset, UInt64(probe.tail)); set(.payloadLength, 0x80)
            // The probe's scratch follows its image: the kernel's memory must cover it.
            if ZeroPage.Field.initSize.end <= end, f.field(.initSize)! < UInt64(probe.scratch.upperBound) {
                f.put(UInt64(UInt32(probe.scratch.upperBound + 0xFFF) & ~0xFFF), .initSize)
            }
        } else {
            f.put(bytes: patternBytes(count: pmSize, seed: r.id + "/pm"), at: pm)
            if pmSize >= 0x400 {
                f.put(bytes: [0x28, 0xB5, 0x2F, 0xFD], at: pm + 0x200)
                set(.payloadOffset, 0x200); set(.payloadLength, UInt64(pmSize / 2))
            }
        }
        if v >= ProtocolVersion(2, 15), pmSize >= 0x100 {
            let kio = probe.map { $0.tail + 0x80 } ?? pmSize - 0x40
            var ki = [UInt8](repeating: 0, count: 16)
            ki.put32(KernelInfo.magicValue, at: 0); ki.put32(16, at: 4); ki.put32(16, at: 8)
            ki.put32(UInt32(truncatingIfNeeded: try r.num("setupTypeMax", 0x8000_0009)), at: 12)
            f.put(bytes: ki, at: pm + kio)
            set(.kernelInfoOffset, UInt64(kio))
        }
        if let efi = r.sub("efi") {
            guard let probe else { throw .badValue(caseID: r.id, key: "efi", found: "an EFI recipe needs the probe kernel (its EFI entries)") }
            if efi.bool("handover64") == true {
                guard v >= ProtocolVersion(2, 11), ZeroPage.Field.xloadflags.end <= end else { throw .badValue(caseID: r.id, key: "efi.handover64", found: "protocol \(v) has no handover_offset (2.11+) or xloadflags (2.12+)") }
                set(.handoverOffset, probe.efiHandover64 - 0x200)
                f.put(f.field(.xloadflags)! | UInt64(XLoadFlags.efiHandover64.rawValue), .xloadflags)
            }
            if efi.bool("pe") == true {
                let layout = PECOFF.Layout(setupSize: UInt32(setupSize), imageFileSize: UInt32(pmSize),
                                           imageMemorySize: UInt32(probe.scratch.upperBound), entryPoint: UInt32(setupSize) + UInt32(probe.efiPEEntry))
                do { f.put(bytes: try PECOFF.header(layout), at: 0) } catch { throw .badValue(caseID: r.id, key: "efi.pe", found: error.description) }
            }
        }
        try applyPatches(&f, r)
        return f
    }

    /// An ELF64 vmlinux. Recipe keys: segments [{paddr, fileSize, memSize, align, flags}], entry,
    /// entrySegment (the PT_LOAD, by index, that holds e_entry and the PVH entry: 0 unless
    /// given; a probe variant puts the probe there and keeps the other segments), noteAlign
    /// (the PT_NOTE's p_align, 4 unless given; the notes stay 4-byte padded as Linux emits
    /// them, spec §5), pvh {name, type, descsz, value, declaredDescsz} or false,
    /// reloc {align, min, max}, phoffOverride, truncateTo, patch.
    static func elf(_ r: Fields, probe: ProbeBuild? = nil) throws(ManifestError) -> [UInt8] {
        var segs = r.list("segments")
        if segs.isEmpty && (probe == nil || r.has("entrySegment")) {
            segs = [Fields(id: r.id, d: ["paddr": "0x1000000", "fileSize": "0x10000", "memSize": "0x10000", "align": "0x200000"]),
                    Fields(id: r.id, d: ["paddr": "0x1200000", "fileSize": "0x1000", "memSize": "0x4000", "align": "0x200000"])]
        }
        let entrySegment = try r.size("entrySegment", 0, max: max(segs.count, 1) - 1)
        var probeImage: [UInt8]? = nil
        if let probe {
            // A probe variant: the probe is the segment that holds the entry, at the recipe's
            // address for it, entered at +0x200 (64-bit) or through the PVH note at pvh_start.
            // Without entrySegment it is the only segment.
            if !r.has("entrySegment") { segs = Array(segs.prefix(1)) }
            let pa = try (segs.isEmpty ? Fields(id: r.id, d: [:]) : segs[entrySegment]).num("paddr", 0x100_0000)
            guard pa < 0xFFF0_0000 else { throw .badValue(caseID: r.id, key: "segments[\(entrySegment)].paddr", found: hex(pa)) }
            var img = probe.image(variant: r.id)
            img.put32(UInt32(pa), at: probe.pvhBaseImmediate)
            probeImage = img
            let seg = Fields(id: r.id, d: ["paddr": hex(pa), "fileSize": hex(UInt64(img.count)), "memSize": hex(probe.scratch.upperBound), "align": "0x200000"])
            if segs.isEmpty { segs = [seg] } else { segs[entrySegment] = seg }
        }
        let firstPaddr = try segs[0].num("paddr", 0x100_0000)
        let entryPaddr = try segs[entrySegment].num("paddr", 0x100_0000)
        // Notes.
        var notes: [UInt8] = []
        func note(name: String, type: UInt32, desc: [UInt8], declaredDesc: UInt64? = nil) {
            var h = [UInt8](repeating: 0, count: 12)
            let nb = Array(name.utf8) + [0]
            h.put32(UInt32(nb.count), at: 0); h.put32(UInt32(truncatingIfNeeded: declaredDesc ?? UInt64(desc.count)), at: 4); h.put32(type, at: 8)
            notes += h + nb + [UInt8](repeating: 0, count: (4 - nb.count % 4) % 4) + desc + [UInt8](repeating: 0, count: (4 - desc.count % 4) % 4)
        }
        note(name: "Linux", type: 0x101, desc: [0, 0, 0, 0])
        if let rl = r.sub("reloc") {
            var d = [UInt8](repeating: 0, count: 12)
            d.put32(UInt32(truncatingIfNeeded: try rl.num("align", 0x20_0000)), at: 0); d.put32(UInt32(truncatingIfNeeded: try rl.num("min", 0x100_0000)), at: 4); d.put32(UInt32(truncatingIfNeeded: try rl.num("max", 0x3FFF_FFFF)), at: 8)
            note(name: "Xen", type: 19, desc: d)
        }
        if r.bool("pvh") != false {
            let p = r.sub("pvh") ?? Fields(id: r.id, d: [:])
            let size = try p.size("descsz", 8, max: 0x1000)
            var d = [UInt8](repeating: 0, count: size)
            let value = try p.num("value", entryPaddr &+ (probe.map { $0.pvhStart } ?? 0x40))
            for i in 0..<min(size, 8) { d[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            note(name: p.str("name") ?? "Xen", type: UInt32(truncatingIfNeeded: try p.num("type", 18)), desc: d, declaredDesc: try p.num("declaredDescsz"))
        }
        // Layout: ELF header, program headers at 0x40, notes at 0x400, segments from 0x1000.
        let phnum = segs.count + 1
        var segData: [(off: Int, bytes: [UInt8])] = []
        var off = 0x1000
        for (i, s) in segs.enumerated() {
            let n = try s.size("fileSize", 0x1000, max: 64 << 20)
            segData.append((off, (i == entrySegment ? probeImage : nil) ?? patternBytes(count: n, seed: r.id + "/seg\(i)")))
            off += (n + 0xFFF) & ~0xFFF
        }
        var f = [UInt8](repeating: 0, count: max(off, 0x1000))
        f.put(bytes: [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1], at: 0)
        f.put16(2, at: 16); f.put16(62, at: 18); f.put32(1, at: 20)
        f.put64(try r.num("entry", entryPaddr &+ (probe == nil ? 0x100 : 0x200)), at: 24)
        f.put64(try r.num("phoff", 0x40), at: 32)
        f.put16(64, at: 52); f.put16(UInt16(truncatingIfNeeded: try r.num("phentsize", 56)), at: 54); f.put16(UInt16(truncatingIfNeeded: try r.num("phnum", UInt64(phnum))), at: 56)
        for (i, s) in segs.enumerated() {
            let b = 0x40 + i * 56
            f.put32(1, at: b); f.put32(UInt32(truncatingIfNeeded: try s.num("flags", 7)), at: b + 4)
            f.put64(try s.num("offset", UInt64(segData[i].off)), at: b + 8)
            let pa = try s.num("paddr", 0x100_0000)
            f.put64(0xFFFF_FFFF_8000_0000 &+ pa, at: b + 16); f.put64(pa, at: b + 24)
            f.put64(UInt64(segData[i].bytes.count), at: b + 32); f.put64(try s.num("memSize", UInt64(segData[i].bytes.count)), at: b + 40)
            f.put64(try s.num("align", 0x20_0000), at: b + 48)
            f.put(bytes: segData[i].bytes, at: segData[i].off)
        }
        let nb = 0x40 + segs.count * 56
        f.put32(4, at: nb); f.put32(4, at: nb + 4); f.put64(0x400, at: nb + 8)
        f.put64(firstPaddr, at: nb + 24); f.put64(UInt64(notes.count), at: nb + 32); f.put64(UInt64(notes.count), at: nb + 40); f.put64(try r.num("noteAlign", 4), at: nb + 48)
        f.put(bytes: notes, at: 0x400)
        try applyPatches(&f, r)
        return f
    }

    static func applyPatches(_ f: inout [UInt8], _ r: Fields) throws(ManifestError) {
        for p in r.list("patch") {
            guard let o = try p.num("offset"), let bytes = [UInt8](hex: p.str("hex") ?? "x"), o <= UInt64(f.count), Int(o) + bytes.count <= f.count else {
                throw .badValue(caseID: r.id, key: "patch", found: "\(p.d)")
            }
            f.put(bytes: bytes, at: Int(o))
        }
        if r.has("truncateTo") { f = Array(f.prefix(try r.size("truncateTo", 0, max: f.count))) }
    }
}
