import ArgumentParser
import Conformance
import Foundation

/// Loads a kernel with the reference loader and shows the memory map and every verdict.
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load a kernel with the reference loader; show where everything went and which rules hold.")
    @Argument(help: "A bzImage or ELF vmlinux.") var kernel: String
    @Option(help: "Initial ramdisk to load.") var initrd: String?
    @Option(help: "Kernel command line.") var cmdline = "console=ttyS0"
    @Option(help: "Guest RAM (e.g. 512M, 4G).") var memory = "1G"
    @Option(help: "Entry point: 64, 32 or pvh (default: 64 where the image allows it).") var entry: String?
    @Flag(help: "Place zero page, command line, setup_data and initrd above 4 GiB (needs XLF_CAN_BE_LOADED_ABOVE_4G).") var high = false
    @Option(help: "Load the kernel at this address instead of the protocol's default.") var kernelAddress: String?
    @Option(help: "RNG seed for SETUP_RNG_SEED: 'random', 'none', or hex bytes.") var rngSeed = "random"
    @Flag(help: "Pass the RNG seed through SETUP_INDIRECT (protocol 2.15+).") var indirectSetupData = false
    @Flag(help: "Write a minimal ACPI RSDP in the reserved BIOS area.") var rsdp = false
    @Option(help: "Write every region's bytes and snapshot.json to this (new or empty) directory.") var dump: String?
    @Flag(help: "Print the snapshot JSON with verdicts.") var json = false
    @Flag(help: "Show the evidence for every rule, not only failures.") var verbose = false

    func run() throws {
        var o = LoadOptions()
        o.memorySize = try size(memory, option: "--memory")
        if let entry {
            guard let e = EntryPoint(rawValue: entry) else { throw fail("--entry '\(entry)' is not one of 64, 32, pvh") }
            o.entry = e
        }
        o.commandLine = cmdline
        o.highPlacement = high
        if let k = kernelAddress { guard let a = parseNumber(k) else { throw fail("--kernel-address '\(k)' is not a number") }; o.kernelAddress = a }
        switch rngSeed {
        case "none": o.rngSeed = nil
        case "random": o.rngSeed = (0..<32).map { _ in UInt8.random(in: 0...255) }
        default:
            guard let b = [UInt8](hex: rngSeed), !b.isEmpty, b.count <= ReferenceLoader.maximumSeedSize else { throw fail("--rng-seed '\(rngSeed)' is not 'random', 'none' or 1–\(ReferenceLoader.maximumSeedSize) hex bytes") }
            o.rngSeed = b
        }
        o.indirectSetupData = indirectSetupData
        o.acpiRSDP = rsdp
        let src = try openSource(kernel, what: "kernel")
        let rd = try initrd.map { try openSource($0, what: "initrd") }
        if let dump { try checkDumpDirectory(dump) }
        let r: LoadResult
        do { r = try ReferenceLoader.load(kernel: src, initrd: rd, options: o) } catch {
            if json { writeJSON(["kernel": kernel, "rejected": ["rule": error.rule ?? "", "message": error.description]]) }
            throw fail("\(kernel): rejected: \(error)")
        }
        let snap: BootSnapshot
        do { snap = try BootSnapshot.of(r, kernel: src, initrd: rd, commandLine: cmdline) } catch { throw fail("\(error)") }
        let verdicts = judge(snap)
        if let dump { try writeDump(dump, r, snap, verdicts) }
        if json {
            FileHandle.standardOutput.write(Data(SnapshotJSON.string(snap, verdicts: verdicts).utf8))
        } else {
            print("\(kernel): \(r.image.formatName), entry \(r.entry.entryPoint.rawValue)-bit\(r.entry.entryPoint == .pvh ? " (PVH)" : "") at \(hex(r.entry.rip)); guest RAM \(hex(r.layout.size)) bytes")
            for w in r.warnings { print(w) }
            print("\nguest memory map:")
            print("  start               end                 size        what")
            for reg in r.regions { print("  \(hex(reg.range.start).rightPad(18))  \(hex(reg.range.end).rightPad(18))  \(hex(reg.range.length).rightPad(10))  \(reg.name)") }
            print("  kernel window W: \(r.kernelWindow)")
            print("\ne820 handed over:")
            for e in r.e820 { print("  \(e)") }
            print("\nentry state: RIP \(hex(r.entry.rip)) RSI \(hex(r.entry.rsi)) RBX \(hex(r.entry.rbx)) RSP \(hex(r.entry.rsp)) CR0 \(hex(r.entry.cr0)) CR3 \(hex(r.entry.cr3)) CR4 \(hex(r.entry.cr4)) EFER \(hex(r.entry.efer)) GDTR \(hex(r.entry.gdtr.base))/\(hex(r.entry.gdtr.limit)) CS \(hex(r.entry.cs.selector)) DS \(hex(r.entry.ds.selector))")
            print("\nverdicts:")
            printVerdicts(verdicts, showAll: verbose)
            if let dump { print("\nregions and snapshot.json written to \(dump)") }
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
