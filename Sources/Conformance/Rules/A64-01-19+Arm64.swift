/// The arm64 Image boot protocol: Documentation/arch/arm64/booting.rst (Debian's
/// linux-source-6.12), sections 2 (device tree) and 4 (call the kernel image); spec digest §6.1.
extension ImageRuleCatalogue {
    static let bootingRst = "Documentation/arch/arm64/booting.rst"
    static let arm64: [ImageRule] = [
        ImageRule("A64-01", "Image header valid", reference: "\(bootingRst) §4 (header); spec digest §6.1",
                  statement: "The file holds the 64-byte header with magic 0x644D5241 (\"ARM\\x64\") at 0x38.") { c in c.headerValid("A64-01") },
        ImageRule("A64-02", "placed text_offset from a 2 MiB-aligned base", reference: "\(bootingRst) §4 (\"The Image must be placed text_offset bytes from a 2MB aligned base address\"; image_size 0: text_offset 0x80000)",
                  statement: "load address − text_offset is a multiple of 2 MiB (text_offset taken as 0x80000 when image_size is 0), and text_offset is a multiple of 4 (code0 is the entry instruction).") { c in
            guard let to = c.textOffset else { return .na("the header is short (A64-01 fails)") }
            let base = c.s.loadAddress &- to
            return .check([(to % 4 == 0, "text_offset \(hex(to)) is not a multiple of 4: code0 would be fetched misaligned"),
                           (c.s.loadAddress >= to, "load address \(hex(c.s.loadAddress)) is below text_offset \(hex(to))"),
                           (base % (2 << 20) == 0, "load address \(hex(c.s.loadAddress)) − text_offset \(hex(to)) = \(hex(base)) is not 2 MiB-aligned")],
                          ok: "\(hex(c.s.loadAddress)) = 2 MiB-aligned \(hex(base)) + text_offset \(hex(to))\(c.imageSize == 0 ? " (image_size 0: 0x80000 assumed)" : "")")
        },
        ImageRule("A64-03", "physical placement by flags bit 3", reference: "\(bootingRst) §4 (flags bit 3; NOTE on v4.6)",
                  statement: "Bit 3 set: all image_size bytes lie within the 48-bit physical range. Bit 3 clear (or image_size 0): the base should be as close as possible to the start of DRAM; a lower base that was free (in RAM, clear of firmware) is a warning, since memory below the base is outside the linear map.") { c in
            guard let to = c.textOffset, let flags = c.flags else { return .na("the header is short (A64-01 fails)") }
            guard let k = c.kernel else { return .fail(c.kernelProblem) }
            if c.imageSize != 0 && flags & 8 != 0 {
                return k.end <= 1 << 48 ? .pass("bit 3 set; kernel \(k) below 2^48") : .fail("bit 3 set, but the kernel \(k) ends above 2^48")
            }
            let base = c.s.loadAddress &- to
            guard let lowest = c.lowestBase(textOffset: to), lowest < base else {
                return .pass("bit 3 clear; base \(hex(base)) is the lowest 2 MiB-aligned base whose image fits in RAM clear of firmware")
            }
            return .warn("bit 3 clear; base \(hex(base)) is above \(hex(lowest)), a lower base at which the image fit: \(hex(base - lowest)) bytes below it are outside the kernel's linear map")
        },
        ImageRule("A64-04", "image_size bytes kept free", reference: "\(bootingRst) §4 (\"At least image_size bytes from the start of the image must be free for use by the kernel\")",
                  statement: "[load address, + image_size) lies in RAM and holds nothing else: no firmware, DTB, initrd or other loader data.") { c in c.keptFree() },
        ImageRule("A64-05", "DTB 8-byte aligned, at most 2 MiB", reference: "\(bootingRst) §2 (\"placed on an 8-byte boundary and must not exceed 2 megabytes\")",
                  statement: "The DTB's address is a multiple of 8 and its totalsize is at most 2 MiB.") { c in
            var conds: [(Bool, String)] = [(c.s.dtbAddress % 8 == 0, "DTB at \(hex(c.s.dtbAddress)) is not 8-byte aligned")]
            if let n = c.dtbSize { conds.append((n <= 2 << 20, "DTB totalsize \(hex(n)) exceeds 2 MiB")) }
            return .check(conds, ok: "DTB at \(hex(c.s.dtbAddress))\(c.dtbSize.map { ", \(hex($0)) bytes" } ?? "")")
        },
        ImageRule("A64-06", "DTB in RAM, outside the kernel", reference: "\(bootingRst) §2, §4 (x0 = \"physical address of device tree blob (dtb) in system RAM\"; image_size kept free)",
                  statement: "The DTB lies in RAM and overlaps neither the kernel's image_size range, the initrd nor firmware.") { c in c.dtbPlaced() },
        ImageRule("A64-07", "DTB is a valid flattened device tree", reference: "\(bootingRst) §2; Devicetree Specification v0.4 §5",
                  statement: "The bytes at the DTB's address read as a flattened device tree: header, memory reservation block, structure and strings blocks inside totalsize.") { c in c.dtbValid() },
        ImageRule("A64-08", "x0 = DTB address", reference: "\(bootingRst) §4 (primary CPU register settings)",
                  statement: "x0 holds the physical address of the DTB.") { c in
            guard let x0 = c.s.registers.first else { return .na("the snapshot holds no registers") }
            return x0 == c.s.dtbAddress ? .pass("x0 = \(hex(x0))") : .fail("x0 = \(hex(x0)), the DTB is at \(hex(c.s.dtbAddress))")
        },
        ImageRule("A64-09", "x1 = x2 = x3 = 0", reference: "\(bootingRst) §4 (\"x1 = 0 (reserved for future use)\", x2, x3 alike)",
                  statement: "x1, x2 and x3 are 0.") { c in
            guard c.s.registers.count >= 4 else { return .na("the snapshot holds \(c.s.registers.count) of x0–x3") }
            return .check((1...3).map { (c.s.registers[$0] == 0, "x\($0) = \(hex(c.s.registers[$0]))") }, ok: "x1 = x2 = x3 = 0")
        },
        ImageRule("A64-10", "MMU off", reference: "\(bootingRst) §4 (Caches, MMUs: \"The MMU must be off\")",
                  statement: "SCTLR_ELx.M (bit 0) of the entry exception level is 0.") { c in
            guard let a = c.s.arm64 else { return .na("no arm64 CPU state in the snapshot") }
            return a.sctlr & 1 == 0 ? .pass("SCTLR_EL\(a.exceptionLevel) = \(hex(a.sctlr)): M clear") : .fail("SCTLR_EL\(a.exceptionLevel) = \(hex(a.sctlr)): M (bit 0) set, the MMU is on")
        },
        ImageRule("A64-11", "DAIF fully masked", reference: "\(bootingRst) §4 (CPU mode: \"All forms of interrupts must be masked in PSTATE.DAIF\")",
                  statement: "PSTATE.D, A, I and F (DAIF bits 9–6) are all set.") { c in
            guard let a = c.s.arm64 else { return .na("no arm64 CPU state in the snapshot") }
            return a.daif & 0x3C0 == 0x3C0 ? .pass("DAIF = \(hex(a.daif))") : .fail("DAIF = \(hex(a.daif)): \(zip(["D", "A", "I", "F"], [9, 8, 7, 6]).filter { a.daif >> UInt64($0.1) & 1 == 0 }.map(\.0).joined(separator: ", ")) unmasked")
        },
        ImageRule("A64-12", "exception level allowed", reference: "\(bootingRst) §4 (CPU mode: non-secure EL2, recommended, or EL1)",
                  statement: "The kernel is entered at EL2 or EL1 (EL2 recommended), never EL3 or EL0.") { c in
            guard let a = c.s.arm64 else { return .na("no arm64 CPU state in the snapshot") }
            switch a.exceptionLevel {
            case 2: return .pass("EL2")
            case 1: return .pass("EL1 (EL2 is recommended, for the virtualisation extensions)")
            default: return .fail("entered at EL\(a.exceptionLevel); booting.rst allows non-secure EL2 or EL1")
            }
        },
        ImageRule("A64-13", "CNTFRQ programmed", reference: "\(bootingRst) §4 (Architected timers: \"CNTFRQ must be programmed with the timer frequency\")",
                  statement: "CNTFRQ_EL0 is nonzero.") { c in
            guard let a = c.s.arm64 else { return .na("no arm64 CPU state in the snapshot") }
            return a.cntfrq != 0 ? .pass("CNTFRQ_EL0 = \(a.cntfrq) Hz") : .fail("CNTFRQ_EL0 = 0")
        },
        ImageRule("A64-14", "GICv3 system registers enabled for an EL1 entry", reference: "\(bootingRst) §4 (System registers, GICv3: \"If the kernel is entered at EL1: ICC.SRE_EL2.Enable (bit 3) … ICC_SRE_EL2.SRE (bit 0) must be initialised to 0b1\")",
                  statement: "Entered at EL1 on a GICv3 used in v3 mode: ICC_SRE_EL2.Enable (bit 3) and SRE (bit 0) are 1. At EL2 the kernel programs ICC_SRE_EL2 itself.") { c in
            guard let a = c.s.arm64 else { return .na("no arm64 CPU state in the snapshot") }
            guard a.exceptionLevel == 1 else { return .na("entered at EL\(a.exceptionLevel): booting.rst sets ICC_SRE_EL2 for an entry at EL1; at EL2 the kernel programs it") }
            guard a.gicV3 == true else { return .na(a.gicV3 == nil ? "whether the GIC is a GICv3 is not known" : "not a GICv3 in v3 mode") }
            guard let sre = a.iccSreEL2 else { return .na("ICC_SRE_EL2 is not readable at EL1 and not in the snapshot") }
            return sre & 9 == 9 ? .pass("ICC_SRE_EL2 = \(hex(sre)): Enable and SRE set") : .fail("ICC_SRE_EL2 = \(hex(sre)): \(sre & 8 == 0 ? "Enable (bit 3) clear" : "")\(sre & 9 == 0 ? ", " : "")\(sre & 1 == 0 ? "SRE (bit 0) clear" : "")")
        },
        ImageRule("A64-15", "initrd in RAM and described in /chosen", reference: "\(bootingRst) §4 (initrd); Documentation/devicetree/bindings/chosen (linux,initrd-start/-end)",
                  statement: "With an initrd, /chosen's linux,initrd-start and -end describe a range of its size in RAM holding its bytes; without one, /chosen names none.") { c in c.initrdDescribed() },
        ImageRule("A64-16", "initrd and kernel in one 1 GiB-aligned window of ≤ 32 GiB", reference: "\(bootingRst) §4 (\"entirely within a 1 GB aligned physical memory window of up to 32 GB in size that fully covers the kernel Image as well\")",
                  statement: "From the kernel's and initrd's lowest address rounded down to 1 GiB to their highest end is at most 32 GiB.") { c in
            guard let i = c.initrd, !i.isEmpty else { return .na("no initrd") }
            guard let k = c.kernel else { return .fail(c.kernelProblem) }
            let start = min(k.start, i.start).alignedDown(1 << 30), end = max(k.end, i.end)
            return end - start <= 32 << 30 ? .pass("kernel \(k) and initrd \(i) within [\(hex(start)), \(hex(end))), \(hex(end - start)) bytes")
                : .fail("kernel \(k) and initrd \(i) span [\(hex(start)), \(hex(end))), more than 32 GiB from a 1 GiB-aligned start")
        },
        ImageRule("A64-17", "bootargs exact", reference: "\(bootingRst) §2; Devicetree Specification v0.4 §3.6 (/chosen bootargs)",
                  statement: "/chosen/bootargs is the command line asked for, byte for byte (absent only when none was).") { c in c.bootargsExact() },
        ImageRule("A64-18", "memory nodes agree with RAM", reference: "\(bootingRst) §1, §4 (\"Any memory described to the kernel … will be considered as available\"); Devicetree Specification v0.4 §3.4, §2.3.4 (status)",
                  statement: "The enabled /memory nodes' reg ranges (status absent or \"okay\"), merged, are exactly the platform's RAM.") { c in c.memoryAgrees() },
        ImageRule("A64-19", "Image intact at the load address", reference: "\(bootingRst) §3, §4 (the decompressed Image is called at its load address)",
                  statement: "The file's bytes are at the load address unchanged.") { c in c.imageIntact() },
    ]
}

extension ImageRuleContext {
    /// The lowest 2 MiB-aligned base at which [base + text_offset, + footprint) lies in RAM
    /// clear of firmware: a candidate is each RAM range's start, or the end of a firmware
    /// range, rounded up to 2 MiB (the lowest free base is one of them).
    func lowestBase(textOffset to: UInt64) -> UInt64? {
        let fw = firmware.map(\.1)
        let candidates = (ram.map(\.start) + fw.map { $0.end &- min($0.end, to) }).compactMap { $0.alignedUp(2 << 20) }.sorted()
        return candidates.first { b in
            guard let r = AddressRange.make(b &+ to, length: footprint), b <= b &+ to else { return false }
            return inRAM(r) && !fw.contains { $0.overlaps(r) }
        }
    }
}
