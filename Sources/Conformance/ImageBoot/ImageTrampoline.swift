/// The few instructions between the machine's start and the kernel: they set the entry
/// registers the protocol names and jump to the Image. Encoded by hand; the assembly each
/// encodes is `arm64Source` / `riscv64Source`, and `ImageTrampolineTests` checks the bytes
/// against the cross assemblers when they are installed.
public enum ImageTrampoline {
    /// Entered at the CPU's reset state (QEMU `-device loader,addr=…,cpu-num=0` sets the PC):
    /// MMU off, DAIF masked, at EL1 or EL2. Sets x0 = DTB, x1 = x2 = x3 = 0 (booting.rst
    /// "Primary CPU general-purpose register settings") and branches through x4.
    public static let arm64Source = """
        ldr x0, 1f
        mov x1, xzr
        mov x2, xzr
        mov x3, xzr
        ldr x4, 2f
        br x4
    1:  .quad DTB
    2:  .quad KERNEL
    """
    public static func arm64(dtb: UInt64, kernel: UInt64) -> [UInt8] {
        let words: [UInt32] = [
            0x5800_00C0,  // ldr x0, #0x18   LDR (literal, 64-bit): 0x58000000 | imm19 (0x18 / 4 = 6) << 5 | Rt 0
            0xAA1F_03E1,  // mov x1, xzr     ORR x1, xzr, xzr
            0xAA1F_03E2,  // mov x2, xzr
            0xAA1F_03E3,  // mov x3, xzr
            0x5800_0084,  // ldr x4, #0x10   imm19 (0x10 / 4 = 4) << 5 | Rt 4: the literal at 0x20
            0xD61F_0080,  // br x4           0xD61F0000 | Rn 4 << 5
        ]
        return words.flatMap { le($0, 4) } + le(dtb, 8) + le(kernel, 8)
    }

    /// Entered by OpenSBI in S-mode (satp = 0, a0 = the hart id it started, which stays),
    /// from QEMU's `-kernel` ELF. Sets a1 = DTB (boot.rst "Register state"), a2 = a3 = 0, and
    /// jumps to the kernel. Uncompressed instructions only (`.option norvc`).
    public static let riscv64Source = """
        .option norvc
        auipc t0, 0
        ld a1, 24(t0)
        ld t1, 32(t0)
        li a2, 0
        li a3, 0
        jr t1
        .dword DTB
        .dword KERNEL
    """
    public static func riscv64(dtb: UInt64, kernel: UInt64) -> [UInt8] {
        let words: [UInt32] = [
            0x0000_0297,  // auipc t0, 0     U-type: rd 5 << 7 | opcode 0x17
            0x0182_B583,  // ld a1, 24(t0)   I-type: imm 24 << 20 | rs1 5 << 15 | funct3 3 << 12 | rd 11 << 7 | opcode 0x03
            0x0202_B303,  // ld t1, 32(t0)   imm 32, rd 6
            0x0000_0613,  // li a2, 0        addi a2, zero, 0: rd 12 << 7 | opcode 0x13
            0x0000_0693,  // li a3, 0        rd 13
            0x0003_0067,  // jr t1           jalr zero, 0(t1): rs1 6 << 15 | opcode 0x67
        ]
        return words.flatMap { le($0, 4) } + le(dtb, 8) + le(kernel, 8)
    }

    /// `code` as an ELF64 executable for RISC-V with one PT_LOAD at `address` (4 KiB-aligned)
    /// and its entry there: QEMU's riscv `virt` loads it with `-kernel` and OpenSBI jumps to
    /// its entry. The code sits at file offset 0x1000 so offset and address agree modulo the
    /// segment's 4 KiB alignment.
    public static func riscv64ELF(_ code: [UInt8], at address: UInt64) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 0x1000)
        f.put(bytes: [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1], at: 0)  // "\x7FELF", ELFCLASS64, ELFDATA2LSB, EV_CURRENT
        f.put16(2, at: 16)          // e_type ET_EXEC
        f.put16(243, at: 18)        // e_machine EM_RISCV
        f.put32(1, at: 20)          // e_version
        f.put64(address, at: 24)    // e_entry
        f.put64(64, at: 32)         // e_phoff: right after the 64-byte header
        f.put16(64, at: 52)         // e_ehsize
        f.put16(56, at: 54)         // e_phentsize
        f.put16(1, at: 56)          // e_phnum
        f.put32(1, at: 64)          // p_type PT_LOAD
        f.put32(5, at: 68)          // p_flags R | X
        f.put64(0x1000, at: 72)     // p_offset
        f.put64(address, at: 80)    // p_vaddr
        f.put64(address, at: 88)    // p_paddr
        f.put64(UInt64(code.count), at: 96)   // p_filesz
        f.put64(UInt64(code.count), at: 104)  // p_memsz
        f.put64(0x1000, at: 112)    // p_align
        return f + code
    }

    static func le(_ v: some FixedWidthInteger, _ width: Int) -> [UInt8] { [UInt8](littleEndian: v, width: width) }
}
