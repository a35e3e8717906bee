/// Why KVM_RUN returned, decoded from the shared `struct kvm_run` page. Open set: a reason
/// this harness does not know stays representable as `.other(reason)` and never traps.
public enum VMExit: Sendable, Equatable {
    /// Port I/O: `size` bytes, `count` times (string I/O batches up to a page), data in the
    /// run page at `dataOffset`.
    case io(out: Bool, port: UInt16, size: Int, count: Int, dataOffset: Int)
    /// A guest access to physical memory no slot backs.
    case mmio(address: UInt64, length: Int, isWrite: Bool, data: UInt64)
    case hlt
    /// Triple fault (or another reason the CPU shut down).
    case shutdown
    case failEntry(hardwareReason: UInt64)
    case internalError(suberror: UInt32)
    /// KVM_EXIT_SYSTEM_EVENT: 1 shutdown, 2 reset, 3 crash.
    case systemEvent(type: UInt32)
    case exception(vector: UInt32, errorCode: UInt32)
    /// KVM_EXIT_INTR: KVM_RUN was interrupted (by our watchdog's signal).
    case interrupted
    case other(reason: UInt32)

    /// KVM_EXIT_* numbers from <linux/kvm.h>.
    public struct Reason: RawRepresentable, Hashable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let exception = Reason(rawValue: 1), io = Reason(rawValue: 2), hlt = Reason(rawValue: 5)
        public static let mmio = Reason(rawValue: 6), shutdown = Reason(rawValue: 8), failEntry = Reason(rawValue: 9)
        public static let intr = Reason(rawValue: 10), internalError = Reason(rawValue: 17), systemEvent = Reason(rawValue: 24)
    }

    /// Byte offsets in `struct kvm_run` (stable ABI): exit_reason at 8, the exit union at 32.
    public static let exitReasonOffset = 8, unionOffset = 32

    /// Decodes the run page. `run` must hold at least `runSize` bytes; offsets read from the
    /// page (the I/O data offset) are checked against it.
    public static func decode(run: UnsafeRawPointer, runSize: Int) -> VMExit {
        func u8(_ o: Int) -> UInt8 { run.load(fromByteOffset: o, as: UInt8.self) }
        func u16(_ o: Int) -> UInt16 { run.loadUnaligned(fromByteOffset: o, as: UInt16.self) }
        func u32(_ o: Int) -> UInt32 { run.loadUnaligned(fromByteOffset: o, as: UInt32.self) }
        func u64(_ o: Int) -> UInt64 { run.loadUnaligned(fromByteOffset: o, as: UInt64.self) }
        let u = unionOffset
        switch Reason(rawValue: u32(exitReasonOffset)) {
        case .io:
            // struct { __u8 direction; __u8 size; __u16 port; __u32 count; __u64 data_offset; }
            let size = Int(u8(u + 1)), count = Int(u32(u + 4)), off = u64(u + 8)
            guard [1, 2, 4].contains(size), count >= 1, off <= UInt64(runSize), UInt64(size * count) <= UInt64(runSize) - off else {
                return .other(reason: Reason.io.rawValue)
            }
            return .io(out: u8(u) == 1, port: u16(u + 2), size: size, count: count, dataOffset: Int(off))
        case .mmio:
            // struct { __u64 phys_addr; __u8 data[8]; __u32 len; __u8 is_write; }
            let len = Int(min(u32(u + 16), 8))
            return .mmio(address: u64(u), length: len, isWrite: u8(u + 20) != 0, data: u64(u + 8))
        case .hlt: return .hlt
        case .shutdown: return .shutdown
        case .failEntry: return .failEntry(hardwareReason: u64(u))
        case .internalError: return .internalError(suberror: u32(u))
        case .systemEvent: return .systemEvent(type: u32(u))
        case .exception: return .exception(vector: u32(u), errorCode: u32(u + 4))
        case .intr: return .interrupted
        default: return .other(reason: u32(exitReasonOffset))
        }
    }
}
