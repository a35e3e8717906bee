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

/// `struct setup_data` {u64 next @0; u32 type @8; u32 len @12; u8 data[len] @16}.
public enum SetupData {
    public static let headerSize = 16
    public static func node(next: UInt64, type: SetupDataType, data: [UInt8]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: headerSize)
        b.put64(next, at: 0); b.put32(type.rawValue, at: 8); b.put32(UInt32(data.count), at: 12)
        return b + data
    }
    /// `struct setup_indirect` {u32 type @0; u32 reserved @4; u64 len @8; u64 addr @16}, 24 bytes.
    public static func indirect(type: SetupDataType, length: UInt64, address: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 24)
        b.put32(SetupDataType.indirect.rawValue | type.rawValue, at: 0); b.put64(length, at: 8); b.put64(address, at: 16)
        return b
    }
}
