import Conformance

/// A deliberate Image-loader mistake, applied to the reference Image loader's snapshot, so
/// every A64 and RV rule has a violating case (the x86 `LoaderFault`'s counterpart). Each
/// changes the snapshot exactly as the buggy loader would have left the hand-over: the
/// registers, the CPU state, where things lie, the DTB's contents.
public struct ImageLoaderFault: Sendable {
    public let name: String
    public let about: String
    /// The architectures it applies to.
    public let architectures: Set<ImageBootSnapshot.Architecture>
    let apply: @Sendable (inout ImageFaultTarget) -> Void

    public static func named(_ n: String) -> ImageLoaderFault? { all.first { $0.name == n } }
    public func applied(to s: ImageBootSnapshot) -> ImageBootSnapshot {
        var t = ImageFaultTarget(snapshot: s); apply(&t); return t.snapshot
    }
}

/// What an Image fault may change, with the moves a buggy loader makes.
public struct ImageFaultTarget {
    public var snapshot: ImageBootSnapshot
    var isArm: Bool { snapshot.architecture == .arm64 }

    mutating func region(_ name: String, to address: UInt64, bytes: [UInt8]? = nil) {
        guard let i = snapshot.regions?.firstIndex(where: { $0.name == name }) else { return }
        snapshot.regions![i].address = address
        if let bytes { snapshot.regions![i].size = UInt64(bytes.count); snapshot.regions![i].sha256 = sha256Hex(bytes) }
    }
    mutating func moveKernel(to a: UInt64) { snapshot.loadAddress = a; region("kernel", to: a) }
    /// Moves the DTB, and the register that points at it (x0, a1).
    mutating func moveDTB(to a: UInt64) {
        snapshot.dtbAddress = a; snapshot.registers[isArm ? 0 : 1] = a; region("dtb", to: a)
    }
    /// Rewrites the DTB (parsed, changed, written again).
    mutating func editTree(_ change: (inout DeviceTree) -> Void) {
        guard let b = snapshot.dtb, var t = try? DeviceTree(blob: b) else { return }
        change(&t)
        let blob = t.blob()
        snapshot.dtb = blob; region("dtb", to: snapshot.dtbAddress, bytes: blob)
    }
    mutating func editChosen(_ change: (inout DeviceTree.Node) -> Void) {
        editTree { t in
            guard let i = t.root.children.firstIndex(where: { $0.name == "chosen" }) else { return }
            change(&t.root.children[i])
        }
    }
    /// Moves the initrd: its bytes, /chosen's range and the snapshot's record of it.
    mutating func moveInitrd(to a: UInt64) {
        guard let i = snapshot.initrd else { return }
        let end = a + (i.end - i.start)
        editChosen { c in
            c.properties = c.properties.filter { !$0.name.hasPrefix("linux,initrd-") } + [.init("linux,initrd-start", u64: a), .init("linux,initrd-end", u64: end)]
        }
        snapshot.initrd = .init(start: a, end: end, sha256: i.sha256); region("initrd", to: a)
    }
    mutating func setHeader(_ value: UInt64, at offset: Int, width: Int) { snapshot.image.header.put(value, at: offset, width: width) }
}

extension ImageLoaderFault {
    init(_ name: String, _ archs: Set<ImageBootSnapshot.Architecture>, _ about: String, _ apply: @escaping @Sendable (inout ImageFaultTarget) -> Void) {
        self.name = name; self.architectures = archs; self.about = about; self.apply = apply
    }
    static let both: Set<ImageBootSnapshot.Architecture> = [.arm64, .riscv64]

    public static let all: [ImageLoaderFault] = shared + arm64 + riscv64

    /// Mistakes either architecture's loader can make; the rule is A64-nn or RV-nn by architecture.
    static let shared: [ImageLoaderFault] = [
        .init("dtb-in-kernel", both, "puts the DTB right after the Image's file bytes, inside image_size (A64-04/-06, RV-04/-06): a loader that sized the kernel by its file") { t in
            t.moveDTB(to: (t.snapshot.loadAddress + t.snapshot.image.fileSize).alignedUp(8)!)
        },
        .init("initrd-in-kernel", both, "puts the initrd right after the Image's file bytes, inside image_size (A64-04, RV-04): crosvm's bug before it honoured image_size") { t in
            t.moveInitrd(to: (t.snapshot.loadAddress + t.snapshot.image.fileSize).alignedUp(0x1000)!)
        },
        .init("dtb-corrupt", both, "hands over a DTB whose magic is wrong (A64-07, RV-05)") { t in t.snapshot.dtb?[3] ^= 0xFF },
        .init("initrd-not-in-chosen", both, "loads the initrd but leaves linux,initrd-start/-end out of /chosen (A64-15, RV-11)") { t in
            t.editChosen { $0.properties.removeAll { $0.name.hasPrefix("linux,initrd-") } }
            t.snapshot.initrd = nil
        },
        .init("bootargs-truncated", both, "cuts the command line at its last space (A64-17, RV-12)") { t in
            t.editChosen { c in
                guard let i = c.properties.firstIndex(where: { $0.name == "bootargs" }), let s = c.properties[i].string, let cut = s.lastIndex(of: " ") else { return }
                c.properties[i] = .init("bootargs", string: String(s[..<cut]))
            }
        },
        .init("memory-node-short", both, "describes half the RAM in /memory (A64-18, RV-13)") { t in
            t.editTree { tree in
                guard let i = tree.root.children.firstIndex(where: { $0.baseName == "memory" }), let r = tree.root.children[i].reg(in: tree.root)?.first else { return }
                tree.root.children[i].properties.removeAll { $0.name == "reg" }
                tree.root.children[i].properties.append(.init("reg", cells: [UInt32(r.address >> 32), UInt32(truncatingIfNeeded: r.address), UInt32((r.size / 2) >> 32), UInt32(truncatingIfNeeded: r.size / 2)]))
            }
        },
        .init("image-corrupt", both, "loads the Image with one byte changed (A64-19, RV-14)") { t in t.snapshot.loadedSHA256 = sha256Hex([0x42]) },
        .init("kernel-over-firmware", both, "loads the Image at the start of RAM, over the firmware (A64-04, RV-04)") { t in t.moveKernel(to: t.snapshot.ram[0].address) },
    ]

    static let arm64: [ImageLoaderFault] = [
        .init("a64-bad-magic", [.arm64], "loads a file whose magic is not \"ARM\\x64\" (A64-01)") { t in t.setHeader(0x644D_5242, at: 0x38, width: 4) },
        .init("a64-ignores-text-offset", [.arm64], "loads the Image at its 2 MiB-aligned base, ignoring text_offset (A64-02)") { t in
            t.moveKernel(to: t.snapshot.loadAddress - (t.snapshot.image.header.u64(0x08) ?? 0))
        },
        .init("a64-base-one-step-up", [.arm64], "loads the Image one 2 MiB step above the lowest free base (A64-03 warns)") { t in t.moveKernel(to: t.snapshot.loadAddress + (2 << 20)) },
        .init("a64-above-48-bit", [.arm64], "places an Image with flags bit 3 set so that it ends above the 48-bit range (A64-03)") { t in t.moveKernel(to: (1 << 48) - (2 << 20)) },
        .init("a64-dtb-misaligned", [.arm64], "puts the DTB 4 bytes past an 8-byte boundary (A64-05)") { t in t.moveDTB(to: t.snapshot.dtbAddress + 4) },
        .init("a64-x0-not-dtb", [.arm64], "enters with x0 = 0 (A64-08)") { t in t.snapshot.registers[0] = 0 },
        .init("a64-x1-nonzero", [.arm64], "leaves x1 = 0x1234 (A64-09)") { t in t.snapshot.registers[1] = 0x1234 },
        .init("a64-mmu-on", [.arm64], "enters with SCTLR_ELx.M set (A64-10)") { t in t.snapshot.arm64?.sctlr |= 1 },
        .init("a64-irq-unmasked", [.arm64], "enters with PSTATE.I clear (A64-11)") { t in t.snapshot.arm64?.daif = 0x340 },
        .init("a64-enters-el3", [.arm64], "enters the kernel at EL3 (A64-12)") { t in t.snapshot.arm64?.exceptionLevel = 3 },
        .init("a64-cntfrq-zero", [.arm64], "leaves CNTFRQ_EL0 unprogrammed (A64-13)") { t in t.snapshot.arm64?.cntfrq = 0 },
        .init("a64-gic-sre-clear", [.arm64], "enters at EL1 with ICC_SRE_EL2.Enable and SRE clear on a GICv3 (A64-14)") { t in t.snapshot.arm64?.iccSreEL2 = 0 },
        .init("a64-initrd-at-top", [.arm64], "puts the initrd at the top of RAM, over 32 GiB from the kernel's 1 GiB-aligned window start (A64-16)") { t in
            guard let i = t.snapshot.initrd, let ram = t.snapshot.ram.last else { return }
            t.moveInitrd(to: (ram.address + ram.size - (i.end - i.start) - 0x10_0000).alignedDown(0x1000))
        },
    ]

    static let riscv64: [ImageLoaderFault] = [
        .init("rv-bad-magic", [.riscv64], "loads a file with neither \"RSC\\x05\" nor \"RISCV\" (RV-01)") { t in
            t.setHeader(0, at: 0x30, width: 8); t.setHeader(0x0543_5353, at: 0x38, width: 4)
        },
        .init("rv-image-size-zero", [.riscv64], "loads an Image whose image_size is 0 (RV-02)") { t in t.setHeader(0, at: 0x10, width: 8) },
        .init("rv-kernel-misaligned", [.riscv64], "loads the Image 4 KiB past a 2 MiB boundary (RV-03)") { t in t.moveKernel(to: t.snapshot.loadAddress + 0x1000) },
        .init("rv-a1-not-dtb", [.riscv64], "enters with a1 = 0 (RV-07)") { t in t.snapshot.registers[1] = 0 },
        .init("rv-a0-bogus-hart", [.riscv64], "enters with a0 = 7, no hart of the DT (RV-08)") { t in t.snapshot.registers[0] = 7 },
        .init("rv-satp-set", [.riscv64], "enters with satp in Sv39 mode (RV-09)") { t in t.snapshot.riscv64?.satp = 8 << 60 | 0x80200 },
        .init("rv-firmware-not-reserved", [.riscv64], "hands over a DT without /reserved-memory for OpenSBI (RV-10)") { t in
            t.editTree { $0.root.children.removeAll { $0.name == "reserved-memory" } }
        },
    ]
}
