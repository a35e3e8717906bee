/// The Image rows' recorded deviations (issue 16): QEMU's own `-kernel` on `virt` and U-Boot
/// `booti`, with the arm64 and riscv64 Image probes. Each was judged against the rule's text in
/// booting.rst / boot.rst before it was recorded (the judge is not the one that is wrong), and
/// each is matched on the Image header fields and inputs that make it show, so it explains
/// only its own loader, rule and variants (suite ImageDeviations). Made against Debian 12's
/// packages (`versions`): QEMU 1:7.2+dfsg-7+deb12u18 (its OpenSBI 1.1 as the default riscv64
/// `-bios`), opensbi 1.1-2 (its fw_jump build), u-boot-qemu 2023.01+dfsg-2+deb12u3.
extension KnownDeviations {
    public static let imageLoaders: [KnownDeviation] = ubootArm64 + ubootRISCV + qemuRISCV

    /// QEMU 7.2 hw/riscv/boot.c riscv_load_initrd: "start = kernel_entry + MIN(mem_size / 2, 128 * MiB)";
    /// the rows run 1 GiB, so the initrd starts 128 MiB after the Image.
    static let qemuRISCVInitrdOffset: UInt64 = 128 << 20
    /// OpenSBI generic platform FW_JUMP_FDT_ADDR − FW_JUMP_ADDR: 0x82200000 − 0x80200000.
    static let fwJumpFDTOffset: UInt64 = 32 << 20

    static let ubootArm64: [KnownDeviation] = [
        // start.S reset unmasks SError for U-Boot itself ("msr daifclr, #0x4 /* Unmask SError
        // interrupts */") and nothing masks it again: at EL1 (qemu_arm64 runs there, QEMU's
        // virt has no EL2 without virtualization=on) boot_jump_linux calls armv8_switch_to_el2,
        // which for an AArch64 kernel below EL3 branches to it (transition.S: "br x4") without
        // an ERET that would load a fully masked SPSR.
        KnownDeviation(loader: "u-boot-arm64", rule: "A64-11", architecture: .arm64,
                       what: "enters the kernel with SError unmasked (DAIF = 0x2C0: D, I, F set, A clear), as U-Boot itself ran",
                       citation: .init(source: "u-boot 2023.01 arch/arm/cpu/armv8/start.S, arch/arm/lib/bootm.c, arch/arm/cpu/armv8/transition.S",
                                       function: "reset (msr daifclr, #0x4), boot_jump_linux → armv8_switch_to_el2 (br x4 below EL3)",
                                       clause: "booting.rst §4 CPU mode: \"All forms of interrupts must be masked in PSTATE.DAIF (Debug, SError, IRQ and FIQ)\"",
                                       observed: "DAIF = 0x2c0 at the probe's first instruction, EL1, on every arm64 variant booti accepts"),
                       harmless: false) { _ in true },
    ]

    static let ubootRISCV: [KnownDeviation] = [
        // booti_setup: "*relocated_addr = gd->ram_base + text_offset" (when the Image is not
        // already there): with text_offset below OpenSBI's region the copy goes onto the
        // firmware that /reserved-memory/mmode_resv0@80000000 describes; OpenSBI's PMP makes the
        // S-mode write fault and the machine resets before the kernel runs.
        KnownDeviation(loader: "u-boot-riscv64", rule: "RV-04", architecture: .riscv64,
                       what: "moves the Image to RAM base + text_offset with no regard for firmware-resident memory: with text_offset 0 onto OpenSBI at 0x80000000; the machine resets, no report",
                       citation: .init(source: "u-boot 2023.01 arch/riscv/lib/image.c", function: "booti_setup (*relocated_addr = gd->ram_base + text_offset)",
                                       clause: "boot.rst \"Reserved memory for resident firmware\" (the kernel must not use the firmware's memory); boot-image-header.rst image_size",
                                       observed: "U-Boot prints \"Moving Image from 0x84000000 to 0x80000000\", then the machine resets (QEMU -no-reboot exits) before the probe's first line, with riscv64-t0"),
                       preventsReport: true, harmless: false) { s in
            (s.textOffset ?? 0) < ImagePlatform.openSBIRegionSize
        },
    ]

    /// QEMU `-kernel` on riscv64 `virt` places the Image at the first 2 MiB boundary after the
    /// firmware whatever text_offset and image_size say (riscv_calc_kernel_start_addr), the
    /// initrd 128 MiB after it, and under fw_jump OpenSBI moves the DTB to its fixed
    /// FW_JUMP_FDT_ADDR, 32 MiB after it: an Image whose image_size is larger gets them inside.
    /// (Ignoring text_offset alone breaks no rule: boot.rst asks only for a 2 MiB boundary.)
    static func qemuRISCVInitrdInsideImage(_ loader: String) -> KnownDeviation {
        KnownDeviation(loader: loader, rule: "RV-04", architecture: .riscv64,
                       what: "puts the initrd 128 MiB after the Image whatever image_size says: an Image larger than that has the initrd inside its image_size range",
                       citation: .init(source: "qemu 7.2 hw/riscv/boot.c", function: "riscv_load_initrd (start = kernel_entry + MIN(mem_size / 2, 128 * MiB)), riscv_calc_kernel_start_addr",
                                       clause: "boot-image-header.rst image_size (\"Effective Image size\", mandatory for the boot loader); boot.rst \"Kernel location\"",
                                       observed: "riscv64-big (image_size 512 MiB): Image at 0x80200000, initrd at 0x88200000"),
                       harmless: false) { s in
            s.initrdSize != nil && (s.imageSize ?? 0) > qemuRISCVInitrdOffset
        }
    }
    static let qemuRISCV: [KnownDeviation] = [
        qemuRISCVInitrdInsideImage("qemu-virt-riscv64-fw-dynamic"),
        KnownDeviation(loader: "qemu-virt-riscv64-fw-jump", rule: "RV-06", architecture: .riscv64,
                       what: "OpenSBI fw_jump hands over the DTB at its fixed FW_JUMP_FDT_ADDR, 32 MiB after the Image, inside a larger Image's image_size range",
                       citation: .init(source: "opensbi 1.1 firmware/fw_jump.S, firmware/fw_base.S, platform/generic/objects.mk", function: "fw_next_arg1 (FW_JUMP_FDT_ADDR), _fdt_reloc",
                                       clause: "boot.rst \"Register state\" (a1 = the devicetree in memory); boot-image-header.rst image_size",
                                       observed: "riscv64-big (image_size 512 MiB): Image at 0x80200000, a1 = DTB at 0x82200000"),
                       harmless: false) { s in
            (s.imageSize ?? 0) > fwJumpFDTOffset
        },
        KnownDeviation(loader: "qemu-virt-riscv64-fw-jump", rule: "RV-04", architecture: .riscv64,
                       what: "the Image's image_size range holds the DTB at FW_JUMP_FDT_ADDR (32 MiB after it) and, past 128 MiB, QEMU's initrd",
                       citation: .init(source: "opensbi 1.1 firmware/fw_jump.S; qemu 7.2 hw/riscv/boot.c", function: "fw_next_arg1 (FW_JUMP_FDT_ADDR); riscv_load_initrd",
                                       clause: "boot-image-header.rst image_size (\"Effective Image size\", mandatory for the boot loader)",
                                       observed: "riscv64-big: DTB at 0x82200000 and initrd at 0x88200000 inside [0x80200000, 0xa0200000)"),
                       harmless: false) { s in
            (s.imageSize ?? 0) > fwJumpFDTOffset
        },
    ]
}
