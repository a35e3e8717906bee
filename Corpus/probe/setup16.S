/*
 * The probe's 16-bit setup entry (boot protocol: the loader jumps to the real-mode kernel's
 * segment + 0x20, offset 0, with DS = ES = SS = that segment). This code sits at setup
 * offset 0x400 (CS:0x200); the header's jump leads here. Before it changes anything it
 * records the real-mode registers, then copies X+0 .. X+0x290 (cl_magic/cl_offset and the
 * header the loader wrote) and asks the firmware for its memory map (INT 15h, AX=E820), as
 * the kernel's own setup code would. Then it does what a kernel's setup does for the 32-bit
 * entry: A20, protected mode, flat segments, ESI = boot_params, jump to code32_start.
 * EBP = RM_MAGIC and EDI = the save area tell the probe it came this way.
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
	sgdtl %cs:rm_save+RM_GDTR
	sidtl %cs:rm_save+RM_IDTR
	cli
	cld

	/* The real-mode part as the loader left it: X = CS - 0x20 (paragraphs), 0x290 bytes. */
	movw %cs, %ax
	subw $0x20, %ax
	movw %ax, %ds
	xorw %si, %si
	movw %cs, %ax
	movw %ax, %es
	movw $rm_save+RM_HDR, %di
	movw $RM_HDR_SIZE, %cx
	rep movsb
	movw %cs, %ax
	movw %ax, %ds

	/* The firmware's memory map, the way arch/x86/boot/memory.c asks for it. Only when
	   INT 15h's vector points into the BIOS area: without firmware (a bare VMM) the vector
	   is whatever memory holds, and calling it would run garbage. */
	movl $0, rm_save+RM_E820_COUNT
	xorw %ax, %ax
	movw %ax, %fs
	movw %fs:0x56, %ax               /* IVT entry 0x15: offset at 0x54, segment at 0x56 */
	movl $E820_NO_BIOS, rm_save+RM_E820_STATUS
	cmpw $0xc000, %ax
	jb e820_done
	xorl %ebx, %ebx
	movw $rm_save+RM_E820, %di
e820_next:
	movl $E820_FULL, rm_save+RM_E820_STATUS
	cmpl $RM_E820_MAX, rm_save+RM_E820_COUNT
	jae e820_done
	movl $0xe820, %eax
	movl $0x534d4150, %edx           /* "SMAP" */
	movl $20, %ecx
	pushw %di
	int $0x15
	popw %di
	movw %cs, %si                    /* a BIOS may change DS/ES; ours are CS */
	movw %si, %ds
	movw %si, %es
	cli
	movl $E820_CARRY, rm_save+RM_E820_STATUS
	jc e820_done
	movl $E820_NOT_SMAP, rm_save+RM_E820_STATUS
	cmpl $0x534d4150, %eax
	jne e820_done
	incl rm_save+RM_E820_COUNT
	addw $20, %di
	movl $E820_OK, rm_save+RM_E820_STATUS
	testl %ebx, %ebx
	jnz e820_next
e820_done:

	/* A20 through port 0x92 (bit 1), never touching bit 0 (reset). */
	inb $0x92, %al
	orb $0x02, %al
	andb $0xfe, %al
	outb %al, $0x92

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
	.quad 0x00cf9b000000ffff        /* 0x10: 32-bit code (accessed set: the CPU must not write the image) */
	.quad 0x00cf93000000ffff        /* 0x18: data (accessed set) */
rm_gdtr:
	.word 4 * 8 - 1
	.long 0

	/* Not in the file: every field is written before it is read. */
	.section .bss
	.balign 4
	.globl rm_save
rm_save:
	.fill RM_SIZE, 1, 0

	.section .note.GNU-stack, "", @progbits
