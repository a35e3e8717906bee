/// Linux as the loader: kexec-tools 2.0.25 (Debian 12 `kexec-tools`) through `kexec_load`
/// (`kexec-load`), and the kernel's own loader through `kexec_file_load` (`kexec-file`,
/// arch/x86/kernel/kexec-bzimage64.c of Debian's 6.12 kernel). Read in the source and seen in
/// every run of the MatrixKexec suite.
///
/// Not yet in `KnownDeviations.all` (KnownDeviation.swift is shared): until it is,
/// `KnownDeviations.of` and `conform judge --loader kexec-…` do not see these records; the
/// MatrixKexec suite matches them itself (`KnownDeviations.kexecOf`).
extension KnownDeviations {
    static func isBzImage(_ i: ImageRecord) -> Bool { KnownDeviation.version(i) >= 0x0200 }
    /// What bzImage64_probe (kernel and kexec-tools alike) takes: protocol 2.12+, LOADED_HIGH,
    /// XLF_KERNEL_64 and XLF_CAN_BE_LOADED_ABOVE_4G.
    static func isBzImage64(_ i: ImageRecord) -> Bool {
        let h = i.headerBytes
        return KnownDeviation.version(i) >= 0x020C && LoadFlags(rawValue: UInt8(h.field(.loadflags) ?? 0)).contains(.loadedHigh)
            && XLoadFlags(rawValue: UInt16(h.field(.xloadflags) ?? 0)).isSuperset(of: [.kernel64, .canBeLoadedAbove4G])
    }
    static func relocatable(_ i: ImageRecord) -> Bool { KnownDeviation.relocatable(i) }

    public static let kexec: [KnownDeviation] = [
        // kexec/arch/i386/x86-linux-setup.c setup_linux_system_parameters(): "real_mode->
        // aux_device_info = 0;" kexec-tools' struct x86_linux_param_header (include/x86/
        // x86-linux.h) still names 0x1FF aux_device_info (reserved9 at 0x1FE); it is the high
        // byte of boot_flag (0xAA55, read-only), which reaches the kernel as 0x0055. Both the
        // bzImage64 and the 32-bit bzImage paths call it after copying the header.
        KnownDeviation(loader: "kexec-load", rule: "BP-10",
                       what: "clears byte 0x1FF (its old name aux_device_info), the high byte of the read-only boot_flag: the kernel gets 0x0055",
                       evidence: "kexec-tools 2.0.25 kexec/arch/i386/x86-linux-setup.c setup_linux_system_parameters, include/x86/x86-linux.h; spec §1.2 boot_flag (R), §4.1 BP-10") { i, _ in
            isBzImage(i)
        },
        // setup_linux_bootloader_parameters_high(): "/* No loader flags */ real_mode->
        // loader_flags = 0;" (0x211, loadflags) after the header copy: LOADED_HIGH, a bit the
        // kernel sets and the loader must keep, reaches the kernel clear.
        KnownDeviation(loader: "kexec-load", rule: "BP-14",
                       what: "writes loadflags = 0 (\"No loader flags\"), clearing the image's LOADED_HIGH",
                       evidence: "kexec-tools 2.0.25 kexec/arch/i386/x86-linux-setup.c setup_linux_bootloader_parameters_high; spec §1.2 loadflags, §4.1 BP-14") { i, _ in
            isBzImage(i)
        },
        // kexec/arch/x86_64/kexec-bzImage64.c do_bzImage64_load(): "add_buffer(info, kernel +
        // kern16_size, k_size, size, align, 0x100000, -1, -1)": the last -1 asks locate_hole for
        // the highest fitting hole. The 32-bit path (kexec/arch/i386/kexec-bzImage.c
        // do_bzImage_load, a relocatable kernel that is no bzImage64) passes 1: the lowest
        // fitting hole from 1 MiB (0x200000 in the runs). Neither reads pref_address (2.10+).
        KnownDeviation(loader: "kexec-load", rule: "BP-23",
                       what: "places a relocatable kernel by its own search (highest hole for a bzImage64, lowest from 1 MiB otherwise), never at pref_address",
                       evidence: "kexec-tools 2.0.25 kexec/arch/x86_64/kexec-bzImage64.c do_bzImage64_load, kexec/arch/i386/kexec-bzImage.c do_bzImage_load (add_buffer … end -1 / 1); spec §1.2 pref_address, §4.3 BP-23") { i, _ in
            KnownDeviation.version(i) >= 0x020A && relocatable(i)
        },
        // kexec/arch/x86_64/kexec-elf-x86_64.c elf_x86_64_load(), --args-linux: the command line
        // goes at offsetof(struct x86_linux_faked_param_header, command_line), right after
        // kexec-tools' struct x86_linux_param_header, which ends at 0xEEC (the kernel's struct
        // boot_params is 4096 bytes, _pad9 at 0xEEC): the command line lies inside the zero
        // page, which the spec has the loader clear (it works: the kernel reads it through
        // cmd_line_ptr).
        KnownDeviation(loader: "kexec-load", rule: "BP-11",
                       what: "with --args-linux (an ELF vmlinux) puts the command line inside the 4 KiB zero page, at 0xEEC, where boot_params has padding",
                       evidence: "kexec-tools 2.0.25 kexec/arch/x86_64/kexec-elf-x86_64.c elf_x86_64_load, include/x86/x86-linux.h struct x86_linux_faked_param_header; spec §2.4 step 1, §4.2 BP-11") { i, inputs in
            i.format == .elf && !inputs.commandLine.isEmpty
        },
        // The same add_buffer call for every bzImage64: do_bzImage64_load does not read
        // relocatable_kernel, so a non-relocatable kernel is placed like a relocatable one.
        KnownDeviation(loader: "kexec-load", rule: "BP-20",
                       what: "places a non-relocatable 64-bit kernel in the highest free hole instead of 0x100000",
                       evidence: "kexec-tools 2.0.25 kexec/arch/x86_64/kexec-bzImage64.c do_bzImage64_load (relocatable_kernel never read); spec §4.3 BP-20") { i, _ in
            isBzImage64(i) && !relocatable(i)
        },
        // do_bzImage64_load(): "if (command_line_len > setup_header.cmdline_size) {
        // dbgprintf(\"Kernel command line too long for kernel!\\n\"); return -1; }" where
        // command_line_len = strlen + 1: a line of exactly cmdline_size bytes (allowed: the
        // field excludes the NUL) is refused, silently unless -d ("Cannot load …").
        KnownDeviation(loader: "kexec-load", rule: "BP-27",
                       what: "refuses a command line of exactly cmdline_size bytes: it compares the length with its NUL against cmdline_size",
                       evidence: "kexec-tools 2.0.25 kexec/arch/x86_64/kexec-bzImage64.c do_bzImage64_load (command_line_len = strlen + 1); spec §1.2 cmdline_size, §4.4 BP-27",
                       preventsReport: true) { i, inputs in
            isBzImage64(i) && KnownDeviation.version(i) >= 0x0206 && inputs.commandLine.count == KnownDeviation.cmdlineSize(i)
        },

        // arch/x86/kernel/kexec-bzimage64.c bzImage64_load(): "params->hdr.loadflags = 0;"
        // after copying the header. The spec digest (§1.2, loadflags) notes it: the 64-bit path
        // never reads LOADED_HIGH, but the bit is the kernel's and a loader keeps it.
        KnownDeviation(loader: "kexec-file", rule: "BP-14",
                       what: "writes loadflags = 0, clearing the image's LOADED_HIGH",
                       evidence: "linux arch/x86/kernel/kexec-bzimage64.c bzImage64_load; spec §1.2 loadflags note, §4.1 BP-14") { i, _ in
            isBzImage64(i)
        },
        // bzImage64_load(): the kernel's kexec_buf has ".top_down = true", buf_min
        // MIN_KERNEL_LOAD_ADDR, buf_align kernel_alignment: the highest fitting hole;
        // pref_address is never read.
        KnownDeviation(loader: "kexec-file", rule: "BP-23",
                       what: "places a relocatable kernel in the highest free hole (top_down), never at pref_address",
                       evidence: "linux arch/x86/kernel/kexec-bzimage64.c bzImage64_load (kbuf.top_down = true); spec §1.2 pref_address, §4.3 BP-23") { i, _ in
            isBzImage64(i) && relocatable(i)
        },
        KnownDeviation(loader: "kexec-file", rule: "BP-20",
                       what: "places a non-relocatable kernel in the highest free hole instead of 0x100000 (relocatable_kernel is never read)",
                       evidence: "linux arch/x86/kernel/kexec-bzimage64.c bzImage64_probe, bzImage64_load (kbuf.top_down = true); spec §4.3 BP-20") { i, _ in
            isBzImage64(i) && !relocatable(i)
        },
        // bzImage64_load(): "if (cmdline_len > header->cmdline_size) { pr_err(\"Kernel command
        // line too long\\n\"); return ERR_PTR(-EINVAL); }" where cmdline_len counts the NUL
        // (kexec_file_load(2)); the spec digest's BP-27 notes kexec_file is one byte stricter.
        // (Its next check, cmdline_len + 30 > cmdline_size for a crash kernel's elfcorehdr=,
        // refuses lines within 30 bytes of the limit too, with pr_debug only.)
        KnownDeviation(loader: "kexec-file", rule: "BP-27",
                       what: "refuses a command line within 30 bytes of cmdline_size (\"Kernel command line too long\" at exactly cmdline_size; silently, room for elfcorehdr=, below that)",
                       evidence: "linux arch/x86/kernel/kexec-bzimage64.c bzImage64_load (cmdline_len with NUL; MAX_ELFCOREHDR_STR_LEN); spec §4.4 BP-27",
                       preventsReport: true) { i, inputs in
            isBzImage64(i) && inputs.commandLine.count + 1 + 30 > KnownDeviation.cmdlineSize(i)
        },
    ]

    /// The kexec records that show with `image` and `inputs` (what `of` will return once
    /// `kexec` is part of `all`).
    public static func kexecOf(loader: String, image: ImageRecord, inputs: InputRecord) -> [KnownDeviation] {
        kexec.filter { $0.loader == loader && $0.applies(image, inputs) }
    }
}
