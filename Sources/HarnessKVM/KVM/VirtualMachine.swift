import CKVM
import Conformance
import Glibc

/// A VM file descriptor: memory slots, the in-kernel interrupt controller and PIT, vCPUs.
public final class VirtualMachine: @unchecked Sendable {
    // @unchecked: used from one thread at a time (the harness's run loop); fd closed in deinit.
    public let system: KVMSystem
    public let fd: Int32
    private var nextSlot: UInt32 = 0

    init(system: KVMSystem, fd: Int32) { self.system = system; self.fd = fd }
    deinit { close(fd) }

    /// KVM_SET_USER_MEMORY_REGION for every slot of `memory`. The caller keeps `memory` alive
    /// for as long as the VM runs (the Machine holds both).
    public func register(_ memory: GuestMemory) throws(KVMError) {
        for s in memory.slots {
            var region = kvm_userspace_memory_region(slot: nextSlot, flags: 0, guest_phys_addr: s.guestBase, memory_size: s.size, userspace_addr: UInt64(UInt(bitPattern: s.host)))
            try kvmCall("KVM_SET_USER_MEMORY_REGION", ckvm_ioctl_pointer(fd, CKVM_SET_USER_MEMORY_REGION, &region),
                        detail: "slot \(nextSlot) [\(hex(s.guestBase)), +\(hex(s.size)))")
            nextSlot += 1
        }
    }

    /// KVM_SET_TSS_ADDR and KVM_SET_IDENTITY_MAP_ADDR: three pages and one page just below
    /// 4 GiB that VMX needs for real-mode emulation; outside any RAM slot the loader uses.
    public func setArchitecturalPages() throws(KVMError) {
        try kvmCall("KVM_SET_TSS_ADDR", ckvm_ioctl_value(fd, CKVM_SET_TSS_ADDR, 0xFFFB_D000))
        var ident: UInt64 = 0xFFFB_C000
        let r = ckvm_ioctl_pointer(fd, CKVM_SET_IDENTITY_MAP_ADDR, &ident)
        if r < 0, r != -EINVAL, r != -ENOTTY { try kvmCall("KVM_SET_IDENTITY_MAP_ADDR", r) }
    }

    /// KVM_CREATE_IRQCHIP (PIC, IOAPIC, local APIC in the kernel) and KVM_CREATE_PIT2.
    public func createInterruptControllers() throws(KVMError) {
        try kvmCall("KVM_CREATE_IRQCHIP", ckvm_ioctl_value(fd, CKVM_CREATE_IRQCHIP, 0))
        var pit = kvm_pit_config()
        try kvmCall("KVM_CREATE_PIT2", ckvm_ioctl_pointer(fd, CKVM_CREATE_PIT2, &pit))
    }

    /// KVM_IRQ_LINE: sets an interrupt line of the in-kernel PIC/IOAPIC.
    public func setIRQLine(_ irq: UInt32, level: Bool) throws(KVMError) {
        var l = kvm_irq_level()
        l.irq = irq
        l.level = level ? 1 : 0
        try kvmCall("KVM_IRQ_LINE", ckvm_ioctl_pointer(fd, CKVM_IRQ_LINE, &l), detail: "irq \(irq)")
    }

    /// KVM_CREATE_VCPU.
    public func createVCPU(id: UInt32 = 0) throws(KVMError) -> VCPU {
        let vfd = try kvmCall("KVM_CREATE_VCPU", ckvm_ioctl_value(fd, CKVM_CREATE_VCPU, UInt(id)))
        do throws(KVMError) { return try VCPU(fd: vfd, mmapSize: system.vcpuMmapSize) } catch { close(vfd); throw error }
    }
}
