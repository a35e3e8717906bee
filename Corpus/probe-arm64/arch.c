/*
 * arm64: the CPU state booting.rst asks the loader to set (Documentation/arch/arm64/booting.rst
 * §4: MMU off, DAIF masked, CNTFRQ programmed, at EL2 the GICv3 system-register interface and
 * HCR_EL2 as the kernel expects), read with reads that may trap made through the exception
 * vector (entry.S), and the way out: PSCI SYSTEM_OFF by the conduit the device tree names.
 */
#include "../probe-image/probe.h"

const char arch_name[] = "arm64";

/* QEMU virt's PL011 (hw/arm/virt.c VIRT_UART), used only when the device tree names none. */
void arch_fallback_uart(out_t *o) { o->base = 0x09000000; o->kind = UART_PL011; o->shift = 0; }

const char arch_exc_names[3][8] = { "esr", "elr", "far" };

#define SYSREG(name) ({ u64 v_; __asm__ volatile("mrs %0, " #name : "=r"(v_) : : "memory"); v_; })
/* A read that may trap (an EL2 register at EL1, a GICv3 register without the interface):
   the vector skips it and *ok says so. */
#define GUARDED(name, okp) ({ u64 b_ = exc_count(), v_ = 0; __asm__ volatile("mov %0, xzr\n\tmrs %0, " #name : "=&r"(v_) : : "memory"); *(okp) = exc_count() == b_; v_; })

static void guarded_kv(out_t *o, const char *k, u64 v, int ok) {
	if (ok) kv(o, k, v);
	else { put(o, ' '); puts_(o, k); puts_(o, "=trap"); }
}

void arch_cpu_report(out_t *o, const u64 *save) {
	u64 el = (save[SAVE_STATE1 / 8] >> 2) & 3;
	int ok = 1;
	puts_(o, "cpu"); kv(o, "el", el); kv(o, "daif", save[SAVE_STATE0 / 8]);
	if (el == 1) kv(o, "sctlr", SYSREG(sctlr_el1));
	else if (el == 2) kv(o, "sctlr", SYSREG(sctlr_el2));
	else kv(o, "sctlr", SYSREG(sctlr_el3));
	kv(o, "cntfrq", SYSREG(cntfrq_el0));
	u64 pfr0 = SYSREG(id_aa64pfr0_el1);
	kv(o, "id_aa64pfr0", pfr0);
	if (el == 2) {
		kv(o, "hcr_el2", SYSREG(hcr_el2));
		/* ID_AA64PFR0_EL1.GIC, bits [27:24]: 1 or more when the GICv3 system registers exist. */
		if ((pfr0 >> 24) & 0xf) { u64 v = GUARDED(S3_4_C12_C9_5, &ok); guarded_kv(o, "icc_sre_el2", v, ok); }   /* ICC_SRE_EL2 */
		else puts_(o, " icc_sre_el2=absent");
	}
	nl(o);
}

/* PSCI 0.2+ SYSTEM_OFF (function id 0x84000008, SMC32), by the conduit /psci "method" names;
   without one, SMC from EL2 and EL3, HVC from EL1. Returns only if the call did. */
#define PSCI_SYSTEM_OFF 0x84000008ULL
void arch_exit(int psci_smc, int psci_known) {
	u64 el = (SYSREG(CurrentEL) >> 2) & 3;
	int smc = psci_known ? psci_smc : el >= 2;
	register u64 x0 __asm__("x0") = PSCI_SYSTEM_OFF;
	if (smc) __asm__ volatile("smc #0" : "+r"(x0) : : "x1", "x2", "x3", "memory");
	else __asm__ volatile("hvc #0" : "+r"(x0) : : "x1", "x2", "x3", "memory");
}
