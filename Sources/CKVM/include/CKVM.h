// CKVM: only what Swift cannot express about /dev/kvm.
//
// Return convention for every function here: the ioctl's (or call's) non-negative result on
// success, or -errno on failure. Nothing here keeps state or makes decisions; the logic is in
// HarnessKVM (Swift).
#ifndef CKVM_H
#define CKVM_H

#include <linux/kvm.h>
#include <stddef.h>

// ioctl request numbers are function-like macros in <linux/kvm.h>; Swift imports none of them.
static const unsigned long CKVM_GET_API_VERSION = KVM_GET_API_VERSION;
static const unsigned long CKVM_CREATE_VM = KVM_CREATE_VM;
static const unsigned long CKVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
static const unsigned long CKVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
static const unsigned long CKVM_GET_SUPPORTED_CPUID = KVM_GET_SUPPORTED_CPUID;
static const unsigned long CKVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
static const unsigned long CKVM_CREATE_VCPU = KVM_CREATE_VCPU;
static const unsigned long CKVM_SET_TSS_ADDR = KVM_SET_TSS_ADDR;
static const unsigned long CKVM_SET_IDENTITY_MAP_ADDR = KVM_SET_IDENTITY_MAP_ADDR;
static const unsigned long CKVM_CREATE_IRQCHIP = KVM_CREATE_IRQCHIP;
static const unsigned long CKVM_CREATE_PIT2 = KVM_CREATE_PIT2;
static const unsigned long CKVM_IRQ_LINE = KVM_IRQ_LINE;
static const unsigned long CKVM_RUN = KVM_RUN;
static const unsigned long CKVM_GET_REGS = KVM_GET_REGS;
static const unsigned long CKVM_SET_REGS = KVM_SET_REGS;
static const unsigned long CKVM_GET_SREGS = KVM_GET_SREGS;
static const unsigned long CKVM_SET_SREGS = KVM_SET_SREGS;
static const unsigned long CKVM_SET_CPUID2 = KVM_SET_CPUID2;
static const unsigned long CKVM_GET_MP_STATE = KVM_GET_MP_STATE;

/// ioctl(fd, request, value) for ioctls that take an integer argument.
int ckvm_ioctl_value(int fd, unsigned long request, unsigned long value);
/// ioctl(fd, request, pointer) for ioctls that take a structure.
int ckvm_ioctl_pointer(int fd, unsigned long request, void *argument);

/// Installs an empty handler for `signo` without SA_RESTART, so a signal sent to a thread
/// inside KVM_RUN makes that ioctl return -EINTR. (sigaction's handler union does not import
/// cleanly into Swift.)
int ckvm_install_kick_handler(int signo);

/// `struct kvm_cpuid2` ends in a flexible array; its size with room for `entries` entries.
static inline size_t ckvm_cpuid2_size(unsigned entries) {
    return sizeof(struct kvm_cpuid2) + entries * sizeof(struct kvm_cpuid_entry2);
}

#endif
