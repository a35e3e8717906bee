/*
 * The probe: what a loader handed over, reported on COM1 as a versioned, checksummed,
 * line-oriented text (format in DESIGN.md, "Probe report"). Runs in long mode on the probe's
 * own identity map of [0, 8 GiB); everything it reads of the loader's data is read by
 * physical address. No writable globals: all state is on the stack or in the scratch section.
 */
#include "layout.h"

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

extern u8 startup_32[], probe_scratch_start[], probe_pt[], probe_gdt[], probe_gdtr[];
extern u8 probe_report[], probe_report_end[];

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }

static inline u8 rd8(u64 a) { return *(volatile u8 *)a; }
static inline u16 rd16(u64 a) { return *(volatile u16 *)a; }
static inline u32 rd32(u64 a) { return *(volatile u32 *)a; }
static inline u64 rd64(u64 a) { return *(volatile u64 *)a; }

/* ---- hash64: FNV-1a over little-endian 64-bit words (the last one zero-padded), then the
   length mixed in. Cheap on purpose: under a software KVM every guest instruction costs about
   a microsecond, and the judge recomputes it over the bytes it expects. ---- */
static u64 hash64(u64 a, u64 len) {
	u64 h = 0xcbf29ce484222325ULL, i = 0;
	for (; i + 8 <= len; i += 8) h = (h ^ rd64(a + i)) * 0x100000001b3ULL;
	if (i < len) {
		u64 w = 0;
		for (u64 k = 0; i + k < len; k++) w |= (u64)rd8(a + i + k) << (8 * k);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	return (h ^ len) * 0x100000001b3ULL;
}

/* ---- report writer ---- */
typedef struct {
	u8 *p, *end;
	u32 lines;
	int overflow;
	u64 base;
} out_t;

static void put(out_t *o, char ch) { if (o->p < o->end) *o->p++ = (u8)ch; else o->overflow = 1; }
static void puts_(out_t *o, const char *s) { while (*s) put(o, *s++); }
static void nl(out_t *o) { put(o, '\n'); o->lines++; }
static void hexn(out_t *o, u64 v, int digits) { for (int i = digits - 1; i >= 0; i--) put(o, "0123456789abcdef"[(v >> (4 * i)) & 15]); }
static void hexs(out_t *o, u64 v) {
	int d = 1; for (int i = 15; i > 0; i--) if (v >> (4 * i)) { d = i + 1; break; }
	hexn(o, v, d);
}
static void hex(out_t *o, u64 v) { put(o, '0'); put(o, 'x'); hexs(o, v); }
static void kv(out_t *o, const char *k, u64 v) { put(o, ' '); puts_(o, k); put(o, '='); hex(o, v); }
static int readable(u64 a, u64 len) { return len <= PROBE_MAP_TOP && a <= PROBE_MAP_TOP - len; }

/* "mem ADDR LEN DATA": hex bytes, a run of 8 or more zero bytes written as ".COUNT." (hex).
   mem_as reads the bytes at `a` and reports them as the bytes at `shown` (a copy the probe
   took before it changed anything). */
static void mem_as(out_t *o, const char *what, u64 shown, u64 a, u64 len) {
	if (!readable(a, len)) { puts_(o, "unreadable "); puts_(o, what); kv(o, "addr", shown); kv(o, "len", len); nl(o); return; }
	puts_(o, "mem "); puts_(o, what); put(o, ' '); hex(o, shown); put(o, ' '); hex(o, len); put(o, ' ');
	u64 i = 0;
	while (i < len) {
		u64 z = 0;
		while (i + z + 8 <= len && ((a + i + z) & 7) == 0 && rd64(a + i + z) == 0) z += 8;
		while (i + z < len && rd8(a + i + z) == 0) z++;
		if (z >= 8) { put(o, '.'); hexs(o, z); put(o, '.'); i += z; continue; }
		hexn(o, rd8(a + i), 2); i++;
	}
	nl(o);
}
static void mem(out_t *o, const char *what, u64 a, u64 len) { mem_as(o, what, a, a, len); }
static void hash_line(out_t *o, const char *what, u64 a, u64 len) {
	if (!readable(a, len)) { puts_(o, "unreadable "); puts_(o, what); kv(o, "addr", a); kv(o, "len", len); nl(o); return; }
	puts_(o, "hash64 "); puts_(o, what); put(o, ' '); hex(o, a); put(o, ' '); hex(o, len); put(o, ' '); hex(o, hash64(a, len));
	nl(o);
}
/* A string in guest memory up to its NUL (included), at most `max` bytes. */
static void cstring(out_t *o, const char *what, u64 a, u64 max) {
	u64 n = 0;
	while (n < max && readable(a, n + 1) && rd8(a + n) != 0) n++;
	if (n < max && readable(a, n + 1)) n++;   /* the NUL */
	mem(o, what, a, n);
}

/* One page-table page as runs of entries: "pt ADDR LEVEL INDEX COUNT FIRST STRIDE". */
static void pt_page(out_t *o, u64 table, int level) {
	int i = 0;
	while (i < 512) {
		u64 e = rd64(table + 8 * i);
		if (!e) { i++; continue; }
		int n = 1; u64 stride = 0;
		if (i + 1 < 512 && rd64(table + 8 * (i + 1))) {
			stride = rd64(table + 8 * (i + 1)) - e;
			while (i + n < 512 && rd64(table + 8 * (i + n)) == e + stride * n) n++;
		}
		puts_(o, "pt "); hex(o, table); put(o, ' '); hex(o, level); put(o, ' '); hex(o, i); put(o, ' '); hex(o, n); put(o, ' '); hex(o, e); put(o, ' '); hex(o, stride); nl(o);
		i += n;
	}
	if (o->lines > 4000) o->overflow = 1;
}
/* Every table reachable from CR3 for virtual [0, 8 GiB), 4-level paging. */
static void page_walk(out_t *o, u64 cr3) {
	u64 pml4 = cr3 & 0x000ffffffffff000ULL;
	if (!readable(pml4, 4096)) { puts_(o, "unreadable pml4"); kv(o, "addr", pml4); nl(o); return; }
	pt_page(o, pml4, 4);
	u64 e4 = rd64(pml4);
	if (!(e4 & 1)) return;
	u64 pdpt = e4 & 0x000ffffffffff000ULL;
	if (!readable(pdpt, 4096)) return;
	pt_page(o, pdpt, 3);
	for (int g = 0; g < 8; g++) {
		u64 e3 = rd64(pdpt + 8 * g);
		if (!(e3 & 1) || (e3 & 0x80)) continue;
		u64 pd = e3 & 0x000ffffffffff000ULL;
		if (!readable(pd, 4096)) continue;
		pt_page(o, pd, 2);
		for (int m = 0; m < 512 && !o->overflow; m++) {
			u64 e2 = rd64(pd + 8 * m);
			if (!(e2 & 1) || (e2 & 0x80)) continue;
			u64 pt = e2 & 0x000ffffffffff000ULL;
			if (readable(pt, 4096)) pt_page(o, pt, 1);
		}
	}
}



static void segs(out_t *o, const u64 *save) {
	static const char names[7][3] = {"cs", "ds", "es", "ss", "fs", "gs", "tr"};
	u16 glimit = rd16((u64)&save[SAVE_GDTR / 8]);
	u64 gbase = *(const u64 *)((const u8 *)save + SAVE_GDTR + 2);
	if (save[SAVE_KIND / 8] != KIND_64) gbase &= 0xffffffffULL;
	for (int i = 0; i < 7; i++) {
		u16 sel = (u16)save[SAVE_SEL / 8 + i];
		puts_(o, "seg "); puts_(o, names[i]); kv(o, "sel", sel);
		u64 off = sel & 0xfff8;
		if (sel >= 4 && !(sel & 4) && off + 7 <= glimit && readable(gbase + off, 8)) kv(o, "desc", rd64(gbase + off));
		nl(o);
	}
}

static void report(u64 *save) {
	out_t o = { probe_report, probe_report + REPORT_SIZE - 64, 0, 0, save[SAVE_BASE / 8] };
	u64 kind = save[SAVE_KIND / 8];
	u64 base = save[SAVE_BASE / 8];
	int rm = kind == KIND_32 && (u32)save[SAVE_RBP / 8] == RM_MAGIC;
	u64 rip = kind == KIND_64 ? base + 0x200 : kind == KIND_PVH ? save[SAVE_RAX / 8] : base;
	puts_(&o, "BOOTPROBE 1"); nl(&o);
	{
		extern u8 probe_variant[];
		puts_(&o, "variant ");
		for (int i = 0; i < 63 && probe_variant[i] > 0x20 && probe_variant[i] < 0x7f; i++) put(&o, (char)probe_variant[i]);
		nl(&o);
	}
	puts_(&o, "entry "); puts_(&o, rm ? "16" : kind == KIND_32 ? "32" : kind == KIND_64 ? "64" : "pvh"); nl(&o);
	puts_(&o, "base"); kv(&o, "addr", base); kv(&o, "len", (u64)(probe_scratch_start - startup_32)); nl(&o);
	if (kind == KIND_PVH) {
		extern u8 pvh_start[];
		rip = base + (u64)(pvh_start - startup_32);
	}
	if (rm) {
		u64 r = (u32)save[SAVE_RDI / 8];
		puts_(&o, "rm");
		static const char rn[8][4] = {"eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp"};
		for (int i = 0; i < 8; i++) kv(&o, rn[i], rd32(r + 4 * i));
		static const char sn[6][3] = {"cs", "ds", "es", "ss", "fs", "gs"};
		for (int i = 0; i < 6; i++) kv(&o, sn[i], rd16(r + RM_CS + 2 * i));
		kv(&o, "flags", rd16(r + RM_FLAGS)); kv(&o, "cr0", rd32(r + RM_CR0));
		kv(&o, "gdtr_base", rd32(r + RM_GDTR + 2)); kv(&o, "gdtr_limit", rd16(r + RM_GDTR));
		kv(&o, "idtr_base", rd32(r + RM_IDTR + 2)); kv(&o, "idtr_limit", rd16(r + RM_IDTR));
		nl(&o);
	}
	static const char gn[16][4] = {"rax","rbx","rcx","rdx","rsi","rdi","rbp","rsp","r8","r9","r10","r11","r12","r13","r14","r15"};
	puts_(&o, "reg");
	for (int i = 0; i < 16; i++) kv(&o, gn[i], save[i]);
	kv(&o, "rip", rip); kv(&o, "rflags", save[SAVE_RFLAGS / 8]);
	nl(&o);
	puts_(&o, "cr"); kv(&o, "cr0", save[SAVE_CR0 / 8]); kv(&o, "cr3", save[SAVE_CR3 / 8]); kv(&o, "cr4", save[SAVE_CR4 / 8]); kv(&o, "efer", save[SAVE_EFER / 8]); nl(&o);
	u64 gbase = *(u64 *)((u8 *)save + SAVE_GDTR + 2), ibase = *(u64 *)((u8 *)save + SAVE_IDTR + 2);
	if (kind != KIND_64) { gbase &= 0xffffffffULL; ibase &= 0xffffffffULL; }
	u16 glimit = *(u16 *)((u8 *)save + SAVE_GDTR), ilimit = *(u16 *)((u8 *)save + SAVE_IDTR);
	puts_(&o, "gdtr"); kv(&o, "base", gbase); kv(&o, "limit", glimit); nl(&o);
	puts_(&o, "idtr"); kv(&o, "base", ibase); kv(&o, "limit", ilimit); nl(&o);
	segs(&o, save);

	mem(&o, "gdt", gbase, (u64)glimit + 1);
	if (kind == KIND_PVH) {
		u64 si = (u32)save[SAVE_RBX / 8];
		mem(&o, "start_info", si, 56);
		if (readable(si, 56) && rd32(si) == 0x336ec578) {
			u32 nmod = rd32(si + 12), nmap = rd32(si + 48);
			u64 ml = rd64(si + 16), cl = rd64(si + 24), rsdp = rd64(si + 32), mm = rd64(si + 40);
			if (nmod > 16) nmod = 16;
			if (nmap > 128) nmap = 128;
			if (nmod && ml) {
				mem(&o, "modlist", ml, 32ULL * nmod);
				for (u32 i = 0; i < nmod && readable(ml + 32 * i, 32); i++) hash_line(&o, "module", rd64(ml + 32 * i), rd64(ml + 32 * i + 8));
			}
			if (cl) cstring(&o, "cmdline", cl, 65536);
			if (nmap && mm) mem(&o, "memmap", mm, 24ULL * nmap);
			if (rsdp) mem(&o, "rsdp", rsdp, 8);
		}
	} else {
		u64 zp = kind == KIND_64 ? save[SAVE_RSI / 8] : (u32)save[SAVE_RSI / 8];
		/* h: where the header fields are read. At the 16-bit entry that is the copy setup16
		   took of X+0 .. X+0x290 before it changed anything, and X holds the image's real-mode
		   part, not a zero page: the ext_* halves and acpi_rsdp_addr there are boot-sector
		   bytes, which the kernel's setup code never reads. */
		u64 h = zp;
		int hok = readable(zp, 4096);
		if (rm) {
			u64 r = (u32)save[SAVE_RDI / 8];
			h = r + RM_HDR;
			hok = readable(r, RM_SIZE);
			mem_as(&o, "realmode", zp, h, RM_HDR_SIZE);
			if (hok) {
				u32 n = rd32(r + RM_E820_COUNT);
				if (n > RM_E820_MAX) n = RM_E820_MAX;
				puts_(&o, "fwmap"); kv(&o, "status", rd32(r + RM_E820_STATUS)); kv(&o, "count", n); nl(&o);
				for (u32 i = 0; i < n; i++) {
					u64 e = r + RM_E820 + 20 * i;
					puts_(&o, "fwmap-entry"); kv(&o, "addr", rd64(e)); kv(&o, "size", rd64(e + 8)); kv(&o, "type", rd32(e + 16)); nl(&o);
				}
			}
		} else {
			mem(&o, "zeropage", zp, 4096);
		}
		if (hok) {
			u16 version = rd16(h + 0x206);
			u64 cl = rd32(h + 0x228) | (rm ? 0 : (u64)rd32(h + 0x0c8) << 32);
			/* A zero page built from scratch for the ELF 64-bit entry may lack boot_flag, "HdrS"
			   and a version (BP-72); its command line is still at cmd_line_ptr, up to
			   COMMAND_LINE_SIZE (2048) bytes with the NUL. */
			int scratch = rd32(h + 0x202) != 0x53726448;
			u64 csize = scratch ? 2047 : version >= 0x206 ? rd32(h + 0x238) : 255;
			if (cl && (version >= 0x202 || scratch)) cstring(&o, "cmdline", cl, csize + 1 > 65536 ? 65536 : csize + 1);
			/* Before 2.02: cl_magic 0xA33F at 0x20 and the command line at B + cl_offset. */
			if (rd16(h + 0x20) == 0xa33f) cstring(&o, "cmdline_old", zp + rd16(h + 0x22), 256);
			u64 ri = rd32(h + 0x218) | (rm ? 0 : (u64)rd32(h + 0x0c0) << 32), rs = rd32(h + 0x21c) | (rm ? 0 : (u64)rd32(h + 0x0c4) << 32);
			if (ri && rs) hash_line(&o, "initrd", ri, rs);
			u64 rsdp = rm ? 0 : rd64(h + 0x070);
			if (rsdp) mem(&o, "rsdp", rsdp, 8);
			u64 sd = version >= 0x209 ? rd64(h + 0x250) : 0;
			for (int n = 0; sd && n < 32 && readable(sd, 16); n++) {
				u32 len = rd32(sd + 12);
				mem(&o, "setup_data", sd, 16 + (len > 4096 ? 4096 : len));
				sd = rd64(sd);
			}
			u32 kio = version >= 0x20f ? rd32(h + 0x268) : 0;
			if (kio && kio < 0x1000000) mem(&o, "kernel_info", base + kio, 16);
			/* The protected-mode image as loaded: syssize paragraphs from L. */
			u64 pm = (u64)rd32(h + 0x1f4) * 16;
			if (pm) hash_line(&o, "image", base, pm);
		}
	}
	if (save[SAVE_CR0 / 8] & 0x80000000ULL) page_walk(&o, save[SAVE_CR3 / 8]);
	/* The file-backed image (code, data, the variant name); scratch follows it and is not in the file. */
	hash_line(&o, "segment", base, (u64)(probe_scratch_start - startup_32));
	if (o.overflow) { puts_(&o, "truncated"); nl(&o); }
	u64 n = (u64)(o.p - probe_report);
	o.end = probe_report + REPORT_SIZE;
	puts_(&o, "end"); kv(&o, "lines", o.lines); kv(&o, "hash64", hash64((u64)probe_report, n)); nl(&o);
	u64 total = (u64)(o.p - probe_report);
	/* rep outsb: KVM batches string I/O, one exit per page instead of one per byte. */
	const u8 *src = probe_report;
	__asm__ volatile("cld; rep outsb" : "+S"(src), "+c"(total) : "d"((u16)COM1) : "memory");
	outl(DEBUG_EXIT_PORT, 0);
}

void probe_main(u64 *save) { report(save); }

/* 64-bit entry: still on the loader's page tables and GDT; move to our own, then report. */
void probe_main64(u64 *save) {
	u64 *pt = (u64 *)probe_pt;
	u64 ptb = (u64)probe_pt;
	/* Scratch holds whatever the loader left there: clear the PML4 and PDPT pages first
	   (only their first entries are written; the eight PD pages are written whole). */
	for (int i = 0; i < 1024; i++) ((volatile u64 *)pt)[i] = 0;
	pt[0] = (ptb + 0x1000) | 3;
	for (int g = 0; g < 8; g++) pt[512 + g] = (ptb + 0x2000 + 0x1000ULL * g) | 3;
	for (int i = 0; i < 4096; i++) pt[1024 + i] = ((u64)i << 21) | 0x83;
	u8 *gdtr = probe_gdtr;
	*(u16 *)gdtr = 4 * 8 - 1;
	*(u64 *)(gdtr + 2) = (u64)probe_gdt;
	__asm__ volatile(
		"lgdt (%0)\n\t"
		"mov %1, %%cr3\n\t"
		"pushq $0x08\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movl $0x10, %%eax\n\t"
		"movl %%eax, %%ds\n\tmovl %%eax, %%es\n\tmovl %%eax, %%ss\n\tmovl %%eax, %%fs\n\tmovl %%eax, %%gs\n\t"
		: : "r"(gdtr), "r"(ptb) : "rax", "memory");
	report(save);
}
