// Fuzz target: PVH notes. The input is the PT_NOTE segment of a small, otherwise valid ELF
// (one PT_LOAD of 4 KiB at 16 MiB), which is then parsed and loaded through the PVH entry.
import Conformance

func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let note = Array(UnsafeBufferPointer(start: data, count: min(size, 1 << 16)))
    let phoff: UInt64 = 64, loadOff: UInt64 = 0x1000, noteOff = loadOff + 0x1000
    var f = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
    f += le(2, 2) + le(62, 2) + le(1, 4) + le(0x100_0000, 8) + le(phoff, 8) + le(0, 8) + le(0, 4) + le(64, 2) + le(56, 2) + le(2, 2) + le(64, 2) + le(0, 2) + le(0, 2)
    f += le(1, 4) + le(7, 4) + le(loadOff, 8) + le(0xFFFF_FFFF_8100_0000, 8) + le(0x100_0000, 8) + le(0x1000, 8) + le(0x1000, 8) + le(0x1000, 8)
    f += le(4, 4) + le(4, 4) + le(noteOff, 8) + le(0, 8) + le(0, 8) + le(UInt64(note.count), 8) + le(UInt64(note.count), 8) + le(4, 8)
    f += [UInt8](repeating: 0, count: Int(loadOff) - f.count) + [UInt8](repeating: 0xF4, count: 0x1000) + note
    let src = MemorySource(name: "fuzz-pvh.elf", bytes: f)
    guard (try? ElfImage(source: src)) != nil else { return 0 }
    var o = LoadOptions(); o.memorySize = 256 << 20; o.entry = .pvh
    if let r = try? ReferenceLoader.load(kernel: src, initrd: nil, options: o), let s = try? BootSnapshot.of(r, kernel: src, initrd: nil, commandLine: o.commandLine) {
        _ = judge(s)
    }
    return 0
}
