/// §4.1 Image validation of the spec digest (shared/spec/x86-boot-protocol.md): BP-01…BP-10.
extension RuleCatalogue {
    static let image: [Rule] = [
        Rule("BP-01", "image not truncated", reference: "§4.1; BOOT, KEXEC, QEMU",
             statement: "The image is at least 1024 bytes and longer than (setup_sects'+1)*512 (setup_sects 0 means 4).") { c in
            guard c.isBz else { return notBz }
            let ss = Int(c.imageHeader.field(.setupSects) ?? 0)
            let setup = UInt64(((ss == 0 ? 4 : ss) + 1) * 512)
            return .check([(c.s.image.fileSize >= 1024, "file is \(c.s.image.fileSize) bytes, fewer than 1024"),
                           (c.s.image.fileSize > setup, "file is \(hex(c.s.image.fileSize)) bytes, setup area alone is \(hex(setup))")],
                          ok: "file \(hex(c.s.image.fileSize)) bytes, setup \(hex(setup))")
        },
        Rule("BP-02", "boot_flag is 0xAA55", reference: "§4.1; BOOT",
             statement: "boot_flag at 0x1FE reads 0xAA55.") { c in
            guard c.isBz else { return notBz }
            let v = c.imageHeader.field(.bootFlag) ?? 0
            return v == 0xAA55 ? .pass("boot_flag \(hex(v))") : .fail("image boot_flag at 0x1FE is \(hex(v)), expected 0xAA55, yet it was loaded")
        },
        Rule("BP-03", "HdrS magic present", reference: "§4.1; BOOT",
             statement: "\"HdrS\" (0x53726448) is at 0x202; without it the image uses the old protocol, which a 32/64-bit-entry loader rejects.") { c in
            guard c.isBz else { return notBz }
            let v = c.imageHeader.field(.header) ?? 0
            return v == UInt64(BzImage.headerMagic) ? .pass("header \(hex(v))") : .fail("image header at 0x202 is \(hex(v)), expected 0x53726448 (\"HdrS\"), yet it was loaded")
        },
        Rule("BP-04", "only fields of this protocol version written", reference: "§4.1, §3; BOOT",
             statement: "The loader writes only fields inside [0x1F1, 0x202+image[0x201]); zero-page bytes from the header end to 0x290 stay zero or equal to the image.") { c in
            guard c.isBz else { return notBz }
            guard let zp = c.zp else { return noZeroPage(c) }
            var bad: [String] = []
            for o in c.imageHeaderEnd..<SetupHeaderLayout.areaEnd where zp[o] != 0 && zp[o] != (c.imageHeader.u8(o) ?? 0) {
                bad.append("\(hex(o))=\(hex(zp[o]))")
            }
            return bad.isEmpty ? .pass("nothing written past header end \(hex(c.imageHeaderEnd)) (protocol \(ProtocolVersion(rawValue: c.version)))")
                : .fail("protocol \(ProtocolVersion(rawValue: c.version)) header ends at \(hex(c.imageHeaderEnd)) but the zero page has bytes written past it: \(bad.prefix(8).joined(separator: ", "))")
        },
        Rule("BP-05", "bzImage: version ≥ 2.00 and LOADED_HIGH", reference: "§4.1; BOOT \"Loading the rest\", KEXEC",
             statement: "A bzImage has protocol ≥ 2.00 and loadflags bit 0 (LOADED_HIGH); a zImage is rejected by a 64-bit loader.") { c in
            guard c.isBz else { return notBz }
            let lf = LoadFlags(rawValue: UInt8(c.imageHeader.field(.loadflags) ?? 0))
            return .check([(c.version >= 0x0200, "version \(hex(c.version)) < 0x0200"), (lf.contains(.loadedHigh), "image loadflags at 0x211 = \(hex(lf.rawValue)): LOADED_HIGH clear (zImage), yet it was loaded")],
                          ok: "version \(hex(c.version)), loadflags \(lf)")
        },
        Rule("BP-06", "64-bit entry only with 2.12+ and XLF_KERNEL_64", reference: "§4.1; BOOT xloadflags; KEXEC",
             statement: "Using the 64-bit entry requires version ≥ 0x020C and xloadflags & XLF_KERNEL_64.") { c in
            guard c.isBz else { return notBz }
            guard c.entryPoint == .long64 else { return .na("entry is \(c.entryPoint.rawValue), not the 64-bit entry") }
            return .check([(c.version >= 0x020C, "64-bit entry used with protocol \(ProtocolVersion(rawValue: c.version)) < 2.12"),
                           (c.xloadflags.contains(.kernel64), "64-bit entry used though xloadflags at 0x236 = \(c.xloadflags) lacks XLF_KERNEL_64")],
                          ok: "protocol \(ProtocolVersion(rawValue: c.version)), xloadflags \(c.xloadflags)")
        },
        Rule("BP-07", "above 4 GiB only with XLF_CAN_BE_LOADED_ABOVE_4G", reference: "§4.1; BOOT xloadflags; HDR",
             statement: "Kernel, boot_params, command line and initrd go at or above 4 GiB only with XLF_CAN_BE_LOADED_ABOVE_4G and the 64-bit entry.") { c in
            guard c.isBz else { return notBz }
            if c.entryPoint == .long64 && c.xloadflags.contains(.canBeLoadedAbove4G) { return .pass("64-bit entry with XLF_CAN_BE_LOADED_ABOVE_4G: any placement allowed") }
            let four: UInt64 = 1 << 32
            var objs = c.bootObjects.filter { !$0.0.hasPrefix("setup_data") }
            var conds = c.wrapConditions(window: true).filter { !$0.1.hasPrefix("setup_data") }
            if let w = c.window { objs.append(("kernel window W", w)) } else if c.windowProblem == nil {
                let len = c.s.image.protectedModeLength
                if let k = AddressRange.make(c.L, length: len) { objs.append(("kernel", k)) } else { conds.append((false, "kernel L \(hex(c.L)) + \(hex(len)) wraps past 2^64")) }
            }
            conds += objs.map { ($0.1.end <= four, "\($0.0) \($0.1) crosses 4 GiB without XLF_CAN_BE_LOADED_ABOVE_4G and the 64-bit entry") }
            return .check(conds, ok: "everything below 4 GiB: " + objs.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
        },
        Rule("BP-08", "LA57 only with XLF_5LEVEL", reference: "§4.1; KEXEC",
             statement: "Handing off with CR4.LA57=1 requires xloadflags XLF_5LEVEL.") { c in
            guard c.entryPoint == .long64 else { return .na("paging is off at this entry") }
            guard c.entry.cr4 & EntryState.cr4LA57 != 0 else { return .pass("CR4.LA57 = 0") }
            guard c.isBz else { return .fail("CR4.LA57 = 1 at the ELF entry; only a bzImage can advertise XLF_5LEVEL") }
            return c.xloadflags.contains(.fiveLevel) ? .pass("CR4.LA57 = 1 and XLF_5LEVEL set") : .fail("CR4.LA57 = 1 but xloadflags \(c.xloadflags) lacks XLF_5LEVEL")
        },
        Rule("BP-09", "kernel_info valid (2.15+)", reference: "§4.1, §1.7; BOOT kernel_info; KINFO",
             statement: "For protocol ≥ 2.15, \"LToP\" is at pm + kernel_info_offset and size ≤ size_total.") { c in
            guard c.isBz else { return notBz }
            guard let kio = c.header(.kernelInfoOffset) else { return .na("protocol \(ProtocolVersion(rawValue: c.version)) has no kernel_info") }
            let (at, wraps) = c.L.addingReportingOverflow(kio)
            guard !wraps else { return .fail("kernel_info at L \(hex(c.L)) + kernel_info_offset \(hex(kio)) wraps past 2^64") }
            guard let ki = c.memory.bytes(at: at, count: 16) else { return .na("kernel_info at L + \(hex(kio)) not in the snapshot") }
            return .check([(ki.u32(0) == KernelInfo.magicValue, "kernel_info at \(hex(at)) starts \(hex(ki.u32(0)!)), expected 0x506F544C (\"LToP\")"),
                           (ki.u32(4)! <= ki.u32(8)!, "kernel_info size \(ki.u32(4)!) > size_total \(ki.u32(8)!)")],
                          ok: "LToP at \(hex(at)), size \(ki.u32(4)!), size_total \(ki.u32(8)!), setup_type_max \(hex(ki.u32(12)!))")
        },
        Rule("BP-10", "read-only header fields untouched", reference: "§4.1, §1.2; BOOT field types",
             statement: "Zero-page copies of the read-only header fields equal the image; kernel_alignment may only be lowered (2.10+).") { c in
            guard c.isBz else { return notBz }
            guard let zp = c.zp else { return noZeroPage(c) }
            var bad: [String] = []
            for f in SetupHeaderLayout.readOnlyForLoader where f.end <= c.imageHeaderEnd {
                let a = c.imageHeader.field(f)!, b = zp.field(f)!
                if a != b { bad.append("\(f.name) at \(hex(f.offset)): image \(hex(a)), zero page \(hex(b))") }
            }
            if let a = c.header(.kernelAlignment), let b = zp.field(.kernelAlignment), a != b {
                if !(c.version >= 0x020A && b < a) { bad.append("kernel_alignment at 0x230: image \(hex(a)), zero page \(hex(b)) (only lowering is allowed, from 2.10)") }
            }
            return bad.isEmpty ? .pass("read-only fields equal the image") : .fail(bad.joined(separator: "; "))
        },
    ]
}
