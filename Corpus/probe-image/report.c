/*
 * The Image probes' report: what the loader handed over, sent on the device tree's UART as the
 * x86 probe frames its report (a header line, one fact per line, then
 * "end lines=N hash64=H" over everything before it; format in DESIGN.md, "Image probe report").
 * The report is streamed, not buffered: the checksum runs as the bytes go out.
 * No writable globals: state is on the stack; the entry code's save area and exception record
 * live in .bss, past the bytes of the file, inside the image_size the header claims.
 */
#include "probe.h"

static inline u8 rd8(u64 a) { return *(volatile u8 *)a; }
static inline u32 rd32(u64 a) { return *(volatile u32 *)a; }
static inline void wr8(u64 a, u8 v) { *(volatile u8 *)a = v; }
static inline void wr32(u64 a, u32 v) { *(volatile u32 *)a = v; }

/* The entry code's save area and exception record, and the stack (past the file's bytes). */
__attribute__((aligned(16))) u8 probe_save[SAVE_SIZE], probe_exc[EXC_SIZE], probe_stack[STACK_SIZE];
/* The probe's variant name (variants.py rewrites these 64 bytes per variant); it ends the file. */
__attribute__((section(".probe_variant"), used)) const char probe_variant_name[64] = "probe";

u64 exc_count(void) { return *(volatile u64 *)(probe_exc + EXC_COUNT); }
/* One line per kept exception, its three words named as the architecture names them. */
void exc_report(out_t *o) {
	u64 n = exc_count();
	for (u64 i = 0; i < n && i < EXC_KEPT; i++) {
		const volatile u64 *e = (const volatile u64 *)(probe_exc + EXC_ENTRIES + 24 * i);
		puts_(o, "exception");
		for (int k = 0; k < 3; k++) kv(o, arch_exc_names[k], e[k]);
		nl(o);
	}
	if (n) { puts_(o, "exceptions"); kv(o, "count", n); nl(o); }
}

/* The compiler may emit calls to these for structure copies and clears. */
void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }

/* ---- hash64 (ProbeHash64 on the host): FNV-1a over little-endian 64-bit words, the last one
   zero-padded, then the length mixed in. Byte-wise reads: a loader may leave anything unaligned. */
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
static u64 hash64(u64 a, u64 len) {
	u64 h = FNV_OFFSET, w = 0, i;
	for (i = 0; i < len; i++) {
		w |= (u64)rd8(a + i) << (8 * (i & 7));
		if ((i & 7) == 7) { h = (h ^ w) * FNV_PRIME; w = 0; }
	}
	if (len & 7) h = (h ^ w) * FNV_PRIME;
	return (h ^ len) * FNV_PRIME;
}

/* ---- the UART ---- */
#define PL011_FR 0x18          /* flag register; TXFF (transmit FIFO full) is bit 5 */
#define PL011_FR_TXFF (1u << 5)
#define NS16550_LSR 5          /* line status register; THRE is bit 5 */
#define NS16550_LSR_THRE (1u << 5)
static void uart_tx(const out_t *o, u8 c) {
	if (o->kind == UART_PL011) {
		for (int n = 0; n < 1000000 && (rd32(o->base + PL011_FR) & PL011_FR_TXFF); n++) {}
		wr32(o->base, c);
	} else if (o->kind == UART_NS16550) {
		for (int n = 0; n < 1000000 && !(rd8(o->base + ((u64)NS16550_LSR << o->shift)) & NS16550_LSR_THRE); n++) {}
		wr8(o->base, c);
	}
}

void put(out_t *o, char c) {
	uart_tx(o, (u8)c);
	o->word |= (u64)(u8)c << (8 * o->filled);
	if (++o->filled == 8) { o->h = (o->h ^ o->word) * FNV_PRIME; o->word = 0; o->filled = 0; }
	o->length++;
}
void puts_(out_t *o, const char *s) { while (*s) put(o, *s++); }
void nl(out_t *o) { put(o, '\n'); o->lines++; }
static void hexn(out_t *o, u64 v, int digits) { for (int i = digits - 1; i >= 0; i--) put(o, "0123456789abcdef"[(v >> (4 * i)) & 15]); }
static void hexs(out_t *o, u64 v) {
	int d = 1; for (int i = 15; i > 0; i--) if (v >> (4 * i)) { d = i + 1; break; }
	hexn(o, v, d);
}
static void hex(out_t *o, u64 v) { put(o, '0'); put(o, 'x'); hexs(o, v); }
void kv(out_t *o, const char *k, u64 v) { put(o, ' '); puts_(o, k); put(o, '='); hex(o, v); }
/* A word from the device tree, only the characters the report's syntax allows (no spaces). */
static void word(out_t *o, u64 a, u64 max) {
	for (u64 i = 0; i < max; i++) { u8 c = rd8(a + i); if (!c) break; put(o, c > 0x20 && c < 0x7f ? (char)c : '?'); }
}

/* "mem WHAT ADDR LEN DATA": hex bytes, a run of 8 or more zero bytes written ".COUNT." (hex),
   as the x86 probe writes them. */
static void mem(out_t *o, const char *what, u64 a, u64 len) {
	puts_(o, "mem "); puts_(o, what); put(o, ' '); hex(o, a); put(o, ' '); hex(o, len); put(o, ' ');
	u64 i = 0;
	while (i < len) {
		u64 z = 0;
		while (i + z < len && rd8(a + i + z) == 0) z++;
		if (z >= 8) { put(o, '.'); hexs(o, z); put(o, '.'); i += z; continue; }
		hexn(o, rd8(a + i), 2); i++;
	}
	nl(o);
}
static void hash_line(out_t *o, const char *what, u64 a, u64 len) {
	puts_(o, "hash64 "); puts_(o, what); put(o, ' '); hex(o, a); put(o, ' '); hex(o, len); put(o, ' '); hex(o, hash64(a, len)); nl(o);
}

/* ---- the flattened device tree (Devicetree Specification v0.4, chapter 5): big-endian,
   read byte by byte (the loader may have left it unaligned). ---- */
#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9
#define FDT_MAX_SIZE 0x200000          /* booting.rst: the blob must not exceed 2 MiB */
#define FDT_MAX_DEPTH 16

static u32 be32(u64 a) { return (u32)rd8(a) << 24 | (u32)rd8(a + 1) << 16 | (u32)rd8(a + 2) << 8 | rd8(a + 3); }
static u64 be64(u64 a) { return (u64)be32(a) << 32 | be32(a + 4); }
/* A value of `cells` 32-bit cells (1 or 2; more: the low two). */
static u64 cells_at(u64 a, u32 cells) { return cells == 1 ? be32(a) : be64(a + 4ULL * (cells - 2)); }

static int streq(u64 a, u64 max, const char *s) {
	u64 i = 0;
	for (; s[i]; i++) if (i >= max || rd8(a + i) != (u8)s[i]) return 0;
	return i < max && rd8(a + i) == 0;
}
/* Does the NUL-separated string list at a (len bytes) hold s? */
static int strlist_has(u64 a, u64 len, const char *s) {
	u64 i = 0;
	while (i < len) {
		if (streq(a + i, len - i, s)) return 1;
		while (i < len && rd8(a + i)) i++;
		i++;
	}
	return 0;
}

typedef struct {
	u64 base, size, off_struct, off_strings, size_struct, size_strings;
	int ok;
} fdt_t;

/* One property seen by a walk: its node's path and depth, its name and value, and the cells
   its node's parent declares for reg. */
typedef struct {
	const char *path; int depth;
	u64 name, value, len;           /* guest addresses */
	u32 acells, scells;             /* #address-cells / #size-cells of the node's parent */
	int begin;                      /* 1: this call announces the node (no property) */
} fdt_prop_t;
typedef void (*fdt_visit)(void *ctx, const fdt_prop_t *p);

/* Walks the structure block once, bounded by its size (a malformed tree ends the walk, it never
   runs past the blob). Returns 0 when the walk reached FDT_END, else the offset it stopped at. */
static u64 fdt_walk(const fdt_t *f, fdt_visit visit, void *ctx) {
	char path[256];
	u32 pathlen[FDT_MAX_DEPTH + 1], ac[FDT_MAX_DEPTH + 1], sc[FDT_MAX_DEPTH + 1];
	int depth = 0;
	path[0] = 0; pathlen[0] = 0; ac[0] = 2; sc[0] = 1;   /* the spec's defaults for the root's parent */
	u64 s = f->base + f->off_struct, off = 0;
	while (off + 4 <= f->size_struct) {
		u32 tok = be32(s + off);
		off += 4;
		if (tok == FDT_BEGIN_NODE) {
			if (depth >= FDT_MAX_DEPTH) return off;
			u32 pl = pathlen[depth];
			u64 n = 0;
			while (off + n < f->size_struct && rd8(s + off + n)) n++;
			if (off + n >= f->size_struct) return off;
			if (depth > 0 && pl < 254) path[pl++] = '/';
			for (u64 i = 0; i < n && pl < 254; i++) path[pl++] = (char)rd8(s + off + i);
			if (depth == 0) pl = 0;
			path[pl] = 0;
			depth++;
			pathlen[depth] = pl;
			ac[depth] = 2; sc[depth] = 1;
			fdt_prop_t p = { depth == 1 ? "/" : path, depth, 0, 0, 0, ac[depth - 1], sc[depth - 1], 1 };
			visit(ctx, &p);
			off = (off + n + 1 + 3) & ~3ULL;
		} else if (tok == FDT_END_NODE) {
			if (depth == 0) return off;
			depth--;
			path[pathlen[depth]] = 0;
		} else if (tok == FDT_PROP) {
			if (off + 8 > f->size_struct || depth == 0) return off;
			u64 len = be32(s + off), nameoff = be32(s + off + 4);
			off += 8;
			if (len > f->size_struct - off || nameoff >= f->size_strings) return off;
			u64 name = f->base + f->off_strings + nameoff;
			if (streq(name, f->size_strings - nameoff, "#address-cells") && len == 4) ac[depth] = be32(s + off);
			if (streq(name, f->size_strings - nameoff, "#size-cells") && len == 4) sc[depth] = be32(s + off);
			fdt_prop_t p = { depth == 1 ? "/" : path, depth, name, s + off, len, ac[depth - 1], sc[depth - 1], 0 };
			visit(ctx, &p);
			off = (off + len + 3) & ~3ULL;
		} else if (tok == FDT_NOP) {
		} else if (tok == FDT_END) {
			return 0;
		} else {
			return off - 4;
		}
	}
	return off;
}
static int pname(const fdt_t *f, const fdt_prop_t *p, const char *s) { return !p->begin && streq(p->name, f->base + f->off_strings + f->size_strings - p->name, s); }
static int path_is(const char *path, const char *s) { int i = 0; for (; s[i]; i++) if (path[i] != s[i]) return 0; return path[i] == 0; }
/* Is `path` the node `/NAME` or `/NAME@…`? */
static int top_node(const char *path, const char *name) {
	if (path[0] != '/') return 0;
	int i = 0; for (; name[i]; i++) if (path[1 + i] != name[i]) return 0;
	if (path[1 + i] == 0) return 1;
	if (path[1 + i] != '@') return 0;
	for (int k = 2 + i; path[k]; k++) if (path[k] == '/') return 0;
	return 1;
}
/* The parent of `path` is /NAME (or /NAME@…) and path is one level below it. */
static int child_of(const char *path, const char *name) {
	char p[256]; int n = 0, last = 0;
	for (; path[n] && n < 255; n++) { p[n] = path[n]; if (path[n] == '/') last = n; }
	if (last == 0) return 0;
	p[last] = 0;
	return top_node(p, name);
}

/* ---- pass 1: /chosen, /aliases, /psci; the report lines that need one property each ---- */
typedef struct {
	const fdt_t *f;
	u64 stdout_path, stdout_len;          /* /chosen stdout-path (or linux,stdout-path) */
	u64 bootargs, bootargs_len;
	u64 initrd_start, initrd_end; int have_start, have_end;
	int psci_smc, psci_known;
	char want[256]; int want_len;         /* the UART path stdout-path names, alias resolved */
	u64 uart; int uart_kind; u32 uart_shift; int uart_okay, uart_match, uart_from_stdout;
	u64 cand; int cand_kind; u32 cand_shift; int cand_okay, cand_compat; char cand_path[256];
	u64 node_reg; int node_kind, node_okay; u32 node_shift;
} dt_t;

static void chosen_visit(void *vctx, const fdt_prop_t *p) {
	dt_t *d = vctx; const fdt_t *f = d->f;
	if (p->begin) return;
	if (path_is(p->path, "/chosen")) {
		if (pname(f, p, "stdout-path") || (pname(f, p, "linux,stdout-path") && !d->stdout_path)) { d->stdout_path = p->value; d->stdout_len = p->len; }
		if (pname(f, p, "bootargs")) { d->bootargs = p->value; d->bootargs_len = p->len; }
		if (pname(f, p, "linux,initrd-start") && (p->len == 4 || p->len == 8)) { d->initrd_start = p->len == 4 ? be32(p->value) : be64(p->value); d->have_start = 1; }
		if (pname(f, p, "linux,initrd-end") && (p->len == 4 || p->len == 8)) { d->initrd_end = p->len == 4 ? be32(p->value) : be64(p->value); d->have_end = 1; }
	}
	if (top_node(p->path, "psci") && pname(f, p, "method")) {
		d->psci_known = 1;
		d->psci_smc = streq(p->value, p->len, "smc");
	}
}

/* stdout-path "NAME[:options]": a path when it starts with '/', else an alias in /aliases. */
static void alias_visit(void *vctx, const fdt_prop_t *p) {
	dt_t *d = vctx; const fdt_t *f = d->f;
	if (p->begin || !path_is(p->path, "/aliases") || d->want_len) return;
	u64 n = 0;
	while (n < d->stdout_len && rd8(d->stdout_path + n) && rd8(d->stdout_path + n) != ':') n++;
	u64 name = p->name, room = f->base + f->off_strings + f->size_strings - name;
	for (u64 i = 0; i < n; i++) if (i >= room || rd8(name + i) != rd8(d->stdout_path + i)) return;
	if (n >= room || rd8(name + n) != 0) return;
	for (u64 i = 0; i < p->len && i < 255 && rd8(p->value + i); i++) d->want[d->want_len++] = (char)rd8(p->value + i);
	d->want[d->want_len] = 0;
}

static int uart_kind_of(u64 v, u64 len) {
	if (strlist_has(v, len, "arm,pl011")) return UART_PL011;
	if (strlist_has(v, len, "ns16550a") || strlist_has(v, len, "ns16550")) return UART_NS16550;
	return 0;
}

/* pass 2: the node stdout-path names, else the first compatible UART whose status is absent or
   "okay" (a disabled one, such as the secure world's PL011 under secure=on, faults). */
static void uart_visit(void *vctx, const fdt_prop_t *p) {
	dt_t *d = vctx; const fdt_t *f = d->f;
	if (p->begin) {
		/* A new node: what is known of the node is reset (properties precede child nodes). */
		d->node_reg = 0; d->node_kind = 0; d->node_okay = 1; d->node_shift = 0;
		return;
	}
	if (pname(f, p, "compatible")) d->node_kind = uart_kind_of(p->value, p->len);
	if (pname(f, p, "status")) d->node_okay = streq(p->value, p->len, "okay") || streq(p->value, p->len, "ok");
	if (pname(f, p, "reg-shift") && p->len == 4) d->node_shift = be32(p->value);
	if (pname(f, p, "reg") && p->len >= 4ULL * p->acells && p->acells >= 1 && p->acells <= 2) d->node_reg = cells_at(p->value, p->acells);
	if (!d->node_kind || !d->node_reg) return;
	int from_stdout = d->want_len && path_is(p->path, d->want);
	if (from_stdout) {
		d->uart = d->node_reg; d->uart_kind = d->node_kind; d->uart_shift = d->node_shift; d->uart_okay = d->node_okay; d->uart_from_stdout = 1;
	}
	/* The first okay candidate; "status" may follow "reg", so a later property can still
	   disqualify this node: re-check on every property of the node. */
	if (!d->cand || path_is(p->path, d->cand_path)) {
		int i = 0; for (; p->path[i] && i < 255; i++) d->cand_path[i] = p->path[i];
		d->cand_path[i] = 0;
		d->cand = d->node_okay ? d->node_reg : 0; d->cand_kind = d->node_kind; d->cand_shift = d->node_shift;
		if (!d->node_okay) d->cand_path[0] = 0;
	}
}

/* pass 3: the report lines for /memory, /reserved-memory's children and the CPUs. */
typedef struct { const fdt_t *f; out_t *o; } emit_t;
static void emit_visit(void *vctx, const fdt_prop_t *p) {
	emit_t *e = vctx; const fdt_t *f = e->f; out_t *o = e->o;
	if (p->begin || !pname(f, p, "reg")) return;
	int memory = top_node(p->path, "memory"), reserved = child_of(p->path, "reserved-memory"), cpu = child_of(p->path, "cpus");
	if (!memory && !reserved && !cpu) return;
	u32 a = p->acells, s = cpu ? 0 : p->scells;
	if (a < 1 || a > 2 || s > 2) { puts_(o, "dt-reg-cells "); word(o, (u64)p->path, 255); kv(o, "address_cells", a); kv(o, "size_cells", s); nl(o); return; }
	u64 stride = 4ULL * (a + s);
	for (u64 i = 0; i + stride <= p->len && i < 64 * stride; i += stride) {
		puts_(o, memory ? "dt-memory " : reserved ? "dt-reserved " : "dt-cpu ");
		word(o, (u64)p->path, 255);
		kv(o, cpu ? "reg" : "addr", cells_at(p->value + i, a));
		if (!cpu) kv(o, "size", s ? cells_at(p->value + i + 4ULL * a, s) : 0);
		nl(o);
	}
}

/* The range [a, a + len) lies inside one /memory reg range (so reading it cannot fault). */
typedef struct { const fdt_t *f; u64 a, len; int inside; } inram_t;
static void inram_visit(void *vctx, const fdt_prop_t *p) {
	inram_t *r = vctx;
	if (p->begin || !top_node(p->path, "memory") || !pname(r->f, p, "reg")) return;
	u32 a = p->acells, s = p->scells;
	if (a < 1 || a > 2 || s < 1 || s > 2) return;
	u64 stride = 4ULL * (a + s);
	for (u64 i = 0; i + stride <= p->len && i < 64 * stride; i += stride) {
		u64 b = cells_at(p->value + i, a), n = cells_at(p->value + i + 4ULL * a, s);
		if (r->a >= b && r->len <= n && r->a - b <= n - r->len) r->inside = 1;
	}
}
static int in_ram(const fdt_t *f, u64 a, u64 len) {
	inram_t r = { f, a, len, 0 };
	fdt_walk(f, inram_visit, &r);
	return r.inside;
}

/* The header at `a`, checked enough to walk it without leaving the blob. */
static void fdt_open(fdt_t *f, u64 a) {
	f->base = a; f->ok = 0;
	u64 before = exc_count();
	u32 magic = be32(a);
	if (exc_count() != before || magic != FDT_MAGIC) return;
	f->size = be32(a + 4);
	f->off_struct = be32(a + 8); f->off_strings = be32(a + 12);
	f->size_strings = be32(a + 32); f->size_struct = be32(a + 36);
	if (f->size < 40 || f->size > FDT_MAX_SIZE) return;
	if (f->off_struct > f->size || f->size_struct > f->size - f->off_struct) return;
	if (f->off_strings > f->size || f->size_strings > f->size - f->off_strings) return;
	if (exc_count() != before) return;
	f->ok = 1;
}

static void fdt_report(out_t *o, const fdt_t *f, const dt_t *d) {
	u64 a = f->base;
	puts_(o, "fdt"); kv(o, "addr", a); kv(o, "magic", be32(a));
	if (be32(a) != FDT_MAGIC) { nl(o); return; }
	kv(o, "totalsize", be32(a + 4)); kv(o, "off_struct", be32(a + 8)); kv(o, "off_strings", be32(a + 12));
	kv(o, "off_rsvmap", be32(a + 16)); kv(o, "version", be32(a + 20)); kv(o, "last_comp", be32(a + 24));
	kv(o, "boot_cpuid", be32(a + 28)); kv(o, "size_strings", be32(a + 32)); kv(o, "size_struct", be32(a + 36));
	kv(o, "valid", f->ok); nl(o);
	if (!f->ok) return;
	/* The memory reservation block: (address, size) pairs up to a (0, 0) one. */
	u64 rsv = be32(a + 16);
	for (u64 i = 0; rsv + 16 * (i + 1) <= f->size && i < 64; i++) {
		u64 ra = be64(a + rsv + 16 * i), rs = be64(a + rsv + 16 * i + 8);
		if (!ra && !rs) break;
		puts_(o, "rsvmap"); kv(o, "addr", ra); kv(o, "size", rs); nl(o);
	}
	u64 stop = fdt_walk(f, emit_visit, &(emit_t){ f, o });
	if (stop) { puts_(o, "dt-walk-stopped"); kv(o, "offset", stop); nl(o); }
	if (d->bootargs) mem(o, "bootargs", d->bootargs, d->bootargs_len);
	if (d->have_start || d->have_end) {
		puts_(o, "initrd"); kv(o, "start", d->initrd_start); kv(o, "end", d->initrd_end); nl(o);
		if (d->have_start && d->have_end && d->initrd_end > d->initrd_start) {
			u64 n = d->initrd_end - d->initrd_start;
			if (in_ram(f, d->initrd_start, n)) hash_line(o, "initrd", d->initrd_start, n);
			else { puts_(o, "unreadable initrd"); kv(o, "addr", d->initrd_start); kv(o, "len", n); nl(o); }
		}
	}
	mem(o, "dtb", a, f->size);
}

void probe_main(u64 *save) {
	u64 base = save[SAVE_BASE / 8];
	/* arm64: x0 is the device tree; riscv64: a1. */
	u64 dtb = save[SAVE_R0 / 8 + (arch_name[0] == 'r' ? 1 : 0)];
	fdt_t f = { 0 };
	dt_t d = { 0 };
	d.f = &f;
	fdt_open(&f, dtb);
	if (f.ok) {
		fdt_walk(&f, chosen_visit, &d);
		if (d.stdout_path && d.stdout_len && rd8(d.stdout_path) == '/') {
			for (u64 i = 0; i < d.stdout_len && i < 255 && rd8(d.stdout_path + i) && rd8(d.stdout_path + i) != ':'; i++) d.want[d.want_len++] = (char)rd8(d.stdout_path + i);
			d.want[d.want_len] = 0;
		} else if (d.stdout_path) {
			fdt_walk(&f, alias_visit, &d);
		}
		fdt_walk(&f, uart_visit, &d);
	}
	out_t o = { 0 };
	o.h = FNV_OFFSET;
	const char *from = "none";
	if (d.uart_from_stdout && d.uart_okay) { o.base = d.uart; o.kind = d.uart_kind; o.shift = d.uart_shift; from = "stdout-path"; }
	else if (d.cand) { o.base = d.cand; o.kind = d.cand_kind; o.shift = d.cand_shift; from = "first-okay"; }
	else { arch_fallback_uart(&o); from = "platform-default"; }

	puts_(&o, "IMAGEPROBE 1"); nl(&o);
	puts_(&o, "arch "); puts_(&o, arch_name); nl(&o);
	puts_(&o, "variant ");
	for (int i = 0; i < 63 && probe_variant_name[i] > 0x20 && probe_variant_name[i] < 0x7f; i++) put(&o, (char)probe_variant_name[i]);
	nl(&o);
	u64 file_len = (u64)(probe_file_end - _text);
	puts_(&o, "base"); kv(&o, "addr", base); kv(&o, "len", file_len); nl(&o);
	puts_(&o, "reg");
	static const char rn[2][4][3] = { { "x0", "x1", "x2", "x3" }, { "a0", "a1", "a2", "a3" } };
	for (int i = 0; i < 4; i++) kv(&o, rn[arch_name[0] == 'r'][i], save[SAVE_R0 / 8 + i]);
	nl(&o);
	arch_cpu_report(&o, save);
	puts_(&o, "uart "); puts_(&o, o.kind == UART_PL011 ? "pl011" : "ns16550a"); kv(&o, "addr", o.base); kv(&o, "reg_shift", o.shift);
	put(&o, ' '); puts_(&o, "from="); puts_(&o, from); nl(&o);
	/* The file-backed image as it is now: nothing above has written to it. */
	hash_line(&o, "image", base, file_len);
	fdt_report(&o, &f, &d);
	exc_report(&o);
	/* The end line is not part of the checksum. */
	u64 lines = o.lines, len = o.length, h = o.h;
	if (o.filled) h = (h ^ o.word) * FNV_PRIME;
	h = (h ^ len) * FNV_PRIME;
	puts_(&o, "end"); kv(&o, "lines", lines); kv(&o, "hash64", h); nl(&o);
	arch_exit(d.psci_smc, d.psci_known);
}
