import Conformance

/// The least firmware the 16-bit entry needs: an interrupt vector table and an INT 15h that
/// answers AX=E820 from the loader's memory map, the call the kernel's setup code makes
/// (arch/x86/boot/memory.c) and the probe makes before anything else. Every other vector is
/// an IRET; INT 15h with another function returns CF = 1, as a BIOS without it does.
///
/// Placed in the reserved BIOS area of the reference layout (e820 type 2 at 0xF0000), clear of
/// the RSDP the loader may put at 0xF0000: code at F000:8000, the map at F000:8100.
public enum RealModeFirmware {
    public static let segment: UInt16 = 0xF000
    public static let codeOffset: UInt16 = 0x8000
    public static let tableOffset: UInt16 = 0x8100
    /// Linear address of the code.
    public static var base: UInt64 { UInt64(segment) << 4 + UInt64(codeOffset) }
    /// Entries the table holds (it must end below 0x100000).
    public static let maximumEntries = 128

    /// 16-bit code, assembled from this source (GNU as, .code16), offsets from F000:8000:
    ///
    ///     0x00  iret                          ; every vector but 0x15
    ///     0x10  cmpl $0xe820, %eax ; jne fail
    ///           cmpl $0x534d4150, %edx ; jne fail   ("SMAP")
    ///           cmpl $COUNT, %ebx ; jae fail        (COUNT at 0x24)
    ///           push ds, si, di, cx ; push cs ; pop ds
    ///           mov %bx, %si ; imul $20, %si, %si ; add $0x8100, %si
    ///           mov $20, %cx ; cld ; rep movsb      ; entry EBX to ES:DI
    ///           pop cx, di, si, ds
    ///           inc %ebx ; cmpl $COUNT, %ebx ; jb 1f ; xor %ebx, %ebx   (COUNT at 0x48)
    ///        1: mov $0x534d4150, %eax ; mov $20, %ecx ; clc ; lret $2
    ///     fail: stc ; lret $2                 ; lret $2 keeps the flags just set
    static let code: [UInt8] = [
        0xCF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x66, 0x3D, 0x20, 0xE8, 0x00, 0x00, 0x75, 0x49,
        0x66, 0x81, 0xFA, 0x50, 0x41, 0x4D, 0x53, 0x75, 0x40,
        0x66, 0x81, 0xFB, 0x00, 0x00, 0x00, 0x00, 0x73, 0x37,
        0x1E, 0x56, 0x57, 0x51, 0x0E, 0x1F,
        0x89, 0xDE, 0x6B, 0xF6, 0x14, 0x81, 0xC6, 0x00, 0x81,
        0xB9, 0x14, 0x00, 0xFC, 0xF3, 0xA4,
        0x59, 0x5F, 0x5E, 0x1F,
        0x66, 0x43, 0x66, 0x81, 0xFB, 0x00, 0x00, 0x00, 0x00, 0x72, 0x03, 0x66, 0x31, 0xDB,
        0x66, 0xB8, 0x50, 0x41, 0x4D, 0x53, 0x66, 0xB9, 0x14, 0x00, 0x00, 0x00, 0xF8, 0xCA, 0x02, 0x00,
        0xF9, 0xCA, 0x02, 0x00,
    ]
    static let countOffsets = [0x24, 0x48]
    static let int15Offset: UInt16 = 0x10

    /// The IVT (256 vectors at 0) and the code and map at F000:8000.
    public static func image(e820: [E820Entry]) -> (ivt: [UInt8], code: [UInt8]) {
        let map = Array(e820.prefix(maximumEntries))
        var c = code
        for o in countOffsets { c.put32(UInt32(map.count), at: o) }
        c += [UInt8](repeating: 0, count: Int(tableOffset - codeOffset) - c.count)
        for e in map { c += e.bytes }
        var ivt = [UInt8](repeating: 0, count: 1024)
        for v in 0..<256 {
            ivt.put16(v == 0x15 ? codeOffset + int15Offset : codeOffset, at: v * 4)
            ivt.put16(segment, at: v * 4 + 2)
        }
        return (ivt, c)
    }

    /// Writes the firmware into guest memory (what a BIOS leaves before it jumps to a loader).
    public static func install(in memory: GuestMemory, e820: [E820Entry]) throws(GuestMemoryError) {
        let (ivt, c) = image(e820: e820)
        try memory.write(ivt, at: 0, what: "real-mode IVT")
        try memory.write(c, at: base, what: "real-mode INT 15h")
    }
}
