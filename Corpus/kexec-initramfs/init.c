/* BootConformance's kexec driver: PID 1 of the initramfs in which a real Linux kernel is the
 * loader under test (the `kexec-load` and `kexec-file` matrix adapters, issue 13).
 *
 * The outer kernel's command line chooses the run, so one initramfs serves every variant:
 *   probe=ID        the probe variant: /probe/ID.kernel, /probe/ID.cmdline (the command line
 *                   to pass, as bytes), /probe/ID.initrd when the variant has one
 *   kexec=load|file load with kexec_load (`kexec -l`) or kexec_file_load (`kexec -s -l`)
 * It runs /sbin/kexec (Debian kexec-tools, with the shared libraries ldd names) to load the
 * probe, then `kexec -e`. The probe reports on COM1 and leaves through isa-debug-exit itself.
 * An ELF is loaded with `--args-linux` (kexec-tools' elf-x86_64 loader then builds Linux
 * boot_params, the way a vmlinux is kexec'd; without it kexec-tools passes ELF boot notes).
 * `kexec -s` probes the image in userspace first and, for anything but a bzImage64, fails
 * there without asking the kernel; after any failure in file mode the driver therefore calls
 * kexec_file_load(2) itself, so the kernel's own verdict (kexec-bzimage64.c) is in the log.
 *
 * Lines it prints on the console (all start with "kexec-init "):
 *   kexec-init run ARG…                  the kexec command line (arguments separated by spaces)
 *   kexec-init loaded                    `kexec -l` succeeded; `kexec -e` follows
 *   kexec-init refused status=N          `kexec -l` failed: the loader refused the image
 *   kexec-init syscall TEXT              file mode, after a refusal: kexec_file_load(2) called
 *                                        directly, "refused ERRNO-TEXT" or "accepted"
 *   kexec-init dmesg TEXT                after a refusal or error: the kernel log, line by line
 *   kexec-init error TEXT                anything else that went wrong (no variant, no kexec)
 *   kexec-init done                      the last line after a refusal or error
 * After "done" it leaves through isa-debug-exit with 2 (QEMU exit status 5), else powers off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0x501
#define KEXEC "/sbin/kexec"

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	printf("kexec-init ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

static void leave(void) {
	say("done");
	sync();
	if (ioperm(DEBUG_EXIT_PORT, 2, 1) == 0) outb(2, DEBUG_EXIT_PORT);
	reboot(RB_POWER_OFF);
	for (;;) pause();
}

/* The kernel log, one "kexec-init dmesg" line per line, for the refusal's words. */
static void dump_dmesg(void) {
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	if (n <= 0) n = 1 << 17;
	char *buf = malloc((size_t)n + 1);
	if (!buf) return;
	int got = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, n);
	if (got < 0) { say("error klogctl: %s", strerror(errno)); free(buf); return; }
	buf[got] = 0;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next) *next++ = 0;
		say("dmesg %s", line);
	}
	free(buf);
}

/* The value of KEY=… on /proc/cmdline (at most cap-1 bytes), or an empty string. */
static void cmdline_value(const char *cmdline, const char *key, char *out, size_t cap) {
	size_t klen = strlen(key);
	out[0] = 0;
	for (const char *p = cmdline; *p;) {
		while (*p == ' ' || *p == '\n') p++;
		const char *end = p;
		while (*end && *end != ' ' && *end != '\n') end++;
		if ((size_t)(end - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t n = (size_t)(end - p) - klen - 1;
			if (n >= cap) n = cap - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = 0;
			return;
		}
		p = end;
	}
}

static char *read_file(const char *path, size_t *size) {
	int fd = open(path, O_RDONLY);
	if (fd < 0) return NULL;
	size_t cap = 4096, used = 0;
	char *b = malloc(cap + 1);
	for (;;) {
		if (!b) { close(fd); return NULL; }
		ssize_t r = read(fd, b + used, cap - used);
		if (r < 0) { if (errno == EINTR) continue; free(b); close(fd); return NULL; }
		if (r == 0) break;
		used += (size_t)r;
		if (used == cap) { cap *= 2; b = realloc(b, cap + 1); }
	}
	close(fd);
	b[used] = 0;
	if (size) *size = used;
	return b;
}

static const char *kernel_path_for(const char *id) {
	static char path[300];
	snprintf(path, sizeof path, "/probe/%s.kernel", id);
	return path;
}

static int run(char *const argv[]) {
	pid_t pid = fork();
	if (pid < 0) { say("error fork: %s", strerror(errno)); return -1; }
	if (pid == 0) {
		execv(argv[0], argv);
		say("error exec %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) { say("error waitpid: %s", strerror(errno)); return -1; }
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(void) {
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	char *cmdline = read_file("/proc/cmdline", NULL);
	if (!cmdline) { say("error cannot read /proc/cmdline: %s", strerror(errno)); leave(); }
	char id[256], mode[16];
	cmdline_value(cmdline, "probe", id, sizeof id);
	cmdline_value(cmdline, "kexec", mode, sizeof mode);
	if (!id[0] || strchr(id, '/')) { say("error no probe=ID on the command line"); leave(); }
	int file_mode = strcmp(mode, "file") == 0;
	char magic[4] = {0};
	int kfd = open(kernel_path_for(id), O_RDONLY);
	if (kfd >= 0) { if (read(kfd, magic, 4) != 4) magic[0] = 0; close(kfd); }
	int is_elf = memcmp(magic, "\177ELF", 4) == 0;
	if (!file_mode && strcmp(mode, "load") != 0) { say("error kexec=%s: want load or file", mode); leave(); }

	char kernel[300], initrd[300], cmdpath[300];
	snprintf(kernel, sizeof kernel, "/probe/%s.kernel", id);
	snprintf(initrd, sizeof initrd, "/probe/%s.initrd", id);
	snprintf(cmdpath, sizeof cmdpath, "/probe/%s.cmdline", id);
	struct stat st;
	if (stat(kernel, &st) != 0) { say("error no %s", kernel); leave(); }
	size_t cmdlen = 0;
	char *probe_cmdline = read_file(cmdpath, &cmdlen);
	if (!probe_cmdline) { say("error no %s", cmdpath); leave(); }

	char *cmdarg = malloc(cmdlen + 32), *initrdarg = malloc(strlen(initrd) + 16);
	if (!cmdarg || !initrdarg) leave();
	sprintf(cmdarg, "--command-line=%s", probe_cmdline);
	sprintf(initrdarg, "--initrd=%s", initrd);
	char *argv[10];
	int n = 0;
	argv[n++] = KEXEC;
	if (file_mode) argv[n++] = "-s";
	argv[n++] = "-l";
	if (is_elf && !file_mode) argv[n++] = "--args-linux";
	argv[n++] = kernel;
	if (stat(initrd, &st) == 0) argv[n++] = initrdarg;
	argv[n++] = cmdarg;
	argv[n] = NULL;
	printf("kexec-init run");
	for (int i = 0; i < n; i++) printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);

	int status = run(argv);
	if (status != 0) {
		say("refused status=%d", status);
		if (file_mode) {
			/* The kernel's verdict, without kexec-tools' userspace probe in front of it. */
			int k = open(kernel, O_RDONLY), i = stat(initrd, &st) == 0 ? open(initrd, O_RDONLY) : -1;
			long r = syscall(SYS_kexec_file_load, k, i, cmdlen + 1, probe_cmdline, i < 0 ? 0x4UL /* KEXEC_FILE_NO_INITRAMFS */ : 0UL);
			if (r == 0) say("syscall accepted");
			else say("syscall refused %s", strerror(errno));
		}
		dump_dmesg();
		leave();
	}
	say("loaded");
	char *exec_argv[] = {KEXEC, "-e", NULL};
	status = run(exec_argv);
	say("error kexec -e returned status=%d", status);
	dump_dmesg();
	leave();
}
