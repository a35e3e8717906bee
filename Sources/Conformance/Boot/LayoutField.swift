/// One field of a packed little-endian boot structure other than the zero page (PVH
/// start_info and its tables, setup_data and setup_indirect): its name in the spec, its byte
/// offset from the structure's start, and its size. The zero page has its own, richer table
/// (`ZeroPage.Field`: protocol versions and access).
public struct LayoutField: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let offset: Int
    public let size: Int
    public var end: Int { offset + size }
    /// "+0x18 cmdline_paddr".
    public var description: String { "+\(hex(offset)) \(name)" }
    init(_ name: String, _ offset: Int, _ size: Int) { self.name = name; self.offset = offset; self.size = size }
}

public extension Array where Element == UInt8 {
    /// The value of `f` in the structure that starts at `base`; nil when the bytes do not reach it.
    func field(_ f: LayoutField, base: Int = 0) -> UInt64? { le(base + f.offset, f.size) }
    /// Writes the low `f.size` bytes of `value` at `f` in the structure at `base`. Callers write
    /// only into buffers they sized themselves; a field outside the buffer traps.
    mutating func put(_ value: UInt64, _ f: LayoutField, base: Int = 0) { put(value, at: base + f.offset, width: f.size) }
}
