/// §4.2 Zero-page construction of the spec digest (shared/spec/x86-boot-protocol.md): BP-11…BP-18.
extension RuleCatalogue {
    static let zeroPage: [Rule] = [
        Rule("BP-11", "zero page zero-filled, header copied by extent", reference: "§4.2, §2.4; BOOT 32/64-bit protocol; KEXEC",
             statement: "The zero page is zeroed, then image bytes [0x1F1, 0x202+image[0x201]) are copied in; every other byte the loader did not deliberately fill is 0.") { c in
            guard c.entryPoint != .pvh, let zp = c.zp else { return noZeroPage(c) }
            let end = c.isBz ? c.imageHeaderEnd : SetupHeaderLayout.end(for: .newestKnown)
            let allowed = loaderFields(c, headerEnd: end, e820Count: Int(zp.field(.e820Entries)!))
            var bad: [Int] = []
            for o in 0..<ZeroPage.size where zp[o] != 0 && !allowed.contains(where: { $0.contains(o) }) {
                // Past the declared header end, up to 0x290, a byte equal to the image's own is
                // no violation (BP-04 judges that range the same way).
                if c.isBz, o >= end, o < SetupHeaderLayout.areaEnd, zp[o] == c.imageHeader.u8(o) { continue }
                bad.append(o)
            }
            return bad.isEmpty ? .pass("only header [0x1F1, \(hex(end))), image bytes up to 0x290 and loader fields are nonzero")
                : .fail("\(bad.count) nonzero bytes outside the header and loader fields, first at \(bad.prefix(6).map { "\(hex($0))=\(hex(zp[$0]))" }.joined(separator: ", "))")
        },
        Rule("BP-12", "sentinel is 0", reference: "§4.2, §2.4; BPH; BPU",
             statement: "sentinel at 0x1EF is 0; otherwise the kernel erases acpi_rsdp_addr, the ext_* halves, edid_info and kbd_status.") { c in
            guard let zp = c.zp else { return noZeroPage(c) }
            let v = zp.field(.sentinel)!
            return v == 0 ? .pass("sentinel 0") : .fail("sentinel at \(hex(c.B! + UInt64(ZeroPage.Field.sentinel.offset))) is \(hex(v)): the kernel will zero 0x070, 0x0C0–0x0CB, 0x140–0x1BF, 0x1EB")
        },
        Rule("BP-13", "type_of_loader nonzero", reference: "§4.2; BOOT; SETUPC",
             statement: "type_of_loader at 0x210 is nonzero (0xFF for an unregistered loader); with 0 the kernel ignores the initrd.") { c in
            guard let zp = c.zp else { return noZeroPage(c) }
            let v = zp.field(.typeOfLoader)!
            return v != 0 ? .pass("type_of_loader \(hex(v))") : .fail("type_of_loader at 0x210 is 0: the kernel ignores the initrd")
        },
        Rule("BP-14", "loadflags bits", reference: "§4.2, §1.3; BOOT; HDR",
             statement: "loadflags: bit 0 as the image; bits 1–4 and 6 zero; bit 5 only if quiet was asked for; bit 7 only with the 16-bit entry.") { c in
            guard let zp = c.zp else { return noZeroPage(c) }
            let lf = LoadFlags(rawValue: UInt8(zp.field(.loadflags)!))
            let internalOrUnused = lf.intersection([.kaslr, .unused])
            let quiet = (c.commandLineText ?? []).split(separator: 0x20).contains { Array($0) == Array("quiet".utf8) }
            var conds: [(Bool, String)] = [
                (internalOrUnused.isEmpty, "bits 1–4 set (\(hex(internalOrUnused.rawValue)))"), (!lf.contains(.keepSegments), "KEEP_SEGMENTS (0x40) set"),
                (!lf.contains(.quiet) || quiet, "QUIET_FLAG set without \"quiet\" on the command line"),
            ]
            // CAN_USE_HEAP says heap_end_ptr is valid: set it only with heap_end_ptr written
            // (§1.3; 2.01+). Only the 16-bit setup code reads either, so at the 32/64-bit
            // entries the pair is harmless, but the flag without the field is still a lie: there
            // the field must differ from the image's own value to count as written.
            if lf.contains(.canUseHeap) {
                let heap = zp.field(.heapEndPtr)!, image = c.isBz ? (c.img(.heapEndPtr) ?? 0) : 0
                if c.isBz && c.version < 0x0201 { conds.append((false, "CAN_USE_HEAP set for protocol \(ProtocolVersion(rawValue: c.version)), which has no heap_end_ptr")) }
                else if c.entryPoint == .setup16 { conds.append((heap != 0, "CAN_USE_HEAP set with heap_end_ptr 0")) }
                else { conds.append((heap != 0 && heap != image, "CAN_USE_HEAP set for the \(c.entryPoint.rawValue)-bit entry without heap_end_ptr written (\(hex(heap)), the image's own value)")) }
            }
            if c.isBz { conds.append((lf.contains(.loadedHigh) == LoadFlags(rawValue: UInt8(c.imageHeader.field(.loadflags) ?? 0)).contains(.loadedHigh), "LOADED_HIGH differs from the image")) }
            return .check(conds, ok: "loadflags \(lf)")
        },
        Rule("BP-15", "64-bit values split into low and ext halves", reference: "§4.2; BOOT 2.12; ZP; KEXEC; SETUPC",
             statement: "ramdisk_image, ramdisk_size and cmd_line_ptr keep their high halves in ext_* (0x0C0, 0x0C4, 0x0C8); before 2.12 those are 0.") { c in
            guard let zp = c.zp else { return noZeroPage(c) }
            let ext: [ZeroPage.Field] = [.extRamdiskImage, .extRamdiskSize, .extCmdLinePtr]
            if c.isBz && c.version < 0x020C {
                let set = ext.filter { zp.field($0)! != 0 }
                return set.isEmpty ? .pass("protocol \(ProtocolVersion(rawValue: c.version)): ext_* are 0") : .fail("protocol < 2.12 but \(set.map(\.name).joined(separator: ", ")) nonzero")
            }
            var conds: [(Bool, String)] = []
            if let want = c.s.inputs.initrdSHA256, let size = c.s.inputs.initrdSize, let (r, _) = c.initrdFields {
                if c.memory.sha256(at: r, length: size) != want, let real = c.locate(sha256: want, size: size, low: r & 0xFFFF_FFFF), real != r {
                    conds.append((false, "ramdisk reassembles to \(hex(r)) but the initrd is at \(hex(real)): a high half is missing"))
                }
            }
            if let cAddr = c.commandLineAddress, c.commandLineText != c.s.inputs.commandLine {
                let want = c.s.inputs.commandLine + [0]
                for k in 1...64 as ClosedRange<UInt64> where c.memory.bytes(at: (cAddr & 0xFFFF_FFFF) &+ (k << 32), count: want.count) == want {
                    conds.append((false, "cmd_line_ptr reassembles to \(hex(cAddr)) but the command line is at \(hex((cAddr & 0xFFFF_FFFF) + (k << 32)))")); break
                }
            }
            return .check(conds, ok: "initrd \(c.initrd?.description ?? "none"), command line \(c.commandLineAddress.map { hex($0) } ?? "none") reassemble to where they are")
        },
        Rule("BP-16", "acpi_rsdp_addr is 0 or an RSDP", reference: "§4.2; ZP; BPU",
             statement: "acpi_rsdp_addr (0x070) is 0 or the address of \"RSD PTR \".") { c in
            guard let zp = c.zp else { return noZeroPage(c) }
            let a = zp.field(.acpiRsdpAddr)!
            if a == 0 { return .pass("0: the kernel scans for the RSDP") }
            guard let sig = c.memory.bytes(at: a, count: 8) else { return .fail("acpi_rsdp_addr \(hex(a)) is not in guest memory") }
            return sig == Array("RSD PTR ".utf8) ? .pass("RSDP at \(hex(a))") : .fail("acpi_rsdp_addr \(hex(a)) holds \(sig.hexString), not \"RSD PTR \"")
        },
        Rule("BP-17", "boot_params in RAM, clear of W, initrd, setup_data", reference: "§4.2; CH64; KASLR; MISC",
             statement: "boot_params lives in e820 RAM and does not overlap W, the initrd or setup_data.") { c in
            guard let zr = c.zeroPageRange, c.zp != nil else { return noZeroPage(c) }
            var conds: [(Bool, String)] = c.inRAM(zr, "zero page")
            conds += c.clearOfWindow(zr, "zero page")
            if let r = c.initrd { conds.append((!zr.overlaps(r), "zero page \(zr) overlaps initrd \(r)")) }
            for r in c.setupRanges { conds.append((!zr.overlaps(r), "zero page \(zr) overlaps setup_data \(r)")) }
            return .check(conds, ok: "zero page \(zr) in RAM, clear of W \(c.window?.description ?? "(none)"), initrd \(c.initrd?.description ?? "(none)"), setup_data \(c.setupRanges.map(\.description).joined(separator: ", "))")
        },
        Rule("BP-18", "hardware_subarch is PC", reference: "§4.2, §1.6; BPH",
             statement: "hardware_subarch (0x23C) and hardware_subarch_data (0x240) are 0 for a PC/KVM guest.") { c in
            guard let zp = c.zp else { return noZeroPage(c) }
            if c.isBz && c.version < 0x0207 { return .na("protocol \(ProtocolVersion(rawValue: c.version)) has no hardware_subarch (2.07+); BP-04 judges bytes written past its header") }
            let a = zp.field(.hardwareSubarch)!, d = zp.field(.hardwareSubarchData)!
            return .check([(a == 0, "hardware_subarch = \(a)"), (d == 0, "hardware_subarch_data = \(hex(d))")], ok: "subarch PC (0)")
        },
    ]
}

extension RuleCatalogue {
    /// Zero-page ranges a loader may fill besides the copied header (BP-11).
    static func loaderFields(_ c: RuleContext, headerEnd: Int, e820Count: Int) -> [Range<Int>] {
        // efi_info, when an EFI loader that exited boot services enters by the 32/64-bit
        // protocol (judged by BP-91); at the handover entry it is the stub's (BP-84).
        // With it, secure_boot (0x1EC), which the stub takes from the loader when it is set.
        var efiInfo = c.entryPoint.isEFI ? [] : (efiLoaderSignature(c) != nil ? [ZeroPage.Field.efiInfo.range, ZeroPage.Field.secureBoot.range] : [])
        // Protocols 2.04 and 2.05 predate the efi_info layout above: an EFI loader wrote
        // "EFIL" at 0x1C0 and the system table at 0x1B8 (GRUB's linux_kernel_params v0204,
        // GRUB_LINUX_EFI_SIGNATURE_0204, still written by GRUB 2.06 for those protocols).
        if !c.entryPoint.isEFI, c.isBz, c.version >= 0x0204, c.version < 0x0206, c.z(.efiLoaderSignature) == 0x4C49_4645 /* "EFIL" */ { efiInfo = [0x1B8..<ZeroPage.Field.efiInfo.end, ZeroPage.Field.secureBoot.range] }
        typealias F = ZeroPage.Field
        return efiInfo + [F.screenInfo.range,     // ext_mem_k, cl_magic/cl_offset
                          F.acpiRsdpAddr.range, F.extRamdiskImage.offset..<F.extCmdLinePtr.end, F.altMemK.range, F.e820Entries.range,
                          SetupHeaderLayout.start..<max(SetupHeaderLayout.start, headerEnd),
                          F.e820Table.offset..<ZeroPage.e820Offset(min(e820Count, ZeroPage.e820TableEntries))]
    }
}
