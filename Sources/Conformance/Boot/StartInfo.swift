/// PVH `hvm_start_info` (BP-62) and its tables.
public enum StartInfo {
    public static let magic: UInt32 = 0x336E_C578 // "xEn3" with 0x80 set in the 'E'
    public static let size = 56
    public static let memmapEntrySize = 24
    public static let modlistEntrySize = 32

    /// The structure field by field (version 1 layout, 56 bytes).
    public struct Fields: Equatable, Sendable {
        public var magic: UInt32 = StartInfo.magic, version: UInt32 = 1, flags: UInt32 = 0, nrModules: UInt32 = 0
        public var modlist: UInt64 = 0, cmdline: UInt64 = 0, rsdp: UInt64 = 0, memmap: UInt64 = 0
        public var memmapEntries: UInt32 = 0, reserved: UInt32 = 0
        public init() {}
        /// Reads the fields from the first 56 bytes; missing bytes read as zero.
        public init(bytes b: [UInt8]) {
            magic = b.u32(0) ?? 0; version = b.u32(4) ?? 0; flags = b.u32(8) ?? 0; nrModules = b.u32(12) ?? 0
            modlist = b.u64(16) ?? 0; cmdline = b.u64(24) ?? 0; rsdp = b.u64(32) ?? 0; memmap = b.u64(40) ?? 0
            memmapEntries = b.u32(48) ?? 0; reserved = b.u32(52) ?? 0
        }
        public var bytes: [UInt8] {
            var b = [UInt8](repeating: 0, count: StartInfo.size)
            b.put32(magic, at: 0); b.put32(version, at: 4); b.put32(flags, at: 8); b.put32(nrModules, at: 12)
            b.put64(modlist, at: 16); b.put64(cmdline, at: 24); b.put64(rsdp, at: 32)
            b.put64(memmap, at: 40); b.put32(memmapEntries, at: 48); b.put32(reserved, at: 52)
            return b
        }
    }

    public static func bytes(nrModules: UInt32, modlist: UInt64, cmdline: UInt64, rsdp: UInt64, memmap: UInt64, memmapEntries: UInt32) -> [UInt8] {
        var f = Fields()
        f.nrModules = nrModules; f.modlist = modlist; f.cmdline = cmdline; f.rsdp = rsdp; f.memmap = memmap; f.memmapEntries = memmapEntries
        return f.bytes
    }
    /// hvm_memmap_table_entry {u64 addr; u64 size; u32 type; u32 reserved}.
    public static func memmap(_ entries: [E820Entry]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: entries.count * memmapEntrySize)
        for (i, e) in entries.enumerated() {
            b.put64(e.address, at: i * 24); b.put64(e.size, at: i * 24 + 8); b.put32(e.type.rawValue, at: i * 24 + 16)
        }
        return b
    }
    /// The entries of a memmap table (24 bytes each); a trailing partial entry is ignored.
    public static func memmapEntries(_ b: [UInt8]) -> [E820Entry] {
        (0..<(b.count / memmapEntrySize)).map { i in
            E820Entry(address: b.u64(i * 24)!, size: b.u64(i * 24 + 8)!, type: E820Type(rawValue: b.u32(i * 24 + 16)!))
        }
    }
    /// hvm_modlist_entry {u64 paddr; u64 size; u64 cmdline_paddr; u64 reserved}.
    public static func module(address: UInt64, size: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: modlistEntrySize)
        b.put64(address, at: 0); b.put64(size, at: 8)
        return b
    }
}
