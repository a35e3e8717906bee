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



/* Entries that run in long mode from their first instruction. */
static int is64(u64 kind) { return kind == KIND_64 || kind == KIND_EFI_STUB || kind == KIND_EFI_H64; }

static void segs(out_t *o, const u64 *save) {
	static const char names[7][3] = {"cs", "ds", "es", "ss", "fs", "gs", "tr"};
	u16 glimit = rd16((u64)&save[SAVE_GDTR / 8]);
	u64 gbase = *(const u64 *)((const u8 *)save + SAVE_GDTR + 2);
	if (!is64(save[SAVE_KIND / 8])) gbase &= 0xffffffffULL;
	for (int i = 0; i < 7; i++) {
		u16 sel = (u16)save[SAVE_SEL / 8 + i];
		puts_(o, "seg "); puts_(o, names[i]); kv(o, "sel", sel);
		u64 off = sel & 0xfff8;
		if (sel >= 4 && !(sel & 4) && off + 7 <= glimit && readable(gbase + off, 8)) kv(o, "desc", rd64(gbase + off));
		nl(o);
	}
}

/* ---- EFI: what the firmware and the loader provide at the PE/COFF entry and the handover
   entry, gathered through boot services while they still run (on the firmware's own page
   tables, GDT and stack), kept in probe_efi_facts, reported after the switch to our own. ---- */
#define EFI_SUCCESS 0ULL
#define EFI_BUFFER_TOO_SMALL 0x8000000000000005ULL
#define EFI_NOT_STARTED 0x8000000000000013ULL   /* our marker: a call that was not made */
#define EFI_SYSTAB_SIGNATURE 0x5453595320494249ULL   /* "IBI SYST" */
#define EFI_ALLOCATE_ANY_PAGES 0
#define EFI_LOADER_DATA 2
typedef u64 efi_status;
typedef efi_status (__attribute__((ms_abi)) *efi_handle_protocol_fn)(u64 handle, const u8 *guid, u64 *iface);
typedef efi_status (__attribute__((ms_abi)) *efi_locate_device_path_fn)(const u8 *guid, u64 *dp, u64 *handle);
typedef efi_status (__attribute__((ms_abi)) *efi_allocate_pages_fn)(u32 type, u32 memtype, u64 pages, u64 *addr);
typedef efi_status (__attribute__((ms_abi)) *efi_get_memory_map_fn)(u64 *size, u64 map, u64 *key, u64 *desc_size, u32 *desc_version);
typedef efi_status (__attribute__((ms_abi)) *efi_load_file_fn)(u64 self, u64 dp, u8 boot_policy, u64 *size, u64 buffer);

/* GUIDs in their in-memory layout (u32, u16, u16, 8 bytes). */
static const u8 guid_loaded_image[16] = {0xa1,0x31,0x1b,0x5b, 0x62,0x95, 0xd2,0x11, 0x8e,0x3f,0x00,0xa0,0xc9,0x69,0x72,0x3b};
static const u8 guid_load_file2[16] = {0xc1,0xc0,0x06,0x40, 0xb3,0xfc, 0x3e,0x40, 0x99,0x6d,0x4a,0x6c,0x87,0x24,0xe0,0x6d};
/* The vendor media device path LINUX_EFI_INITRD_MEDIA_GUID (5568e427-68fc-4f3d-ac74-ca555231cc68)
   and the end node, as efi-stub-helper.c's initrd_dev_path. */
static const u8 initrd_dev_path[24] = {0x04, 0x03, 20, 0,
	0x27,0xe4,0x68,0x55, 0xfc,0x68, 0x3d,0x4f, 0xac,0x74,0xca,0x55,0x52,0x31,0xcc,0x68,
	0x7f, 0xff, 4, 0};

/* probe_efi_facts, one u64 slot each. */
enum { F_HANDLE, F_SYSTAB, F_SYSTAB_OK, F_BOOT_SERVICES, F_LI_STATUS, F_LI, F_LF2_LOCATE, F_LF2_PROBE, F_LF2_SIZE,
       F_LF2_ALLOC, F_LF2_STATUS, F_LF2_ADDR, F_LF2_LEN, F_MM_STATUS, F_MM_ADDR, F_MM_SIZE, F_MM_DESC, F_MM_VERSION, F_MM_KEY, F_COUNT };
extern u8 probe_efi_facts[];

static void efi_collect(u64 handle, u64 systab) {
	u64 *f = (u64 *)probe_efi_facts;
	for (int i = 0; i < F_COUNT; i++) f[i] = EFI_NOT_STARTED;
	f[F_HANDLE] = handle; f[F_SYSTAB] = systab;
	f[F_SYSTAB_OK] = 0; f[F_BOOT_SERVICES] = 0; f[F_LI] = 0; f[F_LF2_SIZE] = 0; f[F_LF2_ADDR] = 0; f[F_LF2_LEN] = 0;
	f[F_MM_ADDR] = 0; f[F_MM_SIZE] = 0; f[F_MM_DESC] = 0; f[F_MM_VERSION] = 0; f[F_MM_KEY] = 0;
	/* Only a table with the right signature is trusted with calls (x86-stub.c does the same). */
	if (!systab || !readable(systab, 0x78) || rd64(systab) != EFI_SYSTAB_SIGNATURE) return;
	f[F_SYSTAB_OK] = 1;
	u64 bs = rd64(systab + 0x60);
	f[F_BOOT_SERVICES] = bs;
	if (!bs || !readable(bs, 0x100)) return;
	efi_handle_protocol_fn handle_protocol = (efi_handle_protocol_fn)rd64(bs + 0x98);
	efi_locate_device_path_fn locate_device_path = (efi_locate_device_path_fn)rd64(bs + 0xb8);
	efi_allocate_pages_fn allocate_pages = (efi_allocate_pages_fn)rd64(bs + 0x28);
	efi_get_memory_map_fn get_memory_map = (efi_get_memory_map_fn)rd64(bs + 0x38);

	u64 li = 0;
	f[F_LI_STATUS] = handle_protocol(handle, guid_loaded_image, &li);
	f[F_LI] = f[F_LI_STATUS] == EFI_SUCCESS ? li : 0;

	/* The initrd, as the kernel's stub asks for it (efi_load_initrd_dev_path): LoadFile gets the
	   device path that LocateDevicePath left, the remainder after the vendor node (its end node). */
	u64 dp = (u64)initrd_dev_path, lf2_handle = 0, lf2 = 0;
	f[F_LF2_LOCATE] = locate_device_path(guid_load_file2, &dp, &lf2_handle);
	if (f[F_LF2_LOCATE] == EFI_SUCCESS && handle_protocol(lf2_handle, guid_load_file2, &lf2) == EFI_SUCCESS && lf2) {
		efi_load_file_fn load_file = (efi_load_file_fn)rd64(lf2);
		u64 size = 0;
		f[F_LF2_PROBE] = load_file(lf2, dp, 0, &size, 0);
		f[F_LF2_SIZE] = size;
		if (f[F_LF2_PROBE] == EFI_BUFFER_TOO_SMALL && size && size < (1ULL << 32)) {
			u64 addr = 0;
			f[F_LF2_ALLOC] = allocate_pages(EFI_ALLOCATE_ANY_PAGES, EFI_LOADER_DATA, (size + 4095) >> 12, &addr);
			if (f[F_LF2_ALLOC] == EFI_SUCCESS) {
				u64 got = size;
				f[F_LF2_STATUS] = load_file(lf2, dp, 0, &got, addr);
				f[F_LF2_ADDR] = addr; f[F_LF2_LEN] = got;
			}
		}
	}

	/* The memory map: ask for its size, then read it into pages of our own. */
	u64 size = 0, key = 0, dsize = 0; u32 dver = 0;
	efi_status st = get_memory_map(&size, 0, &key, &dsize, &dver);
	if (st == EFI_BUFFER_TOO_SMALL && size && size < (1 << 20)) {
		u64 buf = 0, room = size + 8 * 64;   /* the allocation itself may add descriptors */
		if (allocate_pages(EFI_ALLOCATE_ANY_PAGES, EFI_LOADER_DATA, (room + 4095) >> 12, &buf) == EFI_SUCCESS) {
			size = (room + 4095) & ~4095ULL;
			st = get_memory_map(&size, buf, &key, &dsize, &dver);
			f[F_MM_ADDR] = buf;
		}
	}
	f[F_MM_STATUS] = st; f[F_MM_SIZE] = size; f[F_MM_DESC] = dsize; f[F_MM_VERSION] = dver; f[F_MM_KEY] = key;
}

static void efi_report(out_t *o) {
	const u64 *f = (const u64 *)probe_efi_facts;
	puts_(o, "efi"); kv(o, "handle", f[F_HANDLE]); kv(o, "systab", f[F_SYSTAB]); kv(o, "systab_ok", f[F_SYSTAB_OK]); kv(o, "boot_services", f[F_BOOT_SERVICES]); nl(o);
	if (!f[F_SYSTAB_OK]) return;
	mem(o, "efi_systab", f[F_SYSTAB], 0x78);
	puts_(o, "efi"); kv(o, "loaded_image_status", f[F_LI_STATUS]); kv(o, "loaded_image", f[F_LI]); nl(o);
	if (f[F_LI] && readable(f[F_LI], 0x60)) {
		mem(o, "efi_loaded_image", f[F_LI], 0x60);
		u32 n = rd32(f[F_LI] + 0x30);
		u64 opts = rd64(f[F_LI] + 0x38);
		if (opts && n) mem(o, "efi_load_options", opts, n > 65536 ? 65536 : n);
	}
	puts_(o, "efi"); kv(o, "lf2_locate_status", f[F_LF2_LOCATE]); kv(o, "lf2_probe_status", f[F_LF2_PROBE]); kv(o, "lf2_probe_size", f[F_LF2_SIZE]);
	kv(o, "lf2_alloc_status", f[F_LF2_ALLOC]); kv(o, "lf2_load_status", f[F_LF2_STATUS]); kv(o, "lf2_addr", f[F_LF2_ADDR]); kv(o, "lf2_size", f[F_LF2_LEN]); nl(o);
	if (f[F_LF2_ADDR] && f[F_LF2_STATUS] == EFI_SUCCESS) hash_line(o, "efi_initrd", f[F_LF2_ADDR], f[F_LF2_LEN]);
	puts_(o, "efi"); kv(o, "memmap_status", f[F_MM_STATUS]); kv(o, "memmap_addr", f[F_MM_ADDR]); kv(o, "memmap_size", f[F_MM_SIZE]);
	kv(o, "desc_size", f[F_MM_DESC]); kv(o, "desc_version", f[F_MM_VERSION]); kv(o, "map_key", f[F_MM_KEY]); nl(o);
	if (f[F_MM_STATUS] == EFI_SUCCESS && f[F_MM_ADDR]) mem(o, "efi_memmap", f[F_MM_ADDR], f[F_MM_SIZE] > 65536 ? 65536 : f[F_MM_SIZE]);
}

static void report(u64 *save) {
	out_t o = { probe_report, probe_report + REPORT_SIZE - 64, 0, 0, save[SAVE_BASE / 8] };
	u64 kind = save[SAVE_KIND / 8];
	u64 base = save[SAVE_BASE / 8];
	int rm = kind == KIND_32 && (u32)save[SAVE_RBP / 8] == RM_MAGIC;
	extern u8 efi_pe_entry[], efi_handover64[];
	u64 rip = kind == KIND_64 ? base + 0x200 : kind == KIND_PVH ? save[SAVE_RAX / 8] : base;
	if (kind == KIND_EFI_STUB) rip = base + (u64)(efi_pe_entry - startup_32);
	if (kind == KIND_EFI_H64) rip = base + (u64)(efi_handover64 - startup_32);
	puts_(&o, "BOOTPROBE 1"); nl(&o);
	{
		extern u8 probe_variant[];
		puts_(&o, "variant ");
		for (int i = 0; i < 63 && probe_variant[i] > 0x20 && probe_variant[i] < 0x7f; i++) put(&o, (char)probe_variant[i]);
		nl(&o);
	}
	puts_(&o, "entry ");
	puts_(&o, rm ? "16" : kind == KIND_32 ? "32" : kind == KIND_64 ? "64" : kind == KIND_EFI_STUB ? "efi-stub" : kind == KIND_EFI_H64 ? "efi-handover-64" : "pvh");
	nl(&o);
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
	if (!is64(kind)) { gbase &= 0xffffffffULL; ibase &= 0xffffffffULL; }
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
	} else if (kind == KIND_EFI_STUB) {
		efi_report(&o);   /* no boot_params: the firmware hands over a handle and its system table */
	} else {
		u64 zp = kind == KIND_64 ? save[SAVE_RSI / 8] : kind == KIND_EFI_H64 ? save[SAVE_RDX / 8] : (u32)save[SAVE_RSI / 8];
		if (kind == KIND_EFI_H64) efi_report(&o);
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
			/* efi_info (0x1C0): an EFI loader that exited boot services itself names the system
			   table and the memory map it got there; show both. At the 16-bit entry those bytes
			   are the boot sector's. */
			u32 esig = rm ? 0 : rd32(zp + 0x1c0);
			if (esig == 0x34364c45 || esig == 0x32334c45) {   /* "EL64", "EL32" */
				u64 st = rd32(zp + 0x1c4) | (u64)rd32(zp + 0x1d8) << 32, mm = rd32(zp + 0x1d0) | (u64)rd32(zp + 0x1dc) << 32;
				u32 msize = rd32(zp + 0x1d4);
				if (st) mem(&o, "efi_systab", st, 0x78);
				if (mm && msize) mem(&o, "efi_info_memmap", mm, msize > 65536 ? 65536 : msize);
			}
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

/* Our own identity map of [0, 8 GiB) and GDT, in place of the loader's (or the firmware's). */
static void own_tables(void) {
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
}

/* 64-bit entry: still on the loader's page tables and GDT; move to our own, then report. */
void probe_main64(u64 *save) {
	own_tables();
	report(save);
}

/* The EFI entries: boot services first, on the firmware's tables and stack; then interrupts
   off, our own tables, and the report. SS keeps the firmware's stack (identity-mapped). */
void probe_efi(u64 *save) {
	u64 kind = save[SAVE_KIND / 8];
	if (kind == KIND_EFI_STUB) efi_collect(save[SAVE_RCX / 8], save[SAVE_RDX / 8]);
	else efi_collect(save[SAVE_RDI / 8], save[SAVE_RSI / 8]);
	__asm__ volatile("cli" ::: "memory");
	own_tables();
	report(save);
}
