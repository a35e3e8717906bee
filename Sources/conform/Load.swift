import ArgumentParser
import Conformance
import Reports
import Foundation

/// Loads a kernel with the reference loader and shows the memory map and every verdict.
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load a kernel with the reference loader; show where everything went and which rules hold.")
    @Argument(help: "A bzImage, an ELF vmlinux, or an arm64 or riscv64 Image (told apart by the magic at 0x38; an Image is placed for QEMU virt with --memory of RAM and judged by the A64/RV rules).") var kernel: String
    @OptionGroup var loader: LoaderArguments
    @Option(help: "Write every region's bytes and snapshot.json to this (new or empty) directory.") var dump: String?
    @Flag(help: "Print the snapshot JSON with verdicts.") var json = false
    @Flag(help: "Show the evidence for every rule, not only failures.") var verbose = false

    func run() throws {
        if let arch = imageArchitecture(kernel) { return try loadImage(arch) }
        let o = try loader.options()
        let src = try openSource(kernel, what: "kernel")
        let rd = try loader.initrd.map { try openSource($0, what: "initrd") }
        if let dump { try checkDumpDirectory(dump) }
        let r: LoadResult
        do { r = try ReferenceLoader.load(kernel: src, initrd: rd, options: o) } catch {
            if json { writeJSON(["kernel": kernel, "rejected": ["rule": error.rule?.rawValue ?? "", "message": error.description]]) }
            throw fail("\(kernel): rejected: \(error)")
        }
        let snap: BootSnapshot
        do { snap = try BootSnapshot.of(r, kernel: src, initrd: rd, commandLine: loader.cmdline) } catch { throw fail("\(error)") }
        let verdicts = judge(snap)
        if let dump { try writeDump(dump, r, snap, verdicts) }
        if json {
            FileHandle.standardOutput.write(Data(SnapshotJSON.string(snap, verdicts: verdicts).utf8))
        } else {
            for line in BootVerdictText.load(kernel, r, verdicts: verdicts, showAll: verbose) { print(line) }
            if let dump { print("\nregions and snapshot.json written to \(dump)") }
        }
        if verdicts.contains(where: { $0.outcome == .fail }) { throw ExitCode(1) }
    }

    /// An arm64/riscv64 Image by the reference Image loader on QEMU `virt` with --memory of
    /// RAM: where each block goes, the entry registers, the A64/RV verdicts (exit 1 on a
    /// failure, 2 on a refusal). --dump writes the blocks as QEMU's `-device loader` files and
    /// snapshot.json; --json prints the snapshot with its verdicts.
    func loadImage(_ arch: ImageBootSnapshot.Architecture) throws {
        guard let data = FileManager.default.contents(atPath: kernel) else { throw fail("\(kernel): cannot read") }
        let initrd = try loader.initrd.map { p -> [UInt8] in
            guard let d = FileManager.default.contents(atPath: p) else { throw fail("--initrd \(p): cannot read") }
            return [UInt8](d)
        }
        let ram = try size(loader.memory, option: "--memory")
        if let dump { try checkDumpDirectory(dump) }
        let r: ImageLoadResult
        do { r = try ReferenceImageLoader.load([UInt8](data), ImageLoadOptions(platform: .qemuVirt(arch, ramSize: ram), commandLine: loader.cmdline, initrd: initrd)) } catch {
            if json { writeJSON(["kernel": kernel, "rejected": ["rule": error.rule.rawValue, "field": error.field, "message": error.description]]) }
            throw fail("\(kernel): rejected: \(error)")
        }
        let verdicts = judge(r.snapshot)
        if let dump {
            do {
                _ = try r.writeFiles(to: dump)
                try Data(ImageSnapshotJSON.string(r.snapshot, verdicts: verdicts).utf8).write(to: URL(fileURLWithPath: dump + "/snapshot.json"))
            } catch { throw fail("--dump \(dump): \(error.localizedDescription)") }
        }
        if json { FileHandle.standardOutput.write(Data(ImageSnapshotJSON.string(r.snapshot, verdicts: verdicts).utf8)) } else {
            for line in ImageVerdictText.load(kernel, r, verdicts: verdicts, showAll: verbose) { print(line) }
            if let dump { print("\nblocks and snapshot.json written to \(dump)") }
        }
        if verdicts.contains(where: { $0.outcome == .fail }) { throw ExitCode(1) }
    }

    func checkDumpDirectory(_ d: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: d, isDirectory: &isDir) {
            guard isDir.boolValue else { throw fail("--dump \(d): exists and is not a directory") }
            let items = (try? FileManager.default.contentsOfDirectory(atPath: d)) ?? []
            guard items.isEmpty else { throw fail("--dump \(d): directory is not empty; nothing was written (choose a new directory)") }
        } else {
            do { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) } catch { throw fail("--dump \(d): \(error.localizedDescription)") }
        }
    }

    func writeDump(_ d: String, _ r: LoadResult, _ s: BootSnapshot, _ v: [Verdict]) throws {
        for reg in r.regions {
            let name = "\(String(format: "%016llx", reg.range.start))-\(reg.name).bin"
            guard let p = try? r.memory.hostPointer(reg.range.start, length: reg.range.length) else { continue }
            let data = Data(bytesNoCopy: p, count: Int(reg.range.length), deallocator: .none)
            do { try data.write(to: URL(fileURLWithPath: d + "/" + name)) } catch { throw fail("--dump: writing \(name): \(error.localizedDescription)") }
        }
        do { try Data(SnapshotJSON.string(s, verdicts: v).utf8).write(to: URL(fileURLWithPath: d + "/snapshot.json")) } catch { throw fail("--dump: writing snapshot.json: \(error.localizedDescription)") }
    }
}
