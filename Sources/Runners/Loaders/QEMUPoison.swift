import Conformance
import HarnessKVM
import Foundation
import Glibc

/// Memory a loader did not write, made visible under QEMU: files of `BootOptions.poisonPattern`
/// that QEMU writes into guest RAM before the firmware runs (`QEMUBoot.preload`). The firmware
/// and the loader then overwrite what they use; what they leave is poison, as real firmware
/// leaves whatever RAM held.
public enum QEMUPoison {
    /// Conventional memory above the BIOS data area and below the boot sector, the rest of low
    /// memory up to the EBDA, and [1 MiB, 64 MiB).
    public static let ranges: [AddressRange] = [AddressRange(constantStart: 0x1000, end: 0x7000), AddressRange(constantStart: 0x1_0000, end: 0x9_F000),
                                                AddressRange(constantStart: 0x10_0000, end: 0x400_0000)]

    /// Writes one file per range into `dir`; returns them for `QEMUBoot.preload`.
    public static func files(in dir: String, pattern: UInt64 = BootOptions.poisonPattern) throws(HostToolError) -> [(file: String, address: UInt64)] {
        var out: [(String, UInt64)] = []
        for (i, r) in ranges.enumerated() {
            // The ranges start and end on 8-byte boundaries, so the pattern's phase is the address's.
            let words = [UInt64](repeating: pattern.littleEndian, count: Int(r.length / 8))
            let f = dir + "/poison-\(i).bin"
            guard FileManager.default.createFile(atPath: f, contents: words.withUnsafeBytes { Data($0) }) else { throw HostToolError("cannot write \(f)") }
            out.append((f, r.start))
        }
        return out
    }
}
