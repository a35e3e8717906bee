import ArgumentParser
import Conformance
import Reports
import Foundation

/// Decodes a kernel file: the setup header field by field, or the ELF program headers and notes.
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Decode a kernel image's header (bzImage, arm64 or riscv64 Image) or program headers and notes (ELF).")
    @Argument(help: "A bzImage, ELF vmlinux, or arm64/riscv64 Image.") var kernel: String
    @Flag(help: "Machine-readable output.") var json = false

    func run() throws {
        let src = try openSource(kernel, what: "kernel")
        let head: [UInt8]
        do { head = try src.read(at: 0, count: Int(min(src.size, UInt64(ImageHeader.size)))) } catch { throw fail("\(kernel): \(error)") }
        if let arch = ImageHeader.architecture(of: head) {
            let h: ImageHeader
            do { h = try ImageHeader(head, architecture: arch, fileSize: src.size) } catch { throw fail("\(kernel): rejected: \(error)") }
            if json { writeJSON(InspectReport.imageJSON(h)) } else { InspectReport.imageLines(path: kernel, h).forEach { print($0) } }
            return
        }
        let image: KernelImage
        do { image = try KernelImage(source: src) } catch { throw fail("\(kernel): rejected: \(error)") }
        if json { writeJSON(InspectReport.json(image)) } else { InspectReport.lines(path: kernel, image).forEach { print($0) } }
    }
}

/// Lists the rule catalogue.
struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every rule (x86 BP, arm64 A64, riscv64 RV): id, title, statement and spec reference.")
    @Flag(help: "Machine-readable output.") var json = false
    func run() throws {
        if json { writeJSON(RuleListing.json()) } else { RuleListing.lines().forEach { print($0) } }
    }
}
