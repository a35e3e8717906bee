import Conformance
/// A few x86 instructions, encoded by hand for the bundle's trampoline and the firmware stub.
/// Only what those two need; every encoding is named after its mnemonic (Intel SDM vol. 2).
struct X86Code {
    private(set) var bytes: [UInt8] = []
    /// Guest-physical address of bytes[0].
    let origin: UInt64
    init(origin: UInt64) { self.origin = origin }

    var here: UInt64 { origin + UInt64(bytes.count) }
    mutating func raw(_ b: [UInt8]) { bytes += b }
    mutating func u16(_ v: UInt16) { bytes += [UInt8](littleEndian: v, width: 2) }
    mutating func u32(_ v: UInt32) { bytes += [UInt8](littleEndian: v, width: 4) }
    mutating func u64(_ v: UInt64) { bytes += [UInt8](littleEndian: v, width: 8) }
    mutating func patch32(at offset: Int, _ v: UInt32) { bytes.put32(v, at: offset) }

    enum Reg: UInt8 { case ax = 0, cx, dx, bx, sp, bp, si, di, r8, r9, r10, r11, r12, r13, r14, r15 }
    enum Seg: UInt8 { case es = 0, ss = 2, ds = 3, fs = 4, gs = 5 }

    mutating func cli() { raw([0xFA]) }
    mutating func cld() { raw([0xFC]) }
    /// mov r32, imm32 (B8+r) — 32-bit code.
    mutating func mov32(_ r: Reg, _ v: UInt32) { precondition(r.rawValue < 8); raw([0xB8 + r.rawValue]); u32(v) }
    /// mov r64, imm64 (REX.W B8+r) — 64-bit code.
    mutating func mov64(_ r: Reg, _ v: UInt64) { raw([r.rawValue < 8 ? 0x48 : 0x49, 0xB8 + (r.rawValue & 7)]); u64(v) }
    /// rep movsb (F3 A4).
    mutating func repMovsb() { raw([0xF3, 0xA4]) }
    /// mov crN, eax/rax (0F 22 /r).
    mutating func movCR(_ n: UInt8, fromAX: Void = ()) { raw([0x0F, 0x22, 0xC0 | (n << 3)]) }
    /// wrmsr (0F 30): ECX index, EDX:EAX value.
    mutating func wrmsr() { raw([0x0F, 0x30]) }
    /// lgdt/lidt [abs32]: 0F 01 /2 or /3 with a 32-bit absolute operand. In 32-bit code that is
    /// mod 00 r/m 101; in 64-bit code mod 00 r/m 101 is RIP-relative, so a SIB byte 25 is used.
    mutating func lgdt(_ address: UInt32, long: Bool) { tableLoad(2, address, long: long) }
    mutating func lidt(_ address: UInt32, long: Bool) { tableLoad(3, address, long: long) }
    private mutating func tableLoad(_ reg: UInt8, _ address: UInt32, long: Bool) {
        raw(long ? [0x0F, 0x01, 0x04 | (reg << 3), 0x25] : [0x0F, 0x01, 0x05 | (reg << 3)]); u32(address)
    }
    /// mov ax, imm16 then mov sreg, ax (8E /r).
    mutating func loadSegment(_ s: Seg, _ selector: UInt16) { raw([0x66, 0xB8]); u16(selector); raw([0x8E, 0xC0 | (s.rawValue << 3)]) }
    /// ltr ax (0F 00 /3).
    mutating func ltr(_ selector: UInt16) { raw([0x66, 0xB8]); u16(selector); raw([0x0F, 0x00, 0xD8]) }
    /// and byte [abs32], imm8 (80 /4) — 32-bit code.
    mutating func andByte(_ address: UInt32, _ mask: UInt8) { raw([0x80, 0x25]); u32(address); raw([mask]) }
    /// push imm32 (68), then popf (9D): in 64-bit code the push sign-extends.
    mutating func loadFlags(_ v: UInt32) { raw([0x68]); u32(v); raw([0x9D]) }
    /// jmp far ptr16:32 (EA) — 32-bit code.
    mutating func jmpFar(selector: UInt16, offset: UInt32) { raw([0xEA]); u32(offset); u16(selector) }
    /// jmp rel32 (E9) to an absolute target.
    mutating func jmpRel32(to target: UInt64) {
        let next = Int64(bitPattern: here &+ 5)
        raw([0xE9]); u32(UInt32(truncatingIfNeeded: Int64(bitPattern: target) &- next))
    }
    /// jmp qword [rip+0] with the 64-bit target after it (FF 25 00000000) — 64-bit code.
    mutating func jmpAbsolute64(_ target: UInt64) { raw([0xFF, 0x25, 0, 0, 0, 0]); u64(target) }
}
