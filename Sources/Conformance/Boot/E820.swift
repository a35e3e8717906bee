/// An e820 address-range type (spec §2.3), an open set: unknown values stay representable.
public struct E820Type: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let ram = E820Type(rawValue: 1)
    public static let reserved = E820Type(rawValue: 2)
    public static let acpi = E820Type(rawValue: 3)
    public static let nvs = E820Type(rawValue: 4)
    public static let unusable = E820Type(rawValue: 5)
    public static let pmem = E820Type(rawValue: 7)
    public static let pram = E820Type(rawValue: 12)
    public static let softReserved = E820Type(rawValue: 0xEFFF_FFFF)
    /// Kernel-internal; a loader never emits it (BP-38).
    public static let reservedKern = E820Type(rawValue: 128)
    /// The types a loader may emit (BP-38).
    public static let loaderTypes: Set<E820Type> = [.ram, .reserved, .acpi, .nvs, .unusable, .pmem, .pram, .softReserved]
    public var description: String {
        switch self {
        case .ram: "RAM"; case .reserved: "reserved"; case .acpi: "ACPI"; case .nvs: "NVS"; case .unusable: "unusable"
        case .pmem: "PMEM"; case .pram: "PRAM"; case .softReserved: "soft-reserved"; case .reservedKern: "reserved-kern"
        default: "type \(rawValue)"
        }
    }
}

/// `struct boot_e820_entry`: {u64 addr @0; u64 size @8; u32 type @16}, 20 bytes packed.
public struct E820Entry: Hashable, Sendable, CustomStringConvertible {
    public var address: UInt64
    public var size: UInt64
    public var type: E820Type
    public init(address: UInt64, size: UInt64, type: E820Type) { self.address = address; self.size = size; self.type = type }
    public static let byteSize = 20
    public var bytes: [UInt8] {
        var b = [UInt8](repeating: 0, count: 20)
        b.put64(address, at: 0); b.put64(size, at: 8); b.put32(type.rawValue, at: 16)
        return b
    }
    public init(bytes b: [UInt8], at o: Int) {
        address = b.u64(o) ?? 0; size = b.u64(o + 8) ?? 0; type = E820Type(rawValue: b.u32(o + 16) ?? 0)
    }
    /// nil when addr + size wraps (BP-37).
    public var range: AddressRange? { AddressRange.make(address, length: size) }
    public var description: String { "\(range?.description ?? "[\(hex(address)), +\(hex(size)) wraps]") \(type)" }
}

/// The guest's physical RAM layout, the way common VMMs lay it out: low RAM up to a 3 GiB
/// PCI hole, the rest from 4 GiB. The first MiB keeps the EBDA and BIOS area reserved (BP-39).
public struct RAMLayout: Sendable, Equatable {
    public let size: UInt64
    public static let holeStart: UInt64 = 0xC000_0000
    public static let fourGiB: UInt64 = 1 << 32
    /// Start of the extended BIOS data area; RAM below it is usable (BP-39).
    public static let ebdaStart: UInt64 = 0x9_FC00
    public static let biosStart: UInt64 = 0xF_0000
    public static let oneMiB: UInt64 = 0x10_0000

    public init(size: UInt64) throws(GuestMemoryError) {
        guard size >= 16 << 20 else { throw .badSize(size, reason: "at least 16 MiB of guest RAM is needed") }
        guard size <= GuestMemory.maximumSize else { throw .badSize(size, reason: "at most \(hex(GuestMemory.maximumSize)) bytes (1 TiB)") }
        guard size % 4096 == 0 else { throw .badSize(size, reason: "not a multiple of 4 KiB") }
        self.size = size
    }
    public var lowEnd: UInt64 { min(size, Self.holeStart) }
    /// RAM from 4 GiB, when the guest has more than fits below the hole (size ≤ 1 TiB, so the
    /// sum cannot wrap).
    public var highRange: AddressRange? { size > Self.holeStart ? AddressRange.make(Self.fourGiB, length: size - Self.holeStart) : nil }
    /// Guest-physical slots to back with host memory.
    public var slots: [AddressRange] { [AddressRange.make(0, length: lowEnd), highRange].compactMap { $0 } }
    /// The legacy VGA and BIOS hole 0xA0000–0xFFFFF, never RAM (BP-39).
    public static let legacyHole = AddressRange(constantStart: 0xA_0000, end: oneMiB)
    /// Highest guest-physical address + 1.
    public var top: UInt64 { highRange?.end ?? lowEnd }

    /// The e820 map for this layout: sorted, non-overlapping, only loader types.
    public var e820: [E820Entry] {
        var m = [
            E820Entry(address: 0, size: Self.ebdaStart, type: .ram),
            E820Entry(address: Self.ebdaStart, size: 0xA_0000 - Self.ebdaStart, type: .reserved),
            E820Entry(address: Self.biosStart, size: Self.oneMiB - Self.biosStart, type: .reserved),
            E820Entry(address: Self.oneMiB, size: lowEnd - Self.oneMiB, type: .ram),
        ]
        if let h = highRange { m.append(E820Entry(address: h.start, size: h.length, type: .ram)) }
        return m
    }
}
