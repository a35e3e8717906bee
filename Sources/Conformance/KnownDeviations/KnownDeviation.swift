/// A real loader's departure from a rule, recorded with its evidence, so the judge can say
/// "this failure is the loader's, and here is why" instead of hiding the rule. A deviation is
/// recorded only after deciding the loader, not the judge, is wrong (DESIGN.md, "Real
/// loaders"); the tests that boot the loader check that each recorded deviation still occurs,
/// so the list cannot go stale without a test failing.
public struct KnownDeviation: Sendable, CustomStringConvertible {
    /// The loader's id in the matrix (`qemu-pc`, `grub-bios-linux16`, …).
    public let loader: String
    /// The rule it breaks.
    public let rule: RuleID
    /// What the loader does, in one sentence.
    public let what: String
    /// Where in the loader's source it happens, and what the spec says instead.
    public let evidence: String
    /// What decides whether it shows: an x86 kernel's record and inputs, or an arm64/riscv64
    /// Image's header and inputs (`ImageDeviationSubject`).
    public enum Match: Sendable {
        case x86(@Sendable (ImageRecord, InputRecord) -> Bool)
        case image(ImageBootSnapshot.Architecture, @Sendable (ImageDeviationSubject) -> Bool)
    }
    public let match: Match
    /// For an Image record: the loader's source file and function, the document's clause and
    /// what was observed, each on its own (`evidence` is them in one line).
    public let citation: Citation?
    /// The boot produces no probe report at all (the deviation breaks the kernel itself).
    public let preventsReport: Bool
    /// It shows every time it applies. False for what depends on what memory held before the
    /// loader ran (a test then does not require it to show).
    public let certain: Bool

    /// Whether any Linux of the last decade reads what the loader got wrong at the entry it
    /// uses (false), or not (true); nil where that was not decided.
    public let harmless: Bool?

    public init(loader: String, rule: RuleID, what: String, evidence: String, preventsReport: Bool = false, certain: Bool = true, harmless: Bool? = nil,
                applies: @escaping @Sendable (ImageRecord, InputRecord) -> Bool) {
        self.loader = loader; self.rule = rule; self.what = what; self.evidence = evidence
        self.preventsReport = preventsReport; self.certain = certain; self.harmless = harmless; self.match = .x86(applies); self.citation = nil
    }

    /// Whether it shows with this x86 image and these inputs (the header a variant carries
    /// decides most of them); false for an Image record.
    public func applies(_ image: ImageRecord, _ inputs: InputRecord) -> Bool {
        if case .x86(let f) = match { return f(image, inputs) }
        return false
    }

    /// The loader versions the record was made against (KnownDeviations.versions).
    public var version: String { KnownDeviations.versions[loader] ?? "" }

    public var description: String {
        "known \(loader) deviation (\(rule)\(version.isEmpty ? "" : ", " + version)): \(what)\(harmless == true ? " (harmless)" : "") [\(evidence)]"
    }

    /// The protocol version of a bzImage record (0 without "HdrS").
    static func version(_ i: ImageRecord) -> UInt16 {
        guard i.format == .bzImage, i.headerBytes.field(.header) == UInt64(BzImage.headerMagic) else { return 0 }
        return UInt16(i.headerBytes.field(.version) ?? 0)
    }
    static func headerEnd(_ i: ImageRecord) -> Int { SetupHeaderLayout.declaredEnd(i.headerBytes) ?? 0 }
    /// cmdline_size (2.06+), else 255.
    static func cmdlineSize(_ i: ImageRecord) -> Int { version(i) >= 0x0206 ? Int(i.headerBytes.field(.cmdlineSize) ?? 255) : 255 }
    /// relocatable_kernel is set (2.05+).
    static func relocatable(_ i: ImageRecord) -> Bool { version(i) >= 0x0205 && (i.headerBytes.field(.relocatableKernel) ?? 0) != 0 }
    /// The matrix's guests have 1 GiB of RAM; loaders cap the initrd at its top.
    static let guestRAMTop: UInt64 = 0x4000_0000
    /// initrd_addr_max (2.03+), else 0x37FFFFFF (spec §1.2, §4.5 BP-32).
    static func initrdCap(_ i: ImageRecord) -> UInt64 { version(i) >= 0x0203 ? i.headerBytes.field(.initrdAddrMax) ?? 0x37FF_FFFF : 0x37FF_FFFF }
    /// An initrd is given and the highest page-aligned spot ending at or below initrd_addr_max
    /// (below the guest's RAM top) overlaps W = [RT, RT + init_size) (spec §4.3 BP-22, 2.10+):
    /// where a loader that minds only the kernel's file bytes at 1 MiB puts it.
    public static func topInitrdSpotOverlapsWindow(_ i: ImageRecord, _ inputs: InputRecord) -> Bool {
        let h = i.headerBytes
        guard let size = inputs.initrdSize, size > 0, version(i) >= 0x020A, let pref = h.field(.prefAddress), let initSize = h.field(.initSize),
              let align = h.field(.kernelAlignment), align > 0, case let top = min(initrdCap(i), guestRAMTop - 1) &+ 1, top >= size else { return false }
        // The header is the image's: a pref_address near 2^64 rounds up past it (no run
        // address, so no window), and a window that wraps reaches the top of the address space.
        guard let rt = relocatable(i) ? max(0x10_0000, pref).alignedUp(align) : pref else { return false }
        let (end, wraps) = rt.addingReportingOverflow(initSize)
        let at = (top - size) & ~0xFFF
        return at < (wraps ? .max : end) && at + size > rt
    }
}

extension KnownDeviation {
    /// The record among `known` that explains `v`: a failure of the record's rule. A record
    /// that prevents the report explains no verdict (there is no report to judge).
    public static func explaining(_ v: Verdict, in known: [KnownDeviation]) -> KnownDeviation? {
        v.outcome == .fail ? known.first { $0.rule == v.rule && !$0.preventsReport } : nil
    }
}

public enum KnownDeviations {
    public static let all: [KnownDeviation] = qemu + qemuPVH + grubBIOS + qboot + efi + uboot + systemdBoot + syslinux + ipxe + kexec + imageLoaders

    /// The versions the records were made against: Debian 12's packages on 2026-12-01. A
    /// record that stops showing on a newer version is a change the matrix reports.
    public static let versions: [String: String] = [
        "qemu-pc": "QEMU 1:7.2+dfsg-7+deb12u18 (SeaBIOS, linuxboot_dma)", "qemu-microvm": "QEMU 1:7.2+dfsg-7+deb12u18 (qboot)",
        "grub-bios-linux": "GRUB 2.06-13+deb12u2", "grub-bios-linux16": "GRUB 2.06-13+deb12u2",
        "grub-efi-linux": "GRUB 2.06-13+deb12u2, OVMF 2022.11-6+deb12u2", "grub-efi-handover": "GRUB 2.06-13+deb12u2, OVMF 2022.11-6+deb12u2",
        "ovmf-kernel": "OVMF 2022.11-6+deb12u2",
        "isolinux": "ISOLINUX 6.04 (3:6.04~git20190206.bf6db5b4+dfsg1-3)", "ipxe": "iPXE 1.0.0+git-20190125.36a4c85-5.1 (ipxe-qemu)",
        "kexec-load": "kexec-tools 1:2.0.25-3+deb12u3 on Linux 6.12.117+deb12-cloud-amd64", "kexec-file": "Linux 6.12.117+deb12-cloud-amd64 kexec_file_load",
        "u-boot": "U-Boot 2023.01+dfsg-2+deb12u3 (qemu-x86)",
        "u-boot-arm64": "U-Boot 2023.01+dfsg-2+deb12u3 (qemu_arm64)", "u-boot-riscv64": "U-Boot 2023.01+dfsg-2+deb12u3 (qemu-riscv64_smode), QEMU's OpenSBI 1.1",
        "qemu-virt-riscv64-fw-dynamic": "QEMU 1:7.2+dfsg-7+deb12u18 (its OpenSBI 1.1 fw_dynamic)", "qemu-virt-riscv64-fw-jump": "QEMU 1:7.2+dfsg-7+deb12u18, opensbi 1.1-2 fw_jump",
        "systemd-boot": "systemd-boot 252.39-1~deb12u2, OVMF 2022.11-6+deb12u2",
    ]

    // QEMU 7.2, pc-bios/optionrom/linuxboot_dma.c, load_kernel(): "if (readw_addr32(setup_addr +
    // 0x206) < 0x203) writel_addr32(setup_addr + 0x22c, 0x37ffffff)". initrd_addr_max (0x22C)
    // exists from protocol 2.03 (spec §1.2, §3); before that the loader must assume 0x37FFFFFF,
    // not write it into the image's real-mode code.
    static let qemu: [KnownDeviation] = [
        KnownDeviation(loader: "qemu-pc", rule: "BP-04",
                       what: "writes initrd_addr_max = 0x37FFFFFF at X+0x22C for protocols before 2.03, where that field does not exist",
                       evidence: "qemu pc-bios/optionrom/linuxboot_dma.c load_kernel(); spec §1.2 initrd_addr_max (2.03+), §4.1 BP-04") { i, _ in
            let v = KnownDeviation.version(i); return v >= 0x0200 && v < 0x0203 && KnownDeviation.headerEnd(i) + 3 <= ZeroPage.Field.initrdAddrMax.offset
        },
        // The same write over a 2.02 header (ending at 0x22C) hits the first instruction after
        // the header, where the jump at 0x200 leads: FF FF is an invalid opcode and SeaBIOS's
        // #UD handler returns to it, so the setup code never runs and there is no report. A
        // real 2.02 kernel's setup code is corrupted the same way.
        KnownDeviation(loader: "qemu-pc", rule: "BP-04",
                       what: "writes initrd_addr_max at X+0x22C over the first instruction after a 2.02 header: the setup code never runs, no report",
                       evidence: "qemu pc-bios/optionrom/linuxboot_dma.c load_kernel(); spec §1.2 initrd_addr_max (2.03+), §4.1 BP-04", preventsReport: true, harmless: false) { i, _ in
            let v = KnownDeviation.version(i); return v >= 0x0200 && v < 0x0203 && KnownDeviation.headerEnd(i) + 3 > ZeroPage.Field.initrdAddrMax.offset
        },
        // QEMU 7.2 hw/i386/x86.c x86_load_linux(): "if (protocol >= 0x20c && lduw_p(header +
        // 0x236) & XLF_CAN_BE_LOADED_ABOVE_4G) { ... initrd_max = UINT32_MAX; }", then clipped
        // to below_4g_mem_size - acpi_data_size - 1, whatever entry the kernel is run at; the pc
        // machine's linuxboot_dma enters at 16 bits, where the spec lifts no cap (§4.5 BP-32:
        // only the 64-bit entry). Seen with bz-initrd-no-room (initrd_addr_max 0x1000FFF): the
        // initrd at 0x3FFDB000 in the 1 GiB guest.
        KnownDeviation(loader: "qemu-pc", rule: "BP-32",
                       what: "ignores initrd_addr_max for a kernel with XLF_CAN_BE_LOADED_ABOVE_4G at the 16-bit entry: the initrd goes at the top of RAM below 4 GiB",
                       evidence: "qemu 7.2 hw/i386/x86.c x86_load_linux (initrd_max = UINT32_MAX when protocol >= 0x20c and XLF_CAN_BE_LOADED_ABOVE_4G); spec §1.4 XLF_CAN_BE_LOADED_ABOVE_4G, §4.5 BP-32 (lifted only at the 64-bit entry)") { i, inputs in
            KnownDeviation.version(i) >= 0x020C && (i.headerBytes.field(.xloadflags) ?? 0) & UInt64(XLoadFlags.canBeLoadedAbove4G.rawValue) != 0
                && inputs.initrdSize != nil && KnownDeviation.initrdCap(i) < KnownDeviation.guestRAMTop - 0x10_0000
        },
    ]

    // GRUB 2.06 (Debian 12 grub-pc-bin), grub-core/loader/i386/linux.c grub_cmd_linux, the
    // `linux` command's own 32-bit boot. Read in the source and seen in every run of the
    // GrubBIOS suite.
    static let grubBIOS: [KnownDeviation] = [
        // include/grub/i386/linux.h names 0x1FE/0x1FF "padding10"/"ps_mouse", and grub_cmd_linux
        // does "linux_params.ps_mouse = linux_params.padding10 = 0": boot_flag (read-only,
        // 0xAA55) reaches the kernel as 0. Linux does not read it there, so it is harmless.
        KnownDeviation(loader: "grub-bios-linux", rule: "BP-10",
                       what: "clears boot_flag (0x1FE) in boot_params, a read-only header field, under GRUB's old names padding10/ps_mouse",
                       evidence: "grub 2.06 grub-core/loader/i386/linux.c grub_cmd_linux, include/grub/i386/linux.h struct linux_kernel_params; spec §1.2 boot_flag (R), §4.1 BP-10", harmless: true) { i, _ in
            KnownDeviation.version(i) >= 0x0203
        },
        // struct linux_kernel_params ends at 0x3FC (e820_map[(0x400 - 0x2d0) / 20]); GRUB builds
        // boot_params in it and the rest of the 4 KiB page keeps what GRUB's heap held there
        // (in the GrubBIOS runs: other files' bytes from the same ISO, e.g. a variant's boot
        // sector at +0x800). Whether it shows depends on that memory.
        KnownDeviation(loader: "grub-bios-linux", rule: "BP-11",
                       what: "builds boot_params in a structure that ends at 0x3FC and does not clear the rest of the 4 KiB page",
                       evidence: "grub 2.06 include/grub/i386/linux.h struct linux_kernel_params (e820_map ends at 0x3FC); spec §2.4 step 1, §4.2 BP-11", certain: false, harmless: true) { i, _ in
            KnownDeviation.version(i) >= 0x0203
        },
        // grub_cmd_linux: "linux_params.kernel_alignment = (1 << align)" for every protocol;
        // kernel_alignment (0x230) exists from 2.05, so a 2.03/2.04 header ends before it.
        KnownDeviation(loader: "grub-bios-linux", rule: "BP-04",
                       what: "writes kernel_alignment (0x230) for protocols 2.03 and 2.04, whose header ends before it",
                       evidence: "grub 2.06 grub-core/loader/i386/linux.c grub_cmd_linux; spec §1.2 kernel_alignment (2.05+), §4.1 BP-04", harmless: true) { i, _ in
            let v = KnownDeviation.version(i); return v >= 0x0203 && KnownDeviation.headerEnd(i) <= ZeroPage.Field.kernelAlignment.offset
        },
        // allocate_pages() first asks the relocator for exactly preferred_address (pref_address
        // for a relocatable 2.10+ kernel) and only aligns when that fails: an unaligned
        // pref_address is used as it is.
        KnownDeviation(loader: "grub-bios-linux", rule: "BP-21",
                       what: "loads a relocatable kernel at pref_address even when pref_address is not a multiple of kernel_alignment",
                       evidence: "grub 2.06 grub-core/loader/i386/linux.c allocate_pages (grub_relocator_alloc_chunk_addr at preferred_address first); spec §4.3 BP-21", harmless: false) { i, _ in
            let h = i.headerBytes
            guard KnownDeviation.version(i) >= 0x020A, KnownDeviation.relocatable(i), let pref = h.field(.prefAddress), let align = h.field(.kernelAlignment), align != 0 else { return false }
            return pref % align != 0
        },
        // grub_cmd_linux: "if (maximal_cmdline_size < 128) maximal_cmdline_size = 128;" a
        // kernel whose cmdline_size is below 127 gets up to 127 bytes without a NUL where the
        // kernel stops reading.
        KnownDeviation(loader: "grub-bios-linux", rule: "BP-27",
                       what: "passes up to 127 command-line bytes whatever cmdline_size says (it raises a smaller limit to 128 with the NUL)",
                       evidence: "grub 2.06 grub-core/loader/i386/linux.c grub_cmd_linux (maximal_cmdline_size floor of 128); spec §4.4 BP-27") { i, inputs in
            KnownDeviation.cmdlineSize(i) < 127 && inputs.commandLine.count > KnownDeviation.cmdlineSize(i)
        },
        // grub-core/lib/cmdline.c grub_create_loader_cmdline: "if (size < arg_size) break;" an
        // argument that does not fit ends the line there, without an error; linux16 limits the
        // line to cmdline_size + 1 (grub-core/loader/i386/pc/linux.c). A request longer than
        // cmdline_size reaches the kernel cut at an argument boundary, short of the limit: in
        // the GrubBIOS runs "BOOT_IMAGE=" alone (the image path did not fit).
        KnownDeviation(loader: "grub-bios-linux16", rule: "BP-27",
                       what: "drops every argument from the first one that does not fit cmdline_size, silently: the kernel gets a line cut short of the limit",
                       evidence: "grub 2.06 grub-core/lib/cmdline.c grub_create_loader_cmdline, grub-core/loader/i386/pc/linux.c; spec §4.4 BP-27") { i, inputs in
            inputs.commandLine.count > KnownDeviation.cmdlineSize(i)
        },
    ]

    // QEMU 7.2's own PVH loading (x86_load_linux → load_elf with read_pvh_start_addr, used by
    // the pc and microvm machines alike) walks a PT_NOTE with the segment's p_align as the note
    // padding (spec §5: "QEMU aligns namesz up to p_align"). Linux pads its notes to 4 bytes;
    // after the 4-byte LTO desc an 8-byte walk lands inside the next note, so the Xen type-18
    // note is never found and QEMU exits before the guest runs.
    static func pvhNotesWalkedByPAlign(_ loader: String) -> KnownDeviation {
        KnownDeviation(loader: loader, rule: "BP-77",
                       what: "walks the notes of a PT_NOTE with p_align 8 with 8-byte padding, misses Linux's 4-byte-padded PVH note and refuses the ELF (\"Error loading uncompressed kernel without PVH ELF Note\")",
                       evidence: "observed with the pvh-note-align-8 variant on -M pc and -M microvm; qemu hw/i386 x86_load_linux / include/hw/elf_ops.h note walk; spec §5 note encoding (4-byte padding even in ELF64), §4.13 BP-77",
                       preventsReport: true) { i, _ in
            i.format == .elf && i.noteAlignments.contains { $0 > 4 } && i.notes.contains { $0.name == "Xen" && $0.type == 18 }
        }
    }
    static let qemuPVH: [KnownDeviation] = [pvhNotesWalkedByPAlign("qemu-pvh"), pvhNotesWalkedByPAlign("qemu-microvm")]

    // qboot, the firmware of QEMU's `microvm` machine, at the PVH entry (an ELF with the PVH
    // note). Seen in every run of the microvm rows; qboot allocates its boot structures with
    // malloc_fseg, in its own BIOS area (bonzini/qboot fw_cfg.c, pvh/linuxboot code).
    static let qboot: [KnownDeviation] = [
        KnownDeviation(loader: "qemu-microvm", rule: "BP-66",
                       what: "places start_info in its BIOS area (0xF31E0), which its own memory map does not list as RAM; Linux's pvh_start_xen writes there (a 4-byte stack)",
                       evidence: "observed: EBX = 0xF31E0, memmap RAM ends at 0x9FC00 below 1 MiB; qboot malloc_fseg (bonzini/qboot); spec §4.11 BP-66") { i, _ in i.format == .elf },
        KnownDeviation(loader: "qemu-microvm", rule: "BP-64",
                       what: "hands over a PVH memory map whose last entry has type 0, which is no ACPI address-range type",
                       evidence: "observed: memmap entry 5 type 0 in every microvm PVH boot; spec §4.11 BP-64 (types 1–7, Xen's 0xF000000x)") { i, _ in i.format == .elf },
        KnownDeviation(loader: "qemu-microvm", rule: "BP-65",
                       what: "leaves the module list entry's reserved word uncleared",
                       evidence: "observed: module 0 reserved = 0x965000000 (not 0); start_info.h hvm_modlist_entry.reserved; spec §4.11 BP-65") { i, inputs in i.format == .elf && inputs.initrdSize != nil },
    ]

    // OVMF 2022.11 and GRUB 2.06 EFI (Debian 12), docs/EFI.md "Deviations found, with evidence".
    static let efi: [KnownDeviation] = [
        KnownDeviation(loader: "ovmf-kernel", rule: "BP-83",
                       what: "its legacy handover loader keeps the image's bytes up to 0x2ED in boot_params: it takes the header's end from the jump's opcode byte (0xEB) instead of its offset byte",
                       evidence: "OvmfPkg/Library/LoadLinuxLib/Linux.c LoadLinuxInitializeKernelSetup (SetupEnd = 0x202 + (hdr.jump & 0xff)); docs/EFI.md §4.14 BP-83", harmless: true) { i, _ in
            offeredEntries(kernel: i.headerBytes).contains(.efiHandover64) && !offeredEntries(kernel: i.headerBytes).contains(.efiStub)
        },
        KnownDeviation(loader: "ovmf-kernel", rule: "BP-11",
                       what: "the same bytes past 0x290, outside every field a loader fills",
                       evidence: "OvmfPkg/Library/LoadLinuxLib/Linux.c LoadLinuxInitializeKernelSetup; spec §4.2 BP-11") { i, _ in
            offeredEntries(kernel: i.headerBytes).contains(.efiHandover64) && !offeredEntries(kernel: i.headerBytes).contains(.efiStub)
        },
        KnownDeviation(loader: "grub-efi-handover", rule: "BP-83",
                       what: "boot_params at the handover entry hold stray values at 0x268–0x2CF (kernel_info_offset 2, pointer-like words), identical from run to run",
                       evidence: "observed in every run (docs/EFI.md); Debian's linuxefi patch, grub-core/loader/i386/efi/linux.c, not traced further; docs/EFI.md §4.14 BP-83") { _, _ in true },
        KnownDeviation(loader: "grub-efi-handover", rule: "BP-11", what: "the same stray values, outside every loader field",
                       evidence: "as for BP-83; spec §4.2 BP-11") { _, _ in true },
        KnownDeviation(loader: "grub-efi-handover", rule: "BP-04", what: "the same stray values, past the header's declared end",
                       evidence: "as for BP-83; spec §4.1 BP-04") { _, _ in true },
        KnownDeviation(loader: "grub-efi-handover", rule: "BP-10", what: "kernel_info_offset (0x268, read-only) reaches the kernel as 2",
                       evidence: "as for BP-83; spec §1.2 kernel_info_offset (R), §4.1 BP-10") { i, _ in KnownDeviation.version(i) >= 0x020F },
        KnownDeviation(loader: "grub-efi-linux", rule: "BP-10", what: "clears boot_flag in boot_params (as GRUB for BIOS)",
                       evidence: "grub 2.06 grub-core/loader/i386/linux.c grub_cmd_linux (ps_mouse/padding10 = 0); spec §4.1 BP-10") { _, _ in true },
        KnownDeviation(loader: "grub-efi-linux", rule: "BP-21", what: "writes kernel_alignment 0x100000, below 1 << min_alignment",
                       evidence: "observed in the matrix for every relocatable 2.10+ image with kernel_alignment 2 MiB (not with 16 MiB, not before 2.10); grub 2.06 grub-core/loader/i386/linux.c allocate_pages; spec §4.3 BP-21") { i, _ in
            KnownDeviation.version(i) >= 0x020A && KnownDeviation.relocatable(i) && i.headerBytes.field(.kernelAlignment) == 0x20_0000
        },
        KnownDeviation(loader: "grub-efi-linux", rule: "BP-23", what: "does not load at a free pref_address",
                       evidence: "observed (docs/EFI.md); grub 2.06 allocate_pages under EFI; spec §4.3 BP-23") { i, _ in
            KnownDeviation.version(i) >= 0x020A && KnownDeviation.relocatable(i)
        },
        KnownDeviation(loader: "grub-efi-linux", rule: "BP-04", what: "writes kernel_alignment (0x230) for protocols 2.03 and 2.04 (as GRUB for BIOS)",
                       evidence: "grub 2.06 grub-core/loader/i386/linux.c grub_cmd_linux; spec §1.2 kernel_alignment (2.05+), §4.1 BP-04") { i, _ in
            let v = KnownDeviation.version(i); return v >= 0x0203 && KnownDeviation.headerEnd(i) <= ZeroPage.Field.kernelAlignment.offset
        },
        KnownDeviation(loader: "grub-efi-linux", rule: "BP-27", what: "passes up to 127 command-line bytes whatever cmdline_size says (as GRUB for BIOS)",
                       evidence: "grub 2.06 grub-core/loader/i386/linux.c grub_cmd_linux (maximal_cmdline_size floor of 128); spec §4.4 BP-27") { i, inputs in
            KnownDeviation.cmdlineSize(i) < 127 && inputs.commandLine.count > KnownDeviation.cmdlineSize(i)
        },
        KnownDeviation(loader: "grub-efi-linux", rule: "BP-11", what: "writes secure_boot (0x1EC) for a protocol before 2.04, with no efi_info to go with it",
                       evidence: "observed: 0x1EC = 2 for a 2.03 image; grub 2.06 grub-core/loader/i386/linux.c writes efi_info only from 2.04 (v0204/v0206/v0208), secure_boot always; spec §2.4, §4.2 BP-11", harmless: true) { i, _ in
            let v = KnownDeviation.version(i); return v >= 0x0203 && v < 0x0204
        },
        KnownDeviation(loader: "grub-efi-linux", rule: "BP-38", what: "passes e820 type 20, GRUB's own internal memory type, for OVMF's runtime-services region",
                       evidence: "observed (docs/EFI.md); grub-core/mmap/efi/mmap.c type translation; spec §4.6 BP-38") { _, _ in true },
    ]

    /// The deviations of `loader` that show with `image` and `inputs`.
    public static func of(loader: String, image: ImageRecord, inputs: InputRecord) -> [KnownDeviation] {
        all.filter { $0.loader == loader && $0.applies(image, inputs) }
    }
}
