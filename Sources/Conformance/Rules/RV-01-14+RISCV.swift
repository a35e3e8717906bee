/// The riscv64 Image boot protocol: Documentation/arch/riscv/boot-image-header.rst and
/// boot.rst (Debian's linux-source-6.12); spec digest §6.2.
extension ImageRuleCatalogue {
    static let headerRst = "Documentation/arch/riscv/boot-image-header.rst", bootRst = "Documentation/arch/riscv/boot.rst"
    static let riscv64: [ImageRule] = [
        ImageRule("RV-01", "Image header valid", reference: "\(headerRst) (header, Notes); spec digest §6.2",
                  statement: "The file holds the 64-byte header with magic2 \"RSC\\x05\" at 0x38 (only the deprecated \"RISCV\" at 0x30: a warning) and flags bit 0 clear (little-endian).") { c in c.headerValid("RV-01") },
        ImageRule("RV-02", "image_size present", reference: "\(headerRst) (\"Image size is mandatory for boot loader to load kernel image\")",
                  statement: "image_size (0x10) is nonzero.") { c in
            guard let n = c.imageSize else { return .na("the header is short (RV-01 fails)") }
            return n != 0 ? .pass("image_size \(hex(n))") : .fail("image_size is 0")
        },
        ImageRule("RV-03", "kernel at a PMD boundary", reference: "\(bootRst) \"Kernel location\" (2 MB aligned for rv64)",
                  statement: "The load address is a multiple of 2 MiB.") { c in
            c.s.loadAddress % (2 << 20) == 0 ? .pass("load address \(hex(c.s.loadAddress))") : .fail("load address \(hex(c.s.loadAddress)) is not 2 MiB-aligned")
        },
        ImageRule("RV-04", "image_size bytes kept free", reference: "\(headerRst) (image_size); \(bootRst) \"Reserved memory for resident firmware\"",
                  statement: "[load address, + image_size) lies in RAM and holds nothing else: no firmware, DTB, initrd or other loader data.") { c in c.keptFree() },
        ImageRule("RV-05", "DTB valid and 8-byte aligned", reference: "\(bootRst) \"Register state\", \"Hardware description\"; Devicetree Specification v0.4 §5 (alignment: the memory reservation block at an 8-byte boundary of the blob)",
                  statement: "The bytes at a1 read as a flattened device tree, and its address is a multiple of 8 (so its 8-byte-aligned blocks are aligned in memory).") { c in
            guard c.s.dtbAddress % 8 == 0 else { return .fail("DTB at \(hex(c.s.dtbAddress)) is not 8-byte aligned") }
            return c.dtbValid()
        },
        ImageRule("RV-06", "DTB in RAM, outside the kernel", reference: "\(bootRst) \"Register state\" (a1 = \"the address of the devicetree in memory\"); \(headerRst) (image_size)",
                  statement: "The DTB lies in RAM and overlaps neither the kernel's image_size range, the initrd nor firmware.") { c in c.dtbPlaced() },
        ImageRule("RV-07", "a1 = DTB address", reference: "\(bootRst) \"Register state\"",
                  statement: "a1 holds the DTB's physical address.") { c in
            guard c.s.registers.count >= 2 else { return .na("the snapshot holds \(c.s.registers.count) of a0–a3") }
            return c.s.registers[1] == c.s.dtbAddress ? .pass("a1 = \(hex(c.s.registers[1]))") : .fail("a1 = \(hex(c.s.registers[1])), the DTB is at \(hex(c.s.dtbAddress))")
        },
        ImageRule("RV-08", "a0 is a real hart id", reference: "\(bootRst) \"Register state\" (a0 = \"the hartid of the current core\"); Devicetree Specification v0.4 §3.8 (cpu reg)",
                  statement: "a0 is the reg of an enabled cpu node under /cpus (and the hart the probe found itself on, when known).") { c in
            guard let a0 = c.s.registers.first else { return .na("the snapshot holds no registers") }
            return c.withTree { t in
            guard let cpus = t.node("/cpus") else { return .fail("the DTB has no /cpus") }
            let harts = cpus.children.filter { $0.property("device_type")?.string == "cpu" && $0.isEnabled }.compactMap { $0.reg(in: cpus)?.first?.address }
            var conds: [(Bool, String)] = [(harts.contains(a0), "a0 = \(hex(a0)) is no enabled cpu's reg (harts \(harts.map(hex).joined(separator: ", ")))")]
            if let seen = c.s.riscv64?.hartIDFromDeviceTree { conds.append((seen == a0, "a0 = \(hex(a0)), but the hart runs as \(hex(seen))")) }
            return .check(conds, ok: "a0 = \(hex(a0)), an enabled cpu of /cpus")
            }
        },
        ImageRule("RV-09", "satp = 0", reference: "\(bootRst) \"CSR state\" (\"$satp = 0: the MMU, if present, must be disabled\")",
                  statement: "satp is 0.") { c in
            guard let r = c.s.riscv64 else { return .na("no riscv64 CPU state in the snapshot") }
            return r.satp == 0 ? .pass("satp = 0") : .fail("satp = \(hex(r.satp))")
        },
        ImageRule("RV-10", "firmware memory reserved in the device tree", reference: "\(bootRst) \"Reserved memory for resident firmware\"; Devicetree Specification v0.4 §3.5, §5.3",
                  statement: "Every firmware-resident range is covered by /reserved-memory or the memory reservation block, or lies outside every /memory node.") { c in
            c.withTree { t in
            guard !c.firmware.isEmpty else { return .pass("the platform names no firmware-resident memory") }
            let reserved = t.reservedMemory.compactMap { AddressRange.make($0.address, length: $0.size) } + t.reservations.compactMap { AddressRange.make($0.address, length: $0.size) }
            let described = t.memory.compactMap { AddressRange.make($0.address, length: $0.size) }
            var conds: [(Bool, String)] = []
            for (_, f) in c.firmware {
                let open = f.uncovered(by: reserved).filter { u in described.contains { $0.overlaps(u) } }
                conds.append((open.isEmpty, "firmware \(f): \(open.map(\.description).joined(separator: ", ")) is described as memory and not reserved"))
            }
            return .check(conds, ok: "firmware \(c.firmware.map { $0.1.description }.joined(separator: ", ")) reserved (\(reserved.map(\.description).joined(separator: ", ")))")
            }
        },
        ImageRule("RV-11", "initrd in RAM and described in /chosen", reference: "\(bootRst) \"Hardware description\"; Documentation/devicetree/bindings/chosen (linux,initrd-start/-end)",
                  statement: "With an initrd, /chosen's linux,initrd-start and -end describe a range of its size in RAM holding its bytes; without one, /chosen names none.") { c in c.initrdDescribed() },
        ImageRule("RV-12", "bootargs exact", reference: "Devicetree Specification v0.4 §3.6 (/chosen bootargs)",
                  statement: "/chosen/bootargs is the command line asked for, byte for byte (absent only when none was).") { c in c.bootargsExact() },
        ImageRule("RV-13", "memory nodes agree with RAM", reference: "\(bootRst) \"Hardware description\"; Devicetree Specification v0.4 §3.4, §2.3.4 (status)",
                  statement: "The enabled /memory nodes' reg ranges (status absent or \"okay\"), merged, are exactly the platform's RAM.") { c in c.memoryAgrees() },
        ImageRule("RV-14", "Image intact at the load address", reference: "\(headerRst) (the Image is loaded as a whole; image_size counts from its start)",
                  statement: "The file's bytes are at the load address unchanged.") { c in c.imageIntact() },
    ]
}
