/// PVH `hvm_start_info` (BP-62) and its tables, described once: every field's name in the
/// spec (xen/include/public/arch-x86/hvm/start_info.h; spec digest §4.11 and BP-65), its byte
/// offset and size. The loader, the rules, the snapshot JSON and the tests read and write
/// through `StartInfo.Fields`, `MemmapEntry` and `ModuleEntry`, never by a literal offset.
public enum StartInfo {
    public static let magic: UInt32 = 0x336E_C578 // "xEn3" with 0x80 set in the 'E'
    public static let size = 56
    public static let memmapEntrySize = 24
    public static let modlistEntrySize = 32

    /// The hvm_start_info fields (version 1 layout, 56 bytes), §4.11.
    public enum Layout {
        public static let magic = LayoutField("magic", 0, 4)
        public static let version = LayoutField("version", 4, 4)
        public static let flags = LayoutField("flags", 8, 4)
        public static let nrModules = LayoutField("nr_modules", 12, 4)
        public static let modlistPaddr = LayoutField("modlist_paddr", 16, 8)
        public static let cmdlinePaddr = LayoutField("cmdline_paddr", 24, 8)
        public static let rsdpPaddr = LayoutField("rsdp_paddr", 32, 8)
        public static let memmapPaddr = LayoutField("memmap_paddr", 40, 8)
        public static let memmapEntries = LayoutField("memmap_entries", 48, 4)
        public static let reserved = LayoutField("reserved", 52, 4)
        /// Every field in offset order.
        public static let all = [magic, version, flags, nrModules, modlistPaddr, cmdlinePaddr, rsdpPaddr, memmapPaddr, memmapEntries, reserved]
        /// hvm_memmap_table_entry, 24 bytes: {u64 addr; u64 size; u32 type; u32 reserved} (BP-64).
        public enum MemmapEntry {
            public static let addr = LayoutField("addr", 0, 8), size = LayoutField("size", 8, 8)
            public static let type = LayoutField("type", 16, 4), reserved = LayoutField("reserved", 20, 4)
            public static let all = [addr, size, type, reserved]
        }
        /// hvm_modlist_entry, 32 bytes: {u64 paddr; u64 size; u64 cmdline_paddr; u64 reserved} (BP-65).
        public enum ModlistEntry {
            public static let paddr = LayoutField("paddr", 0, 8), size = LayoutField("size", 8, 8)
            public static let cmdlinePaddr = LayoutField("cmdline_paddr", 16, 8), reserved = LayoutField("reserved", 24, 8)
            public static let all = [paddr, size, cmdlinePaddr, reserved]
        }
    }

    /// The structure field by field (version 1 layout, 56 bytes).
    public struct Fields: Equatable, Sendable {
        public var magic: UInt32 = StartInfo.magic, version: UInt32 = 1, flags: UInt32 = 0, nrModules: UInt32 = 0
        public var modlist: UInt64 = 0, cmdline: UInt64 = 0, rsdp: UInt64 = 0, memmap: UInt64 = 0
        public var memmapEntries: UInt32 = 0, reserved: UInt32 = 0
        public init() {}
        /// Reads the fields from the first 56 bytes; missing bytes read as zero.
        public init(bytes b: [UInt8]) {
            func r(_ f: LayoutField) -> UInt64 { b.field(f) ?? 0 }
            magic = UInt32(r(Layout.magic)); version = UInt32(r(Layout.version)); flags = UInt32(r(Layout.flags)); nrModules = UInt32(r(Layout.nrModules))
            modlist = r(Layout.modlistPaddr); cmdline = r(Layout.cmdlinePaddr); rsdp = r(Layout.rsdpPaddr); memmap = r(Layout.memmapPaddr)
            memmapEntries = UInt32(r(Layout.memmapEntries)); reserved = UInt32(r(Layout.reserved))
        }
        public var bytes: [UInt8] {
            var b = [UInt8](repeating: 0, count: StartInfo.size)
            for (v, f) in values { b.put(v, f) }
            return b
        }
        /// Each field's value with its layout entry, in offset order.
        public var values: [(UInt64, LayoutField)] {
            [(UInt64(magic), Layout.magic), (UInt64(version), Layout.version), (UInt64(flags), Layout.flags), (UInt64(nrModules), Layout.nrModules),
             (modlist, Layout.modlistPaddr), (cmdline, Layout.cmdlinePaddr), (rsdp, Layout.rsdpPaddr), (memmap, Layout.memmapPaddr),
             (UInt64(memmapEntries), Layout.memmapEntries), (UInt64(reserved), Layout.reserved)]
        }
    }

    public static func bytes(nrModules: UInt32, modlist: UInt64, cmdline: UInt64, rsdp: UInt64, memmap: UInt64, memmapEntries: UInt32) -> [UInt8] {
        var f = Fields()
        f.nrModules = nrModules; f.modlist = modlist; f.cmdline = cmdline; f.rsdp = rsdp; f.memmap = memmap; f.memmapEntries = memmapEntries
        return f.bytes
    }
    /// A memmap table of `entries`, 24 bytes each.
    public static func memmap(_ entries: [E820Entry]) -> [UInt8] {
        typealias M = Layout.MemmapEntry
        var b = [UInt8](repeating: 0, count: entries.count * memmapEntrySize)
        for (i, e) in entries.enumerated() {
            let at = i * memmapEntrySize
            b.put(e.address, M.addr, base: at); b.put(e.size, M.size, base: at); b.put(UInt64(e.type.rawValue), M.type, base: at)
        }
        return b
    }
    /// The entries of a memmap table (24 bytes each); a trailing partial entry is ignored.
    public static func memmapEntries(_ b: [UInt8]) -> [E820Entry] {
        typealias M = Layout.MemmapEntry
        return (0..<(b.count / memmapEntrySize)).map { i in
            let at = i * memmapEntrySize
            return E820Entry(address: b.field(M.addr, base: at)!, size: b.field(M.size, base: at)!, type: E820Type(rawValue: UInt32(b.field(M.type, base: at)!)))
        }
    }
    /// One module-list entry: its paddr and size (cmdline_paddr and reserved zero).
    public static func module(address: UInt64, size: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: modlistEntrySize)
        b.put(address, Layout.ModlistEntry.paddr); b.put(size, Layout.ModlistEntry.size)
        return b
    }
    /// The paddr and size of the module-list entry at the start of `b`; nil when `b` is short.
    public static func moduleEntry(_ b: [UInt8]) -> (paddr: UInt64, size: UInt64)? {
        guard let a = b.field(Layout.ModlistEntry.paddr), let s = b.field(Layout.ModlistEntry.size) else { return nil }
        return (a, s)
    }
}
