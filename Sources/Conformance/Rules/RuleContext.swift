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
    /// The zero page's bytes; nil when there is none to judge (see zeroPageProblem).
    public let zp: [UInt8]?
    /// Why there is no zero page to judge: PVH, a boot_params pointer of 0 (the pointer rule
    /// fails; the bytes at 0 are no zero page), or bytes the snapshot does not hold.
    public let zeroPageProblem: String?
    /// PVH start_info (EBX) and its fields, when its 56 bytes are readable.
    public let startInfo: UInt64?
    public let si: StartInfo.Fields?

    /// The memory map the loader handed over: zero-page e820 or PVH memmap.
    public let e820: [E820Entry]
    public let e820Count: Int
    /// Whether a memory map was handed over and seen (zero page, start_info, or at the 16-bit
    /// entry the firmware's, when the probe could ask for it).
    public var hasMemoryMap: Bool { memoryMapUnseen == nil && (zp != nil || si != nil) }
    /// Bytes of the real-mode part read at the 16-bit entry: cl_magic/cl_offset and the header.
    public static let realModeHeaderArea = SetupHeaderLayout.areaEnd
    /// Merged type-1 ranges.
    public let ram: [AddressRange]
    /// Why the memory map, or the PVH module list, cannot be judged: a partial view (a probe's
    /// report) that does not hold it, or no zero page to read the e820 from. Rules that would
    /// read it are n/a with this reason.
    public let memoryMapUnseen: String?, moduleListUnseen: String?

    /// W (BP-22): nil when it cannot be computed (protocol < 2.10, no zero page), or when it
    /// wraps (`windowProblem`).
    public let window: AddressRange?
    /// Why W has no range though the image defines one: RT, or RT + init_size, or an ELF
    /// segment's p_paddr + p_memsz wraps past 2^64; the values named.
    public let windowProblem: String?
    /// C and what is there.
    public let commandLineAddress: UInt64?
    public let commandLineLimit: UInt64
    /// Bytes at C up to (not including) the NUL; nil when no NUL within limit+1 bytes.
    public let commandLineText: [UInt8]?
    /// Why the bytes at C cannot be judged, when the snapshot is a partial view (a probe's
    /// report) that does not hold them: the probe did not read them, which is no fault of the
    /// loader's.
    public let commandLineUnseen: String?
    /// R and RS, reassembled from low and ext halves (or PVH module 0); nil without an
    /// initrd, or when R + RS wraps (`initrdProblem`).
    public let initrd: AddressRange?
    /// Why the initrd fields describe no range: R + RS wraps past 2^64; the values named.
    public let initrdProblem: String?
    public let initrdFields: (image: UInt64, size: UInt64)?
    /// setup_data nodes: address, type, len; walkProblem when the chain is broken.
    public let setupNodes: [(address: UInt64, type: UInt32, length: UInt32)]
    public let setupWalkProblem: String?
    /// Why the setup_data chain could not be followed to its end in a partial view.
    public let setupDataUnseen: String?

    public init(_ s: BootSnapshot) {
        self.s = s
        let hdr = s.image.format == .bzImage ? s.image.headerBytes : []
        imageHeader = hdr
        let hdrEnd = SetupHeaderLayout.declaredEnd(hdr).map { min($0, hdr.count) } ?? 0
        imageHeaderEnd = hdrEnd
        version = UInt16(hdr.field(.version) ?? 0)
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
        let partial = s.memory.isPartialView
        var zpBytes: [UInt8]?
        if e.entryPoint == .setup16 {
            // At X the loader hands over the image's own real-mode part with the header fields
            // it wrote; the kernel's setup code builds boot_params later. Only [X, X+0x290)
            // (cl_magic/cl_offset at 0x20, the header from 0x1F1) is the loader's to judge.
            zpBytes = b.flatMap { s.memory.bytes(at: $0, count: Self.realModeHeaderArea) }.map { $0 + [UInt8](repeating: 0, count: ZeroPage.size - Self.realModeHeaderArea) }
        } else {
            zpBytes = b.flatMap { s.memory.bytes(at: $0, count: ZeroPage.size) }
        }
        var zpProblem: String? = nil
        switch (e.entryPoint, b) {
        case (.pvh, _): zpProblem = "PVH entry: the loader hands over start_info, not a zero page"
        case (.long64, 0), (.protected32, 0):
            let reg = e.entryPoint == .long64 ? "RSI" : "ESI", rule = e.entryPoint == .long64 ? "BP-57" : "BP-51"
            zpProblem = "the boot_params pointer is 0 (\(reg) = 0): no zero page was handed over, and the bytes at 0 are not one (\(rule) fails)"
            zpBytes = nil
        case (_, let b?) where zpBytes == nil:
            zpProblem = partial ? "the zero page at \(hex(b)) is not in the captured memory (the probe could not read it)" : "no 4096 bytes of guest memory at the boot_params pointer \(hex(b))"
        default: break
        }
        zp = zpBytes
        zeroPageProblem = zpProblem
        let siAt = e.entryPoint == .pvh ? e.rbx : nil
        startInfo = siAt
        let siFields = siAt.flatMap { s.memory.bytes(at: $0, count: StartInfo.size) }.map(StartInfo.Fields.init(bytes:))
        si = siFields
        /// Why `what` is missing from a partial view.
        func unseen(_ what: String) -> String {
            if let magic = siFields?.magic, magic != StartInfo.magic {
                return "\(what) is not in the captured memory: the probe reads what start_info points to only when its magic is \(hex(StartInfo.magic)), and it is \(hex(magic)) (BP-67 fails)"
            }
            return "\(what) is not in the captured memory (the probe did not report it)"
        }

        // Memory map.
        var map: [E820Entry] = []
        var count = 0
        var mapUnseen: String? = nil
        if e.entryPoint == .setup16 {
            // The kernel's setup code asks the firmware (INT 15h, E820); the probe asked first.
            map = s.firmwareMemoryMap ?? []
            count = map.count
            if s.firmwareMemoryMap == nil { mapUnseen = "the firmware's INT 15h E820 map is not known (the probe reports it when the firmware answers)" }
        } else if let zp = zpBytes {
            count = Int(zp.field(.e820Entries)!)
            for i in 0..<min(count, ZeroPage.e820TableEntries) { map.append(E820Entry(bytes: zp, at: ZeroPage.e820Offset(i))) }
        } else if let si = siFields, si.memmapEntries <= 4096 {
            let n = si.memmapEntries
            if let raw = s.memory.bytes(at: si.memmap, count: Int(n) * StartInfo.memmapEntrySize) {
                count = Int(n)
                map = StartInfo.memmapEntries(raw)
            } else if partial {
                mapUnseen = unseen("the PVH memory map at \(hex(si.memmap)) (\(n) entries)")
            }
        }
        e820 = map; e820Count = count
        if mapUnseen == nil, zpBytes == nil, e.entryPoint != .pvh { mapUnseen = "no memory map to judge against: " + (zpProblem ?? "no zero page") }
        memoryMapUnseen = mapUnseen
        ram = AddressRange.union(map.filter { $0.type == .ram }.compactMap(\.range))

        // Header values as the loader left them in the zero page.
        func z(_ f: ZeroPage.Field) -> UInt64 { zpBytes?.field(f) ?? 0 }
        // The ext_* high halves (0x0C0…0x0CB) lie in the boot sector at the 16-bit entry: the
        // kernel's setup code zero-fills them, so they count as 0 there.
        func ext(_ f: ZeroPage.Field) -> UInt64 { e.entryPoint == .setup16 ? 0 : z(f) }
        func img(_ f: ZeroPage.Field) -> UInt64? { f.end <= hdrEnd ? hdr.field(f) : nil }
        let v = version

        // W (BP-22). A sum that wraps leaves W without a range, and says why.
        var w: AddressRange? = nil
        var wProblem: String? = nil
        if s.image.format == .bzImage, v >= 0x020A, zpBytes != nil, let pref = img(.prefAddress), let initSize = img(.initSize) {
            let reloc = (img(.relocatableKernel) ?? 0) != 0
            let align = max(z(.kernelAlignment), 1)
            if let rt = reloc ? max(s.kernelAddress, pref).alignedUp(align) : pref {
                w = AddressRange.make(rt, length: initSize)
                if w == nil { wProblem = "W = [RT \(hex(rt)), + init_size \(hex(initSize))) wraps past 2^64" }
            } else {
                wProblem = "RT = align_up(max(L \(hex(s.kernelAddress)), pref_address \(hex(pref))), kernel_alignment \(hex(align))) wraps past 2^64"
            }
        } else if s.image.format == .elf, let first = s.image.segments.first {
            // The segments' span, moved to L: [L, L + (max end − min p_paddr)).
            var lo = first.paddr, hi = first.paddr
            for seg in s.image.segments {
                guard let r = AddressRange.make(seg.paddr, length: seg.memorySize) else {
                    wProblem = "segment p_paddr \(hex(seg.paddr)) + p_memsz \(hex(seg.memorySize)) wraps past 2^64"; break
                }
                lo = min(lo, r.start); hi = max(hi, r.end)
            }
            if wProblem == nil {
                w = AddressRange.make(s.kernelAddress, length: hi - lo)
                if w == nil { wProblem = "L \(hex(s.kernelAddress)) + the segments' span \(hex(hi - lo)) wraps past 2^64" }
            }
        }
        window = w
        windowProblem = wProblem

        // Command line.
        var cAddr: UInt64? = nil
        var limit: UInt64 = 2047
        if s.image.format == .bzImage { limit = v >= 0x0206 ? (img(.cmdlineSize) ?? 255) : 255 }
        if let zp = zpBytes {
            if s.image.format == .bzImage && v < 0x0202 {
                if zp.field(.clMagic) == 0xA33F, let b { cAddr = b + zp.field(.clOffset)! }
            } else {
                let c = z(.cmdLinePtr) | ext(.extCmdLinePtr) << 32
                cAddr = c == 0 ? nil : c
            }
        } else if let si = siFields, si.cmdline != 0 {
            cAddr = si.cmdline
        }
        commandLineAddress = cAddr
        commandLineLimit = limit
        var text: [UInt8]? = nil
        var clUnseen: String? = nil
        if let c = cAddr {
            var got: [UInt8] = []
            var off: UInt64 = 0
            while off <= limit {
                let n = Int(min(256, limit + 1 - off))
                // Past 2^64 there is nothing to read: no NUL, so no command line (BP-27 fails).
                let (at, wraps) = c.addingReportingOverflow(off)
                guard !wraps, let chunk = s.memory.bytes(at: at, count: n) ?? s.memory.bytes(at: at, count: 1) else {
                    if partial {
                        clUnseen = off == 0 ? unseen("the command line at \(hex(c))")
                            : "the command line at \(hex(c)) is in the captured memory only up to \(off) bytes, with no NUL (the probe did not report the rest)"
                    }
                    break
                }
                if let nul = chunk.firstIndex(of: 0) { got += chunk[..<nul]; text = got; break }
                got += chunk; off += UInt64(chunk.count)
            }
        }
        commandLineText = text
        commandLineUnseen = text == nil ? clUnseen : nil

        // Initrd.
        var rd: AddressRange? = nil
        var rdProblem: String? = nil
        var fields: (UInt64, UInt64)? = nil
        var modUnseen: String? = nil
        if zpBytes != nil {
            let r = z(.ramdiskImage) | ext(.extRamdiskImage) << 32, rs = z(.ramdiskSize) | ext(.extRamdiskSize) << 32
            fields = (r, rs)
            if rs != 0 || r != 0 {
                rd = AddressRange.make(r, length: rs)
                if rd == nil { rdProblem = "ramdisk_image \(hex(r)) + ramdisk_size \(hex(rs)) wraps past 2^64" }
            }
        } else if let si = siFields, si.nrModules > 0 {
            let (n, ml) = (si.nrModules, si.modlist)
            if let m0 = s.memory.bytes(at: ml, count: StartInfo.modlistEntrySize), let (a, size) = StartInfo.moduleEntry(m0) {
                fields = (a, size)
                rd = AddressRange.make(a, length: size)
                if rd == nil { rdProblem = "module 0 paddr \(hex(a)) + size \(hex(size)) wraps past 2^64" }
            } else if partial {
                modUnseen = unseen("the PVH module list at \(hex(ml)) (\(n) modules)")
            }
        }
        initrd = rd
        initrdProblem = rdProblem
        initrdFields = fields
        moduleListUnseen = modUnseen

        // setup_data chain (BP-41): hop limit, cycle detection, bounds.
        var nodes: [(UInt64, UInt32, UInt32)] = []
        var problem: String? = nil, sdUnseen: String? = nil
        // setup_data exists from 2.09; before that, 0x250 lies past the header (BP-04).
        var next = s.image.format == .bzImage && (v < 0x0209 || hdrEnd < ZeroPage.Field.setupData.end) ? 0 : z(.setupData)
        var seen: Set<UInt64> = []
        while next != 0 {
            if seen.contains(next) { problem = "cycle: node \(hex(next)) is reached twice"; break }
            if nodes.count >= 256 { problem = "more than 256 nodes"; break }
            seen.insert(next)
            guard let raw = s.memory.bytes(at: next, count: SetupData.headerSize), let h = SetupData.parseHeader(raw) else {
                if partial { sdUnseen = unseen("setup_data node \(nodes.count) at \(hex(next))") } else { problem = "node header at \(hex(next)) is not in guest memory" }
                break
            }
            nodes.append((next, h.type, h.length))
            next = h.next
        }
        setupNodes = nodes.map { (address: $0.0, type: $0.1, length: $0.2) }
        setupWalkProblem = problem
        setupDataUnseen = sdUnseen
    }

    // MARK: helpers for rules

    /// The condition "`r` is e820 RAM", or none when the memory map was not seen (a probe
    /// that could not read it, a firmware that did not answer INT 15h): no failure for data the
    /// judge never saw.
    public func inRAM(_ r: AddressRange, _ what: String) -> [(Bool, String)] {
        memoryMapUnseen == nil ? [(isRAM(r), "\(what) \(r) is not inside e820 RAM")] : []
    }

    public func isRAM(_ r: AddressRange) -> Bool { r.isEmpty || ram.contains { $0.contains(r) } }
    /// A zero-page field as the loader left it.
    public func z(_ f: ZeroPage.Field) -> UInt64? { zp?.field(f) }
    /// An image header field, only if it lies inside the declared header.
    public func img(_ f: ZeroPage.Field) -> UInt64? { f.end <= imageHeaderEnd ? imageHeader.field(f) : nil }
    /// An image header field, only if the image's protocol version has it (`since`) and it lies
    /// inside the declared header.
    public func header(_ f: ZeroPage.Field) -> UInt64? { version >= (f.since ?? .newestKnown).rawValue ? img(f) : nil }
    /// The image's protocol version (0 for an ELF vmlinux).
    public var protocolVersion: ProtocolVersion { ProtocolVersion(rawValue: version) }
    /// The image's xloadflags ([] before 2.12).
    public var xloadflags: XLoadFlags { XLoadFlags(rawValue: UInt16(header(.xloadflags) ?? 0)) }
    /// loadflags as the loader left them in the zero page (or at X for the 16-bit entry).
    public var zeroPageLoadFlags: LoadFlags? { z(.loadflags).map { LoadFlags(rawValue: UInt8($0)) } }
    public var relocatable: Bool { (header(.relocatableKernel) ?? 0) != 0 }
    /// The zero page, or at the 16-bit entry the real-mode part the loader placed at X: the
    /// setup sectors, and the heap up to heap_end_ptr + 0x200 when CAN_USE_HEAP is set.
    public var zeroPageRange: AddressRange? {
        guard let zp, let b = B else { return nil }
        guard entryPoint == .setup16 else { return AddressRange.make(b, length: UInt64(ZeroPage.size)) }
        let sects = zp.field(.setupSects)!
        var len = ((sects == 0 ? 4 : sects) + 1) * 512
        if version >= 0x0201, zeroPageLoadFlags?.contains(.canUseHeap) == true { len = max(len, zp.field(.heapEndPtr)! + 0x200) }
        return AddressRange.make(b, length: len)
    }
    /// What `zeroPageRange` is called in evidence.
    public var zeroPageName: String { entryPoint == .setup16 ? "real-mode part" : "zero page" }
    /// True when the string at C is the requested command line cut to exactly the limit
    /// (cmdline_size, or 255 before 2.06): the explicit truncation BP-27 allows.
    public var commandLineTruncatedToLimit: Bool {
        let asked = s.inputs.commandLine
        guard let t = commandLineText, UInt64(asked.count) > commandLineLimit, UInt64(t.count) == commandLineLimit else { return false }
        return t.elementsEqual(asked.prefix(t.count))
    }
    /// [C, C+strlen+1), the string as placed.
    public var commandLineRange: AddressRange? {
        guard let c = commandLineAddress else { return nil }
        return AddressRange.make(c, length: UInt64(commandLineText?.count ?? 0) + 1)
    }
    /// [C, C+max(2048, limit+1)): what the kernel copies (BP-29).
    public var commandLineBuffer: AddressRange? {
        commandLineAddress.flatMap { AddressRange.make($0, length: max(2048, commandLineLimit + 1)) }
    }
    /// Each setup_data node [address, +16+len), then each SETUP_INDIRECT payload, by start and
    /// length: a sum that wraps has no range (see `wrappingObjects`).
    var setupSpans: [(name: String, start: UInt64, length: UInt64)] {
        var out = setupNodes.map { (name: "node", start: $0.address, length: UInt64(SetupData.headerSize) + UInt64($0.length)) }
        for n in setupNodes where n.type == SetupDataType.indirect.rawValue {
            if let d = memory.bytes(at: n.address + UInt64(SetupData.headerSize), count: SetupData.indirectSize), let i = SetupData.parseIndirect(d) {
                out.append((name: "indirect payload", start: i.address, length: i.length))
            }
        }
        return out
    }
    public var setupRanges: [AddressRange] { setupSpans.compactMap { AddressRange.make($0.start, length: $0.length) } }
    /// The objects that must survive until the kernel reads them, by name. One whose range
    /// wraps past 2^64 is not among them: it is in `wrappingObjects`.
    public var bootObjects: [(String, AddressRange)] {
        var out: [(String, AddressRange)] = []
        if let z = zeroPageRange { out.append((zeroPageName, z)) }
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

    /// The boot objects whose range cannot be built because a sum wraps past 2^64, each with
    /// the values that wrap (issue 14: such an object lies nowhere, so a rule that compares
    /// ranges fails on it rather than passing over it).
    public var wrappingObjects: [String] {
        var out: [String] = []
        if let si = startInfo, AddressRange.make(si, length: UInt64(StartInfo.size)) == nil { out.append("start_info \(hex(si)) + \(StartInfo.size) wraps past 2^64") }
        if let c = commandLineAddress, commandLineRange == nil { out.append("command line \(hex(c)) + \((commandLineText?.count ?? 0) + 1) wraps past 2^64") }
        if let p = initrdProblem { out.append("initrd: " + p) }
        for s in setupSpans where AddressRange.make(s.start, length: s.length) == nil { out.append("setup_data \(s.name) \(hex(s.start)) + \(hex(s.length)) wraps past 2^64") }
        return out
    }
    /// One failing condition per wrapping boot object, and for W when `window` is set and W
    /// wraps.
    public func wrapConditions(window: Bool) -> [(Bool, String)] {
        (wrappingObjects + (window ? windowProblem.map { ["kernel window: " + $0] } ?? [] : [])).map { (false, $0) }
    }
    /// The condition "`r` does not overlap W"; when W wraps, a failing one naming why it could
    /// not be compared; none when the image defines no W.
    public func clearOfWindow(_ r: AddressRange, _ what: String) -> [(Bool, String)] {
        if let w = window { return [(!r.overlaps(w), "\(what) \(r) overlaps W \(w)")] }
        return windowProblem.map { [(false, "\(what) \(r) cannot be compared with W: \($0)")] } ?? []
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
        let (at, wraps) = entry.gdtr.base.addingReportingOverflow(off)
        return wraps ? nil : memory.bytes(at: at, count: 8)?.u64(0)
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
