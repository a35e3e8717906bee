import ArgumentParser
import Conformance
import Reports
import Foundation

/// Decodes a kernel file: the setup header field by field, or the ELF program headers and notes.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decode a kernel image's header (bzImage) or program headers and notes (ELF).")
    @Argument(help: "A bzImage or ELF vmlinux.") var kernel: String
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        let src = try openSource(kernel, what: "kernel")
        let image: KernelImage
        do { image = try KernelImage(source: src) } catch { throw fail("\(kernel): rejected: \(error)") }
        switch image {
        case .bzImage(let bz):
            let h = bz.header
            if json {
                var fields: [[String: Any]] = []
                for (f, v) in h.decodedFields { fields.append(["name": f.name, "offset": hex(f.offset), "size": f.size, "since": f.since?.description ?? "", "access": f.access?.rawValue ?? "", "value": hex(v)]) }
                var o: [String: Any] = ["format": "bzImage", "fileSize": hex(bz.fileSize), "protocol": h.version.description, "headerEnd": hex(h.headerEnd), "fields": fields,
                                        "protectedMode": ["offset": hex(bz.protectedModeOffset), "length": hex(bz.protectedModeLength)], "warnings": bz.warnings.map(\.description)]
                if let p = bz.payloadFormat { o["payloadFormat"] = p.rawValue }
                if let k = bz.kernelInfo { o["kernelInfo"] = ["size": k.size, "sizeTotal": k.sizeTotal, "setupTypeMax": hex(k.setupTypeMax)] }
                if let v = bz.kernelVersionString { o["kernelVersion"] = v }
                writeJSON(o); return
            }
            print("\(kernel): bzImage, protocol \(h.version), \(bz.fileSize) bytes")
            if let v = bz.kernelVersionString { print("kernel version: \(v)") }
            print("setup: \(h.setupSectorCount) sectors + boot sector = \(hex(h.setupSize)) bytes; header ends at \(hex(h.headerEnd))")
            print("protected-mode image: file offset \(hex(bz.protectedModeOffset)), \(hex(bz.protectedModeLength)) bytes" + (bz.payloadFormat.map { "; payload \($0.rawValue)" } ?? ""))
            print("")
            print("offset  size  since  doc  field                   value")
            for (f, v) in h.decodedFields {
                var note = ""
                switch f.name {
                case "loadflags": note = "  \(LoadFlags(rawValue: UInt8(v)))"
                case "xloadflags": note = "  \(XLoadFlags(rawValue: UInt16(v)))"
                case "header": note = v == UInt64(BzImage.headerMagic) ? "  \"HdrS\"" : ""
                case "version": note = "  \(ProtocolVersion(rawValue: UInt16(v)))"
                case "setup_sects" where v == 0: note = "  (0 means 4)"
                default: break
                }
                print("\(hex(f.offset).rightPad(7)) \(String(f.size).leftPad(4))  \((f.since?.description ?? "").rightPad(5))  \((f.access?.rawValue ?? "").rightPad(3))  \(f.name.rightPad(22))  \(hex(v))\(note)")
            }
            if let k = bz.kernelInfo { print("\nkernel_info: size \(k.size), size_total \(k.sizeTotal), setup_type_max \(hex(k.setupTypeMax))") }
            for w in bz.warnings { print(w) }
        case .elf(let e):
            if json {
                writeJSON(["format": "elf", "fileSize": hex(e.fileSize), "entry": hex(e.entry), "pvhEntry": e.pvhEntry.map { hex($0) } ?? NSNull(),
                           "segments": e.segments.map { ["index": $0.index, "offset": hex($0.offset), "vaddr": hex($0.vaddr), "paddr": hex($0.paddr), "fileSize": hex($0.fileSize), "memorySize": hex($0.memorySize), "align": hex($0.align)] },
                           "notes": e.notes.map { ["name": $0.name, "type": $0.type, "desc": $0.desc.hexString] }, "warnings": e.warnings.map(\.description)])
                return
            }
            print("\(kernel): ELF64 x86-64 vmlinux, \(e.fileSize) bytes")
            print("entry (e_entry, physical): \(hex(e.entry))")
            print("PVH entry (Xen note 18): \(e.pvhEntry.map { hex($0) } ?? "none")")
            if let r = e.relocation { print("PVH relocation (Xen note 19): align \(hex(r.alignment)), min \(hex(r.minimum)), max \(hex(r.maximum))") }
            print("kernel range: \(e.physicalRange)\n")
            print("phdr  offset       vaddr               paddr        filesz      memsz       align")
            for s in e.segments {
                print("\(String(s.index).leftPad(4))  \(hex(s.offset).rightPad(11))  \(hex(s.vaddr).rightPad(18))  \(hex(s.paddr).rightPad(11))  \(hex(s.fileSize).rightPad(10))  \(hex(s.memorySize).rightPad(10))  \(hex(s.align))")
            }
            print("\nnotes:")
            for n in e.notes { print("  \(n.name.rightPad(6)) type \(String(n.type).leftPad(3))  desc \(n.desc.count) bytes  \(Array(n.desc.prefix(16)).hexString)") }
            for w in e.warnings { print(w) }
        }
    }
}

/// Lists the rule catalogue.
struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every rule: id, title, statement and spec reference.")
    @Flag(help: "Machine-readable output.") var json = false
    func run() throws {
        func entries(_ r: Rule) -> [String] { EntryPoint.allCases.filter(r.entries.contains).map(\.rawValue) }
        if json { writeJSON(RuleCatalogue.all.map { ["id": $0.id.rawValue, "title": $0.title, "statement": $0.statement, "reference": $0.reference, "entries": entries($0),
                                                  "formats": [ImageRecord.Format.bzImage, .elf].filter($0.scope.formats.contains).map(\.rawValue),
                                                  "versions": $0.scope.versions.map { v -> [String: String] in
                                                      var d: [String: String] = [:]
                                                      if v.lowerBound.rawValue != 0 { d["from"] = "\(v.lowerBound)" }
                                                      if v.upperBound.rawValue != .max { d["before"] = "\(v.upperBound)" }
                                                      return d
                                                  } ?? [:]] as [String: Any] }); return }
        for r in RuleCatalogue.all { print("\(r.id)  \(r.title)\n       \(r.statement)\n       spec: \(r.reference)\n       entries: \(entries(r).joined(separator: ", "))\n       images: \(r.scope.summary)") }
    }
}
