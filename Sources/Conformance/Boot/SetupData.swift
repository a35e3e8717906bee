/// A setup_data type (spec §1.8), an open set.
public struct SetupDataType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let none = SetupDataType(rawValue: 0)
    public static let e820Ext = SetupDataType(rawValue: 1)
    public static let dtb = SetupDataType(rawValue: 2)
    public static let rngSeed = SetupDataType(rawValue: 9)
    /// SETUP_INDIRECT (1 << 31).
    public static let indirect = SetupDataType(rawValue: 0x8000_0000)
    public var description: String {
        switch self { case .e820Ext: "SETUP_E820_EXT"; case .dtb: "SETUP_DTB"; case .rngSeed: "SETUP_RNG_SEED"; case .indirect: "SETUP_INDIRECT"
        default: rawValue & 0x8000_0000 != 0 ? "SETUP_INDIRECT|\(rawValue & 0x7FFF_FFFF)" : "type \(rawValue)" }
    }
}

/// `struct setup_data` {u64 next @0; u32 type @8; u32 len @12; u8 data[len] @16} and
/// `struct setup_indirect` {u32 type @0; u32 reserved @4; u64 len @8; u64 addr @16} (§1.8).
public enum SetupData {
    public static let headerSize = 16
    public static let indirectSize = 24
    /// The node header's fields.
    public enum Header {
        public static let next = LayoutField("next", 0, 8), type = LayoutField("type", 8, 4), len = LayoutField("len", 12, 4)
        public static let all = [next, type, len]
    }
    /// setup_indirect's fields (the payload of a SETUP_INDIRECT node).
    public enum Indirect {
        public static let type = LayoutField("type", 0, 4), reserved = LayoutField("reserved", 4, 4)
        public static let len = LayoutField("len", 8, 8), addr = LayoutField("addr", 16, 8)
        public static let all = [type, reserved, len, addr]
    }

    /// A node header.
    public static func header(next: UInt64, type: UInt32, length: UInt32) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: headerSize)
        b.put(next, Header.next); b.put(UInt64(type), Header.type); b.put(UInt64(length), Header.len)
        return b
    }
    /// The next, type and len of the node header at the start of `b`; nil when `b` is short.
    public static func parseHeader(_ b: [UInt8]) -> (next: UInt64, type: UInt32, length: UInt32)? {
        guard let n = b.field(Header.next), let t = b.field(Header.type), let l = b.field(Header.len) else { return nil }
        return (n, UInt32(t), UInt32(l))
    }
    public static func node(next: UInt64, type: SetupDataType, data: [UInt8]) -> [UInt8] {
        header(next: next, type: type.rawValue, length: UInt32(data.count)) + data
    }
    public static func indirect(type: SetupDataType, length: UInt64, address: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: indirectSize)
        b.put(UInt64(SetupDataType.indirect.rawValue | type.rawValue), Indirect.type); b.put(length, Indirect.len); b.put(address, Indirect.addr)
        return b
    }
    /// The len and addr of the setup_indirect at the start of `b`; nil when `b` is short.
    public static func parseIndirect(_ b: [UInt8]) -> (length: UInt64, address: UInt64)? {
        guard let l = b.field(Indirect.len), let a = b.field(Indirect.addr) else { return nil }
        return (l, a)
    }
}
