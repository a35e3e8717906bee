/// A device tree as a value: the tree of nodes and properties, the boot CPU and the memory
/// reservation block of a flattened device tree (Devicetree Specification v0.4, §5).
///
/// `DeviceTree(blob:)` reads one (`DeviceTree+Reader.swift`, every error an `FDTError` with
/// its offset); `blob()` writes one (`DeviceTree+Writer.swift`).
public struct DeviceTree: Sendable, Equatable {
    /// One entry of the memory reservation block (§5.3): a range the client must not use.
    public struct Reservation: Sendable, Equatable, Hashable {
        public var address: UInt64
        public var size: UInt64
        public init(address: UInt64, size: UInt64) { self.address = address; self.size = size }
    }

    /// `boot_cpuid_phys`, header offset 0x1C: the physical id of the boot CPU (§5.2).
    public var bootCPU: UInt32
    /// The memory reservation block, without its terminating (0, 0) entry.
    public var reservations: [Reservation]
    public var root: Node
    /// `version` of the blob read (17 for a blob this package writes).
    public var version: UInt32

    public init(root: Node, reservations: [Reservation] = [], bootCPU: UInt32 = 0, version: UInt32 = 17) {
        self.root = root; self.reservations = reservations; self.bootCPU = bootCPU; self.version = version
    }

    /// A node: its name with the unit address ("memory@40000000"; "" for the root), its
    /// properties in blob order, its children in blob order.
    public struct Node: Sendable, Equatable {
        public var name: String
        public var properties: [Property]
        public var children: [Node]
        public init(_ name: String, _ properties: [Property] = [], children: [Node] = []) {
            self.name = name; self.properties = properties; self.children = children
        }

        /// The name without its unit address: "memory" for "memory@40000000".
        public var baseName: Substring { name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
        public func property(_ name: String) -> Property? { properties.first { $0.name == name } }
        /// The first child named `name`, or, when `name` has no unit address, the first whose
        /// name without one is `name`.
        public func child(_ name: String) -> Node? {
            children.first { $0.name == name } ?? (name.contains("@") ? nil : children.first { $0.baseName == name })
        }
        /// `#address-cells` and `#size-cells` of this node as its children's parent: 2 and 1
        /// when absent (§2.3.5).
        public var childCells: (address: Int, size: Int) {
            (Int(property("#address-cells")?.u32 ?? 2), Int(property("#size-cells")?.u32 ?? 1))
        }
        /// `status` is absent or "okay" (§2.3.4; "ok" is the older spelling).
        public var isEnabled: Bool { property("status").map { $0.string == "okay" || $0.string == "ok" } ?? true }
        /// `reg` as (address, size) pairs in the cells of `parent`; nil when absent or not a
        /// whole number of pairs, or when a cell count is over 2 (a value wider than 64 bits).
        public func reg(in parent: Node) -> [(address: UInt64, size: UInt64)]? {
            let (a, s) = parent.childCells
            return property("reg")?.pairs(addressCells: a, sizeCells: s)
        }
    }

    /// A property: a name and its value bytes (big-endian cells, NUL-terminated strings).
    public struct Property: Sendable, Equatable {
        public var name: String
        public var value: [UInt8]
        public init(_ name: String, bytes: [UInt8]) { self.name = name; self.value = bytes }
        /// A NUL-terminated string.
        public init(_ name: String, string: String) { self.init(name, bytes: Array(string.utf8) + [0]) }
        /// A list of NUL-terminated strings ("compatible").
        public init(_ name: String, strings: [String]) { self.init(name, bytes: strings.flatMap { Array($0.utf8) + [0] }) }
        /// 32-bit big-endian cells.
        public init(_ name: String, cells: [UInt32]) { self.init(name, bytes: cells.flatMap { DeviceTree.be($0, 4) }) }
        /// One 64-bit value as two cells (linux,initrd-start and -end, a 2-cell address).
        public init(_ name: String, u64: UInt64) { self.init(name, bytes: DeviceTree.be(u64, 8)) }
        /// An empty property ("no-map", "ranges").
        public init(flag name: String) { self.init(name, bytes: []) }

        /// The value as one string: the bytes before a single terminating NUL; nil otherwise.
        public var string: String? {
            guard let last = value.last, last == 0, !value.dropLast().contains(0) else { return nil }
            return String(decoding: value.dropLast(), as: UTF8.self)
        }
        /// The value as NUL-terminated strings; nil when it does not end in a NUL.
        public var strings: [String]? {
            guard value.last == 0 else { return nil }
            return value.dropLast().split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        }
        /// A 4-byte value.
        public var u32: UInt32? { value.count == 4 ? UInt32(value.be(0, 4)!) : nil }
        /// A 4- or 8-byte value (linux,initrd-start may be either).
        public var u64: UInt64? { value.count == 4 || value.count == 8 ? value.be(0, value.count) : nil }
        /// The value as (address, size) pairs of the given cell counts; nil unless it is a
        /// whole number of pairs, the address is 1 or 2 cells and the size 0 to 2 (a size of 0
        /// cells reads as 0).
        public func pairs(addressCells a: Int, sizeCells s: Int) -> [(address: UInt64, size: UInt64)]? {
            guard (1...2).contains(a), (0...2).contains(s) else { return nil }
            let width = 4 * (a + s)
            guard !value.isEmpty, value.count % width == 0 else { return nil }
            return stride(from: 0, to: value.count, by: width).map { o in
                (value.be(o, 4 * a)!, s == 0 ? 0 : value.be(o + 4 * a, 4 * s)!)
            }
        }
    }

    /// The node at `path` ("/chosen", "/cpus/cpu@0"; components without a unit address match
    /// the first node of that name, as `Node.child` does).
    public func node(_ path: String) -> Node? {
        var n = root
        for part in path.split(separator: "/") {
            guard let c = n.child(String(part)) else { return nil }
            n = c
        }
        return n
    }

    /// The RAM the tree describes: the `reg` of every enabled child of the root whose
    /// device_type is "memory" (§3.4), in the root's cells, sorted by address. A node whose
    /// status is not "okay" describes no RAM for the OS (§2.3.4: "disabled" is "not presently
    /// operational"; Linux's early_init_dt_scan_memory skips it): QEMU `virt` with
    /// `secure=on` lists its secure RAM as `secram@e000000`, status "disabled",
    /// secure-status "okay". Nodes whose reg does not decode are left out and named in
    /// `memoryProblems`.
    public var memory: [(address: UInt64, size: UInt64)] {
        memoryNodes.compactMap { $0.reg(in: root) }.flatMap { $0 }.sorted { $0.address < $1.address }
    }
    /// The enabled memory nodes (device_type "memory", status absent or "okay").
    public var memoryNodes: [Node] { root.children.filter { $0.property("device_type")?.string == "memory" && $0.isEnabled } }
    /// Enabled memory nodes whose reg does not decode (wrong length, cell counts over 2).
    public var memoryProblems: [String] {
        memoryNodes.filter { $0.reg(in: root) == nil }.map { "/\($0.name): reg does not decode as (address, size) pairs in the root's cells" }
    }
    /// The ranges `/reserved-memory` describes (§3.5): each child's reg in the cells of
    /// /reserved-memory; children with only a size (dynamically placed) have no range.
    public var reservedMemory: [(name: String, address: UInt64, size: UInt64, noMap: Bool)] {
        guard let rm = node("/reserved-memory") else { return [] }
        return rm.children.flatMap { c in (c.reg(in: rm) ?? []).map { (c.name, $0.address, $0.size, c.property("no-map") != nil) } }
    }

    /// `width` big-endian bytes of `v` (the blob is big-endian throughout, §5).
    static func be(_ v: some FixedWidthInteger, _ width: Int) -> [UInt8] { [UInt8](bigEndian: v, width: width) }
}
