/* Offsets shared by the probe's assembly and C. The save area records the CPU state at entry. */
#define SAVE_RAX 0
#define SAVE_RBX 8
#define SAVE_RCX 16
#define SAVE_RDX 24
#define SAVE_RSI 32
#define SAVE_RDI 40
#define SAVE_RBP 48
#define SAVE_RSP 56
#define SAVE_R8 64          /* r8..r15 at 64..120 */
#define SAVE_RFLAGS 136
#define SAVE_CR0 144
#define SAVE_CR3 152
#define SAVE_CR4 160
#define SAVE_EFER 168
#define SAVE_GDTR 176       /* sgdt: limit (2 bytes), base (4 or 8 bytes) */
#define SAVE_IDTR 192
#define SAVE_SEL 208        /* cs ds es ss fs gs tr, one 8-byte slot each */
#define SAVE_KIND 264       /* 16, 32, 64, or 0x68 ('h') for PVH */
#define SAVE_BASE 272       /* where the probe's image starts (the loader's L) */
#define SAVE_ZP_SCRATCH 280 /* boot_params.scratch as the loader left it (32-bit entry uses it) */
#define SAVE_SIZE 512

#define KIND_16 16
#define KIND_32 32
#define KIND_64 64
#define KIND_PVH 0x68
#define KIND_EFI_STUB 0x65   /* 'e': PE/COFF entry, efi_main(handle, systab) */
#define KIND_EFI_H64 0x66    /* EFI handover, 64-bit */
#define EFI_FACTS_SIZE 256

/* The 16-bit setup entry hands over to startup_32 with EBP = this and EDI = its save area. */
#define RM_MAGIC 0x36314d52 /* "RM16" */
/* Real-mode save area (in the setup code, offsets from its start). */
#define RM_EAX 0
#define RM_EBX 4
#define RM_ECX 8
#define RM_EDX 12
#define RM_ESI 16
#define RM_EDI 20
#define RM_EBP 24
#define RM_ESP 28
#define RM_CS 32
#define RM_DS 34
#define RM_ES 36
#define RM_SS 38
#define RM_FS 40
#define RM_GS 42
#define RM_FLAGS 44
#define RM_CR0 48
#define RM_GDTR 52          /* sgdtl: limit (2 bytes), base (4) */
#define RM_IDTR 58          /* sidtl: the interrupt vector table's base and limit */
#define RM_HDR 64           /* X+0 .. X+0x290 as the loader left it: cl_magic/cl_offset, the header */
#define RM_HDR_SIZE 0x290
#define RM_E820_STATUS (RM_HDR + RM_HDR_SIZE)      /* 0 ok; see E820_* below */
#define RM_E820_COUNT (RM_E820_STATUS + 4)
#define RM_E820 (RM_E820_COUNT + 4)                /* RM_E820_MAX entries of 20 bytes */
#define RM_E820_MAX 64
#define RM_SIZE (RM_E820 + 20 * RM_E820_MAX)

/* What the 16-bit entry's INT 15h, AX=E820 walk ended with. */
#define E820_OK 0           /* the last call returned EBX = 0 */
#define E820_NO_BIOS 1      /* INT 15h's vector is not in the BIOS area (0xC0000-0xFFFFF): not called */
#define E820_CARRY 2        /* a call returned CF = 1 before the end */
#define E820_NOT_SMAP 3     /* a call returned EAX != "SMAP" */
#define E820_FULL 4         /* more than RM_E820_MAX entries: the rest were not asked for */

#define PROBE_PT_PAGES 10   /* PML4, PDPT, 8 PDs: identity map of [0, 8 GiB) in 2 MiB pages */
#define PROBE_MAP_TOP 0x200000000ULL
#define DEBUG_EXIT_PORT 0x501
#define COM1 0x3f8
#define REPORT_SIZE 65536
