// Deviations of ISOLINUX 6.04 (Debian 12 isolinux/syslinux-common 3:6.04~git20190206) and iPXE
// 1.0.0+git-20190125.36a4c85 (Debian 12 ipxe-qemu), each read in the loader's source; those that
// apply to a probe variant are seen in the MatrixISOLINUX and MatrixIPXE suites. To be added to
// `KnownDeviations.all` (KnownDeviation.swift).
extension KnownDeviations {
    // syslinux 6.04 com32/lib/syslinux/load_linux.c bios_boot_linux(): cmdline_size counts the
    // NUL ("cmdline_size = strlen(cmdline) + 1"), and "if (cmdline_size > hdr.cmdline_max_len)
    // { cmdline_size = hdr.cmdline_max_len; cmdline[cmdline_size - 1] = '\0'; }" where
    // cmdline_max_len is the header's cmdline_size (0x238, 2.06+). The field is the longest
    // string without the NUL (spec §1.2 cmdline_size, §4.4 BP-27), so a line of cmdline_size
    // bytes or more reaches the kernel one byte shorter than the limit allows. Before 2.06
    // syslinux uses 256 with the NUL, i.e. 255 bytes: right. Seen with bz-cmdline-at-limit
    // (cmdline_size 32: 31 bytes arrive) and MatrixISOLINUX's long-line test (256: 255 arrive).
    public static let syslinux: [KnownDeviation] = [
        KnownDeviation(loader: "isolinux", rule: "BP-27",
                       what: "cuts a command line of cmdline_size bytes or more to cmdline_size - 1 bytes: it counts the NUL in cmdline_size",
                       evidence: "syslinux 6.04 com32/lib/syslinux/load_linux.c bios_boot_linux (cmdline_size = strlen + 1, cut at hdr.cmdline_max_len); spec §1.2 cmdline_size (without the NUL), §4.4 BP-27") { i, inputs in
            KnownDeviation.version(i) >= 0x0206 && inputs.commandLine.count >= KnownDeviation.cmdlineSize(i)
        },
        // load_linux.c bios_boot_linux(): the allocation map reserves [initrd_addr_max + 1, ∞)
        // and the protected-mode code at prot_mode_base (1 MiB) for its file size only, then
        // "best_addr = (adj_end - irf_size) & ~align_mask" in the highest free block: W, the
        // range a relocatable kernel decompresses into at pref_address (init_size bytes), is
        // not in the map. Seen with bz-initrd-no-room: the initrd at [0xFFC000, 0x1001000)
        // across W's start 0x1000000, where [0xFFB000, 0x1000000) was free under the cap.
        KnownDeviation(loader: "isolinux", rule: "BP-22", what: "places the initrd under initrd_addr_max across the kernel window W: it reserves only the kernel's file bytes at 1 MiB, not init_size at pref_address",
                       evidence: "syslinux 6.04 com32/lib/syslinux/load_linux.c bios_boot_linux (amap: prot_mode_base + prot_mode_size; best_addr under memlimit); spec §4.3 BP-22", harmless: false,
                       applies: KnownDeviation.topInitrdSpotOverlapsWindow),
        KnownDeviation(loader: "isolinux", rule: "BP-34", what: "the same initrd overlaps W",
                       evidence: "as for BP-22; spec §4.5 BP-34", harmless: false, applies: KnownDeviation.topInitrdSpotOverlapsWindow),
    ]

    // iPXE src/arch/x86/image/bzimage.c bzimage_parse_header(): "bzimg->cmdline_size =
    // ( ( bzimg->version >= 0x0206 ) ? bzimg->bzhdr.cmdline_size : BZI_CMDLINE_SIZE )" with
    // BZI_CMDLINE_SIZE 0x7ff (include/bzimage.h), and bzimage_set_cmdline() copies up to that
    // many bytes: a protocol < 2.06 kernel, whose limit is 255 bytes (spec §4.4 BP-27), gets up
    // to 2046. No probe variant asks for more than 255 bytes; MatrixIPXE's long-line test shows
    // it (374 bytes reach a 2.03 kernel whole).
    public static let ipxe: [KnownDeviation] = [
        KnownDeviation(loader: "ipxe", rule: "BP-27",
                       what: "passes up to 2046 command-line bytes to a kernel before protocol 2.06, whose limit is 255",
                       evidence: "ipxe src/arch/x86/image/bzimage.c bzimage_parse_header, bzimage_set_cmdline; include/bzimage.h BZI_CMDLINE_SIZE 0x7ff; spec §4.4 BP-27") { i, inputs in
            let v = KnownDeviation.version(i); return v >= 0x0200 && v < 0x0206 && inputs.commandLine.count > 255
        },
        // bzimage.c bzimage_load_initrds(): "top = ( ( bzimg->mem_limit + 1 ) & ~( INITRD_ALIGN
        // - 1 ) )" with mem_limit = initrd_addr_max (bzimage_parse_header), the initrds loaded
        // downwards from there; bzimage_check_initrds() bounds them below only by pm_kernel +
        // pm_sz, the kernel's file bytes at 1 MiB (BZI_LOAD_HIGH_ADDR). init_size and
        // pref_address are never read. Seen with bz-initrd-no-room: [0xFFC000, 0x1001000).
        KnownDeviation(loader: "ipxe", rule: "BP-22", what: "places the initrd under initrd_addr_max across the kernel window W: it minds only the kernel's file bytes at 1 MiB, not init_size at pref_address",
                       evidence: "ipxe src/arch/x86/image/bzimage.c bzimage_load_initrds (top = mem_limit + 1, aligned down), bzimage_check_initrds (bottom = pm_kernel + pm_sz); spec §4.3 BP-22", harmless: false,
                       applies: KnownDeviation.topInitrdSpotOverlapsWindow),
        KnownDeviation(loader: "ipxe", rule: "BP-34", what: "the same initrd overlaps W",
                       evidence: "as for BP-22; spec §4.5 BP-34", harmless: false, applies: KnownDeviation.topInitrdSpotOverlapsWindow),
    ]
}
