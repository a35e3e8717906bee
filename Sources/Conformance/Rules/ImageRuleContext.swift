/// What the A64 and RV rules derive from an `ImageBootSnapshot`, by the documents' own
/// formulas: the header fields read by offset, the kernel's footprint (image_size bytes from
/// the load address), the DTB as read from its bytes, the initrd as /chosen describes it, and
/// the other objects the kernel's memory must stay clear of. Nothing here calls the reference
/// loader's placement, so the rules judge a probe's report and the loader's output alike.
public struct ImageRuleContext: Sendable {
    public let s: ImageBootSnapshot
    /// text_offset, image_size and flags at 0x08, 0x10, 0x18; nil when the header is short.
    public let textOffsetField: UInt64?, imageSize: UInt64?, flags: UInt64?
    /// The device tree read from the snapshot's DTB bytes; nil when they are not in it.
    public let tree: Result<DeviceTree, FDTError>?
    /// The DTB's totalsize from its header (the blob's length when the header does not read).
    public let dtbSize: UInt64?
    public let ram: [AddressRange]

    public init(_ s: ImageBootSnapshot) {
        self.s = s
        let hb = s.image.header
        textOffsetField = hb.u64(0x08); imageSize = hb.u64(0x10); flags = hb.u64(0x18)
        tree = s.dtb.map { b in Result { () throws(FDTError) in try DeviceTree(blob: b) } }
        dtbSize = s.dtb.map { b in (try? DeviceTree.header(b)).map { UInt64($0.totalSize) } ?? UInt64(b.count) }
        ram = s.ram.compactMap(\.range)
    }

    var isArm: Bool { s.architecture == .arm64 }
    /// The rule ids of the shared checks, by architecture.
    func id(_ arm: Int, _ rv: Int) -> RuleID { isArm ? RuleID(family: .arm64, number: arm) : RuleID(family: .riscv64, number: rv) }

    /// The text_offset the loader must honour (0x80000 for an arm64 header with image_size 0).
    var textOffset: UInt64? {
        guard let t = textOffsetField, let size = imageSize else { return nil }
        return ImageHeader.textOffset(field: t, imageSize: size, architecture: s.architecture)
    }
    /// image_size, or the file's size when image_size is 0 or smaller.
    var footprint: UInt64 { ImageHeader.footprint(imageSize: imageSize ?? 0, fileSize: s.image.fileSize) }
    /// [load address, + footprint); nil when it wraps (`kernelProblem` says so).
    var kernel: AddressRange? { AddressRange.make(s.loadAddress, length: footprint) }
    var kernelProblem: String { "the kernel \(hex(s.loadAddress)) + \(hex(footprint)) wraps past 2^64" }

    var dtbRange: AddressRange? { dtbSize.flatMap { AddressRange.make(s.dtbAddress, length: $0) } }
    /// The tree, or why there is none to judge.
    var treeProblem: String? {
        switch tree {
        case nil: "the DTB's bytes are not in the snapshot"
        case .failure(let e)?: "the DTB does not read (\(id(7, 5)) fails): \(e)"
        case .success?: nil
        }
    }
    /// `body` on the tree, or n/a with the reason there is none.
    func withTree(_ body: (DeviceTree) -> Judgement) -> Judgement {
        if case .success(let t)? = tree { return body(t) }
        return .na(treeProblem ?? "")
    }

    /// /chosen's linux,initrd-start and -end, when both are there; the snapshot's own record
    /// of them when the tree is not in it.
    var chosenInitrd: (start: UInt64, end: UInt64)? {
        if case .success(let t)? = tree {
            guard let c = t.node("/chosen"), let a = c.property("linux,initrd-start")?.u64, let b = c.property("linux,initrd-end")?.u64 else { return nil }
            return (a, b)
        }
        return s.initrd.map { ($0.start, $0.end) }
    }
    var initrd: AddressRange? { chosenInitrd.flatMap { try? AddressRange(start: $0.start, end: $0.end) } }

    func inRAM(_ r: AddressRange) -> Bool { ram.contains { $0.contains(r) } }
    /// "[a, b) is not in RAM [..]" or nil.
    func outsideRAM(_ r: AddressRange, _ what: String) -> String? {
        inRAM(r) ? nil : "\(what) \(r) is not inside RAM \(ram.map(\.description).joined(separator: ", "))"
    }
    /// Firmware-resident ranges, each named.
    var firmware: [(String, AddressRange)] { s.firmware.compactMap(\.range).map { ("firmware", $0) } }
    /// The loader's other blocks (not the kernel, DTB or initrd, which are judged by name).
    var otherRegions: [(String, AddressRange)] {
        (s.regions ?? []).filter { !["kernel", "dtb", "initrd"].contains($0.name) }.compactMap { r in r.memoryRange.range.map { (r.name, $0) } }
    }

    // MARK: checks shared by both architectures (each rule file names its ids).

    /// image_size bytes from the load address: in RAM, clear of firmware, the DTB, the initrd
    /// and the loader's other blocks.
    func keptFree() -> Judgement {
        guard let k = kernel else { return .fail(kernelProblem) }
        var conds: [(Bool, String)] = []
        if let why = outsideRAM(k, "kernel image_size range") { conds.append((false, why)) }
        let others = firmware + [("DTB", dtbRange), ("initrd", initrd)].compactMap { n, r in r.map { (n, $0) } } + otherRegions
        for (n, r) in others { conds.append((!k.overlaps(r), "\(n) \(r) lies inside the kernel's image_size range \(k)")) }
        let note = imageSize == 0 ? " (image_size 0: judged over the file's \(hex(s.image.fileSize)) bytes)" : ""
        return .check(conds, ok: "kernel \(k)\(note) in RAM, clear of \(others.map { "\($0.0) \($0.1)" }.joined(separator: ", "))")
    }

    /// The DTB in RAM and clear of the kernel, the initrd and firmware.
    func dtbPlaced() -> Judgement {
        guard let d = dtbRange else { return s.dtb == nil ? .na("the DTB's bytes are not in the snapshot") : .fail("DTB \(hex(s.dtbAddress)) + \(hex(dtbSize ?? 0)) wraps past 2^64") }
        var conds: [(Bool, String)] = []
        if let why = outsideRAM(d, "DTB") { conds.append((false, why)) }
        if let k = kernel { conds.append((!k.overlaps(d), "DTB \(d) overlaps the kernel's image_size range \(k)")) } else { conds.append((false, kernelProblem)) }
        if let i = initrd { conds.append((!i.overlaps(d), "DTB \(d) overlaps the initrd \(i)")) }
        for (n, r) in firmware { conds.append((!r.overlaps(d), "DTB \(d) overlaps \(n) \(r)")) }
        return .check(conds, ok: "DTB \(d) in RAM, clear of the kernel, the initrd and firmware")
    }

    /// The DTB's bytes read as a flattened device tree whose totalsize they hold.
    func dtbValid() -> Judgement {
        switch tree {
        case nil: return .na("the DTB's bytes are not in the snapshot")
        case .failure(let e)?: return .fail("the DTB at \(hex(s.dtbAddress)) does not read: \(e)")
        case .success(let t)?: return .pass("FDT version \(t.version), \(hex(dtbSize ?? 0)) bytes, \(t.root.children.count) top-level nodes")
        }
    }

    /// With an initrd asked for: /chosen names a range of its size, in RAM, holding its bytes;
    /// without one: /chosen names none.
    func initrdDescribed() -> Judgement {
        if let why = treeProblem, s.initrd == nil { return .na(why) }
        let found = chosenInitrd
        guard let size = s.inputs.initrdSize else {
            return found == nil ? .pass("no initrd asked for, none in /chosen") : .fail("no initrd was asked for, but /chosen names [\(hex(found!.start)), \(hex(found!.end)))")
        }
        guard let f = found else { return .fail("an initrd of \(hex(size)) bytes was asked for, but /chosen has no linux,initrd-start and -end") }
        guard let r = initrd else { return .fail("/chosen's initrd ends at \(hex(f.end)), before its start \(hex(f.start))") }
        var conds: [(Bool, String)] = [(r.length == size, "/chosen's initrd \(r) is \(hex(r.length)) bytes, the initrd \(hex(size))")]
        if let why = outsideRAM(r, "initrd") { conds.append((false, why)) }
        if let want = s.inputs.initrdSHA256, let got = s.initrd?.sha256 {
            conds.append((got == want, "the bytes at \(r) are not the initrd (sha256 \(got.prefix(16))… vs \(want.prefix(16))…)"))
        }
        return .check(conds, ok: "initrd \(r) in RAM, \(hex(size)) bytes\(s.initrd?.sha256 == nil ? "" : ", content matches")")
    }

    /// /chosen/bootargs is the command line asked for, byte for byte.
    func bootargsExact() -> Judgement { withTree { t in
        let want = s.inputs.commandLine
        guard let p = t.node("/chosen")?.property("bootargs") else {
            return want.isEmpty ? .pass("no command line asked for, no bootargs") : .fail("/chosen has no bootargs; \"\(want)\" was asked for")
        }
        guard let got = p.string else { return .fail("/chosen/bootargs is not one NUL-terminated string (\(p.value.count) bytes)") }
        return got == want ? .pass("bootargs \"\(got)\"") : .fail("bootargs \"\(got)\", asked for \"\(want)\"")
    } }

    /// The /memory nodes describe exactly the platform's RAM.
    func memoryAgrees() -> Judgement { withTree { t in
        if let p = t.memoryProblems.first { return .fail(p) }
        let described = t.memory.map { AddressRange.make($0.address, length: $0.size) }
        guard !described.contains(where: { $0 == nil }) else { return .fail("a /memory range wraps past 2^64") }
        let dt = AddressRange.union(described.compactMap { $0 }), platform = AddressRange.union(ram)
        return dt == platform ? .pass("/memory \(dt.map(\.description).joined(separator: ", ")) = RAM")
            : .fail("/memory describes \(dt.isEmpty ? "nothing" : dt.map(\.description).joined(separator: ", ")); RAM is \(platform.map(\.description).joined(separator: ", "))")
    } }

    /// The bytes at the load address are the Image file's.
    func imageIntact() -> Judgement {
        guard let got = s.loadedSHA256 else { return .na("the bytes at the load address were not read") }
        return got == s.image.sha256 ? .pass("\(hex(s.image.fileSize)) bytes at \(hex(s.loadAddress)) match the file") : .fail("the \(hex(s.image.fileSize)) bytes at \(hex(s.loadAddress)) are not the Image (sha256 \(got.prefix(16))… vs \(s.image.sha256.prefix(16))…)")
    }

    /// The header per ImageHeader's checks, for rule `rule` (A64-01 / RV-01); `otherRules`
    /// are left to their own rules.
    func headerValid(_ rule: RuleID) -> Judgement {
        do {
            let h = try ImageHeader(s.image.header, architecture: s.architecture, fileSize: s.image.fileSize)
            let w = h.warnings.filter { $0.contains("deprecated") }
            return w.isEmpty || isArm ? .pass("magic \(hex(s.image.header.u32(0x38) ?? 0)), \(hex(s.image.fileSize)) bytes\(h.warnings.isEmpty ? "" : "; " + h.warnings.joined(separator: "; "))") : .warn(w.joined(separator: "; "))
        } catch where error.rule == rule {
            return .fail(error.description)
        } catch {
            return .pass("magic \(hex(s.image.header.u32(0x38) ?? 0)); \(error.rule) judges: \(error.field)")
        }
    }
}
