import ArgumentParser
import Conformance
import Reports
import Runners
import Foundation

/// Writes the reference loader's memory image as a PVH ELF (and optionally a -bios stub).
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Write the reference loader's memory image as an ELF that any PVH-capable VMM boots.",
        discussion: """
        The ELF holds one PT_LOAD per region the reference loader wrote (kernel, zero page or \
        start_info, command line, initrd, setup_data, GDT, page tables) and a trampoline, named \
        by a Xen PVH note, that recreates the loader's entry state and jumps to the kernel. \
        Regions below 1 MiB are staged above it and copied into place by the trampoline.

        QEMU without firmware in the way:
          qemu-system-x86_64 -M pc -m 1024 -bios OUT.bios -kernel OUT.elf -serial stdio ...
        QEMU with SeaBIOS (its PVH option ROM enters the trampoline): give it more RAM than \
        --memory, because SeaBIOS keeps its tables at the top of RAM, where the initrd goes.
        """)
    @Argument(help: "A bzImage or ELF vmlinux.") var kernel: String
    @OptionGroup var loader: LoaderArguments
    @Option(name: [.short, .customLong("output")], help: "The ELF to write.") var output: String
    @Option(help: "Also write a 64 KiB -bios image for QEMU's pc machine that jumps straight to the trampoline.") var firmware: String?
    @Flag(help: "Print the segments as JSON.") var json = false

    func run() throws {
        let o = try loader.options()
        let src = try openSource(kernel, what: "kernel")
        let rd = try loader.initrd.map { try openSource($0, what: "initrd") }
        let r: LoadResult
        do { r = try ReferenceLoader.load(kernel: src, initrd: rd, options: o) } catch { throw fail("\(kernel): rejected: \(error)") }
        let b: PVHBundle
        do { b = try PVHBundle(r) } catch { throw fail("\(kernel): \(error)") }
        do { try b.write(to: output) } catch { throw fail("\(error)") }
        if let firmware {
            guard FileManager.default.createFile(atPath: firmware, contents: Data(b.firmware())) else { throw fail("cannot write \(firmware)") }
        }
        if json {
            writeJSON(["bundle": output, "trampoline": hex(b.trampoline), "entry": r.entry.entryPoint.rawValue, "rip": hex(r.entry.rip),
                       "segments": b.segments.map { ["name": $0.name, "address": hex($0.address), "fileSize": hex($0.fileSize), "memorySize": hex($0.memorySize)] },
                       "staged": b.staged.map { ["name": $0.region.name, "address": hex($0.region.range.start), "stagedAt": hex($0.stagedAt)] }])
            return
        }
        print("\(output): PVH ELF, entry note → trampoline at \(hex(b.trampoline)); the trampoline enters \(kernel) at \(hex(r.entry.rip)) (\(r.entry.entryPoint.rawValue)-bit)")
        for s in b.segments { print("  \(hex(s.address).rightPad(12)) file \(hex(s.fileSize).rightPad(10)) memory \(hex(s.memorySize).rightPad(10)) \(s.name)") }
        for s in b.staged { print("  staged at \(hex(s.stagedAt)), copied to \(hex(s.region.range.start)) (\(hex(s.region.range.length)) bytes): \(s.region.name)") }
        if let firmware { print("\(firmware): -bios image (64 KiB), reset vector → protected mode → \(hex(b.trampoline))") }
    }
}
