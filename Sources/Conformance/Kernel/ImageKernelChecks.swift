/// What a loader handed an arm64 or riscv64 kernel (an Image with a device tree), as far as the
/// kernel can report it back from userspace: the command line, the initrd, and the RAM the
/// machine was given. The device tree's contents are judged against these, not against each
/// other, so a loader that writes a wrong /memory or a short initrd range is caught.
public struct ImageHandoff: Sendable {
    /// The two Image architectures; the value is Debian's architecture name.
    /// arm64 or riscv64: the one enum of the Image code (`ImageBootSnapshot.Architecture`).
    public typealias Architecture = ImageBootSnapshot.Architecture

    public var architecture: Architecture
    /// The command line asked for, without a NUL.
    public var commandLine: [UInt8]
    /// The initrd file: its size and the files in it.
    public var initrdSize: UInt64
    public var initrdFiles: [Newc.Entry]
    /// The machine's RAM as the platform defines it (QEMU virt: from its RAM base, `-m` bytes),
    /// supplied by the runner, never taken from the device tree.
    public var ram: [AddressRange]
    /// Memory that resident firmware keeps for itself and the device tree must reserve
    /// (riscv64: OpenSBI at the start of RAM). Only the start is known to the runner: the
    /// firmware decides the size, so a reservation that begins there and lies in RAM is accepted.
    public var firmwareAt: UInt64?

    public init(architecture: Architecture, commandLine: [UInt8], initrdSize: UInt64, initrdFiles: [Newc.Entry], ram: [AddressRange], firmwareAt: UInt64?) {
        self.architecture = architecture; self.commandLine = commandLine; self.initrdSize = initrdSize; self.initrdFiles = initrdFiles
        self.ram = ram; self.firmwareAt = firmwareAt
    }
}

/// The checks on what an arm64 or riscv64 kernel reported from userspace (the corpus init's
/// report, with the device tree lines). The references are Documentation/arch/arm64/booting.rst
/// and Documentation/arch/riscv/boot.rst (Linux 6.12), and the Devicetree Specification v0.4;
/// the A64-/RV- rule catalogue judges the handover itself, these judge what the kernel made of it.
public enum ImageKernelChecks {

    public static func compare(_ k: KernelReport, with h: ImageHandoff) -> [ObservedCheck] {
        var out: [ObservedCheck] = []
        let chosen = "Devicetree Specification v0.4, 3.6 \"/chosen Node\""
        // The command line: what the kernel kept, and the /chosen bootargs it came from.
        if let c = k.commandLine {
            let same = c == h.commandLine
            out.append(ObservedCheck(kind: .commandLine, field: "/proc/cmdline", expected: KernelObservedChecks.quoted(h.commandLine), found: KernelObservedChecks.quoted(c),
                                     outcome: same ? .pass : .fail, note: same ? "\(c.count) bytes" : KernelObservedChecks.firstDifference(h.commandLine, c), rule: nil))
        } else {
            out.append(ObservedCheck(kind: .commandLine, field: "/proc/cmdline", expected: KernelObservedChecks.quoted(h.commandLine), found: "not reported", outcome: .fail,
                                     note: k.unreadable.joined(separator: "; "), rule: nil))
        }
        let want = h.commandLine + [0]
        if let b = k.deviceTreeProperties["/chosen/bootargs"] {
            let same = b == want
            out.append(ObservedCheck(kind: .commandLine, field: "/chosen/bootargs", expected: KernelObservedChecks.quoted(h.commandLine) + " + NUL", found: KernelObservedChecks.quoted(b.last == 0 ? Array(b.dropLast()) : b) + (b.last == 0 ? " + NUL" : " (no NUL)"),
                                     outcome: same ? .pass : .fail, note: same ? chosen : "\(chosen): bootargs is the command line as a NUL-terminated string; " + KernelObservedChecks.firstDifference(want, b), rule: nil))
        } else {
            out.append(ObservedCheck(kind: .commandLine, field: "/chosen/bootargs", expected: KernelObservedChecks.quoted(h.commandLine), found: "absent", outcome: .fail, note: chosen, rule: nil))
        }
        out += initrdChecks(k, h)
        out += memoryChecks(k, h)
        out.append(deviceTreeCheck(k))
        return out
    }

    /// A property holding one number of 1 or 2 big-endian cells (32 or 64 bits), as QEMU and
    /// U-Boot write linux,initrd-start/-end; nil for any other size.
    static func cellNumber(_ b: [UInt8]) -> UInt64? { DeviceTree.Property("", bytes: b).u64 }

    /// `reg` decoded by the root's #address-cells and #size-cells (Devicetree Specification
    /// v0.4, 2.3.5, 2.3.6: defaults 2 and 1), or the reason it cannot be.
    public static func regRanges(_ reg: [UInt8], addressCells: Int, sizeCells: Int) -> Result<[AddressRange], ReasonError> {
        guard (1...2).contains(addressCells), (0...2).contains(sizeCells) else {
            return .failure(ReasonError("#address-cells \(addressCells) / #size-cells \(sizeCells): expected 1 or 2 / 0…2"))
        }
        guard let pairs = DeviceTree.Property("reg", bytes: reg).pairs(addressCells: addressCells, sizeCells: sizeCells) else {
            let step = 4 * (addressCells + sizeCells)
            return .failure(ReasonError("reg is \(reg.count) bytes, not a multiple of \(step) (\(addressCells)+\(sizeCells) cells)"))
        }
        var out: [AddressRange] = []
        for (a, s) in pairs {
            guard let r = AddressRange.make(a, length: s) else { return .failure(ReasonError("reg entry \(hex(a)) + \(hex(s)) wraps past 2^64")) }
            out.append(r)
        }
        return .success(out)
    }

    public struct ReasonError: Error, Sendable { public let reason: String; init(_ r: String) { reason = r } }

    /// The root's cell sizes as reported (defaults when absent: 2 and 1).
    static func rootCells(_ k: KernelReport) -> (address: Int, size: Int) {
        let a = k.deviceTreeProperties["/#address-cells"].flatMap(cellNumber).map(Int.init) ?? 2
        let s = k.deviceTreeProperties["/#size-cells"].flatMap(cellNumber).map(Int.init) ?? 1
        return (a, s)
    }

    static func initrdChecks(_ k: KernelReport, _ h: ImageHandoff) -> [ObservedCheck] {
        var out: [ObservedCheck] = []
        let ref = "\"linux,initrd-start\"/\"linux,initrd-end\" in /chosen (Documentation/devicetree/usage-model.rst; booting.rst 4.: the initrd lies in one 1 GB-aligned window of up to 32 GB with the Image)"
        let s = k.deviceTreeProperties["/chosen/linux,initrd-start"], e = k.deviceTreeProperties["/chosen/linux,initrd-end"]
        if let s, let e, let start = cellNumber(s), let end = cellNumber(e) {
            let found = end >= start ? "[\(hex(start)), \(hex(end))), \(end - start) bytes" : "end \(hex(end)) before start \(hex(start))"
            let sized = end >= start && end - start == h.initrdSize
            out.append(ObservedCheck(kind: .initrd, field: "/chosen linux,initrd-start/end", expected: "\(h.initrdSize) bytes (the initrd file)", found: found,
                                     outcome: sized ? .pass : .fail, note: sized ? ref : "the range /chosen describes is not the initrd's size; " + ref, rule: nil))
            if end >= start, let r = try? AddressRange(start: start, end: end) {
                let inRAM = h.ram.contains { $0.contains(r) }
                out.append(ObservedCheck(kind: .initrd, field: "initrd inside RAM", expected: h.ram.map(\.description).joined(separator: ", "), found: "\(r)",
                                         outcome: inRAM ? .pass : .fail, note: inRAM ? "" : "the initrd range lies outside the machine's RAM", rule: nil))
            }
        } else {
            let what = [("linux,initrd-start", s), ("linux,initrd-end", e)].map { "\($0.0) \($0.1.map { "of \($0.count) bytes" } ?? "absent")" }.joined(separator: ", ")
            out.append(ObservedCheck(kind: .initrd, field: "/chosen linux,initrd-start/end", expected: "two 32- or 64-bit numbers", found: what, outcome: .fail, note: ref, rule: nil))
        }
        out += KernelObservedChecks.initrdFileChecks(h.initrdFiles, report: k, rule: nil)
        return out
    }

    static func memoryChecks(_ k: KernelReport, _ h: ImageHandoff) -> [ObservedCheck] {
        var out: [ObservedCheck] = []
        let want = h.ram.sorted(by: <)
        let wantText = want.map(\.description).joined(separator: ", ")
        // /memory nodes: every reg range, in address order, must be exactly the machine's RAM.
        let cells = rootCells(k)
        let memoryRegs = k.deviceTreeProperties.filter { p, _ in
            let parts = p.split(separator: "/")
            return parts.count == 2 && parts[1] == "reg" && (parts[0] == "memory" || parts[0].hasPrefix("memory@"))
        }
        var described: [AddressRange] = [], problems: [String] = []
        for (path, reg) in memoryRegs.sorted(by: { $0.key < $1.key }) {
            switch regRanges(reg, addressCells: cells.address, sizeCells: cells.size) {
            case .success(let rs): described += rs
            case .failure(let e): problems.append("\(path): \(e.reason)")
            }
        }
        described.sort(by: <)
        let memRef = "booting.rst 1. (the loader finds all RAM) and 2.; Devicetree Specification v0.4, 3.4 \"/memory node\""
        let same = problems.isEmpty && described == want
        out.append(ObservedCheck(kind: .memoryMap, field: "/memory reg (\(memoryRegs.count) node\(memoryRegs.count == 1 ? "" : "s"))", expected: wantText,
                                 found: problems.isEmpty ? (described.isEmpty ? "none" : described.map(\.description).joined(separator: ", ")) : problems.joined(separator: "; "),
                                 outcome: same ? .pass : .fail, note: same ? memRef : "the device tree does not describe the machine's RAM; " + memRef, rule: nil))
        // The kernel's System RAM, the same memory as the kernel took it.
        let ram = k.systemRAM.sorted(by: <)
        let ramSame = ram == want
        out.append(ObservedCheck(kind: .memoryMap, field: "/proc/iomem System RAM", expected: wantText, found: ram.isEmpty ? "none" : ram.map(\.description).joined(separator: ", "),
                                 outcome: ramSame ? .pass : .fail, note: ramSame ? "" : "the kernel uses other memory than the machine has", rule: nil))
        // Resident firmware (riscv64: OpenSBI at the start of RAM) reserved in the tree.
        if let fw = h.firmwareAt {
            let reserved = k.deviceTreeProperties.compactMap { p, reg -> [AddressRange]? in
                let parts = p.split(separator: "/")
                guard parts.count == 3, parts[0] == "reserved-memory", parts[2] == "reg" else { return nil }
                let rc = (k.deviceTreeProperties["/reserved-memory/#address-cells"].flatMap(cellNumber).map(Int.init) ?? cells.address,
                          k.deviceTreeProperties["/reserved-memory/#size-cells"].flatMap(cellNumber).map(Int.init) ?? cells.size)
                return try? regRanges(reg, addressCells: rc.0, sizeCells: rc.1).get()
            }.flatMap { $0 }.sorted(by: <)
            let covering = reserved.first { res in res.start == fw && res.length > 0 && h.ram.contains { $0.contains(res) } }
            out.append(ObservedCheck(kind: .memoryMap, field: "/reserved-memory: firmware at \(hex(fw))", expected: "a reservation from \(hex(fw)) inside RAM",
                                     found: covering.map(\.description) ?? (reserved.isEmpty ? "no /reserved-memory ranges" : reserved.map(\.description).joined(separator: ", ")),
                                     outcome: covering != nil ? .pass : .fail,
                                     note: "Documentation/arch/riscv/boot.rst, \"Reserved memory for resident firmware\": the firmware must mark its memory per the devicetree specification", rule: nil))
        }
        return out
    }

    /// The flattened tree the kernel was given: present, with the FDT magic and a totalsize
    /// within booting.rst's 2 MiB. (Its structure is judged by the FDT reader's rules.)
    static func deviceTreeCheck(_ k: KernelReport) -> ObservedCheck {
        let field = "/sys/firmware/fdt"
        guard let dt = k.deviceTree else {
            return ObservedCheck(kind: .memoryMap, field: field, expected: "the device tree blob", found: "not reported", outcome: .fail, note: k.unreadable.joined(separator: "; "), rule: nil)
        }
        guard dt.count >= 8 else {
            return ObservedCheck(kind: .memoryMap, field: field, expected: "a 40-byte FDT header", found: "\(dt.count) bytes", outcome: .fail, note: "Devicetree Specification v0.4, 5.2", rule: nil)
        }
        // The magic and totalsize words only (the blob as the kernel kept it), against
        // booting.rst's 2 MiB limit (KernelReport's).
        let magic = UInt32(dt.be(0, 4)!), total = UInt32(dt.be(4, 4)!)   // 8 bytes are there (the guard above)
        let limit = KernelReport.maximumDeviceTree
        let ok = magic == DeviceTree.magic && Int(total) <= limit && Int(total) <= dt.count
        return ObservedCheck(kind: .memoryMap, field: field, expected: "magic \(hex(DeviceTree.magic)), totalsize ≤ \(hex(UInt64(limit)))",
                             found: "magic \(hex(magic)), totalsize \(hex(total)), \(dt.count) bytes, hash64 \(hash64Text(ProbeHash64.of(dt)))",
                             outcome: ok ? .pass : .fail, note: "Devicetree Specification v0.4, 5.2; booting.rst 2.", rule: nil)
    }
}
