/// Two loaders booted the same kernel; what each kernel observed, side by side, and each
/// value judged against the rule it answers to.
public struct DifferentialRow: Sendable, Equatable {
    public struct Side: Sendable, Equatable {
        public let value: String
        public let outcome: Outcome
        public let evidence: String
    }
    public let field: String
    public let rule: RuleID?
    public let sides: [Side]
    public var differs: Bool { Set(sides.map(\.value)).count > 1 }
}

public enum LoaderDifferential {
    /// The values a kernel reports that tell where a loader put things and what it said.
    public struct Observed: Sendable {
        public let name: String
        public let report: KernelReport
        /// The entry the loader used, when known: BP-32's initrd_addr_max is lifted at the 64-bit
        /// entry of a kernel with XLF_CAN_BE_LOADED_ABOVE_4G.
        public let entry: EntryPoint?
        public init(name: String, report: KernelReport, entry: EntryPoint? = nil) { self.name = name; self.report = report; self.entry = entry }

        /// `f` in the kernel's copy of boot_params; bytes the report lacks count as 0.
        func u(_ f: ZeroPage.Field) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<f.size where f.offset + i < report.bootParams.count { v |= UInt64(report.bootParams[f.offset + i]) << (8 * UInt64(i)) }
            return v
        }
        /// ramdisk_image and ramdisk_size, each with its ext_* high half.
        var initrdFields: (image: UInt64, size: UInt64) { (u(.ramdiskImage) | u(.extRamdiskImage) << 32, u(.ramdiskSize) | u(.extRamdiskSize) << 32) }
        /// The initrd's range; nil without one, or when image + size wraps past 2^64.
        var initrd: AddressRange? { initrdFields.size == 0 ? nil : AddressRange.make(initrdFields.image, length: initrdFields.size) }
        var commandLinePointer: UInt64 { u(.cmdLinePtr) | u(.extCmdLinePtr) << 32 }
        func isRAM(_ r: AddressRange) -> Bool { report.memoryMap.contains { $0.type == "System RAM" && $0.range.contains(r) } }
    }

    /// Rows for every value that tells loaders apart, then every other zero-page field whose
    /// value differs. `header` is the image's setup header (nil for an ELF vmlinux).
    public static func rows(_ sides: [Observed], header: SetupHeader?) -> [DifferentialRow] {
        typealias S = DifferentialRow.Side
        func row(_ field: String, _ rule: RuleID?, _ f: (Observed) -> S) -> DifferentialRow { DifferentialRow(field: field, rule: rule, sides: sides.map(f)) }
        /// "type_of_loader (0x210)".
        func label(_ f: ZeroPage.Field) -> String { "\(f.name) (\(hex(f.offset)))" }
        var out: [DifferentialRow] = []

        out.append(row("kernel placed at (/proc/iomem Kernel code)", "BP-21") { o in
            guard let k = o.report.kernelCode else { return S(value: "not reported", outcome: .notApplicable, evidence: "") }
            let align = UInt64(header?.kernelAlignment ?? 0x20_0000)
            return S(value: hex(k.start), outcome: k.start % align == 0 ? .pass : .fail, evidence: "\(hex(k.start)) % kernel_alignment \(hex(align)) = \(hex(k.start % align))")
        })
        out.append(row("initrd (ramdisk_image, ramdisk_size)", "BP-32/33/34") { o in
            guard let r = o.initrd else {
                let (a, s) = o.initrdFields
                if s == 0 { return S(value: "none", outcome: .fail, evidence: "ramdisk_size is 0: the kernel has no initrd") }
                return S(value: "\(hex(a)) + \(hex(s))", outcome: .fail, evidence: "ramdisk_image \(hex(a)) + ramdisk_size \(hex(s)) wraps past 2^64: in no RAM (BP-34)")
            }
            let lifted = o.entry == .long64 && header?.xloadFlags.contains(.canBeLoadedAbove4G) == true
            let ceiling = UInt64(header?.initrdAddressMax ?? 0x7FFF_FFFF)
            var bad: [String] = []
            if r.start % 4096 != 0 { bad.append("not page-aligned (BP-33)") }
            if !lifted, r.end - 1 > ceiling { bad.append("ends above initrd_addr_max \(hex(ceiling)) (BP-32)") }
            if !o.isRAM(r) { bad.append("not inside System RAM of the kernel's memory map (BP-34)") }
            let limit = lifted ? "initrd_addr_max lifted (64-bit entry, XLF_CAN_BE_LOADED_ABOVE_4G)" : "≤ \(hex(ceiling))"
            return S(value: "\(r)", outcome: bad.isEmpty ? .pass : .fail, evidence: bad.isEmpty ? "page-aligned, \(limit), in RAM" : bad.joined(separator: "; "))
        })
        out.append(row("command line at (cmd_line_ptr)", "BP-26/29") { o in
            let p = o.commandLinePointer
            let len = UInt64(o.report.commandLine?.count ?? 0) + 1
            if p == 0 { return S(value: "0", outcome: .fail, evidence: "cmd_line_ptr is 0 (BP-26)") }
            let inRAM = AddressRange.make(p, length: len).map(o.isRAM) ?? false
            return S(value: hex(p), outcome: inRAM ? .pass : .fail, evidence: inRAM ? "\(len) bytes in System RAM" : "not in System RAM of the kernel's memory map (BP-29)")
        })
        out.append(row("command line (/proc/cmdline)", "BP-27") { o in
            guard let c = o.report.commandLine else { return S(value: "not reported", outcome: .fail, evidence: "") }
            let limit = Int(header?.commandLineLimit ?? 2048)
            return S(value: "\"\(String(decoding: c, as: UTF8.self))\"", outcome: c.count <= limit ? .pass : .fail, evidence: "\(c.count) bytes, limit \(limit)")
        })
        out.append(row("memory map (/sys/firmware/memmap)", "BP-36/39") { o in
            let m = o.report.memoryMap
            var bad: [String] = []
            if m.count < 2 { bad.append("fewer than 2 entries (BP-36)") }
            if !m.contains(where: { $0.type == "System RAM" && $0.range.start == 0 }) { bad.append("no RAM at 0 (BP-39)") }
            if m.contains(where: { $0.type == "System RAM" && $0.range.overlaps(RAMLayout.legacyHole) }) { bad.append("RAM in the legacy hole 0xA0000–0xFFFFF (BP-39)") }
            return S(value: m.map(\.description).joined(separator: "; "), outcome: bad.isEmpty ? .pass : .fail, evidence: bad.isEmpty ? "\(m.count) entries" : bad.joined(separator: "; "))
        })
        out.append(row(label(.typeOfLoader), "BP-13") { o in
            let v = o.u(.typeOfLoader)
            return S(value: hex(v), outcome: v != 0 ? .pass : .fail, evidence: v == 0 ? "0: the kernel ignores the initrd" : loaderName(UInt8(v)))
        })
        out.append(row(label(.loadflags), "BP-14") { o in
            let v = LoadFlags(rawValue: UInt8(o.u(.loadflags)))
            // Bit 1 is the decompressor's KASLR flag; bits 2–4 and 6 are never a loader's.
            let stray = v.intersection([.unused, .keepSegments])
            return S(value: hex(UInt64(v.rawValue)), outcome: stray.isEmpty ? .pass : .fail, evidence: "\(v)" + (stray.isEmpty ? "" : "; stray bits \(hex(UInt64(stray.rawValue)))"))
        })
        out.append(row(label(.hardwareSubarch), "BP-18") { o in
            let v = o.u(.hardwareSubarch)
            return S(value: hex(v), outcome: v == 0 ? .pass : .fail, evidence: v == 0 ? "PC" : "not PC")
        })
        out.append(row(label(.sentinel), "BP-12") { o in
            let v = o.u(.sentinel)
            return S(value: hex(v), outcome: v == 0 ? .pass : .fail, evidence: "")
        })
        // Every other field whose value differs between the kernels' copies.
        let named: Set<ZeroPage.Field> = [.typeOfLoader, .loadflags, .hardwareSubarch, .sentinel, .ramdiskImage, .ramdiskSize, .extRamdiskImage, .extRamdiskSize,
                                          .cmdLinePtr, .extCmdLinePtr, .e820Table, .e820Entries]
        for f in ZeroPage.fields(covering: 0..<ZeroPage.size) where !named.contains(f) {
            let values = sides.map { o -> [UInt8] in
                f.end <= o.report.bootParams.count ? Array(o.report.bootParams[f.range]) : []
            }
            guard Set(values).count > 1 else { continue }
            out.append(DifferentialRow(field: label(f), rule: nil,
                                       sides: values.map { S(value: KernelObservedChecks.show($0), outcome: .notApplicable, evidence: "") }))
        }
        return out
    }

    /// Documentation/x86/boot.rst's type_of_loader assignments (high nibble).
    public static func loaderName(_ v: UInt8) -> String {
        let names = [0: "LILO", 1: "Loadlin", 2: "bootsect-loader", 3: "Syslinux", 4: "Etherboot/gPXE/iPXE", 5: "ELILO", 7: "GRUB", 8: "U-Boot", 9: "Xen",
                     0xA: "Gujin", 0xB: "Qemu", 0xC: "Arcturus Networks uCbootloader", 0xD: "kexec-tools", 0xE: "extended", 0xF: "special (0xFF = undefined)"]
        return names[Int(v >> 4)].map { "\($0), version \(v & 0xF)" } ?? "unassigned"
    }
}
