/*
 * The arm64 Image probe's entry: the 64-byte Image header (Documentation/arch/arm64/booting.rst
 * §4 "Call the kernel image"; spec digest §6.1), then the code the header's branch reaches.
 * Position-independent: every address is PC-relative (adr/adrp), so the probe runs wherever a
 * loader put it, with the MMU off.
 */
#include "../probe-image/probe.h"

	.section .head.text, "ax"
	.globl _text
_text:
	nop                             /* code0: no "MZ": the probe has no EFI stub */
	b	probe_entry             /* code1 */
	.quad	TEXT_OFFSET             /* text_offset (build.sh rewrites it per variant) */
	.quad	probe_image_size        /* image_size = _end - _text (the linker's) */
	.quad	IMAGE_FLAGS             /* flags: LE, 4K pages, bit 3 per variant */
	.quad	0, 0, 0                 /* res2, res3, res4 */
	.ascii	"ARM\x64"               /* magic 0x644d5241 */
	.long	0                       /* res5: no PE header */

	.text
	.globl probe_entry
probe_entry:
	/* x0..x3 first, untouched: only x4..x7 are used until they are stored. */
	adrp	x4, probe_save
	add	x4, x4, :lo12:probe_save
	stp	x0, x1, [x4, #SAVE_R0]
	stp	x2, x3, [x4, #SAVE_R0 + 16]
	adr	x5, _text
	str	x5, [x4, #SAVE_BASE]
	mrs	x6, daif
	str	x6, [x4, #SAVE_STATE0]
	mrs	x7, CurrentEL
	str	x7, [x4, #SAVE_STATE1]
	msr	daifset, #0xf           /* interrupts stay masked whatever the loader left */
	/* Our own stack, on SP_ELx, and the exception vector of the current EL. */
	msr	spsel, #1
	adrp	x5, probe_stack
	add	x5, x5, :lo12:probe_stack
	add	x5, x5, #STACK_SIZE
	mov	sp, x5
	adrp	x6, probe_exc
	add	x6, x6, :lo12:probe_exc
	str	xzr, [x6, #EXC_COUNT]
	adr	x5, probe_vectors
	lsr	x7, x7, #2
	cmp	x7, #2
	b.eq	1f
	cmp	x7, #3
	b.eq	2f
	msr	vbar_el1, x5
	b	3f
1:	msr	vbar_el2, x5
	b	3f
2:	msr	vbar_el3, x5
3:	isb
	mov	x0, x4
	bl	probe_main
4:	wfi
	b	4b

/* Every exception: record (ESR, ELR, FAR) of the current EL, step over the instruction and
   return, so a read that traps comes back to its caller with the count raised. Past
   EXC_GIVE_UP exceptions it stops here, rather than fault forever. */
	.macro	vector
	.balign	0x80
	b	probe_exception
	.endm
	.balign	0x800
probe_vectors:
	.rept	16
	vector
	.endr

probe_exception:
	sub	sp, sp, #48
	stp	x0, x1, [sp]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	mrs	x0, CurrentEL
	lsr	x0, x0, #2
	cmp	x0, #2
	b.eq	1f
	cmp	x0, #3
	b.eq	2f
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	add	x4, x2, #4
	msr	elr_el1, x4
	b	3f
1:	mrs	x1, esr_el2
	mrs	x2, elr_el2
	mrs	x3, far_el2
	add	x4, x2, #4
	msr	elr_el2, x4
	b	3f
2:	mrs	x1, esr_el3
	mrs	x2, elr_el3
	mrs	x3, far_el3
	add	x4, x2, #4
	msr	elr_el3, x4
3:	adrp	x0, probe_exc
	add	x0, x0, :lo12:probe_exc
	ldr	x4, [x0, #EXC_COUNT]
	cmp	x4, #EXC_GIVE_UP
	b.hs	5f
	add	x5, x4, #1
	str	x5, [x0, #EXC_COUNT]
	cmp	x4, #EXC_KEPT
	b.hs	4f
	mov	x5, #24
	mul	x5, x4, x5
	add	x5, x5, x0
	str	x1, [x5, #EXC_ENTRIES]
	str	x2, [x5, #EXC_ENTRIES + 8]
	str	x3, [x5, #EXC_ENTRIES + 16]
4:	ldp	x0, x1, [sp]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	add	sp, sp, #48
	eret
5:	wfi
	b	5b

