import ArgumentParser
import Conformance
import Reports
import Foundation

/// The reference loader's options, shared by `load`, `bundle` and `boot-kernel`.
struct LoaderArguments: ParsableArguments {
    @Option(help: "Initial ramdisk to load.") var initrd: String?
    @Option(help: "Kernel command line.") var cmdline = "console=ttyS0"
    @Option(help: "Guest RAM (e.g. 512M, 4G).") var memory = "1G"
    @Option(help: "Entry point: 64, 32, 16 (bzImage: the real-mode setup entry, with a minimal INT 15h) or pvh (default: 64 where the image allows it).") var entry: String?
    @Flag(help: "Place zero page, command line, setup_data and initrd above 4 GiB (needs XLF_CAN_BE_LOADED_ABOVE_4G).") var high = false
    @Option(help: "Load the kernel at this address instead of the protocol's default.") var kernelAddress: String?
    @Option(help: "RNG seed for SETUP_RNG_SEED: 'random', 'none', or hex bytes.") var rngSeed = "random"
    @Flag(help: "Pass the RNG seed through SETUP_INDIRECT (protocol 2.15+).") var indirectSetupData = false
    @Flag(help: "Write a minimal ACPI RSDP in the reserved BIOS area.") var rsdp = false

    func options() throws -> LoadOptions {
        var o = LoadOptions()
        o.memorySize = try size(memory, option: "--memory")
        if let entry {
            guard let e = EntryPoint(rawValue: entry) else { throw fail("--entry '\(entry)' is not one of 64, 32, 16, pvh") }
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
        return o
    }
}
