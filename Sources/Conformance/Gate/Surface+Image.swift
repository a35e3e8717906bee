/// The protocol-visible surface of an arm64 or riscv64 Image (spec digest §6): what a loader
/// reads from the 64-byte header, and how a change to each item matters to it. The items sit
/// beside the x86 ones (`Surface.of(bzImage:)`), and the same diff and impact classes judge them.
extension Surface {
    /// The surface of an Image whose header `h` was read from `bytes` (at least the 64 header
    /// bytes; the magics are read from them because the header keeps only what a loader uses).
    ///
    /// Keys: `format`, `architecture`; `image.text_offset` (the offset a loader honours),
    /// `image.image_size`; `image.header` for an arm64 header from before v3.17, or else
    /// `image.flags` and its bits by name (`image.flags.endianness`; arm64 also `image.flags.page_size` and
    /// `image.flags.placement`; `image.flags.reserved` when a reserved bit is set); the magics
    /// (`image.magic`, and on riscv64 `image.magic2` and `image.version`); `pe.mz` and
    /// `pe.header_offset` (0x3C); and `size.file`, the file's length (build noise).
    public static func of(image h: ImageHeader, header bytes: [UInt8]) -> [SurfaceItem] {
        let arch = h.architecture.rawValue
        var out: [SurfaceItem] = [.init("format", "\(arch) Image"), .init("architecture", arch)]
        out.append(.init("image.text_offset", hex(h.textOffset)))
        out.append(.init("image.image_size", hex(h.imageSize)))
        if h.isPre317 {
            // booting.rst: before v3.17 image_size is 0, text_offset is 0x80000 in the kernel's
            // endianness (so taken as 0x80000 whatever the field holds), and there are no flags.
            out.append(.init("image.header", "from before v3.17: image_size 0, text_offset taken as 0x80000 (the field holds \(hex(h.textOffsetField))), no flags"))
        } else {
            out.append(.init("image.flags", hex(h.flags)))
            out.append(.init("image.flags.endianness", h.isBigEndian ? "big-endian (bit 0 set)" : "little-endian (bit 0 clear)"))
            let named: UInt64
            switch h.architecture {
            case .arm64:
                out.append(.init("image.flags.page_size", pageSizeName(h.pageSizeField)))
                out.append(.init("image.flags.placement", h.placeAnywhere
                    ? "anywhere: a 2 MB aligned base with all image_size bytes within 48-bit physical addresses (bit 3 set)"
                    : "as close as possible to the base of DRAM (bit 3 clear)"))
                named = 0xF       // bits 0–3; bits 4–63 are reserved (booting.rst)
            case .riscv64:
                named = 0x1       // bit 0; the rest is reserved (boot-image-header.rst)
            }
            if h.flags & ~named != 0 { out.append(.init("image.flags.reserved", hex(h.flags & ~named))) }
        }
        switch h.architecture {
        case .arm64:
            out.append(.init("image.magic", bytes.u32(0x38) == ImageHeader.arm64Magic ? "\"ARM\\x64\" at 0x38" : "absent"))
        case .riscv64:
            let v = h.version ?? 0
            out.append(.init("image.version", "\(v >> 16).\(v & 0xFFFF)"))
            out.append(.init("image.magic", bytes.u64(0x30) == ImageHeader.riscvMagic ? "\"RISCV\\0\\0\\0\" at 0x30 (deprecated from header 0.2)" : "absent"))
            out.append(.init("image.magic2", bytes.u32(0x38) == ImageHeader.riscvMagic2 ? "\"RSC\\x05\" at 0x38" : "absent"))
        }
        out.append(.init("pe.mz", h.code0 & 0xFFFF == UInt32(PECOFF.dosMagic) ? "present (\"MZ\" at 0: an EFI stub)" : "absent"))
        out.append(.init("pe.header_offset", hex(h.peHeaderOffset)))
        out.append(.init("size.file", hex(h.fileSize)))
        return out
    }

    /// booting.rst, flags bits 1–2.
    static func pageSizeName(_ field: UInt64) -> String {
        switch field {
        case 1: "4K"
        case 2: "16K"
        case 3: "64K"
        default: "unspecified"
        }
    }

    /// The architecture a surface describes: its `architecture` item (an Image), or x86 for a
    /// bzImage or an ELF vmlinux, which have none.
    public static func architecture(of items: [SurfaceItem]) -> String {
        items.first { $0.key == "architecture" }?.value ?? "x86"
    }

    /// `diff(old:new:)` for two kernels of one architecture; kernels of different ones (x86
    /// against an Image, arm64 against riscv64) are refused, naming both.
    public static func diff(old: [SurfaceItem], new: [SurfaceItem], oldName: String, newName: String) throws(SurfaceMismatch) -> [SurfaceChange] {
        let a = architecture(of: old), b = architecture(of: new)
        guard a == b else {
            let format = { (items: [SurfaceItem]) in items.first { $0.key == "format" }?.value ?? "unknown format" }
            throw SurfaceMismatch(oldName: oldName, oldArchitecture: a, oldFormat: format(old), newName: newName, newArchitecture: b, newFormat: format(new))
        }
        return diff(old: old, new: new)
    }

    /// How a change to an Image item matters to a loader (`judge` sends the `image.*`, `pe.*`
    /// and `architecture` keys here). booting.rst is Documentation/arch/arm64/booting.rst §4;
    /// boot-image-header.rst is Documentation/arch/riscv/boot-image-header.rst (spec §6).
    static func judgeImage(key k: String, old a: String?, new b: String?) -> Judgement {
        let was = a ?? "—", now = b ?? "—"
        let gone = a != nil && b == nil, appeared = a == nil && b != nil
        if k.hasPrefix("image.flags."), k != "image.flags.reserved", gone || appeared {
            return .info("the flag came or went with the flags word (image.flags, image.header)")
        }
        switch k {
        case "architecture":
            return .breaking("the architecture changed from \(was) to \(now); a loader for one cannot load the other")
        case "image.text_offset":
            return .breaking("the Image now goes \(now) above a 2 MB aligned base (it was \(was)): loaders that hard-code the old offset (0x80000, what arm64 headers before v3.17 implied; 0x200000, riscv64's on rv64) place the kernel wrong. booting.rst: \"The Image must be placed text_offset bytes from a 2MB aligned base address\"; boot-image-header.rst: text_offset is the load offset")
        case "image.image_size":
            guard let x = a.flatMap(parseNumber), let y = b.flatMap(parseNumber), x != 0, y != 0 else {
                return .attention("image_size changed from \(was) to \(now); where it is 0 (an arm64 header from before v3.17) a loader assumes text_offset 0x80000 and keeps as much memory as it can free after the kernel (booting.rst)")
            }
            if y > x {
                return .attention("the kernel needs \(hex(y - x)) more bytes free from its start (image_size \(was) → \(now)): a loader that puts the device tree or initrd right after the file's end, or in a window sized for the old kernel, overlaps the kernel's .bss. booting.rst: \"At least image_size bytes from the start of the image must be free for use by the kernel\" (crosvm once placed the initrd over the .bss this way)")
            }
            return .noise("image_size shrank by \(hex(x - y)): less to keep free, and it moves with every build")
        case "image.header":
            return .attention("the header's form changed (\(was) → \(now)): a header from before v3.17 has image_size 0, no flags, and text_offset taken as 0x80000; a loader then keeps as much memory as it can free after the kernel (booting.rst)")
        case "image.flags":
            return .info("the flags word; each bit is judged under its own name (image.flags.*)")
        case "image.flags.endianness":
            return .breaking("the kernel's byte order changed (\(was) → \(now), flags bit 0): what was set up for the old byte order, from the initramfs's binaries to a VMM's device models, stops working; the header itself stays little-endian (booting.rst, as of v3.17), and riscv64 Linux is built little-endian only (RV-01)")
        case "image.flags.page_size":
            if a == "unspecified" || b == "unspecified" || gone || appeared {
                return .info("the header now states (or no longer states) the kernel's page size (flags bits 1–2, \(was) → \(now)); booting.rst gives the loader no duty for it")
            }
            return .attention("the kernel's page size changed from \(was) to \(now) (flags bits 1–2). Placement is unchanged (a 2 MB aligned base + text_offset), but a loader or VMM that checks the page size against the CPU it offers, or picks kernels by it, must follow")
        case "image.flags.placement":
            if b?.hasPrefix("anywhere") == true {
                return .attention("flags bit 3 is now set: the kernel may go anywhere its image_size bytes stay below 48-bit physical addresses; a loader that keeps the kernel low still works, one that places it high must keep within 48 bits (booting.rst, bit 3)")
            }
            return .attention("flags bit 3 is now clear: the 2 MB aligned base should be as close as possible to the base of DRAM, since memory below it is not accessible via the linear mapping (booting.rst, bit 3); loaders that place the kernel high must move it down")
        case "image.flags.reserved":
            return .attention("reserved flag bits changed (\(was) → \(now)): a new capability or requirement a loader must learn before it relies on the old meaning")
        case "image.version":
            if let x = a.flatMap(riscvVersion), let y = b.flatMap(riscvVersion), y < x {
                return .attention("the riscv64 header version went down from \(was) to \(now): fields of the newer header may be missing (boot-image-header.rst)")
            }
            return .info("the riscv64 header version changed from \(was) to \(now) (boot-image-header.rst: (major << 16) | minor); a loader reads the fields it knows")
        case "image.magic":
            if b == "absent" {
                return .attention("the magic a loader may identify the Image by is gone (\(was)); loaders that check only it no longer recognise the kernel: a riscv64 loader must look for \"RSC\\x05\" at 0x38 (boot-image-header.rst deprecates \"RISCV\" from 0.2)")
            }
            return .info("a magic appeared: \(now)")
        case "image.magic2":
            if b == "absent" { return .breaking("\"RSC\\x05\" at 0x38 is gone: loaders that identify a riscv64 Image by magic2 (boot-image-header.rst) refuse it") }
            return .info("the image now has magic2 \"RSC\\x05\" at 0x38 (boot-image-header.rst header 0.2)")
        case "pe.mz":
            if b == "absent" {
                return .attention("\"MZ\" at 0 is gone: the kernel no longer has an EFI stub. Non-EFI loaders (VMMs, U-Boot booti, QEMU -kernel) ignore it; EFI loaders (firmware, GRUB, systemd-boot, U-Boot bootefi) cannot start it as a PE/COFF application (spec §6.3)")
            }
            return .info("\"MZ\" at 0: the kernel now has an EFI stub, which non-EFI loaders ignore (spec §6.3); EFI loaders can start it through the PE header")
        case "pe.header_offset":
            if a == "0x0" || b == "0x0" || gone || appeared {
                return .info("the PE header offset at 0x3C appeared or went with the EFI stub (\(was) → \(now)); non-EFI loaders ignore it, EFI loaders read the PE header there (booting.rst res5, spec §6.3)")
            }
            return .info("the PE header moved (\(was) → \(now)); EFI loaders read its offset from 0x3C and non-EFI loaders ignore it (spec §6.3)")
        default:
            if appeared { return .info("new in this release") }
            if gone { return .info("gone in this release") }
            return .info("changed")
        }
    }

    /// "0.2" → (0 << 16) | 2.
    static func riscvVersion(_ s: String) -> UInt32? {
        let p = s.split(separator: ".")
        guard p.count == 2, let a = UInt32(p[0]), let b = UInt32(p[1]), a <= 0xFFFF, b <= 0xFFFF else { return nil }
        return a << 16 | b
    }
}

/// Two kernels of different architectures, which no surface diff compares: each named with its
/// architecture and format (the magic at 0x38 says which Image it is; an x86 kernel has none).
public struct SurfaceMismatch: Error, Sendable, Equatable, CustomStringConvertible {
    public let oldName: String
    public let oldArchitecture: String
    public let oldFormat: String
    public let newName: String
    public let newArchitecture: String
    public let newFormat: String
    public init(oldName: String, oldArchitecture: String, oldFormat: String, newName: String, newArchitecture: String, newFormat: String) {
        self.oldName = oldName; self.oldArchitecture = oldArchitecture; self.oldFormat = oldFormat
        self.newName = newName; self.newArchitecture = newArchitecture; self.newFormat = newFormat
    }
    public var description: String {
        "architecture: cannot compare \(oldName) (\(oldFormat), \(oldArchitecture)) with \(newName) (\(newFormat), \(newArchitecture)): expected the new kernel to be \(oldArchitecture) like the baseline, found \(newArchitecture); a surface diff compares releases of one architecture"
    }
}
