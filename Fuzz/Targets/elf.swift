// Fuzz target: ELF vmlinux parsing and loading (direct 64-bit entry and PVH).
import Conformance

/// 64 MiB holds every seed's kernel window and initrd (the corpus images load at 16 MiB, W at
/// most 33 MiB), and bounds what one input can make the loader and the rules touch: a BSS or
/// window as large as the guest is checked page by page.
let guestSize: UInt64 = 64 << 20

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let src = MemorySource(name: "fuzz.elf", bytes: Array(UnsafeBufferPointer(start: data, count: size)))
    guard (try? ElfImage(source: src)) != nil else { return 0 }
    for entry in [EntryPoint.long64, .pvh] {
        var o = LoadOptions(); o.memorySize = guestSize; o.entry = entry; o.rngSeed = LoadOptions.corpusSeed
        if let r = try? ReferenceLoader.load(kernel: src, initrd: MemorySource(name: "rd", bytes: [1, 2, 3]), options: o),
           let s = try? BootSnapshot.of(r, kernel: src, initrd: nil, commandLine: o.commandLine) {
            _ = judge(s)
        }
    }
    return 0
}
