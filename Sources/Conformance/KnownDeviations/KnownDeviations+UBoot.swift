extension KnownDeviations {
    // U-Boot 2023.01 (Debian 12 u-boot-qemu, qemu-x86 build), arch/x86/lib/zimage.c, `zboot`.
    // Every probe variant boots and passes every rule judged (MatrixUBoot); the one deviation
    // below shows only with a requested line longer than cmdline_size, which the suite asks for.
    public static let uboot: [KnownDeviation] = [
        // setup_zimage: "if (bootproto >= 0x0206) max_size = hdr->cmdline_size;" and then
        // build_command_line() strcat()s all of `bootargs` into the buffer at setup base +
        // 0x9000; max_size goes only to bootm_process_cmdline(), which checks a length only
        // for its silent-console fix-up or ${var} substitution (CONFIG_BOOTARGS_SUBST), neither
        // of which runs here. So the kernel gets the whole line whatever cmdline_size (or, before
        // 2.06, 255) says, and the kernel cuts it silently. Seen in MatrixUBoot's over-long run:
        // strlen 48 for cmdline_size 32.
        KnownDeviation(loader: "u-boot", rule: "BP-27",
                       what: "passes the whole bootargs line whatever cmdline_size says: no truncation and no refusal when it is longer",
                       evidence: "u-boot 2023.01 arch/x86/lib/zimage.c setup_zimage, build_command_line; common/bootm.c bootm_process_cmdline (length checked only with BOOTARGS_SUBST or silent_linux); spec §4.4 BP-27") { i, inputs in
            inputs.commandLine.count > KnownDeviation.cmdlineSize(i)
        },
        // do_zboot() takes the initrd's address from its command line and setup_zimage() does
        // "hdr->ramdisk_image = initrd_addr; hdr->ramdisk_size = initrd_size;" without comparing
        // the end with initrd_addr_max: an initrd above the cap is handed over, not refused. The
        // address is the board's ${ramdisk_addr_r}, 0x4000000 in the qemu-x86 environment, the
        // variable distro boot scripts load the initrd at; our adapter does the same
        // (UBootAdapter). Seen with bz-initrd-no-room (initrd_addr_max 0x1000FFF).
        KnownDeviation(loader: "u-boot", rule: "BP-32",
                       what: "hands over the initrd where it was loaded (${ramdisk_addr_r}) without checking initrd_addr_max: no refusal when it ends above the cap",
                       evidence: "u-boot 2023.01 arch/x86/lib/zimage.c setup_zimage (ramdisk_image = initrd_addr, no initrd_addr_max check), do_zboot; spec §4.5 BP-32", harmless: false) { i, inputs in
            guard let size = inputs.initrdSize else { return false }
            return KnownDeviation.initrdCap(i) < KnownDeviations.ubootRamdiskAddress + size - 1
        },
    ]
    /// ${ramdisk_addr_r} of U-Boot's qemu-x86 environment, where the adapter loads the initrd.
    static let ubootRamdiskAddress: UInt64 = 0x400_0000

    // systemd-boot 252 (Debian 12 systemd-boot-efi), src/boot/efi/boot.c: the PE/COFF probe
    // variant passes every rule judged at the EFI stub entry (MatrixSystemdBoot); LoadOptions
    // "initrd=\PATH OPTIONS" and the LoadFile2 initrd are what it legitimately gives. Images
    // that are not EFI applications are refused by the firmware's LoadImage, correctly.
    public static let systemdBoot: [KnownDeviation] = []
}
