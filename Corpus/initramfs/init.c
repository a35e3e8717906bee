/* BootConformance's userspace witness: PID 1 of the initramfs that real kernels boot into.
 *
 * It reports, in a parseable form between two markers, what the kernel says it received:
 *   - the zero page as the kernel kept it (/sys/kernel/boot_params/data),
 *   - the command line (/proc/cmdline),
 *   - the firmware memory map (/sys/firmware/memmap/N/{start,end,type}),
 *   - the files the kernel unpacked from its initrd, with their sizes and hash64,
 *   - where the kernel itself sits (/proc/iomem "Kernel …" lines) and the kernel-log lines
 *     about the initrd, command line and e820,
 * then leaves through isa-debug-exit (port 0x501) where there is one, else powers off.
 *
 * Built for arm64 and riscv64 as well (build.sh ARCH, a cross compiler), where the kernel was
 * handed a device tree instead of boot_params: there it also reports the flattened tree the
 * kernel was given (/sys/firmware/fdt), the properties of /chosen, the root's cell sizes, the
 * /memory and /reserved-memory nodes as the kernel unflattened them (/proc/device-tree), and the
 * /proc/iomem "System RAM" and reserved lines; it leaves by powering off (PSCI SYSTEM_OFF on
 * arm64, SBI SRST on riscv64), which ends QEMU with status 0.
 *
 * Report lines (all start with "kinit "; numbers are hex without 0x):
 *   kinit version 1
 *   kinit kernel RELEASE
 *   kinit bootparams SIZE
 *   kinit bp OFFSET HEX           64-byte rows of the zero page; all-zero rows are left out
 *   kinit cmdline HEX             /proc/cmdline without its trailing newline
 *   kinit memmap START END TYPE   END inclusive, as sysfs gives it; TYPE is the rest of the line
 *   kinit file PATH SIZE HASH64   every regular file (PATH has no spaces in our initramfs)
 *   kinit dir PATH | kinit node PATH MODE
 *   kinit iomem TEXT | kinit klog TEXT
 * and, on architectures booted with a device tree:
 *   kinit fdt SIZE HASH64         /sys/firmware/fdt: its size and hash64
 *   kinit fdtrow OFFSET HEX       its 64-byte rows; all-zero rows are left out
 *   kinit dtprop PATH HEX         a property under /proc/device-tree (PATH from the root: /chosen/bootargs)
 *   kinit end lines=N hash64=H    N lines before this one; H over their bytes
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#endif
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#define START_MARKER "BOOTCONFORM-INIT-START"
#define END_MARKER "BOOTCONFORM-INIT-END"
#define DEBUG_EXIT_PORT 0x501

/* The probe kernel's hash64 (Corpus/probe/probe.c): FNV-1a over little-endian 64-bit words,
   the last one zero-padded, then the length. The judge recomputes it on the host. */
static uint64_t hash64(const unsigned char *p, uint64_t len) {
	uint64_t h = 0xcbf29ce484222325ULL, i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	if (i < len) {
		uint64_t w = 0;
		for (uint64_t k = 0; i + k < len; k++) w |= (uint64_t)p[i + k] << (8 * k);
		h = (h ^ w) * 0x100000001b3ULL;
	}
	return (h ^ len) * 0x100000001b3ULL;
}

static char *report;
static size_t used, capacity;
static unsigned lines;

static void add(const char *fmt, ...) {
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(report + used, capacity - used, fmt, ap);
		va_end(ap);
		if (n < 0) return;
		if ((size_t)n < capacity - used) { used += (size_t)n; break; }
		capacity = capacity * 2 + (size_t)n;
		report = realloc(report, capacity);
		if (!report) _exit(111);
	}
}
static void line(const char *fmt, ...) {
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	add("kinit %s\n", buf);
	lines++;
}

/* A whole file into memory (sysfs and procfs files report size 0, so read until EOF). */
static unsigned char *slurp(const char *path, size_t *len) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NULL;
	size_t cap = 1 << 16, n = 0;
	unsigned char *b = malloc(cap);
	for (;;) {
		if (n == cap) b = realloc(b, cap *= 2);
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return b;
}

static void hexline(const char *tag, const unsigned char *p, size_t n) {
	char *h = malloc(2 * n + 1);
	for (size_t i = 0; i < n; i++) sprintf(h + 2 * i, "%02x", p[i]);
	h[2 * n] = 0;
	line("%s %s", tag, h);
	free(h);
}

/* The nonzero 64-byte rows of B as "KEY OFFSET HEX" lines (the host fills the rest with zeros). */
static void rows(const char *key, const unsigned char *b, size_t n) {
	for (size_t off = 0; off < n; off += 64) {
		size_t k = n - off < 64 ? n - off : 64, z = 0;
		while (z < k && b[off + z] == 0) z++;
		if (z == k) continue;
		char tag[32];
		snprintf(tag, sizeof tag, "%s %zx", key, off);
		hexline(tag, b + off, k);
	}
}

static void boot_params(void) {
	size_t n;
	unsigned char *b = slurp("/sys/kernel/boot_params/data", &n);
	if (!b) { line("unreadable /sys/kernel/boot_params/data %d", errno); return; }
	line("bootparams %zx", n);
	rows("bp", b, n);
	free(b);
}

static void command_line(void) {
	size_t n;
	unsigned char *b = slurp("/proc/cmdline", &n);
	if (!b) { line("unreadable /proc/cmdline %d", errno); return; }
	if (n && b[n - 1] == '\n') n--;
	hexline("cmdline", b, n);
	free(b);
}

static char *trimmed(const char *path) {
	size_t n;
	unsigned char *b = slurp(path, &n);
	if (!b) return NULL;
	while (n && (b[n - 1] == '\n' || b[n - 1] == ' ')) n--;
	b[n] = 0;
	return (char *)b;
}

static void memory_map(void) {
	for (int i = 0;; i++) {
		char p[96];
		snprintf(p, sizeof p, "/sys/firmware/memmap/%d/start", i);
		char *s = trimmed(p);
		if (!s) { if (i == 0) line("unreadable /sys/firmware/memmap %d", errno); break; }
		snprintf(p, sizeof p, "/sys/firmware/memmap/%d/end", i);
		char *e = trimmed(p);
		snprintf(p, sizeof p, "/sys/firmware/memmap/%d/type", i);
		char *t = trimmed(p);
		line("memmap %llx %llx %s", strtoull(s, NULL, 0), e ? strtoull(e, NULL, 0) : 0ULL, t ? t : "?");
		free(s); free(e); free(t);
	}
}

static void walk(const char *dir) {
	DIR *d = opendir(dir);
	if (!d) return;
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	closedir(d);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[1024];
		if (!strcmp(name, ".") || !strcmp(name, "..")) { free(names[i]); continue; }
		snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") ? dir : "", name);
		free(names[i]);
		if (!strcmp(path, "/proc") || !strcmp(path, "/sys") || !strcmp(path, "/dev")) { line("dir %s", path); continue; }
		struct stat st;
		if (lstat(path, &st) != 0) continue;
		if (S_ISDIR(st.st_mode)) { line("dir %s", path); walk(path); }
		else if (S_ISREG(st.st_mode)) {
			size_t len;
			unsigned char *b = slurp(path, &len);
			if (b) line("file %s %zx %016llx", path, len, (unsigned long long)hash64(b, len));
			free(b);
		} else line("node %s %o", path, (unsigned)st.st_mode);
	}
	free(names);
}

static void grep_lines(const char *tag, const char *text, size_t n, const char *const *keys) {
	const char *p = text, *end = text + n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[512];
		size_t c = k < sizeof buf - 1 ? k : sizeof buf - 1;
		memcpy(buf, p, c);
		buf[c] = 0;
		for (const char *const *key = keys; *key; key++)
			if (strstr(buf, *key)) { line("%s %s", tag, buf); break; }
		p += k + 1;
	}
}

static void kernel_placement(void) {
	size_t n;
	unsigned char *b = slurp("/proc/iomem", &n);
#if defined(__x86_64__) || defined(__i386__)
	static const char *const iomem_keys[] = {"Kernel ", NULL};
#else
	static const char *const iomem_keys[] = {"Kernel ", "System RAM", "eserved", NULL};
#endif
	if (b) { grep_lines("iomem", (char *)b, n, iomem_keys); free(b); }
	int size = klogctl(10, NULL, 0);
	if (size > 0) {
		char *k = malloc((size_t)size);
		int got = klogctl(3, k, size);
		static const char *const klog_keys[] = {"RAMDISK", "initrd", "initramfs", "Command line", "e820", "PVH", NULL};
		if (got > 0) grep_lines("klog", k, (size_t)got, klog_keys);
		free(k);
	}
}

#if !defined(__x86_64__) && !defined(__i386__)
/* Every property file of the directory DIR under /proc/device-tree (not its subnodes). */
static void dt_properties(const char *dir) {
	char base[512];
	snprintf(base, sizeof base, "/proc/device-tree%s", dir);
	struct dirent **names;
	int n = scandir(base, &names, NULL, alphasort);
	if (n < 0) { line("unreadable %s %d", base, errno); return; }
	for (int i = 0; i < n; i++) {
		char path[1024];
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", base, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			size_t len;
			unsigned char *b = slurp(path, &len);
			if (b) {
				char tag[600];
				snprintf(tag, sizeof tag, "dtprop %s/%s", strcmp(dir, "/") ? dir : "", names[i]->d_name);
				hexline(tag, b, len);
				free(b);
			}
		}
		free(names[i]);
	}
	free(names);
}

/* The root's subnodes whose names start with PREFIX ("memory", "reserved-memory"), with
   their properties; for "reserved-memory" also its children. */
static void dt_nodes(const char *prefix, int children) {
	struct dirent **names;
	int n = scandir("/proc/device-tree", &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t k = strlen(prefix);
		if (!strncmp(name, prefix, k) && (name[k] == 0 || name[k] == '@')) {
			char dir[300];
			snprintf(dir, sizeof dir, "/%s", name);
			dt_properties(dir);
			if (children) {
				char full[400];
				snprintf(full, sizeof full, "/proc/device-tree%s", dir);
				struct dirent **sub;
				int m = scandir(full, &sub, NULL, alphasort);
				for (int j = 0; j < m; j++) {
					char child[600], cpath[800];
					struct stat st;
					snprintf(child, sizeof child, "%s/%s", dir, sub[j]->d_name);
					snprintf(cpath, sizeof cpath, "/proc/device-tree%s", child);
					if (sub[j]->d_name[0] != '.' && stat(cpath, &st) == 0 && S_ISDIR(st.st_mode)) dt_properties(child);
					free(sub[j]);
				}
				if (m > 0) free(sub);
			}
		}
		free(names[i]);
	}
	if (n > 0) free(names);
}

static void device_tree(void) {
	size_t n;
	unsigned char *b = slurp("/sys/firmware/fdt", &n);
	if (!b) line("unreadable /sys/firmware/fdt %d", errno);
	else {
		line("fdt %zx %016llx", n, (unsigned long long)hash64(b, n));
		rows("fdtrow", b, n);
		free(b);
	}
	static const char *const cells[] = {"#address-cells", "#size-cells", "model", "compatible", NULL};
	for (const char *const *c = cells; *c; c++) {
		char path[128];
		snprintf(path, sizeof path, "/proc/device-tree/%s", *c);
		unsigned char *v = slurp(path, &n);
		if (!v) continue;
		char tag[160];
		snprintf(tag, sizeof tag, "dtprop /%s", *c);
		hexline(tag, v, n);
		free(v);
	}
	dt_properties("/chosen");
	dt_nodes("memory", 0);
	dt_nodes("reserved-memory", 1);
}
#endif

static void write_all(int fd, const char *p, size_t n) {
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) return;
		p += w; n -= (size_t)w;
	}
}

int main(void) {
	if (fcntl(1, F_GETFD) < 0) {
		mkdir("/dev", 0755);
		mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
		int fd = open("/dev/console", O_RDWR);
		if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); if (fd > 2) close(fd); }
	}
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);

	capacity = 1 << 16;
	report = malloc(capacity);
	struct utsname u;
	line("version 1");
	if (uname(&u) == 0) line("kernel %s", u.release);
	boot_params();
	command_line();
	memory_map();
	walk("/");
	kernel_placement();
#if !defined(__x86_64__) && !defined(__i386__)
	device_tree();
#endif
	uint64_t h = hash64((unsigned char *)report, used);
	char end[96];
	snprintf(end, sizeof end, "kinit end lines=%x hash64=%016llx\n", lines, (unsigned long long)h);

	write_all(1, "\n" START_MARKER "\n", sizeof START_MARKER + 1);
	write_all(1, report, used);
	write_all(1, end, strlen(end));
	write_all(1, END_MARKER "\n", sizeof END_MARKER);
	fsync(1);
	tcdrain(1);

#if defined(__x86_64__) || defined(__i386__)
	/* isa-debug-exit turns value 0 into exit status 1; without the device the write is lost. */
	if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0) outl(0, DEBUG_EXIT_PORT);
#endif
	sync();
	reboot(RB_POWER_OFF);
	for (;;) pause();
}
