/*
 * The Image probes (arm64, riscv64): what is shared between the architectures. Each
 * architecture's entry code records the entry registers, installs its exception vector and a
 * stack, and calls probe_main(); arch.c supplies the CPU state, the guarded register reads and
 * the way out (PSCI, SBI). Everything here runs with the MMU off, so every data access is a
 * device access on arm64: no unaligned access anywhere (built with -mstrict-align there).
 */
#ifndef PROBE_IMAGE_H
#define PROBE_IMAGE_H

/* The save area the entry code fills before anything else (offsets shared with entry.S). */
#define SAVE_R0 0          /* x0/a0 .. x3/a3 at 0, 8, 16, 24 */
#define SAVE_BASE 32       /* the runtime address of Image byte 0 */
#define SAVE_STATE0 40     /* arm64: DAIF at entry; riscv64: sstatus at entry */
#define SAVE_STATE1 48     /* arm64: CurrentEL; riscv64: satp at entry */
#define SAVE_SIZE 64
#define STACK_SIZE 0x4000

/* The exception record the vector fills (offsets shared with entry.S): a count, then the first
   EXC_KEPT exceptions as (cause, pc, address) triples. The vector skips the faulting
   instruction, so a guarded read that traps comes back with the count raised. */
#define EXC_COUNT 0
#define EXC_ENTRIES 8
#define EXC_KEPT 8
#define EXC_SIZE (EXC_ENTRIES + 24 * EXC_KEPT)
#define EXC_GIVE_UP 64     /* past this many the vector stops (wfi): no endless fault loop */

#ifndef __ASSEMBLER__
/* Every symbol is the probe's own: PC-relative access, never through a GOT. */
#pragma GCC visibility push(hidden)
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

extern u8 _text[], probe_file_end[], probe_save[], probe_exc[], probe_stack[];
extern const char probe_variant_name[64];

/* Report output: a UART found in the device tree (or the platform's, named as a fallback). */
typedef struct {
	u64 base;
	int kind;          /* UART_PL011, UART_NS16550 */
	u32 shift;         /* ns16550 reg-shift */
	u64 h, word, filled, length, lines;   /* the running ProbeHash64 of everything sent */
} out_t;
#define UART_PL011 1
#define UART_NS16550 2

void put(out_t *o, char c);
void puts_(out_t *o, const char *s);
void nl(out_t *o);
void kv(out_t *o, const char *k, u64 v);

/* Per architecture (arch.c). */
extern const char arch_name[];
extern const char arch_exc_names[3][8];   /* the exception record's words: cause, pc, address */
void arch_fallback_uart(out_t *o);
void arch_cpu_report(out_t *o, const u64 *save);
void arch_exit(int psci_smc, int psci_known);
u64 exc_count(void);
void exc_report(out_t *o);

void probe_main(u64 *save);
#endif
#endif
