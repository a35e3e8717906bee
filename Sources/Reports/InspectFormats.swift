import Conformance
import Foundation

/// `conform inspect`'s output: a kernel file decoded field by field, as text lines or a JSON
/// object. bzImage: the setup header (offset, size, first protocol, doc type, value, a note for
/// flag fields); ELF: program headers and notes; arm64/riscv64 Image: the 64-byte header.
public enum InspectReport {
    public static func lines(path: String, _ image: KernelImage) -> [String] {
        switch image {
        case .bzImage(let bz): bzImageLines(path: path, bz)
        case .elf(let e): elfLines(path: path, e)
        }
    }

    public static func json(_ image: KernelImage) -> [String: Any] {
        switch image {
        case .bzImage(let bz):
            let h = bz.header
            let fields: [[String: Any]] = h.decodedFields.map { f, v in
                ["name": f.name, "offset": hex(f.offset), "size": f.size, "since": f.since?.description ?? "", "access": f.access?.rawValue ?? "", "value": hex(v)]
            }
            var o: [String: Any] = ["format": "bzImage", "fileSize": hex(bz.fileSize), "protocol": h.version.description, "headerEnd": hex(h.headerEnd), "fields": fields,
                                    "protectedMode": ["offset": hex(bz.protectedModeOffset), "length": hex(bz.protectedModeLength)], "warnings": bz.warnings.map(\.description)]
            if let p = bz.payloadFormat { o["payloadFormat"] = p.rawValue }
            if let k = bz.kernelInfo { o["kernelInfo"] = ["size": k.size, "sizeTotal": k.sizeTotal, "setupTypeMax": hex(k.setupTypeMax)] }
            if let v = bz.kernelVersionString { o["kernelVersion"] = v }
            return o
        case .elf(let e):
            return ["format": "elf", "fileSize": hex(e.fileSize), "entry": hex(e.entry), "pvhEntry": e.pvhEntry.map { hex($0) } ?? NSNull(),
                    "segments": e.segments.map { ["index": $0.index, "offset": hex($0.offset), "vaddr": hex($0.vaddr), "paddr": hex($0.paddr), "fileSize": hex($0.fileSize), "memorySize": hex($0.memorySize), "align": hex($0.align)] },
                    "notes": e.notes.map { ["name": $0.name, "type": $0.type, "desc": $0.desc.hexString] }, "warnings": e.warnings.map(\.description)]
        }
    }

    static func bzImageLines(path: String, _ bz: BzImage) -> [String] {
        let h = bz.header
        var out = ["\(path): bzImage, protocol \(h.version), \(bz.fileSize) bytes"]
        if let v = bz.kernelVersionString { out.append("kernel version: \(v)") }
        out.append("setup: \(h.setupSectorCount) sectors + boot sector = \(hex(h.setupSize)) bytes; header ends at \(hex(h.headerEnd))")
        out.append("protected-mode image: file offset \(hex(bz.protectedModeOffset)), \(hex(bz.protectedModeLength)) bytes" + (bz.payloadFormat.map { "; payload \($0.rawValue)" } ?? ""))
        out += ["", "offset  size  since  doc  field                   value"]
        for (f, v) in h.decodedFields {
            var note = ""
            switch f {
            case .loadflags: note = "  \(LoadFlags(rawValue: UInt8(v)))"
            case .xloadflags: note = "  \(XLoadFlags(rawValue: UInt16(v)))"
            case .header: note = v == UInt64(BzImage.headerMagic) ? "  \"HdrS\"" : ""
            case .version: note = "  \(ProtocolVersion(rawValue: UInt16(v)))"
            case .setupSects where v == 0: note = "  (0 means 4)"
            default: break
            }
            out.append("\(hex(f.offset).rightPad(7)) \(String(f.size).leftPad(4))  \((f.since?.description ?? "").rightPad(5))  \((f.access?.rawValue ?? "").rightPad(3))  \(f.name.rightPad(22))  \(hex(v))\(note)")
        }
        if let k = bz.kernelInfo { out += ["", "kernel_info: size \(k.size), size_total \(k.sizeTotal), setup_type_max \(hex(k.setupTypeMax))"] }
        return out + bz.warnings.map(\.description)
    }

    static func elfLines(path: String, _ e: ElfImage) -> [String] {
        var out = ["\(path): ELF64 x86-64 vmlinux, \(e.fileSize) bytes", "entry (e_entry, physical): \(hex(e.entry))", "PVH entry (Xen note 18): \(e.pvhEntry.map { hex($0) } ?? "none")"]
        if let r = e.relocation { out.append("PVH relocation (Xen note 19): align \(hex(r.alignment)), min \(hex(r.minimum)), max \(hex(r.maximum))") }
        out += ["kernel range: \(e.physicalRange)", "", "phdr  offset       vaddr               paddr        filesz      memsz       align"]
        for s in e.segments {
            out.append("\(String(s.index).leftPad(4))  \(hex(s.offset).rightPad(11))  \(hex(s.vaddr).rightPad(18))  \(hex(s.paddr).rightPad(11))  \(hex(s.fileSize).rightPad(10))  \(hex(s.memorySize).rightPad(10))  \(hex(s.align))")
        }
        out += ["", "notes:"]
        for n in e.notes { out.append("  \(n.name.rightPad(6)) type \(String(n.type).leftPad(3))  desc \(n.desc.count) bytes  \(Array(n.desc.prefix(16)).hexString)") }
        return out + e.warnings.map(\.description)
    }

    /// The 64-byte header of an arm64 or riscv64 Image, field by field (booting.rst §4,
    /// boot-image-header.rst; spec digest §6): offset, size, name, value and what it means.
    public static func imageFields(_ h: ImageHeader) -> [(offset: Int, size: Int, name: String, value: UInt64, note: String)] {
        var f: [(Int, Int, String, UInt64, String)] = [
            (0x00, 4, "code0", UInt64(h.code0), h.code0 & 0xFFFF == UInt32(PECOFF.dosMagic) ? "\"MZ\": an EFI stub (PE image)" : ""),
            (0x04, 4, "code1", UInt64(h.code1), ""),
            (0x08, 8, "text_offset", h.textOffsetField, h.isPre317 ? "image_size 0: taken as \(hex(h.textOffset)) (pre-3.17)" : ""),
            (0x10, 8, "image_size", h.imageSize, h.imageSize == 0 ? "0: unknown (pre-3.17 arm64)" : "\(h.imageSize >> 20) MiB claimed from the load address"),
            (0x18, 8, "flags", h.flags, flagNote(h)),
        ]
        switch h.architecture {
        case .arm64:
            f.append((0x38, 4, "magic", UInt64(ImageHeader.arm64Magic), "\"ARM\\x64\""))
        case .riscv64:
            let v = h.version ?? 0
            f.append((0x20, 4, "version", UInt64(v), "\(v >> 16).\(v & 0xFFFF)"))
            f.append((0x38, 4, "magic2", UInt64(ImageHeader.riscvMagic2), "\"RSC\\x05\""))
        }
        f.append((0x3C, 4, h.architecture == .arm64 ? "res5 (PE header offset)" : "res3 (PE header offset)", UInt64(h.peHeaderOffset), h.peHeaderOffset == 0 ? "no PE header" : ""))
        return f.map { (offset: $0.0, size: $0.1, name: $0.2, value: $0.3, note: $0.4) }
    }

    static func flagNote(_ h: ImageHeader) -> String {
        var parts = [h.isBigEndian ? "big-endian" : "little-endian"]
        if h.architecture == .arm64 {
            parts.append(["page size unspecified", "4K pages", "16K pages", "64K pages"][Int(h.pageSizeField)])
            parts.append(h.placeAnywhere ? "bit 3: place anywhere in RAM" : "bit 3 clear: 2 MiB-aligned base near the start of DRAM")
        }
        return parts.joined(separator: ", ")
    }

    public static func imageLines(path: String, _ h: ImageHeader) -> [String] {
        var out = ["\(path): \(h.architecture) Image, \(h.fileSize) bytes; loads at a 2 MiB-aligned base + \(hex(h.textOffset)), keeps \(hex(h.footprint)) bytes from there", "",
                   "offset  size  field                     value               meaning"]
        for f in imageFields(h) { out.append("\(hex(f.offset).rightPad(7)) \(String(f.size).leftPad(4))  \(f.name.rightPad(24))  \(hex(f.value).rightPad(18))  \(f.note)") }
        return out + h.warnings
    }

    public static func imageJSON(_ h: ImageHeader) -> [String: Any] {
        ["format": "image", "architecture": h.architecture.rawValue, "fileSize": hex(h.fileSize), "textOffset": hex(h.textOffset),
         "fields": imageFields(h).map { ["name": $0.name, "offset": hex($0.offset), "size": $0.size, "value": hex($0.value), "meaning": $0.note] as [String: Any] },
         "warnings": h.warnings]
    }
}

/// `conform rules`: the x86 catalogue (BP) and the arm64/riscv64 catalogue (A64, RV).
public enum RuleListing {
    public static func lines() -> [String] {
        var out: [String] = []
        for r in RuleCatalogue.all {
            out += ["\(r.id)  \(r.title)", "       \(r.statement)", "       spec: \(r.reference)", "       entries: \(entries(r).joined(separator: ", "))", "       images: \(r.scope.summary)"]
        }
        for r in ImageRuleCatalogue.all {
            out += ["\(r.id)  \(r.title)", "       \(r.statement)", "       spec: \(r.reference)", "       images: \(r.architecture) Image"]
        }
        return out
    }

    public static func json() -> [[String: Any]] {
        let x86: [[String: Any]] = RuleCatalogue.all.map { r in
            ["id": r.id.rawValue, "title": r.title, "statement": r.statement, "reference": r.reference, "entries": entries(r), "architecture": "x86",
             "formats": [ImageRecord.Format.bzImage, .elf].filter(r.scope.formats.contains).map(\.rawValue),
             "versions": r.scope.versions.map { v -> [String: String] in
                 var d: [String: String] = [:]
                 if v.lowerBound.rawValue != 0 { d["from"] = "\(v.lowerBound)" }
                 if v.upperBound.rawValue != .max { d["before"] = "\(v.upperBound)" }
                 return d
             } ?? [:]]
        }
        let images: [[String: Any]] = ImageRuleCatalogue.all.map { r in
            ["id": r.id.rawValue, "title": r.title, "statement": r.statement, "reference": r.reference, "architecture": r.architecture.rawValue, "formats": ["image"]]
        }
        return x86 + images
    }

    static func entries(_ r: Rule) -> [String] { EntryPoint.allCases.filter(r.entries.contains).map(\.rawValue) }
}
