/*
 * The probe's 16-bit setup entry (boot protocol: the loader jumps to the real-mode kernel's
 * segment + 0x20, offset 0, with DS = ES = SS = that segment). This code sits at setup
 * offset 0x400 (CS:0x200); the header's jump leads here. It records the real-mode registers,
 * then does what a kernel's setup does for the 32-bit entry: protected mode, flat segments,
 * ESI = boot_params, jump to code32_start. EBP = RM_MAGIC and EDI = the save area tell the
 * probe it came this way.
 */
#include "layout.h"

	.code16
	.section .text
	.globl setup16_start
setup16_start:
	movl %eax, %cs:rm_save+RM_EAX
	movl %ebx, %cs:rm_save+RM_EBX
	movl %ecx, %cs:rm_save+RM_ECX
	movl %edx, %cs:rm_save+RM_EDX
	movl %esi, %cs:rm_save+RM_ESI
	movl %edi, %cs:rm_save+RM_EDI
	movl %ebp, %cs:rm_save+RM_EBP
	movl %esp, %cs:rm_save+RM_ESP
	movw %cs, %cs:rm_save+RM_CS
	movw %ds, %cs:rm_save+RM_DS
	movw %es, %cs:rm_save+RM_ES
	movw %ss, %cs:rm_save+RM_SS
	movw %fs, %cs:rm_save+RM_FS
	movw %gs, %cs:rm_save+RM_GS
	pushfw                          /* the loader's stack (SS:SP is the loader's to set) */
	popw %cs:rm_save+RM_FLAGS
	movl %cr0, %eax
	movl %eax, %cs:rm_save+RM_CR0
	cli
	xorl %ebx, %ebx
	movw %cs, %bx
	shll $4, %ebx                   /* linear address of CS:0 */
	leal rm_gdt(%ebx), %eax
	movl %eax, %cs:rm_gdtr+2
	leal pm32(%ebx), %eax
	movl %eax, %cs:pm_jump+2
	lgdtl %cs:rm_gdtr
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
pm_jump:
	.byte 0x66, 0xea                /* ljmpl $0x10, $pm32 (target patched above) */
	.long 0
	.word 0x10

	.code32
pm32:
	movl $0x18, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	leal -0x200(%ebx), %esi         /* boot_params: the real-mode base */
	leal rm_save(%ebx), %edi
	movl $RM_MAGIC, %ebp
	movl 0x214(%esi), %eax          /* code32_start */
	jmp *%eax

	.balign 8
rm_gdt:
	.quad 0
	.quad 0
	.quad 0x00cf9a000000ffff        /* 0x10: 32-bit code */
	.quad 0x00cf92000000ffff        /* 0x18: data */
rm_gdtr:
	.word 4 * 8 - 1
	.long 0
	.balign 4
	.globl rm_save
rm_save:
	.fill RM_SIZE, 1, 0

	.section .note.GNU-stack, "", @progbits
