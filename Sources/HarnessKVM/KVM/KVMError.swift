import Glibc

/// A failed call into KVM: which ioctl (or system call) and the errno it returned.
public struct KVMError: Error, CustomStringConvertible, Sendable, Equatable {
    public let call: String
    public let errno: Int32
    public let detail: String
    public init(call: String, errno: Int32, detail: String = "") { self.call = call; self.errno = errno; self.detail = detail }
    public var description: String {
        let name = String(cString: strerror(errno))
        return "\(call) failed: errno \(errno) (\(name))" + (detail.isEmpty ? "" : ": \(detail)")
    }
}

/// Every ioctl goes through here: one place that names the call and turns -errno into a
/// KVMError.
@discardableResult
func kvmCall(_ name: String, _ result: Int32, detail: String = "") throws(KVMError) -> Int32 {
    if result < 0 { throw KVMError(call: name, errno: -result, detail: detail) }
    return result
}
