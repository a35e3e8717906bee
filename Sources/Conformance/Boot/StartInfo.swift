/// PVH `hvm_start_info` (BP-62) and its tables.
public enum StartInfo {
    public static let magic: UInt32 = 0x336E_C578 // "xEn3" with 0x80 set in the 'E'
    public static let size = 56
    public static let memmapEntrySize = 24
    public static let modlistEntrySize = 32

    public static func bytes(nrModules: UInt32, modlist: UInt64, cmdline: UInt64, rsdp: UInt64, memmap: UInt64, memmapEntries: UInt32) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: size)
        b.put32(magic, at: 0); b.put32(1, at: 4); b.put32(0, at: 8); b.put32(nrModules, at: 12)
        b.put64(modlist, at: 16); b.put64(cmdline, at: 24); b.put64(rsdp, at: 32)
        b.put64(memmap, at: 40); b.put32(memmapEntries, at: 48); b.put32(0, at: 52)
        return b
    }
    /// hvm_memmap_table_entry {u64 addr; u64 size; u32 type; u32 reserved}.
    public static func memmap(_ entries: [E820Entry]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: entries.count * memmapEntrySize)
        for (i, e) in entries.enumerated() {
            b.put64(e.address, at: i * 24); b.put64(e.size, at: i * 24 + 8); b.put32(e.type.rawValue, at: i * 24 + 16)
        }
        return b
    }
    /// hvm_modlist_entry {u64 paddr; u64 size; u64 cmdline_paddr; u64 reserved}.
    public static func module(address: UInt64, size: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: modlistEntrySize)
        b.put64(address, at: 0); b.put64(size, at: 8)
        return b
    }
}
