import CKVM
import Foundation
import Glibc

/// What kind of KVM this host has. Hardware KVM (VMX/SVM) boots Linux in about a second; a
/// software implementation such as `kvm_pvm` runs tiny guests fast but Linux very slowly.
public struct KVMFlavor: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case hardware, software, unknown }
    public let kind: Kind
    /// The kernel module that provides /dev/kvm (kvm_intel, kvm_amd, kvm_pvm, …), if known.
    public let module: String?
    public init(kind: Kind, module: String?) { self.kind = kind; self.module = module }
    public var description: String {
        switch kind {
        case .hardware: "hardware KVM (\(module ?? "?"))"
        case .software: "software KVM (\(module ?? "?"), not hardware virtualization: Linux boots very slowly)"
        case .unknown: "KVM of unknown kind"
        }
    }

    /// Reads /sys/module: kvm_intel or kvm_amd is hardware; kvm_pvm is a software
    /// (paravirtualized, shadow-paging) implementation.
    public static func detect(sysModule: String = "/sys/module") -> KVMFlavor {
        let fm = FileManager.default
        for m in ["kvm_intel", "kvm_amd"] where fm.fileExists(atPath: "\(sysModule)/\(m)") { return KVMFlavor(kind: .hardware, module: m) }
        for m in ["kvm_pvm"] where fm.fileExists(atPath: "\(sysModule)/\(m)") { return KVMFlavor(kind: .software, module: m) }
        return KVMFlavor(kind: .unknown, module: nil)
    }
}

/// Whether /dev/kvm can be used here, and if not, why (for test skips and CLI errors).
public enum KVMAvailability: Sendable, Equatable {
    case usable(KVMFlavor)
    case unusable(reason: String)

    public static func check(path: String = "/dev/kvm") -> KVMAvailability {
        guard FileManager.default.fileExists(atPath: path) else { return .unusable(reason: "\(path) does not exist (no KVM on this host)") }
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            return .unusable(reason: "cannot open \(path): \(String(cString: strerror(e)))" + (e == EACCES ? " (add yourself to the kvm group)" : ""))
        }
        defer { close(fd) }
        let v = ckvm_ioctl_value(fd, CKVM_GET_API_VERSION, 0)
        guard v == 12 else { return .unusable(reason: "\(path): KVM_GET_API_VERSION returned \(v), expected 12") }
        return .usable(KVMFlavor.detect())
    }

    public var isUsable: Bool { if case .usable = self { true } else { false } }
    public var reason: String {
        switch self { case .usable(let f): "KVM usable: \(f)"; case .unusable(let r): r }
    }
}

/// The /dev/kvm file descriptor (KVM's "system" level): capabilities, CPUID, VM creation.
public final class KVMSystem: @unchecked Sendable {
    // @unchecked: the fd is immutable and closed once in deinit; the ioctls used are thread-safe.
    public let fd: Int32
    public let flavor: KVMFlavor
    public let vcpuMmapSize: Int

    public init(path: String = "/dev/kvm") throws(KVMError) {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 { throw KVMError(call: "open(\(path))", errno: errno) }
        self.fd = fd
        self.flavor = KVMFlavor.detect()
        do throws(KVMError) {
            let v = try kvmCall("KVM_GET_API_VERSION", ckvm_ioctl_value(fd, CKVM_GET_API_VERSION, 0))
            guard v == 12 else { throw KVMError(call: "KVM_GET_API_VERSION", errno: EINVAL, detail: "API version \(v), expected 12") }
            vcpuMmapSize = Int(try kvmCall("KVM_GET_VCPU_MMAP_SIZE", ckvm_ioctl_value(fd, CKVM_GET_VCPU_MMAP_SIZE, 0)))
        } catch { close(fd); throw error }
    }
    deinit { close(fd) }

    /// KVM_CHECK_EXTENSION.
    public func check(extension cap: Int32) -> Int32 { max(0, ckvm_ioctl_value(fd, CKVM_CHECK_EXTENSION, UInt(cap))) }

    /// KVM_GET_SUPPORTED_CPUID, as the raw `struct kvm_cpuid2` bytes ready for KVM_SET_CPUID2.
    public func supportedCPUID() throws(KVMError) -> [UInt8] {
        var entries: UInt32 = 64
        while entries <= 1024 {
            var buf = [UInt8](repeating: 0, count: ckvm_cpuid2_size(entries))
            let r = buf.withUnsafeMutableBytes { p -> Int32 in
                p.baseAddress!.assumingMemoryBound(to: kvm_cpuid2.self).pointee.nent = entries
                return ckvm_ioctl_pointer(fd, CKVM_GET_SUPPORTED_CPUID, p.baseAddress)
            }
            if r == -E2BIG { entries *= 2; continue }
            try kvmCall("KVM_GET_SUPPORTED_CPUID", r)
            return buf
        }
        throw KVMError(call: "KVM_GET_SUPPORTED_CPUID", errno: E2BIG, detail: "more than 1024 entries")
    }

    /// KVM_CREATE_VM.
    public func createVM() throws(KVMError) -> VirtualMachine {
        let vmfd = try kvmCall("KVM_CREATE_VM", ckvm_ioctl_value(fd, CKVM_CREATE_VM, 0))
        return VirtualMachine(system: self, fd: vmfd)
    }
}
