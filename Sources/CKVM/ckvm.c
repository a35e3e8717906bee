#include "CKVM.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

int ckvm_ioctl_value(int fd, unsigned long request, unsigned long value) {
    int r = ioctl(fd, request, value);
    return r < 0 ? -errno : r;
}

int ckvm_ioctl_pointer(int fd, unsigned long request, void *argument) {
    int r = ioctl(fd, request, argument);
    return r < 0 ? -errno : r;
}

static void ckvm_kick(int signo) { (void)signo; }

int ckvm_install_kick_handler(int signo) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ckvm_kick;   // no SA_RESTART: KVM_RUN returns -EINTR
    sigemptyset(&sa.sa_mask);
    return sigaction(signo, &sa, NULL) < 0 ? -errno : 0;
}
