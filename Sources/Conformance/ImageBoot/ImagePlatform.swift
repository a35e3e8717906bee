/// The machine an Image is loaded for: its RAM, the firmware-resident memory it knows of,
/// memory the loader must not write for the platform's own reasons, and the entry state its
/// CPU starts the trampoline in. `qemuVirt` describes QEMU's `virt` machines.
public struct ImagePlatform: Sendable, Equatable {
    public typealias Range = ImageBootSnapshot.MemoryRange
    public var architecture: ImageBootSnapshot.Architecture
    public var ram: [Range]
    /// Firmware-resident memory: the loader keeps clear of it, the snapshot lists it, and on
    /// riscv64 the device tree reserves it (RV-10).
    public var firmware: [Range]
    /// Memory the loader must not write that the kernel may use (QEMU's own DTB copy, which
    /// the loader's `-device loader` blobs may not overlap).
    public var avoid: [Range]
    /// arm64: the exception level the CPU enters the trampoline at (1, or 2 with
    /// `virtualization=on`); the PSCI conduit follows (hvc at EL1, smc at EL2).
    public var exceptionLevel: UInt64
    /// riscv64: the hart the firmware starts (its id is a0).
    public var bootHart: UInt64
    /// arm64, entered at EL1 on a machine with EL2: ICC_SRE_EL2 as the EL2 firmware left it
    /// (booting.rst asks Enable and SRE set for a GICv3); nil when there is no EL2 or it is
    /// not known (QEMU `virt` without `virtualization=on` has no EL2).
    public var iccSreEL2: UInt64?

    public init(architecture: ImageBootSnapshot.Architecture, ram: [Range], firmware: [Range] = [], avoid: [Range] = [], exceptionLevel: UInt64 = 1, bootHart: UInt64 = 0, iccSreEL2: UInt64? = nil) {
        self.architecture = architecture; self.ram = ram; self.firmware = firmware; self.avoid = avoid
        self.exceptionLevel = exceptionLevel; self.bootHart = bootHart; self.iccSreEL2 = iccSreEL2
    }

    /// Where `virt` puts RAM: 1 GiB on arm64 (hw/arm/virt.c VIRT_MEM), 2 GiB on riscv64
    /// (hw/riscv/virt.c VIRT_DRAM).
    public static func virtRAMBase(_ architecture: ImageBootSnapshot.Architecture) -> UInt64 {
        architecture == .arm64 ? 0x4000_0000 : 0x8000_0000
    }

    /// What OpenSBI 1.1 (fw_dynamic, QEMU's default riscv64 `-bios`, and fw_jump alike) keeps to
    /// itself at the start of RAM, measured from its boot banner: "Domain0 Region01 :
    /// 0x0000000080000000-0x000000008007ffff ()".
    public static let openSBIRegionSize: UInt64 = 0x8_0000

    /// How the Image reached a `virt` machine, which decides what the platform holds resident.
    public enum VirtBoot: Sendable, Equatable {
        /// Placed by our reference loader as `-device loader` blobs (the `reference-image-*`
        /// matrix rows). arm64, with no `-kernel`: QEMU writes its own DTB at the start of RAM, 1 MiB (measured with `info
        /// roms`: "dtb" at 0x40000000, size 0x100000), and refuses a blob that overlaps it; it is
        /// platform-resident at reset, so it is listed as firmware. riscv64: OpenSBI is loaded
        /// at the start of RAM (measured: 0x1C280 bytes at 0x80000000; the loader's trampoline
        /// is its `-kernel`) and the loader takes the
        /// whole first 2 MiB, below the kernel's text_offset, as resident; QEMU's own FDT copy
        /// sits 2 MiB below the top of RAM (measured: "fdt" at 0x9FE00000, 1 MiB, for 512 MiB),
        /// which the loader avoids.
        case referenceLoader
        /// Loaded by QEMU's own `-kernel` loader or by U-Boot (`-bios` on arm64; `-kernel` under
        /// OpenSBI on riscv64): the platform the QEMU and U-Boot matrix rows and the real-kernel
        /// boots (`ImageKernelMachine`) are judged on. arm64 has no resident firmware; riscv64
        /// has OpenSBI's region (`openSBIRegionSize`).
        case firmwareLoader
    }

    /// QEMU's `virt` machine with `ramSize` bytes of RAM, as `boot` reaches it.
    public static func qemuVirt(_ architecture: ImageBootSnapshot.Architecture, ramSize: UInt64 = 512 << 20, exceptionLevel: UInt64 = 1,
                                boot: VirtBoot = .referenceLoader) -> ImagePlatform {
        let base = virtRAMBase(architecture)
        let ram = [Range(address: base, size: ramSize)]
        switch (architecture, boot) {
        case (.arm64, .referenceLoader):
            return ImagePlatform(architecture: .arm64, ram: ram, firmware: [Range(address: base, size: 1 << 20)], exceptionLevel: exceptionLevel)
        case (.riscv64, .referenceLoader):
            let fdtTop = base + min(ramSize, 3 << 30)
            return ImagePlatform(architecture: .riscv64, ram: ram, firmware: [Range(address: base, size: 2 << 20)],
                                 avoid: [Range(address: (fdtTop - (1 << 20)).alignedDown(2 << 20), size: 2 << 20)])
        case (.arm64, .firmwareLoader):
            return ImagePlatform(architecture: .arm64, ram: ram, exceptionLevel: exceptionLevel)
        case (.riscv64, .firmwareLoader):
            return ImagePlatform(architecture: .riscv64, ram: ram, firmware: [Range(address: base, size: openSBIRegionSize)])
        }
    }

    // Fixed MMIO of QEMU virt (hw/arm/virt.c, hw/riscv/virt.c).
    /// arm64 PL011 UART.
    public static let arm64UART: UInt64 = 0x0900_0000
    /// arm64 GICv3 distributor and redistributors.
    public static let arm64GICD: UInt64 = 0x0800_0000, arm64GICR: UInt64 = 0x080A_0000
    /// riscv64 NS16550A UART.
    public static let riscvUART: UInt64 = 0x1000_0000
    /// QEMU's generic timer frequency on arm64 (62.5 MHz: 1 GHz / GTIMER_SCALE 16), the reset
    /// value of CNTFRQ_EL0 on `virt`.
    public static let arm64TimerHz: UInt64 = 62_500_000
    /// riscv64 `virt`'s timebase-frequency (10 MHz, the CLINT's).
    public static let riscvTimebaseHz: UInt32 = 10_000_000
}
