/// §4.14 EFI entries (docs/EFI.md) of the spec digest (shared/spec/x86-boot-protocol.md): BP-80…BP-91.
extension RuleCatalogue {
    static let efi: [Rule] = [
        Rule("BP-80", "handover entry address", reference: "docs/EFI.md §4.14; BOOT \"EFI Handover Protocol\", handover_offset",
             statement: "The 64-bit handover entry is L + handover_offset + 0x200, the 32-bit one L + handover_offset (\"handover_offset bytes from the beginning of startup_{32,64}\").") { c in
            guard c.entryPoint == .efiHandover64 || c.entryPoint == .efiHandover32 else { return notHandover }
            guard c.isBz, let hov = c.header(.handoverOffset) else { return .fail("the image has no handover_offset (protocol \(ProtocolVersion(rawValue: c.version)), needs 2.11)") }
            let (at, w1) = c.L.addingReportingOverflow(hov), (want, w2) = at.addingReportingOverflow(c.entryPoint == .efiHandover64 ? 0x200 : 0)
            guard !w1 && !w2 else { return .fail("L \(hex(c.L)) + handover_offset \(hex(hov))\(c.entryPoint == .efiHandover64 ? " + 0x200" : "") wraps past 2^64: there is no handover entry (RIP = \(hex(c.entry.rip)))") }
            return c.entry.rip == want ? .pass("RIP = L + \(hex(hov))\(c.entryPoint == .efiHandover64 ? " + 0x200" : "") = \(hex(want))")
                : .fail("RIP = \(hex(c.entry.rip)), expected L + handover_offset\(c.entryPoint == .efiHandover64 ? " + 0x200" : "") = \(hex(want)) (L = \(hex(c.L)), handover_offset \(hex(hov)) at 0x264)")
        },
        Rule("BP-81", "handover only where the kernel offers it", reference: "docs/EFI.md §4.14; BOOT handover_offset, xloadflags",
             statement: "Protocol ≥ 2.11 and handover_offset ≠ 0; from 2.12 (xloadflags), XLF_EFI_HANDOVER_64 (bit 3) for the 64-bit entry, XLF_EFI_HANDOVER_32 (bit 2) for the 32-bit one.") { c in
            guard c.entryPoint == .efiHandover64 || c.entryPoint == .efiHandover32 else { return notHandover }
            guard c.isBz else { return .fail("the handover entry of an image that is not a bzImage") }
            let hov = c.header(.handoverOffset) ?? 0
            let bit: XLoadFlags = c.entryPoint == .efiHandover64 ? .efiHandover64 : .efiHandover32
            var conds: [(Bool, String)] = [(c.version >= 0x020B, "protocol \(ProtocolVersion(rawValue: c.version)) at 0x206 is older than 2.11"), (hov != 0, "handover_offset at 0x264 is 0")]
            if c.version >= 0x020C { conds.append((c.xloadflags.contains(bit), "xloadflags at 0x236 = \(hex(c.xloadflags.rawValue)) lacks \(bit == .efiHandover64 ? "XLF_EFI_HANDOVER_64 (0x8)" : "XLF_EFI_HANDOVER_32 (0x4)")")) }
            return .check(conds, ok: "protocol \(ProtocolVersion(rawValue: c.version)), handover_offset \(hex(hov)), xloadflags \(hex(c.xloadflags.rawValue))")
        },
        Rule("BP-82", "image handle and system table", reference: "docs/EFI.md §4.14; BOOT \"EFI Handover Protocol\"; x86-stub.c efi_pe_entry, efi_stub_entry; UEFI 2.10 §4.1, §4.3",
             statement: "The entry receives a nonzero image handle and the EFI system table, whose header signature is \"IBI SYST\" (the stub exits with EFI_INVALID_PARAMETER otherwise) and whose BootServices pointer is nonzero: boot services still run.") { c in
            guard c.entryPoint.isEFI else { return notEFI }
            guard let (handle, st) = efiArguments(c) else { return .fail("the arguments on the stack at ESP \(hex(c.entry.rsp)) + 4 are not in the snapshot") }
            guard let t = c.memory.bytes(at: st, count: 0x68) else { return .fail("system table pointer \(hex(st)) does not point at memory the snapshot holds (handle \(hex(handle)))") }
            let sig = t.u64(0)!, bs = t.u64(0x60)!
            return .check([(handle != 0, "image handle is 0"), (sig == systemTableSignature, "system table at \(hex(st)) has signature \(hex(sig)), expected \(hex(systemTableSignature)) (\"IBI SYST\")"),
                           (bs != 0, "system table at \(hex(st)): BootServices (+0x60) is 0")],
                          ok: "handle \(hex(handle)), system table \(hex(st)) (\"IBI SYST\", revision \(hex(UInt64(t.u32(8)!))), BootServices \(hex(bs)))")
        },
        Rule("BP-83", "handover boot_params: zeroed, header copied", reference: "docs/EFI.md §4.14; BOOT \"EFI Handover Protocol\"; x86-stub.c efi_stub_entry",
             statement: "boot_params is a page the loader allocated: every byte outside the setup header [0x1F1, 0x202+byte[0x201]) is zero except ext_ramdisk_image/size and ext_cmd_line_ptr (0x0C0–0x0CB) and secure_boot (0x1EC); the header is the image's (the stub reads initrd_addr_max and updates xloadflags in it), so boot_flag, \"HdrS\", version and initrd_addr_max equal the image's.") { c in
            guard c.entryPoint == .efiHandover64 || c.entryPoint == .efiHandover32 else { return notHandover }
            guard let zp = c.zp, let b = c.B else { return .fail("no 4096-byte boot_params readable at the third argument (\(c.B.map { hex($0) } ?? "unreadable"))") }
            // The image's declared end, or none at all (an ELF or a header cut short): never a
            // range that ends before it starts.
            let hdrEnd = max(SetupHeaderLayout.start, c.imageHeaderEnd)
            var stray: [Int] = []
            // Bytes between the header's end and 0x290 that equal the image's own are no
            // violation, as for BP-04 and BP-11 (a loader that copies a little more of the file).
            func imageOwn(_ i: Int) -> Bool { i >= hdrEnd && i < SetupHeaderLayout.areaEnd && zp[i] == (c.imageHeader.u8(i) ?? 0) }
            let ext = ZeroPage.Field.extRamdiskImage.offset..<ZeroPage.Field.extCmdLinePtr.end
            for i in 0..<ZeroPage.size where zp[i] != 0 && !(SetupHeaderLayout.start..<hdrEnd).contains(i) && !ext.contains(i) && i != ZeroPage.Field.secureBoot.offset && !imageOwn(i) { stray.append(i) }
            var conds: [(Bool, String)] = [(stray.isEmpty, "\(stray.count) nonzero bytes outside the header and the loader's fields, first at \(stray.prefix(4).map { "\(hex(UInt64($0)))=\(hex(UInt64(zp[$0])))" }.joined(separator: ", "))")]
            for f in [ZeroPage.Field.bootFlag, .header, .version, .initrdAddrMax] where f.end <= hdrEnd {
                let got = zp.field(f)!, want = c.imageHeader.field(f) ?? 0
                conds.append((got == want, "\(f.name) at \(hex(f.offset)) = \(hex(got)), the image's is \(hex(want))"))
            }
            return .check(conds, ok: "boot_params at \(hex(b)): zero outside the header [0x1F1, \(hex(UInt64(hdrEnd)))) and the loader's fields; header copied")
        },
        Rule("BP-84", "efi_info left to the stub", reference: "docs/EFI.md §4.14; BOOT \"EFI Handover Protocol\" (\"All other fields should be zero\"); x86-stub.c exit_boot_func",
             statement: "At the handover entry efi_info (0x1C0–0x1DF: efi_loader_signature, efi_systab, efi_memdesc_size/version, efi_memmap, efi_memmap_size and the high halves) is zero: the stub itself writes \"EL64\"/\"EL32\", the system table and the memory map there at ExitBootServices.") { c in
            guard c.entryPoint == .efiHandover64 || c.entryPoint == .efiHandover32 else { return notHandover }
            guard let zp = c.zp else { return noZeroPage }
            let info = ZeroPage.Field.efiInfo
            guard zp[info.range].contains(where: { $0 != 0 }) else { return .pass("efi_info [\(hex(info.offset)), \(hex(info.end))) is zero") }
            let sigField = ZeroPage.Field.efiLoaderSignature
            let sig = String(decoding: zp[sigField.range].map { $0 >= 0x20 && $0 < 0x7F ? $0 : 0x3F }, as: UTF8.self)
            let e = efiInfo(zp)
            return .fail("efi_info is not zero: \(sigField.name) \"\(sig)\" at \(hex(sigField.offset)), efi_systab \(hex(e.systab)), efi_memmap \(hex(e.memmap)) \(ZeroPage.Field.efiMemmapSize.name) \(hex(e.memmapSize))")
        },
        Rule("BP-85", "handover: cmd_line_ptr and ramdisk filled", reference: "docs/EFI.md §4.14; BOOT \"EFI Handover Protocol\" (\"must fill out hdr.cmd_line_ptr, hdr.ramdisk_image, hdr.ramdisk_size\")",
             statement: "cmd_line_ptr (with ext_cmd_line_ptr) points at the exact command line, NUL-terminated; with an initrd, ramdisk_image/ramdisk_size (with their ext halves) describe exactly its bytes.") { c in
            guard c.entryPoint == .efiHandover64 || c.entryPoint == .efiHandover32 else { return notHandover }
            guard c.zp != nil else { return noZeroPage }
            let want = c.s.inputs.commandLine
            var conds: [(Bool, String)] = []
            if let a = c.commandLineAddress {
                if let t = c.commandLineText { conds.append((t == want, "command line at \(hex(a)) is \"\(String(decoding: t, as: UTF8.self))\", expected \"\(String(decoding: want, as: UTF8.self))\"")) }
                else { conds.append((false, "no NUL within \(c.commandLineLimit + 1) bytes of the command line at \(hex(a))")) }
            } else { conds.append((false, "cmd_line_ptr (0x228, ext 0x0C8) is 0")) }
            if let size = c.s.inputs.initrdSize, let sha = c.s.inputs.initrdSHA256, size > 0 {
                let (r, rs) = c.initrdFields ?? (0, 0)
                conds.append((rs == size, "ramdisk_size = \(hex(rs)), the initrd has \(hex(size)) bytes"))
                if rs == size { conds.append((c.memory.sha256(at: r, length: size) == sha, "ramdisk_image \(hex(r)): bytes are not the initrd's")) }
            }
            return .check(conds, ok: "cmd_line_ptr \(c.commandLineAddress.map { hex($0) } ?? "-") holds the command line" + (c.s.inputs.initrdSize.map { ", ramdisk holds the \(hex($0))-byte initrd" } ?? ""))
        },
        Rule("BP-86", "LoadOptions hold the command line", reference: "docs/EFI.md §4.14; x86-stub.c efi_pe_entry; efi-stub-helper.c efi_convert_cmdline; UEFI 2.10 §9.1 EFI_LOADED_IMAGE_PROTOCOL",
             statement: "At the PE/COFF entry the image handle carries EFI_LOADED_IMAGE_PROTOCOL, and its LoadOptions (LoadOptionsSize bytes of UTF-16, read up to the first NUL or newline) are exactly the command line; LoadOptionsSize is even.") { c in
            guard c.entryPoint == .efiStub else { return notStub }
            guard let efi = c.s.efi else { return .fail("the report has no EFI facts") }
            guard efi.loadedImageStatus == .success else { return .fail("HandleProtocol(handle, EFI_LOADED_IMAGE_PROTOCOL) returned \(efi.loadedImageStatus)") }
            guard let (text, size, terminated) = loadOptions(c) else { return .fail("LoadOptions of the loaded image at \(hex(efi.loadedImage)) are not in the snapshot") }
            let want = Array(String(decoding: c.s.inputs.commandLine, as: UTF8.self).utf16)
            let got = String(decoding: text, as: UTF16.self)
            return .check([(size % 2 == 0, "LoadOptionsSize \(size) is odd: not UTF-16"),
                           (text == want, "LoadOptions read \"\(got)\", expected \"\(String(decoding: c.s.inputs.commandLine, as: UTF8.self))\"")],
                          ok: "LoadOptions (\(size) bytes\(terminated ? ", NUL-terminated" : "")) = \"\(got)\"")
        },
        Rule("BP-87", "initrd through LoadFile2 (or initrd=)", reference: "docs/EFI.md §4.14; efi-stub-helper.c efi_load_initrd_dev_path, efi_load_initrd; file.c handle_cmdline_files; BOOT \"EFI Handover Protocol\" NOTE",
             statement: "When the loader installs LoadFile2 on the LINUX_EFI_INITRD_MEDIA_GUID vendor media device path, LoadFile(BufferSize = 0, Buffer = NULL) returns EFI_BUFFER_TOO_SMALL with the initrd's size and LoadFile into that many bytes returns EFI_SUCCESS with exactly the initrd given; without an initrd there is no such path. At the PE entry without the path, an initrd is named by initrd= in LoadOptions.") { c in
            guard c.entryPoint.isEFI else { return notEFI }
            guard let efi = c.s.efi else { return .fail("the report has no EFI facts") }
            let size = c.s.inputs.initrdSize ?? 0, sha = c.s.inputs.initrdSHA256
            if efi.initrdLocateStatus != .success {
                guard efi.initrdLocateStatus == .notFound || efi.initrdLocateStatus == .notMade else { return .fail("LocateDevicePath(LoadFile2, LINUX_EFI_INITRD_MEDIA_GUID) returned \(efi.initrdLocateStatus)") }
                if size == 0 { return .pass("no initrd given, no LINUX_EFI_INITRD_MEDIA_GUID device path") }
                guard c.entryPoint == .efiStub else { return .pass("no LINUX_EFI_INITRD_MEDIA_GUID device path; the handover loader passes the initrd in boot_params (BP-85)") }
                let opts = loadOptions(c).map { String(decoding: $0.text, as: UTF16.self) } ?? ""
                return opts.split(separator: " ").contains { $0.hasPrefix("initrd=") } ? .pass("no LINUX_EFI_INITRD_MEDIA_GUID device path; LoadOptions name it with initrd=")
                    : .fail("an initrd of \(hex(size)) bytes was given, but there is no LINUX_EFI_INITRD_MEDIA_GUID device path and no initrd= in LoadOptions: the stub cannot find it")
            }
            guard size > 0, let sha else { return .fail("LINUX_EFI_INITRD_MEDIA_GUID device path present, but no initrd was given (LoadFile reports \(hex(efi.initrdProbeSize)) bytes)") }
            var conds: [(Bool, String)] = [(efi.initrdProbeStatus == .bufferTooSmall, "LoadFile(BufferSize 0, NULL) returned \(efi.initrdProbeStatus), expected EFI_BUFFER_TOO_SMALL (the stub gives up with EFI_LOAD_ERROR otherwise)"),
                                           (efi.initrdProbeSize == size, "LoadFile(BufferSize 0) reported \(hex(efi.initrdProbeSize)) bytes, the initrd has \(hex(size))")]
            if efi.initrdProbeStatus == .bufferTooSmall, efi.initrdProbeSize == size {
                conds.append((efi.initrdLoadStatus == .success, "LoadFile into \(hex(size)) bytes returned \(efi.initrdLoadStatus)"))
                conds.append((efi.initrdSize == size, "LoadFile delivered \(hex(efi.initrdSize)) bytes, the initrd has \(hex(size))"))
                if efi.initrdLoadStatus == .success, efi.initrdSize == size { conds.append((c.memory.sha256(at: efi.initrdAddress, length: size) == sha, "the \(hex(size)) bytes LoadFile wrote at \(hex(efi.initrdAddress)) are not the initrd's")) }
            }
            return .check(conds, ok: "LoadFile2 on LINUX_EFI_INITRD_MEDIA_GUID: EFI_BUFFER_TOO_SMALL with \(hex(size)), then exactly the initrd's bytes")
        },
        Rule("BP-88", "memory map from GetMemoryMap", reference: "docs/EFI.md §4.14; UEFI 2.10 §7.2 GetMemoryMap(); x86-stub.c exit_boot, setup_e820",
             statement: "Boot services still run, so GetMemoryMap succeeds: descriptor version 1, descriptor size ≥ 40 and a multiple of 8, the map a whole number of descriptors, at least one; every descriptor page-aligned with NumberOfPages > 0 and no two overlapping (the stub turns this map into e820).") { c in
            guard c.entryPoint.isEFI else { return notEFI }
            guard let efi = c.s.efi else { return .fail("the report has no EFI facts") }
            guard efi.memoryMapStatus == .success else { return .fail("GetMemoryMap returned \(efi.memoryMapStatus)") }
            let ds = efi.descriptorSize
            var conds: [(Bool, String)] = [(efi.descriptorVersion == 1, "descriptor version \(efi.descriptorVersion), expected 1"),
                                           (ds >= 40 && ds % 8 == 0, "descriptor size \(ds) is not ≥ 40 and a multiple of 8"),
                                           (ds > 0 && efi.memoryMapSize % max(ds, 1) == 0 && efi.memoryMapSize >= ds, "map size \(hex(efi.memoryMapSize)) is not a positive multiple of the descriptor size \(ds)")]
            guard conds.allSatisfy(\.0) else { return .check(conds, ok: "") }
            guard efi.memoryMapSize <= 65536, let raw = c.memory.bytes(at: efi.memoryMap, count: Int(efi.memoryMapSize)), let ds = EFIFacts.descriptors(raw, descriptorSize: ds) else { return .fail("the \(hex(efi.memoryMapSize))-byte memory map at \(hex(efi.memoryMap)) is not in the snapshot") }
            var ranges: [AddressRange] = []
            for (i, d) in ds.enumerated() {
                guard d.physicalStart & 0xFFF == 0, d.pages > 0, let r = d.range else { conds.append((false, "descriptor \(i): start \(hex(d.physicalStart)), \(d.pages) pages")); continue }
                ranges.append(r)
            }
            let sorted = ranges.sorted()
            for (a, b) in zip(sorted, sorted.dropFirst()) where b.start < a.end { conds.append((false, "descriptors \(a) and \(b) overlap")) }
            return .check(conds, ok: "\(ds.count) descriptors of \(efi.descriptorSize) bytes, version 1, page-aligned, disjoint")
        },
        Rule("BP-89", "CPU state of the UEFI x64 handoff", reference: "docs/EFI.md §4.14; UEFI 2.10 §2.3.4 (x64 platforms); BOOT \"EFI Handover Protocol\" (handoff state)",
             statement: "64-bit EFI entries run in long mode (CR0.PE, CR0.PG, CR4.PAE, EFER.LME, EFER.LMA) on 64-bit code, with RFLAGS.DF = 0 and memory identity-mapped: the image [L, L+len), the system table and the stack (and boot_params at the handover entry); at the PE entry RSP + 8 is 16-byte aligned (the stack was aligned before the call). 32-bit handover: protected mode with flat 32-bit code, identity mapping when paging is on.") { c in
            guard c.entryPoint.isEFI else { return notEFI }
            let e = c.entry
            var conds: [(Bool, String)] = [(e.rflags & (1 << 10) == 0, "RFLAGS = \(hex(e.rflags)): DF = 1")]
            if c.entryPoint == .efiHandover32 {
                conds.append((e.cr0 & EntryState.cr0PE != 0, "CR0.PE = 0"))
                conds.append((isFlatCode32(e.cs) || e.cs.present == false, "CS \(hex(e.cs.selector)) is not flat 32-bit code"))
            } else {
                conds += [(e.cr0 & EntryState.cr0PE != 0, "CR0.PE = 0"), (e.cr0 & EntryState.cr0PG != 0, "CR0.PG = 0"), (e.cr4 & EntryState.cr4PAE != 0, "CR4.PAE = 0"),
                          (e.efer & EntryState.eferLME != 0, "EFER.LME = 0"), (e.efer & EntryState.eferLMA != 0, "EFER.LMA = 0"),
                          (e.cs.l && !e.cs.db, "CS \(hex(e.cs.selector)) is not 64-bit code (L = \(e.cs.l), D = \(e.cs.db))")]
                if c.entryPoint == .efiStub { conds.append(((e.rsp &+ 8) & 0xF == 0, "RSP = \(hex(e.rsp)): RSP + 8 is not 16-byte aligned")) }
            }
            if e.cr0 & EntryState.cr0PG != 0 {
                var objs: [(String, AddressRange)] = []
                let len = c.s.image.protectedModeLength
                var spans: [(String, UInt64, UInt64)] = [("image", c.L, max(len, 1)), ("stack", e.rsp.alignedDown(8), 8)]
                if let (_, st) = efiArguments(c) { spans.append(("system table", st, 0x78)) }
                for (n, a, l) in spans {
                    if let r = AddressRange.make(a, length: l) { objs.append((n, r)) } else { conds.append((false, "\(n) \(hex(a)) + \(hex(l)) wraps past 2^64")) }
                }
                if c.entryPoint != .efiStub, let z = c.zeroPageRange { objs.append(("boot_params", z)) }
                for (n, r) in objs { if let u = c.firstUnmapped(r) { conds.append((false, "\(n) \(r) is not identity-mapped at \(hex(u)) (CR3 \(hex(e.cr3)))")) } }
            }
            return .check(conds, ok: "CR0 \(hex(e.cr0)), CR4 \(hex(e.cr4)), EFER \(hex(e.efer)), CS \(hex(e.cs.selector)), DF = 0, image/system table/stack identity-mapped")
        },
        Rule("BP-90", "PE/COFF metadata respected", reference: "docs/EFI.md §4.14; BOOT \"EFI Handover Protocol\" (\"MUST respect the kernel's PE/COFF metadata ... section alignment, the memory footprint\"); UEFI 2.10 §7.4 LoadImage; spec §6.3",
             statement: "The protected-mode image lies at an address aligned to SectionAlignment, and its whole memory footprint (SizeOfImage − SizeOfHeaders from L) is memory the loader allocated (EfiLoaderCode/EfiLoaderData, not free memory) in the EFI memory map. At the PE entry, L = ImageBase + the entry section's VirtualAddress, and ImageBase (LOADED_IMAGE) is SectionAlignment-aligned with ImageSize ≥ SizeOfImage.") { c in
            guard c.entryPoint.isEFI else { return notEFI }
            guard let pe = PECOFF.Summary.parse(c.s.image.headerBytes) else { return .na("the image has no PE/COFF header (the footprint is then only what the file holds)") }
            let align = UInt64(max(pe.sectionAlignment, 1))
            guard pe.sizeOfHeaders <= pe.sizeOfImage else { return .na("the image's PE header is inconsistent: SizeOfHeaders \(hex(UInt64(pe.sizeOfHeaders))) > SizeOfImage \(hex(UInt64(pe.sizeOfImage)))") }
            let footprint = UInt64(pe.sizeOfImage) - UInt64(pe.sizeOfHeaders)
            var conds: [(Bool, String)] = [(c.L % align == 0, "L = \(hex(c.L)) is not aligned to SectionAlignment \(hex(align))")]
            if c.entryPoint == .efiStub {
                if let efi = c.s.efi, let li = c.memory.bytes(at: efi.loadedImage, count: 0x50) {
                    let base = li.u64(0x40)!, size = li.u64(0x48)!
                    conds.append((base % align == 0, "ImageBase \(hex(base)) is not aligned to SectionAlignment \(hex(align))"))
                    conds.append((size >= UInt64(pe.sizeOfImage), "ImageSize \(hex(size)) < SizeOfImage \(hex(UInt64(pe.sizeOfImage)))"))
                    if let va = pe.entrySectionAddress { conds.append((c.L == base &+ UInt64(va), "L = \(hex(c.L)), expected ImageBase \(hex(base)) + VirtualAddress \(hex(UInt64(va)))")) }
                } else { conds.append((false, "the loaded image protocol is not in the snapshot")) }
            }
            if AddressRange.make(c.L, length: footprint) == nil {
                conds.append((false, "footprint L \(hex(c.L)) + \(hex(footprint)) wraps past 2^64"))
            } else if let efi = c.s.efi, efi.memoryMapStatus == .success, efi.memoryMapSize <= 65536, let raw = c.memory.bytes(at: efi.memoryMap, count: Int(efi.memoryMapSize)),
               let ds = EFIFacts.descriptors(raw, descriptorSize: efi.descriptorSize), let want = AddressRange.make(c.L, length: footprint) {
                let allocated = AddressRange.union(ds.filter { $0.type == EFIFacts.MemoryDescriptor.loaderCode || $0.type == EFIFacts.MemoryDescriptor.loaderData }.compactMap(\.range))
                conds.append((allocated.contains { $0.contains(want) }, "footprint \(want) is not inside EfiLoaderCode/EfiLoaderData memory of the EFI memory map"))
            } else {
                conds.append((false, "no EFI memory map to check the footprint [L, L+\(hex(footprint))) against"))
            }
            return .check(conds, ok: "L \(hex(c.L)) aligned to \(hex(align)); footprint \(hex(footprint)) bytes allocated")
        },
        Rule("BP-91", "efi_info of an EFI loader at the 32/64-bit entry", reference: "docs/EFI.md §4.14; BOOT efi_info; arch/x86/kernel/setup.c (EFI_BOOT, EFI_64BIT); arch/x86/platform/efi/efi.c efi_init, efi_memblock_x86_reserve_range; x86-stub.c exit_boot_func",
             statement: "A loader that exited boot services itself and enters by the 32- or 64-bit protocol fills efi_info as the stub would: signature \"EL64\" for 64-bit firmware or \"EL32\" for 32-bit firmware (the firmware's width, not the entry's), efi_systab pointing at \"IBI SYST\", efi_memmap nonzero, efi_memdesc_version 1, efi_memdesc_size ≥ 40 and a multiple of 8, efi_memmap_size a positive multiple of it; with \"EL32\" the _hi halves are zero. n/a when efi_info is zero or has neither signature (no EFI; BP-11 judges stray bytes).") { c in
            guard c.entryPoint == .long64 || c.entryPoint == .protected32 else { return .na("not the 32- or 64-bit entry (the handover entry: BP-84)") }
            guard let zp = c.zp else { return noZeroPage }
            guard zp[ZeroPage.Field.efiInfo.range].contains(where: { $0 != 0 }) else { return .na("efi_info is zero: not booted through EFI") }
            // Without a signature the kernel ignores efi_info (no EFI_BOOT); those bytes are not an
            // EFI loader's, and BP-11 judges them as stray.
            guard let sig = efiLoaderSignature(c) else { return .na("efi_loader_signature at \(hex(ZeroPage.Field.efiLoaderSignature.offset)) is \(hex(zp.field(.efiLoaderSignature)!)), not \"EL64\" or \"EL32\": not an EFI loader's efi_info (stray bytes are BP-11's)") }
            let e = efiInfo(zp)
            let st = e.systab, mm = e.memmap, ds = e.memdescSize, ver = e.memdescVersion, size = e.memmapSize
            var conds: [(Bool, String)] = [(st != 0, "efi_systab is 0"), (mm != 0, "efi_memmap is 0"), (ver == 1, "efi_memdesc_version \(ver), expected 1"),
                                           (ds >= 40 && ds % 8 == 0, "efi_memdesc_size \(ds) is not ≥ 40 and a multiple of 8"),
                                           (size > 0 && ds > 0 && size % max(ds, 1) == 0, "efi_memmap_size \(hex(size)) is not a positive multiple of efi_memdesc_size \(ds)")]
            if sig == "EL32" { conds.append((zp.field(.efiSystabHi)! == 0 && zp.field(.efiMemmapHi)! == 0, "\"EL32\" with nonzero efi_systab_hi/efi_memmap_hi")) }
            if st != 0, let t = c.memory.bytes(at: st, count: 8) { conds.append((t.u64(0)! == systemTableSignature, "efi_systab \(hex(st)) holds \(hex(t.u64(0)!)), not \"IBI SYST\"")) }
            return .check(conds, ok: "\(sig): system table \(hex(st)), memory map \(hex(mm)) (\(hex(size)) bytes of \(ds)-byte descriptors, version 1)")
        },
    ]
}

/// The EFI entries (docs/EFI.md, "4.14 EFI entries"): the EFI handover protocol (boot.rst
/// "EFI Handover Protocol") and the PE/COFF entry of the kernel's EFI stub
/// (drivers/firmware/efi/libstub/x86-stub.c `efi_pe_entry`), BP-80…BP-91. Written from the
/// kernel's documentation and stub source and the UEFI specification, like the rest of the
/// catalogue; BP-80…BP-90 are n/a at the 16/32/64-bit and PVH entries, BP-91 (efi_info of an
/// EFI loader that enters by the 32/64-bit protocol) is n/a at every other entry and wherever
/// efi_info is zero.
extension RuleCatalogue {
    static let notEFI = Judgement.na("not an EFI entry")
    static let notHandover = Judgement.na("not an EFI handover entry")
    static let notStub = Judgement.na("not the PE/COFF (EFI stub) entry")
    /// "IBI SYST", EFI_SYSTEM_TABLE_SIGNATURE.
    static let systemTableSignature: UInt64 = 0x5453_5953_2049_4249

    /// (handle, system table) as the entry received them: RCX/RDX (Microsoft x64, PE entry),
    /// RDI/RSI (64-bit handover, SysV), [ESP+4]/[ESP+8] (32-bit handover, cdecl).
    static func efiArguments(_ c: RuleContext) -> (handle: UInt64, systemTable: UInt64)? {
        let e = c.entry
        switch e.entryPoint {
        case .efiStub: return (e.rcx, e.rdx)
        case .efiHandover64: return (e.rdi, e.rsi)
        case .efiHandover32:
            guard let s = c.memory.bytes(at: e.rsp &+ 4, count: 8) else { return nil }
            return (UInt64(s.u32(0)!), UInt64(s.u32(4)!))
        default: return nil
        }
    }

    static func utf16(_ bytes: [UInt8]) -> [UInt16] { stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 } }

    /// The load options as the stub reads them (efi_convert_cmdline): UTF-16 code units up to
    /// LoadOptionsSize / 2, stopping at the first NUL or newline.
    static func loadOptions(_ c: RuleContext) -> (text: [UInt16], size: UInt32, terminated: Bool)? {
        guard let efi = c.s.efi, efi.loadedImageStatus == .success, let li = c.memory.bytes(at: efi.loadedImage, count: 0x48) else { return nil }
        let size = li.u32(0x30)!, ptr = li.u64(0x38)!
        if size == 0 || ptr == 0 { return ([], size, false) }
        guard let raw = c.memory.bytes(at: ptr, count: Int(min(size, 65536))) else { return nil }
        let units = utf16(raw)
        let end = units.firstIndex { $0 == 0 || $0 == 0x0A }
        return (Array(units[..<(end ?? units.count)]), size, end != nil && units[end!] == 0)
    }

    /// efi_info's fields with the _hi halves joined (a whole zero page: every field is there).
    static func efiInfo(_ zp: [UInt8]) -> (systab: UInt64, memmap: UInt64, memdescSize: UInt64, memdescVersion: UInt64, memmapSize: UInt64) {
        let f = { (field: ZeroPage.Field) in zp.field(field) ?? 0 }
        return (f(.efiSystab) | f(.efiSystabHi) << 32, f(.efiMemmap) | f(.efiMemmapHi) << 32, f(.efiMemdescSize), f(.efiMemdescVersion), f(.efiMemmapSize))
    }

    /// "EL64" or "EL32" at efi_info.efi_loader_signature (0x1C0), as arch/x86/kernel/setup.c
    /// compares it; nil for anything else.
    static func efiLoaderSignature(_ c: RuleContext) -> String? {
        switch c.z(.efiLoaderSignature) {
        case 0x3436_4C45: "EL64"
        case 0x3233_4C45: "EL32"
        default: nil
        }
    }
}
