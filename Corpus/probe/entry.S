/*
 * Probe kernel entry points. One image, three ways in (plus the 16-bit setup entry in
 * setup16.S, which comes through startup_32):
 *   startup_32  at offset 0      bzImage 32-bit entry: ESI = boot_params
 *   startup_64  at offset 0x200  bzImage/ELF 64-bit entry: RSI = boot_params
 *   pvh_start                    PVH entry (32-bit, paging off): EBX = hvm_start_info
 * Each records every register before it changes any, then runs the C probe in long mode on
 * the probe's own page tables and GDT. The image is linked at 0 and runs at any address:
 * 32-bit code adds the base it finds; 64-bit code is RIP-relative.
 */
#include "layout.h"

/* Records every register of a 64-bit entry in probe_save, then the entry kind and base.
   Uses RAX, RCX, RDX and RDI after saving them; with \stack set, moves to the probe's own stack first
   (the EFI entries keep the firmware's stack: they still call boot services on it). */
.macro SAVE64 kind, stack
	movq %rax, probe_save+SAVE_RAX(%rip)
	movq %rbx, probe_save+SAVE_RBX(%rip)
	movq %rcx, probe_save+SAVE_RCX(%rip)
	movq %rdx, probe_save+SAVE_RDX(%rip)
	movq %rsi, probe_save+SAVE_RSI(%rip)
	movq %rdi, probe_save+SAVE_RDI(%rip)
	movq %rbp, probe_save+SAVE_RBP(%rip)
	movq %rsp, probe_save+SAVE_RSP(%rip)
	movq %r8, probe_save+SAVE_R8+0(%rip)
	movq %r9, probe_save+SAVE_R8+8(%rip)
	movq %r10, probe_save+SAVE_R8+16(%rip)
	movq %r11, probe_save+SAVE_R8+24(%rip)
	movq %r12, probe_save+SAVE_R8+32(%rip)
	movq %r13, probe_save+SAVE_R8+40(%rip)
	movq %r14, probe_save+SAVE_R8+48(%rip)
	movq %r15, probe_save+SAVE_R8+56(%rip)
	.if \stack
	leaq probe_stack_top(%rip), %rsp
	.else
	andq $-16, %rsp
	.endif
	pushfq
	/* The save area is scratch the loader never wrote: clear the rest of it before the
	   partial stores below (selectors, table registers) leave old bytes beside them. */
	leaq probe_save+SAVE_RFLAGS(%rip), %rdi
	movl $(SAVE_SIZE - SAVE_RFLAGS) / 8, %ecx
	xorl %eax, %eax
	cld
	rep stosq
	popq probe_save+SAVE_RFLAGS(%rip)
	.if \stack
	cli
	.endif
	movq %cr0, %rax
	movq %rax, probe_save+SAVE_CR0(%rip)
	movq %cr3, %rax
	movq %rax, probe_save+SAVE_CR3(%rip)
	movq %cr4, %rax
	movq %rax, probe_save+SAVE_CR4(%rip)
	sgdt probe_save+SAVE_GDTR(%rip)
	sidt probe_save+SAVE_IDTR(%rip)
	movw %cs, probe_save+SAVE_SEL+0(%rip)
	movw %ds, probe_save+SAVE_SEL+8(%rip)
	movw %es, probe_save+SAVE_SEL+16(%rip)
	movw %ss, probe_save+SAVE_SEL+24(%rip)
	movw %fs, probe_save+SAVE_SEL+32(%rip)
	movw %gs, probe_save+SAVE_SEL+40(%rip)
	str probe_save+SAVE_SEL+48(%rip)
	movl $0xc0000080, %ecx          /* IA32_EFER */
	rdmsr
	movl %eax, probe_save+SAVE_EFER(%rip)
	movl %edx, probe_save+SAVE_EFER+4(%rip)
	movq $\kind, probe_save+SAVE_KIND(%rip)
	leaq startup_32(%rip), %rax
	movq %rax, probe_save+SAVE_BASE(%rip)
.endm

	.section .text.entry32, "ax"
	.code32
	.globl startup_32
startup_32:
	/* Park four registers and ESP in DR0-DR3 and CR2: no memory is touched yet. */
	movl %eax, %dr0
	movl %ebx, %dr1
	movl %ecx, %dr2
	movl %edx, %dr3
	movl %esp, %cr2
	/* Find our own address: boot_params.scratch (0x1E4) is the protocol's stack for this. */
	movl 0x1e4(%esi), %ecx
	leal 0x1e8(%esi), %esp
	call 1f
1:	popl %eax
	movl %ecx, 0x1e4(%esi)          /* give the loader's value back */
	leal -(1b - startup_32)(%eax), %eax
	movl $KIND_32, %ebx
	jmp common32

	.section .text.entry64, "ax"
	.code64
	.globl startup_64
startup_64:
	SAVE64 KIND_64, 1
	leaq probe_save(%rip), %rdi
	call probe_main64
2:	cli
	hlt
	jmp 2b


	/* EFI handover entry, 64-bit (boot.rst "EFI Handover Protocol"): the loader jumps to
	   L + handover_offset + 0x200 with RDI = handle, RSI = system table, RDX = boot_params,
	   boot services still running. The packager sets handover_offset = this - 0x200. */
	.globl efi_handover64
	.balign 16
efi_handover64:
	SAVE64 KIND_EFI_H64, 0
	leaq probe_save(%rip), %rdi
	call probe_efi
6:	cli
	hlt
	jmp 6b

	/* The PE/COFF entry (AddressOfEntryPoint): efi_main(ImageHandle, SystemTable) with the
	   Microsoft x64 convention, RCX = handle, RDX = system table. */
	.globl efi_pe_entry
	.balign 16
efi_pe_entry:
	SAVE64 KIND_EFI_STUB, 0
	leaq probe_save(%rip), %rdi
	call probe_efi
7:	cli
	hlt
	jmp 7b

	.section .text.entrypvh, "ax"
	.code32
	.globl pvh_start
pvh_start:
	movl %eax, %dr0
	movl %ebx, %dr1
	movl %ecx, %dr2
	movl %edx, %dr3
	movl %esp, %cr2
	/* The PVH entry has no stack to find our address with; the packager writes the ELF's
	   load address into this immediate (the probe's ELF is not relocatable). */
	.byte 0xb8                      /* movl $imm32, %eax */
	.globl pvh_base_imm
pvh_base_imm:
	.long 0
	movl $KIND_PVH, %ebx
	jmp common32

/* EAX = our base, EBX = entry kind; DR0-DR3/CR2 hold EAX, EBX, ECX, EDX, ESP; ESI, EDI, EBP
   and EFLAGS are untouched. */
common32:
	leal probe_stack_top(%eax), %esp
	pushfl                          /* before anything below changes a flag */
	/* The save area is scratch the loader never wrote (any bytes at all): clear it, with
	   ECX and EDX only, so the 32-bit stores below leave zero upper halves. */
	leal probe_save(%eax), %edx
	movl $SAVE_SIZE / 4, %ecx
0:	movl $0, -4(%edx,%ecx,4)
	loop 0b
	movl %esi, SAVE_RSI(%edx)
	movl %edi, SAVE_RDI(%edx)
	movl %ebp, SAVE_RBP(%edx)
	movl %ebx, SAVE_KIND(%edx)
	movl %eax, SAVE_BASE(%edx)
	popl SAVE_RFLAGS(%edx)
	cli
	movl %dr0, %ecx
	movl %ecx, SAVE_RAX(%edx)
	movl %dr1, %ecx
	movl %ecx, SAVE_RBX(%edx)
	movl %dr2, %ecx
	movl %ecx, SAVE_RCX(%edx)
	movl %dr3, %ecx
	movl %ecx, SAVE_RDX(%edx)
	movl %cr2, %ecx
	movl %ecx, SAVE_RSP(%edx)
	movl %cr0, %ecx
	movl %ecx, SAVE_CR0(%edx)
	movl %cr3, %ecx
	movl %ecx, SAVE_CR3(%edx)
	movl %cr4, %ecx
	movl %ecx, SAVE_CR4(%edx)
	sgdtl SAVE_GDTR(%edx)
	sidtl SAVE_IDTR(%edx)
	movw %cs, SAVE_SEL+0(%edx)
	movw %ds, SAVE_SEL+8(%edx)
	movw %es, SAVE_SEL+16(%edx)
	movw %ss, SAVE_SEL+24(%edx)
	movw %fs, SAVE_SEL+32(%edx)
	movw %gs, SAVE_SEL+40(%edx)
	str SAVE_SEL+48(%edx)
	movl %edx, %edi
	movl $0xc0000080, %ecx
	rdmsr
	movl %eax, SAVE_EFER(%edi)
	movl %edx, SAVE_EFER+4(%edi)
	movl SAVE_BASE(%edi), %ebp

	/* Our own identity map of [0, 8 GiB) with 2 MiB pages. The PML4 and PDPT pages are
	   cleared first (only their first entries are written, and only the low halves); the
	   eight PD pages are written whole. */
	leal probe_pt(%ebp), %edi
	xorl %eax, %eax
	movl $2 * 4096 / 4, %ecx
	cld
	rep stosl
	leal probe_pt(%ebp), %edi
	leal 0x1003(%edi), %eax
	movl %eax, (%edi)
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $12, %eax
	leal 0x2003(%edi,%eax), %eax
	movl %eax, 0x1000(%edi,%ecx,8)
	incl %ecx
	cmpl $8, %ecx
	jb 3b
	xorl %ecx, %ecx
4:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, 0x2000(%edi,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax
	movl %eax, 0x2004(%edi,%ecx,8)
	incl %ecx
	cmpl $4096, %ecx
	jb 4b

	/* Our GDT, then long mode. */
	leal probe_gdt(%ebp), %eax
	leal probe_gdtr(%ebp), %esi
	movw $(4 * 8 - 1), (%esi)
	movl %eax, 2(%esi)
	movl $0, 6(%esi)
	lgdtl (%esi)
	movl %cr0, %eax
	andl $0x7fffffff, %eax          /* paging off before changing CR3/EFER (a loader bug may have left it on) */
	movl %eax, %cr0
	movl %cr4, %eax
	orl $0x20, %eax                 /* PAE */
	andl $~0x1000, %eax             /* no LA57 */
	movl %eax, %cr4
	movl %edi, %cr3
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax                /* LME */
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax           /* PG | PE */
	movl %eax, %cr0
	pushl $0x08
	leal long64(%ebp), %eax
	pushl %eax
	lret

	.code64
long64:
	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	leaq probe_stack_top(%rip), %rsp
	leaq probe_save(%rip), %rdi
	call probe_main
5:	cli
	hlt
	jmp 5b

	.section .rodata
	/* The variant's name, written by the packager; the report prints it so `conform judge`
	   can find the image and inputs it was booted with. */
	.globl probe_variant
probe_variant:
	.fill 64, 1, 0
	/* Room for what a bzImage carries in its protected-mode image (payload magic, kernel_info);
	   the packager fills it. */
	.balign 16
	.globl probe_tail
probe_tail:
	.fill 256, 1, 0
	.balign 8
	.globl probe_gdt
probe_gdt:
	.quad 0
	.quad 0x00af9b000000ffff        /* 0x08: 64-bit code (accessed set: the CPU must not write here) */
	.quad 0x00cf93000000ffff        /* 0x10: data */
	.quad 0x00cf9b000000ffff        /* 0x18: 32-bit code */

/* Scratch: written at run time; not in the file (see probe.ld). */
	.section .scratch, "aw", @nobits
	.balign 4096
	.globl probe_pt
probe_pt:
	.fill PROBE_PT_PAGES * 4096, 1, 0
	.globl probe_save
probe_save:
	.fill SAVE_SIZE, 1, 0
	.globl probe_efi_facts
probe_efi_facts:
	.fill EFI_FACTS_SIZE, 1, 0
	.globl probe_gdtr
probe_gdtr:
	.fill 16, 1, 0
	.balign 16
	.fill 16384, 1, 0
	.globl probe_stack_top
probe_stack_top:
	.globl probe_report
probe_report:
	.fill REPORT_SIZE, 1, 0
	.globl probe_report_end
probe_report_end:

	.section .note.GNU-stack, "", @progbits
