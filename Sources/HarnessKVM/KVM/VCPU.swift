import CKVM
import Conformance
import Glibc

/// A vCPU file descriptor and its shared run page.
public final class VCPU: @unchecked Sendable {
    // @unchecked: driven by one thread; the watchdog only writes `immediate_exit` (a byte KVM
    // defines for exactly that) and sends a signal.
    public let fd: Int32
    public let run: UnsafeMutableRawPointer
    public let runSize: Int

    init(fd: Int32, mmapSize: Int) throws(KVMError) {
        guard let p = mmap(nil, mmapSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw KVMError(call: "mmap(vcpu run page)", errno: errno)
        }
        self.fd = fd; self.run = p; self.runSize = mmapSize
    }
    deinit { munmap(run, runSize); close(fd) }

    /// KVM_RUN, then the decoded exit. -EINTR (our watchdog) is `.interrupted`.
    public func runOnce() throws(KVMError) -> VMExit {
        let r = ckvm_ioctl_value(fd, CKVM_RUN, 0)
        if r == -EINTR || r == -EAGAIN { return .interrupted }
        try kvmCall("KVM_RUN", r)
        return VMExit.decode(run: run, runSize: runSize)
    }

    /// `kvm_run.immediate_exit` (offset 1): KVM_RUN returns at once with -EINTR while set.
    public func requestImmediateExit(_ on: Bool) { run.storeBytes(of: on ? 1 : 0, toByteOffset: 1, as: UInt8.self) }

    public func getRegisters() throws(KVMError) -> kvm_regs {
        var r = kvm_regs(); try kvmCall("KVM_GET_REGS", ckvm_ioctl_pointer(fd, CKVM_GET_REGS, &r)); return r
    }
    public func setRegisters(_ regs: kvm_regs) throws(KVMError) {
        var r = regs; try kvmCall("KVM_SET_REGS", ckvm_ioctl_pointer(fd, CKVM_SET_REGS, &r))
    }
    public func getSpecialRegisters() throws(KVMError) -> kvm_sregs {
        var s = kvm_sregs(); try kvmCall("KVM_GET_SREGS", ckvm_ioctl_pointer(fd, CKVM_GET_SREGS, &s)); return s
    }
    public func setSpecialRegisters(_ sregs: kvm_sregs) throws(KVMError) {
        var s = sregs; try kvmCall("KVM_SET_SREGS", ckvm_ioctl_pointer(fd, CKVM_SET_SREGS, &s))
    }
    /// KVM_SET_CPUID2 with raw `struct kvm_cpuid2` bytes (from KVMSystem.supportedCPUID).
    public func setCPUID(_ cpuid: [UInt8]) throws(KVMError) {
        var b = cpuid
        try kvmCall("KVM_SET_CPUID2", b.withUnsafeMutableBytes { ckvm_ioctl_pointer(fd, CKVM_SET_CPUID2, $0.baseAddress) })
    }
    /// KVM_GET_MP_STATE: 3 = halted (KVM_MP_STATE_HALTED).
    public func mpState() throws(KVMError) -> UInt32 {
        var s = kvm_mp_state(); try kvmCall("KVM_GET_MP_STATE", ckvm_ioctl_pointer(fd, CKVM_GET_MP_STATE, &s)); return s.mp_state
    }

    /// Puts the vCPU in exactly `entry`: general registers, RFLAGS, segments as cached, GDTR,
    /// IDTR, CR0/CR3/CR4 and EFER.
    public func load(_ entry: EntryState) throws(KVMError) {
        var s = try getSpecialRegisters()
        func seg(_ r: SegmentRegister) -> kvm_segment {
            var k = kvm_segment()
            k.base = r.base; k.limit = r.limit; k.selector = r.selector; k.type = r.type
            k.present = r.present ? 1 : 0; k.dpl = r.dpl; k.db = r.db ? 1 : 0; k.s = r.s ? 1 : 0
            k.l = r.l ? 1 : 0; k.g = r.g ? 1 : 0; k.avl = 0
            k.unusable = r.present ? 0 : 1
            return k
        }
        s.cs = seg(entry.cs); s.ds = seg(entry.ds); s.es = seg(entry.es); s.ss = seg(entry.ss)
        s.fs = seg(entry.fs); s.gs = seg(entry.gs)
        var tr = seg(entry.tr)
        if !entry.tr.present {
            // VMX refuses an unusable TR; give the architectural reset value (busy 32-bit TSS).
            tr = kvm_segment(); tr.type = 0xB; tr.present = 1; tr.limit = 0xFFFF
        }
        s.tr = tr
        var ldt = kvm_segment(); ldt.type = 2; ldt.present = 1; ldt.limit = 0xFFFF; ldt.unusable = 0
        s.ldt = ldt
        s.gdt.base = entry.gdtr.base; s.gdt.limit = entry.gdtr.limit
        s.idt.base = entry.idtr.base; s.idt.limit = entry.idtr.limit
        s.cr0 = entry.cr0; s.cr3 = entry.cr3; s.cr4 = entry.cr4; s.efer = entry.efer
        try setSpecialRegisters(s)
        var r = kvm_regs()
        r.rax = entry.rax; r.rbx = entry.rbx; r.rcx = entry.rcx; r.rdx = entry.rdx
        r.rsi = entry.rsi; r.rdi = entry.rdi; r.rbp = entry.rbp; r.rsp = entry.rsp
        r.r8 = entry.r8; r.r9 = entry.r9; r.r10 = entry.r10; r.r11 = entry.r11
        r.r12 = entry.r12; r.r13 = entry.r13; r.r14 = entry.r14; r.r15 = entry.r15
        r.rip = entry.rip; r.rflags = entry.rflags
        try setRegisters(r)
    }
}
