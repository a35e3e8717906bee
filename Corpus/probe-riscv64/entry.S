/*
 * The riscv64 Image probe's entry: the 64-byte Image header
 * (Documentation/arch/riscv/boot-image-header.rst; spec digest §6.2), then the code its jump
 * reaches. Position-independent (lla is auipc + addi), runs in S-mode with satp as the loader
 * left it (boot.rst: 0, MMU off).
 */
#include "../probe-image/probe.h"

	.option	norvc                   /* code0 must be a 4-byte `j` */
	.section .head.text, "ax"
	.globl _text
_text:
	j	probe_entry             /* code0 */
	.word	0                       /* code1 */
	.dword	TEXT_OFFSET             /* text_offset (build.sh rewrites it per variant) */
	.dword	probe_image_size        /* image_size = _end - _text (the linker's) */
	.dword	0                       /* flags: little-endian */
	.word	2                       /* version 0.2: (major << 16) | minor */
	.word	0                       /* res1 */
	.dword	0                       /* res2 */
	.ascii	"RISCV\0\0\0"           /* magic (deprecated since 0.2, still written by head.S) */
	.ascii	"RSC\x05"               /* magic2 0x05435352 */
	.word	0                       /* res3: no PE header */

	.text
	.globl probe_entry
probe_entry:
	/* a0..a3 first, untouched: only t0..t2 are used until they are stored. */
	lla	t0, probe_save
	sd	a0, SAVE_R0(t0)
	sd	a1, SAVE_R0 + 8(t0)
	sd	a2, SAVE_R0 + 16(t0)
	sd	a3, SAVE_R0 + 24(t0)
	lla	t1, _text
	sd	t1, SAVE_BASE(t0)
	csrr	t1, sstatus
	sd	t1, SAVE_STATE0(t0)
	csrr	t1, satp
	sd	t1, SAVE_STATE1(t0)
	csrci	sstatus, 2              /* SIE off whatever the loader left */
	lla	sp, probe_stack
	li	t1, STACK_SIZE
	add	sp, sp, t1
	lla	t1, probe_exc
	sd	zero, EXC_COUNT(t1)
	lla	t1, probe_trap
	csrw	stvec, t1
	mv	a0, t0
	call	probe_main
1:	wfi
	j	1b

/* Every trap: record (scause, sepc, stval), step over the instruction (2 or 4 bytes) and
   return, so a read that traps comes back to its caller with the count raised. Past
   EXC_GIVE_UP traps it stops here rather than trap forever. */
	.balign	4
probe_trap:
	addi	sp, sp, -48
	sd	t0, 0(sp)
	sd	t1, 8(sp)
	sd	t2, 16(sp)
	sd	t3, 24(sp)
	sd	t4, 32(sp)
	sd	a7, 40(sp)
	csrr	t1, scause
	csrr	t2, sepc
	csrr	t3, stval
	lla	t0, probe_exc
	ld	t4, EXC_COUNT(t0)
	li	a7, EXC_GIVE_UP
	bgeu	t4, a7, 3f
	addi	a7, t4, 1
	sd	a7, EXC_COUNT(t0)
	li	a7, EXC_KEPT
	bgeu	t4, a7, 2f
	li	a7, 24
	mul	a7, t4, a7
	add	a7, a7, t0
	sd	t1, EXC_ENTRIES(a7)
	sd	t2, EXC_ENTRIES + 8(a7)
	sd	t3, EXC_ENTRIES + 16(a7)
2:	/* An interrupt (scause bit 63) resumes where it was; an exception steps over. */
	bltz	t1, 4f
	lhu	t4, 0(t2)
	andi	t4, t4, 3
	li	a7, 3
	addi	t2, t2, 2
	bne	t4, a7, 5f
	addi	t2, t2, 2
5:	csrw	sepc, t2
4:	ld	t0, 0(sp)
	ld	t1, 8(sp)
	ld	t2, 16(sp)
	ld	t3, 24(sp)
	ld	t4, 32(sp)
	ld	a7, 40(sp)
	addi	sp, sp, 48
	sret
3:	wfi
	j	3b

