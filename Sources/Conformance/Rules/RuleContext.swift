/// Everything the rules read, derived from a snapshot by the spec's own formulas.
///
/// Nothing here calls the loader's parsing or placement code: the zero page is read at RSI,
/// header fields by their spec offsets, W from init_size and pref_address as BP-22 defines it.
/// That is what lets the rules catch the loader's mistakes, and judge other loaders.
public struct RuleContext: Sendable {
    public let s: BootSnapshot
    public var memory: any GuestMemoryReading { s.memory }
    public var entry: EntryState { s.entry }
    public var entryPoint: EntryPoint { s.entry.entryPoint }
    public var isBz: Bool { s.image.format == .bzImage }
    public var isElf: Bool { s.image.format == .elf }
    /// L as observed.
    public var L: UInt64 { s.kernelAddress }

    // Image header (bzImage).
    public let imageHeader: [UInt8]
    /// 0x202 + image[0x201]: the header's declared end.
    public let imageHeaderEnd: Int
    /// Protocol version from the image (bzImage), 0 for ELF.
    public let version: UInt16

    /// B: the zero page (RSI for 32/64-bit entry; the real-mode base for 16-bit; nil for PVH).
    public let B: UInt64?
    public let zp: [UInt8]?
    /// PVH start_info (EBX) and its bytes.
    public let startInfo: UInt64?
    public let si: [UInt8]?

    /// The memory map the loader handed over: zero-page e820 or PVH memmap.
    public let e820: [E820Entry]
    public let e820Count: Int
    /// Merged type-1 ranges.
    public let ram: [AddressRange]

    /// W (BP-22): nil when it cannot be computed (protocol < 2.10, no zero page).
    public let window: AddressRange?
    /// C and what is there.
    public let commandLineAddress: UInt64?
    public let commandLineLimit: UInt64
    /// Bytes at C up to (not including) the NUL; nil when no NUL within limit+1 bytes.
    public let commandLineText: [UInt8]?
    /// R and RS, reassembled from low and ext halves (or PVH module 0).
    public let initrd: AddressRange?
    public let initrdFields: (image: UInt64, size: UInt64)?
    /// setup_data nodes: address, type, len; walkProblem when the chain is broken.
    public let setupNodes: [(address: UInt64, type: UInt32, length: UInt32)]
    public let setupWalkProblem: String?

    public init(_ s: BootSnapshot) {
        self.s = s
        let hdr = s.image.format == .bzImage ? s.image.headerBytes : []
        imageHeader = hdr
        let hdrEnd = hdr.count > 0x201 ? min(0x202 + Int(hdr[0x201]), hdr.count) : 0
        imageHeaderEnd = hdrEnd
        version = hdr.u16(0x206) ?? 0
        let e = s.entry
        let b: UInt64?
        switch e.entryPoint {
        case .long64, .protected32: b = e.rsi
        case .setup16: b = UInt64(e.cs.selector &- 0x20) << 4
        case .pvh, .efiStub: b = nil
        case .efiHandover64: b = e.rdx
        // cdecl: [ESP] return address, then handle, system table, boot_params.
        case .efiHandover32: b = s.memory.bytes(at: e.rsp &+ 12, count: 4)?.u32(0).map { UInt64($0) }
        }
        B = b
        let zpBytes = b.flatMap { s.memory.bytes(at: $0, count: 4096) }
        zp = zpBytes
        let siAt = e.entryPoint == .pvh ? e.rbx : nil
        startInfo = siAt
        let siBytes = siAt.flatMap { s.memory.bytes(at: $0, count: StartInfo.size) }
        si = siBytes

        // Memory map.
        var map: [E820Entry] = []
        var count = 0
        if let zp = zpBytes {
            count = Int(zp[0x1E8])
            for i in 0..<min(count, 128) { map.append(E820Entry(bytes: zp, at: 0x2D0 + i * 20)) }
        } else if let si = siBytes, let at = si.u64(40), let n = si.u32(48), n <= 4096,
                  let raw = s.memory.bytes(at: at, count: Int(n) * StartInfo.memmapEntrySize) {
            count = Int(n)
            map = StartInfo.memmapEntries(raw)
        }
        e820 = map; e820Count = count
        ram = Self.merge(map.filter { $0.type == .ram }.compactMap(\.range))

        // Header values as the loader left them in the zero page.
        func z(_ o: Int, _ w: Int) -> UInt64 { zpBytes?.le(o, w) ?? 0 }
        func img(_ o: Int, _ w: Int) -> UInt64? { o + w <= hdrEnd ? hdr.le(o, w) : nil }
        let v = version

        // W (BP-22).
        var w: AddressRange? = nil
        if s.image.format == .bzImage, v >= 0x020A, zpBytes != nil, let pref = img(0x258, 8), let initSize = img(0x260, 4) {
            let reloc = (img(0x234, 1) ?? 0) != 0
            let align = z(0x230, 4)
            let rt = reloc ? (max(s.kernelAddress, pref).alignedUp(max(align, 1)) ?? pref) : pref
            w = AddressRange.make(rt, length: initSize)
        } else if s.image.format == .elf, let lo = s.image.segments.map(\.paddr).min(), let hi = s.image.segments.map({ $0.paddr + $0.memorySize }).max() {
            let delta = s.kernelAddress &- lo
            w = AddressRange(start: lo &+ delta, end: hi &+ delta)
        }
        window = w

        // Command line.
        var cAddr: UInt64? = nil
        var limit: UInt64 = 2047
        if s.image.format == .bzImage { limit = v >= 0x0206 ? (img(0x238, 4) ?? 255) : 255 }
        if let zp = zpBytes {
            if s.image.format == .bzImage && v < 0x0202 {
                if zp.u16(0x20) == 0xA33F, let b { cAddr = b + UInt64(zp.u16(0x22)!) }
            } else {
                let c = z(0x228, 4) | z(0x0C8, 4) << 32
                cAddr = c == 0 ? nil : c
            }
        } else if let si = siBytes, let c = si.u64(24), c != 0 {
            cAddr = c
        }
        commandLineAddress = cAddr
        commandLineLimit = limit
        var text: [UInt8]? = nil
        if let c = cAddr {
            var got: [UInt8] = []
            var off: UInt64 = 0
            while off <= limit {
                let n = Int(min(256, limit + 1 - off))
                guard let chunk = s.memory.bytes(at: c &+ off, count: n) ?? s.memory.bytes(at: c &+ off, count: 1) else { break }
                if let nul = chunk.firstIndex(of: 0) { got += chunk[..<nul]; text = got; break }
                got += chunk; off += UInt64(chunk.count)
            }
        }
        commandLineText = text

        // Initrd.
        var rd: AddressRange? = nil
        var fields: (UInt64, UInt64)? = nil
        if zpBytes != nil {
            let r = z(0x218, 4) | z(0x0C0, 4) << 32, rs = z(0x21C, 4) | z(0x0C4, 4) << 32
            fields = (r, rs)
            if rs != 0 || r != 0 { rd = AddressRange.make(r, length: rs) }
        } else if let si = siBytes, let n = si.u32(12), n > 0, let ml = si.u64(16), let m0 = s.memory.bytes(at: ml, count: 32) {
            fields = (m0.u64(0)!, m0.u64(8)!)
            rd = AddressRange.make(m0.u64(0)!, length: m0.u64(8)!)
        }
        initrd = rd
        initrdFields = fields

        // setup_data chain (BP-41): hop limit, cycle detection, bounds.
        var nodes: [(UInt64, UInt32, UInt32)] = []
        var problem: String? = nil
        var next = z(0x250, 8)
        var seen: Set<UInt64> = []
        while next != 0 {
            if seen.contains(next) { problem = "cycle: node \(hex(next)) is reached twice"; break }
            if nodes.count >= 256 { problem = "more than 256 nodes"; break }
            seen.insert(next)
            guard let h = s.memory.bytes(at: next, count: 16) else { problem = "node header at \(hex(next)) is not in guest memory"; break }
            nodes.append((next, h.u32(8)!, h.u32(12)!))
            next = h.u64(0)!
        }
        setupNodes = nodes.map { (address: $0.0, type: $0.1, length: $0.2) }
        setupWalkProblem = problem
    }

    static func merge(_ ranges: [AddressRange]) -> [AddressRange] {
        var out: [AddressRange] = []
        for r in ranges.sorted() where !r.isEmpty {
            if let last = out.last, r.start <= last.end { out[out.count - 1] = AddressRange(start: last.start, end: max(last.end, r.end)) } else { out.append(r) }
        }
        return out
    }

    // MARK: helpers for rules

    public func isRAM(_ r: AddressRange) -> Bool { r.isEmpty || ram.contains { $0.contains(r) } }
    public func z(_ o: Int, _ w: Int) -> UInt64? { zp?.le(o, w) }
    /// An image header field, only if it lies inside the declared header.
    public func img(_ o: Int, _ w: Int) -> UInt64? { o + w <= imageHeaderEnd ? imageHeader.le(o, w) : nil }
    public var xloadflags: UInt16 { version >= 0x020C ? UInt16(img(0x236, 2) ?? 0) : 0 }
    public var relocatable: Bool { version >= 0x0205 && (img(0x234, 1) ?? 0) != 0 }
    public var zeroPageRange: AddressRange? { zp == nil ? nil : B.flatMap { AddressRange.make($0, length: 4096) } }
    /// [C, C+strlen+1), the string as placed.
    public var commandLineRange: AddressRange? {
        guard let c = commandLineAddress else { return nil }
        return AddressRange.make(c, length: UInt64(commandLineText?.count ?? 0) + 1)
    }
    /// [C, C+max(2048, limit+1)): what the kernel copies (BP-29).
    public var commandLineBuffer: AddressRange? {
        commandLineAddress.flatMap { AddressRange.make($0, length: max(2048, commandLineLimit + 1)) }
    }
    public var setupRanges: [AddressRange] {
        var out = setupNodes.compactMap { AddressRange.make($0.address, length: 16 + UInt64($0.length)) }
        for n in setupNodes where n.type == SetupDataType.indirect.rawValue {
            if let d = memory.bytes(at: n.address + 16, count: 24), let r = AddressRange.make(d.u64(16)!, length: d.u64(8)!) { out.append(r) }
        }
        return out
    }
    /// The objects that must survive until the kernel reads them, by name.
    public var bootObjects: [(String, AddressRange)] {
        var out: [(String, AddressRange)] = []
        if let z = zeroPageRange { out.append(("zero page", z)) }
        if let si = startInfo, let r = AddressRange.make(si, length: UInt64(StartInfo.size)) { out.append(("start_info", r)) }
        if let c = commandLineRange { out.append(("command line", c)) }
        if let r = initrd { out.append(("initrd", r)) }
        for (i, r) in setupRanges.enumerated() { out.append(("setup_data[\(i)]", r)) }
        return out
    }

    /// The boot objects plus W, when W is known (BP-40, BP-52).
    public var bootObjectsAndWindow: [(String, AddressRange)] {
        bootObjects + (window.map { [("W", $0)] } ?? [])
    }

    /// A guest-virtual to guest-physical walk of the page tables at CR3 (4- or 5-level),
    /// returning the physical address and the size of the page that maps it.
    public func translate(_ va: UInt64) -> (pa: UInt64, pageSize: UInt64)? {
        let levels = entry.cr4 & EntryState.cr4LA57 != 0 ? 5 : 4
        var table = entry.cr3 & 0x000F_FFFF_FFFF_F000
        for level in stride(from: levels, through: 1, by: -1) {
            let shift = UInt64(12 + 9 * (level - 1))
            let index = (va >> shift) & 0x1FF
            guard let raw = memory.bytes(at: table + index * 8, count: 8), let e = raw.u64(0), e & 1 == 1 else { return nil }
            let frame = e & 0x000F_FFFF_FFFF_F000
            if level == 1 || (level <= 3 && e & 0x80 != 0) {
                let size = UInt64(1) << shift
                return ((frame & ~(size - 1)) | (va & (size - 1)), size)
            }
            table = frame
        }
        return nil
    }

    /// First address in `r` that is not identity-mapped, or nil when all of it is.
    public func firstUnmapped(_ r: AddressRange) -> UInt64? {
        var a = r.start.alignedDown(4096)
        while a < r.end {
            guard let (pa, size) = translate(a), pa == a else { return a }
            let next = (a & ~(size - 1)) &+ size
            if next <= a { break }
            a = next
        }
        return nil
    }

    /// Segment descriptor at `selector` in the GDT, if GDTR covers it and memory holds it.
    public func descriptor(_ selector: UInt16) -> UInt64? {
        let off = UInt64(selector & ~7)
        guard off + 7 <= UInt64(entry.gdtr.limit) else { return nil }
        return memory.bytes(at: entry.gdtr.base + off, count: 8)?.u64(0)
    }

    /// Finds the initrd at low32 + k·4 GiB when the reassembled address misses it (BP-15).
    public func locate(sha256: String, size: UInt64, low: UInt64) -> UInt64? {
        for k in 0...64 as ClosedRange<UInt64> {
            let a = low &+ (k << 32)
            if memory.sha256(at: a, length: size) == sha256 { return a }
        }
        return nil
    }
}
