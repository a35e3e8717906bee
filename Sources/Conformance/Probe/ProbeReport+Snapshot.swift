extension ProbeReport {
    /// The entry state the guest saw, in the model the reference loader fills.
    public var entryState: EntryState {
        var e = EntryState(entryPoint: entryPoint)
        if entryPoint == .setup16, let rm = realMode {
            // Real mode: segment bases are selector × 16, 64 KiB limits.
            func seg(_ n: String, code: Bool) -> SegmentRegister {
                let s = UInt16(truncatingIfNeeded: rm[n] ?? 0)
                return SegmentRegister(selector: s, base: UInt64(s) << 4, limit: 0xFFFF, type: code ? 0xB : 0x3, present: true, dpl: 0, db: false, s: true, l: false, g: false)
            }
            e.cs = seg("cs", code: true); e.ds = seg("ds", code: false); e.es = seg("es", code: false)
            e.ss = seg("ss", code: false); e.fs = seg("fs", code: false); e.gs = seg("gs", code: false)
            for (k, name) in [("eax", "rax"), ("ebx", "rbx"), ("ecx", "rcx"), ("edx", "rdx"), ("esi", "rsi"), ("edi", "rdi"), ("ebp", "rbp"), ("esp", "rsp")] {
                _ = e.setGeneralRegister(name, rm[k] ?? 0)
            }
            e.rflags = rm["flags"] ?? 0x2
            e.cr0 = rm["cr0"] ?? 0
            e.gdtr = TableRegister(base: rm["gdtr_base"] ?? 0, limit: UInt16(truncatingIfNeeded: rm["gdtr_limit"] ?? 0))
            e.idtr = TableRegister(base: rm["idtr_base"] ?? 0, limit: UInt16(truncatingIfNeeded: rm["idtr_limit"] ?? 0))
            e.rip = 0   // the protocol's entry is offset 0 of segment + 0x20; the header's jump leads to the probe
            return e
        }
        for (name, v) in registers { _ = e.setGeneralRegister(name, v) }
        e.cr0 = control["cr0"] ?? 0; e.cr3 = control["cr3"] ?? 0; e.cr4 = control["cr4"] ?? 0; e.efer = control["efer"] ?? 0
        e.gdtr = gdtr; e.idtr = idtr
        func seg(_ n: String) -> SegmentRegister {
            guard let s = segments[n] else { return .unusable }
            guard let d = s.descriptor else { var u = SegmentRegister.unusable; u.selector = s.selector; return u }
            return SegmentRegister(selector: s.selector, descriptor: d)
        }
        e.cs = seg("cs"); e.ds = seg("ds"); e.es = seg("es"); e.ss = seg("ss"); e.fs = seg("fs"); e.gs = seg("gs"); e.tr = seg("tr")
        return e
    }

    /// Guest memory as far as the report shows it: the pieces and the page-table pages; for a
    /// range the probe only checksummed, the SHA-256 of the known content (kernel image,
    /// segment, initrd) whose checksum and length it matched, or a value no content has.
    public func memory(known: [KnownContent], backed: [AddressRange]? = nil) -> CapturedMemory {
        var m = CapturedMemory(backed: backed)
        for p in pieces { m.pieces.append((p.address, p.bytes)) }
        for (a, b) in pageTables.sorted(by: { $0.key < $1.key }) { m.pieces.append((a, b)) }
        for h in hashes {
            guard let r = AddressRange.make(h.address, length: h.length) else { continue }
            m.hashes[r] = known.first { $0.length == h.length && $0.hash64 == h.hash64 }?.sha256 ?? "hash64:\(hex(h.hash64))"
        }
        return m
    }

    /// A boot snapshot of what the guest saw, for the same rules that judge the reference
    /// loader. `image` and `inputs` describe what the loader was given; `known` the contents
    /// the probe's checksums are matched against (KnownContent.of); `backed` the RAM the VMM
    /// gave the guest, when it knows (BP-92 is n/a without it).
    public func snapshot(image: ImageRecord, inputs: InputRecord, known: [KnownContent], producer: String, backed: [AddressRange]? = nil) -> BootSnapshot {
        // The firmware's map is what the kernel's setup code will read at the 16-bit entry; a
        // walk that did not finish is no map a rule can judge.
        var s = BootSnapshot(producer: producer, image: image, inputs: inputs, entry: entryState, kernelAddress: Self.kernelAddress(base: base, image: image), memory: memory(known: known, backed: backed), regions: [],
                             firmwareMemoryMap: entryPoint == .setup16 && firmwareMapStatus == .complete ? firmwareMap : nil)
        if entryPoint.isEFI || !efi.isEmpty { s.efi = EFIFacts(reported: efi) }
        return s
    }

    /// L as the rules define it from where the probe says it runs. The probe is the PT_LOAD
    /// that holds e_entry, which in an ELF need not be the lowest one (Linux 6.17 moved
    /// startup_64 into a later segment): L is the lowest p_paddr moved by the same delta
    /// (BP-19, BP-70, BP-71). For a bzImage the probe's base is L.
    static func kernelAddress(base: UInt64, image: ImageRecord) -> UInt64 {
        guard image.format == .elf, let lowest = image.segments.map(\.paddr).min(),
              let holder = image.segments.first(where: { image.elfEntry >= $0.paddr && image.elfEntry - $0.paddr < $0.memorySize }) else { return base }
        return base &- (holder.paddr - lowest)
    }
}

/// Bytes the guest should hold somewhere, by length, probe checksum and SHA-256.
public struct KnownContent: Sendable, Equatable {
    public let what: String
    public let length: UInt64
    public let hash64: UInt64
    public let sha256: String

    /// The kernel's protected-mode image or ELF segments, and the initrd.
    public static func of(kernel: some ByteSource, initrd: (any ByteSource)?) throws -> [KnownContent] {
        var ranges: [(String, any ByteSource, UInt64, UInt64)] = []
        switch try KernelImage(source: kernel) {
        case .bzImage(let bz): ranges.append(("protected-mode image", kernel, bz.protectedModeOffset, bz.protectedModeLength))
        case .elf(let elf): for (i, s) in elf.segments.enumerated() { ranges.append(("segment \(i)", kernel, s.offset, s.fileSize)) }
        }
        if let initrd { ranges.append(("initrd", initrd, 0, initrd.size)) }
        var out: [KnownContent] = []
        for (what, src, off, len) in ranges {
            var sha = RegionHasher(), h = ProbeHash64()
            var done: UInt64 = 0
            while done < len {
                let n = Int(min(len - done, 8 << 20))
                let b = try src.read(at: off + done, count: n)
                sha.update(b); h.update(b); done += UInt64(n)
            }
            out.append(KnownContent(what: what, length: len, hash64: h.value, sha256: sha.finalizeHex()))
        }
        return out
    }
}
