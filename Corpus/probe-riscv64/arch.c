/*
 * riscv64: the state Documentation/arch/riscv/boot.rst asks for (satp = 0, the MMU off; a0 the
 * hart id, a1 the device tree), sstatus as the loader left it, and the SBI implementation the
 * probe runs on (SBI specification v2.0, chapter 4 "Base Extension"); the way out is the
 * System Reset extension ("SRST", chapter 10), the legacy shutdown call (EID 0x08) if that is
 * missing. The probe runs in S-mode; every SBI call is an `ecall`.
 */
#include "../probe-image/probe.h"

const char arch_name[] = "riscv64";

/* QEMU virt's NS16550A (hw/riscv/virt.c VIRT_UART0), used only when the device tree names none. */
void arch_fallback_uart(out_t *o) { o->base = 0x10000000; o->kind = UART_NS16550; o->shift = 0; }

const char arch_exc_names[3][8] = { "scause", "sepc", "stval" };

typedef struct { u64 error, value; } sbiret;
static sbiret sbi_call(u64 eid, u64 fid, u64 arg0, u64 arg1) {
	register u64 a0 __asm__("a0") = arg0, a1 __asm__("a1") = arg1;
	register u64 a6 __asm__("a6") = fid, a7 __asm__("a7") = eid;
	__asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a6), "r"(a7) : "memory");
	return (sbiret){ a0, a1 };
}
#define SBI_BASE 0x10
#define SBI_BASE_SPEC_VERSION 0
#define SBI_BASE_IMPL_ID 1
#define SBI_BASE_IMPL_VERSION 2
#define SBI_BASE_PROBE_EXTENSION 3
#define SBI_SRST 0x53525354ULL        /* "SRST" */
#define SBI_LEGACY_SHUTDOWN 0x08

void arch_cpu_report(out_t *o, const u64 *save) {
	puts_(o, "cpu"); kv(o, "sstatus", save[SAVE_STATE0 / 8]); kv(o, "satp", save[SAVE_STATE1 / 8]); nl(o);
	sbiret spec = sbi_call(SBI_BASE, SBI_BASE_SPEC_VERSION, 0, 0);
	sbiret impl = sbi_call(SBI_BASE, SBI_BASE_IMPL_ID, 0, 0);
	sbiret ver = sbi_call(SBI_BASE, SBI_BASE_IMPL_VERSION, 0, 0);
	sbiret srst = sbi_call(SBI_BASE, SBI_BASE_PROBE_EXTENSION, SBI_SRST, 0);
	puts_(o, "sbi"); kv(o, "spec_version", spec.value); kv(o, "spec_error", spec.error);
	kv(o, "impl_id", impl.value); kv(o, "impl_version", ver.value); kv(o, "srst", srst.value); nl(o);
}

void arch_exit(int psci_smc, int psci_known) {
	(void)psci_smc; (void)psci_known;
	sbi_call(SBI_SRST, 0, 0, 0);             /* type 0: shutdown, reason 0: none */
	sbi_call(SBI_LEGACY_SHUTDOWN, 0, 0, 0);
}
