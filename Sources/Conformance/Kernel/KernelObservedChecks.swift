/// One comparison between what the loader handed over and what the kernel reports.
public struct ObservedCheck: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case zeroPage = "zero page", commandLine = "command line", memoryMap = "memory map", initrd }
    public let kind: Kind
    /// "0x218 ramdisk_image", "/init", "entry 3".
    public let field: String
    public let expected: String
    public let found: String
    public let outcome: Outcome
    /// Why a difference is legitimate, or what went wrong.
    public let note: String
    public let rule: RuleID?
}

/// What a loader handed a kernel, as far as the kernel can report it back.
public struct Handoff: Sendable {
    /// The zero page the loader wrote (nil when unknown, e.g. QEMU's own loader).
    public var zeroPage: [UInt8]?
    /// The command line without its NUL.
    public var commandLine: [UInt8]
    /// The memory map the loader gave (nil when unknown).
    public var e820: [E820Entry]?
    /// Where the loader put the initrd (nil when unknown) and the files in it.
    public var initrdRange: AddressRange?
    public var initrdFiles: [Newc.Entry]?
    public var imageFormat: String
    public var entry: EntryPoint?

    public init(zeroPage: [UInt8]?, commandLine: [UInt8], e820: [E820Entry]?, initrdRange: AddressRange?, initrdFiles: [Newc.Entry]?, imageFormat: String, entry: EntryPoint?) {
        self.zeroPage = zeroPage; self.commandLine = commandLine; self.e820 = e820; self.initrdRange = initrdRange
        self.initrdFiles = initrdFiles; self.imageFormat = imageFormat; self.entry = entry
    }

    /// From a reference-loader result. For PVH the kernel builds its own boot_params from
    /// start_info, so there is no zero page to compare byte for byte.
    public static func of(_ r: LoadResult, initrdFiles: [Newc.Entry]?) -> Handoff {
        let zp = r.bootParams.flatMap { r.memory.bytes(at: $0, count: ZeroPage.size) }
        var cmd = r.commandLine.bytes
        if let nul = cmd.firstIndex(of: 0) { cmd = Array(cmd[..<nul]) }
        return Handoff(zeroPage: zp, commandLine: cmd, e820: r.e820, initrdRange: r.initrd, initrdFiles: initrdFiles,
                       imageFormat: r.image.formatName, entry: r.entry.entryPoint)
    }
}

public enum KernelObservedChecks {
    /// Fields the kernel itself may change in its copy of boot_params, with the reason.
    public static func kernelChange(_ f: ZeroPage.Field, expected: [UInt8], found: [UInt8], handoff: Handoff) -> String? {
        switch f.name {
        case ZeroPage.Field.loadflags.name:
            // KASLR_FLAG (bit 1) is written by the bzImage decompressor: set when it chose a random address.
            if expected.count == 1, found.count == 1, LoadFlags(rawValue: expected[0]).subtracting(.kaslr) == LoadFlags(rawValue: found[0]).subtracting(.kaslr), handoff.imageFormat != "ELF vmlinux" {
                return "bit 1 (KASLR_FLAG) is set by the decompressor when it randomizes (arch/x86/boot/compressed/kaslr.c)"
            }
        case ZeroPage.Field.scratch.name:
            return "the kernel's startup_32 uses scratch (\(hex(f.offset))) as a one-word stack (arch/x86/boot/compressed/head_64.S)"
        default: break
        }
        return nil
    }

    public static func compare(_ k: KernelReport, with h: Handoff) -> [ObservedCheck] {
        var out: [ObservedCheck] = []
        // Zero page, field by field.
        if let zp = h.zeroPage {
            if k.bootParams.count < ZeroPage.size {
                out.append(ObservedCheck(kind: .zeroPage, field: "/sys/kernel/boot_params/data", expected: "\(ZeroPage.size) bytes", found: "\(k.bootParams.count) bytes",
                                         outcome: .fail, note: k.unreadable.joined(separator: "; "), rule: "BP-11"))
            } else {
                var differing = 0
                for f in ZeroPage.fields(covering: 0..<ZeroPage.size) {
                    let e = Array(zp[f.range]), o = Array(k.bootParams[f.range])
                    guard e != o else { continue }
                    differing += 1
                    let name = f.description
                    if let why = kernelChange(f, expected: e, found: o, handoff: h) {
                        out.append(ObservedCheck(kind: .zeroPage, field: name, expected: show(e), found: show(o), outcome: .pass, note: "changed by the kernel: " + why, rule: nil))
                    } else {
                        out.append(ObservedCheck(kind: .zeroPage, field: name, expected: show(e), found: show(o), outcome: .fail, note: "the kernel kept a different value than the loader wrote", rule: "BP-11"))
                    }
                }
                if differing == 0 {
                    out.append(ObservedCheck(kind: .zeroPage, field: "all \(ZeroPage.fields.count) fields", expected: "loader's zero page", found: "identical", outcome: .pass, note: "", rule: "BP-11"))
                }
            }
        }
        // Command line, byte for byte.
        if let c = k.commandLine {
            let same = c == h.commandLine
            out.append(ObservedCheck(kind: .commandLine, field: "/proc/cmdline", expected: quoted(h.commandLine), found: quoted(c), outcome: same ? .pass : .fail,
                                     note: same ? "\(c.count) bytes" : firstDifference(h.commandLine, c), rule: "BP-27"))
        } else {
            out.append(ObservedCheck(kind: .commandLine, field: "/proc/cmdline", expected: quoted(h.commandLine), found: "not reported", outcome: .fail, note: k.unreadable.joined(separator: "; "), rule: "BP-27"))
        }
        // Memory map: the loader's e820, sorted and with adjacent same-type entries merged, as
        // the kernel keeps it in /sys/firmware/memmap.
        if let e820 = h.e820 {
            let want = normalized(e820)
            let same = want == k.memoryMap
            out.append(ObservedCheck(kind: .memoryMap, field: "/sys/firmware/memmap (\(k.memoryMap.count) entries)", expected: want.map(\.description).joined(separator: ", "),
                                     found: k.memoryMap.map(\.description).joined(separator: ", "), outcome: same ? .pass : .fail,
                                     note: same ? "" : mapDifference(want, k.memoryMap), rule: "BP-35"))
        }
        // Initrd: where the kernel found it, and every file it unpacked.
        if let r = h.initrdRange, let pageEnd = r.end.alignedUp(0x1000), let paged = try? AddressRange(start: r.start, end: pageEnd) {
            if let logged = k.ramdiskLogged {
                let ok = logged == paged
                out.append(ObservedCheck(kind: .initrd, field: "kernel log RAMDISK", expected: "\(paged) (the loaded range to its page end)",
                                         found: "\(logged)", outcome: ok ? .pass : .fail, note: ok ? "" : "the kernel found its initrd elsewhere than the loader put it", rule: "BP-31"))
            }
        }
        if let files = h.initrdFiles { out += initrdFileChecks(files, report: k, rule: "BP-31") }
        return out
    }

    /// Every regular file of the initrd against what the kernel unpacked (size and hash64), and
    /// every regular file the kernel has that the initrd did not hold.
    public static func initrdFileChecks(_ files: [Newc.Entry], report k: KernelReport, rule: RuleID?) -> [ObservedCheck] {
        var out: [ObservedCheck] = []
        for f in files where f.isRegularFile {
            if let got = k.files[f.path] {
                let ok = got.size == f.size && got.hash64 == f.hash64
                out.append(ObservedCheck(kind: .initrd, field: f.path, expected: "\(f.size) bytes hash64 \(hash64Text(f.hash64))",
                                         found: "\(got.size) bytes hash64 \(hash64Text(got.hash64))", outcome: ok ? .pass : .fail,
                                         note: ok ? "" : "the unpacked file differs from the initrd's", rule: rule))
            } else {
                out.append(ObservedCheck(kind: .initrd, field: f.path, expected: "\(f.size) bytes", found: "missing", outcome: .fail, note: "the kernel did not unpack it", rule: rule))
            }
        }
        let packed = Set(files.map(\.path))
        for (path, f) in k.files.sorted(by: { $0.key < $1.key }) where !packed.contains(path) {
            out.append(ObservedCheck(kind: .initrd, field: path, expected: "absent (not in the initrd)", found: "\(f.size) bytes", outcome: .fail,
                                     note: "a regular file the initrd did not contain", rule: rule))
        }
        return out
    }

    /// Sorted, with touching entries of one type merged, and in sysfs's type names. An entry
    /// whose end wraps past 2^64 has no range and is left out (BP-37 fails on it).
    public static func normalized(_ e820: [E820Entry]) -> [KernelReport.MemoryRange] {
        var out: [KernelReport.MemoryRange] = []
        for e in e820.sorted(by: { $0.address < $1.address }) where e.size > 0 {
            guard let r = e.range else { continue }
            let t = sysfsName(e.type)
            if let last = out.last, last.type == t, last.range.end == r.start {
                out[out.count - 1] = KernelReport.MemoryRange(range: last.range.spanning(r), type: t)
            } else { out.append(KernelReport.MemoryRange(range: r, type: t)) }
        }
        return out
    }

    /// The names arch/x86/kernel/e820.c gives /sys/firmware/memmap/N/type.
    public static func sysfsName(_ t: E820Type) -> String {
        switch t {
        case .ram: "System RAM"
        case .reserved: "Reserved"
        case .acpi: "ACPI Tables"
        case .nvs: "ACPI Non-volatile Storage"
        case .unusable: "Unusable memory"
        case .pmem: "Persistent Memory"
        case .pram: "Persistent Memory (legacy)"
        case .softReserved: "Soft Reserved"
        default: "Unknown E820 type"
        }
    }

    static func show(_ b: [UInt8]) -> String {
        if b.count <= 8 { return hex(b.le(0, b.count) ?? 0) }   // 0 bytes: 0
        let nonzero = b.filter { $0 != 0 }.count
        return "\(b.count) bytes, \(nonzero) nonzero, hash64 \(hash64Text(ProbeHash64.of(b)))"
    }
    static func quoted(_ b: [UInt8]) -> String { "\"" + String(decoding: b, as: UTF8.self) + "\"" }
    static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
        let i = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        return "first difference at byte \(i) (loader \(a.count) bytes, kernel \(b.count) bytes)"
    }
    static func mapDifference(_ want: [KernelReport.MemoryRange], _ got: [KernelReport.MemoryRange]) -> String {
        let missing = want.filter { !got.contains($0) }.map(\.description), extra = got.filter { !want.contains($0) }.map(\.description)
        return (missing.isEmpty ? "" : "missing: " + missing.joined(separator: ", ")) + (missing.isEmpty || extra.isEmpty ? "" : "; ") + (extra.isEmpty ? "" : "not from the loader: " + extra.joined(separator: ", "))
    }
}
