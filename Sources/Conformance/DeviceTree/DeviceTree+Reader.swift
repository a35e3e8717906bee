/// Why a flattened device tree does not read: the byte offset in the blob, the field (the
/// header field's spec name, or the structure block token), what was expected and what was
/// found. Devicetree Specification v0.4, §5.
public struct FDTError: Error, Equatable, Sendable, CustomStringConvertible {
    public let offset: Int
    public let field: String
    public let expected: String
    public let found: String
    public init(offset: Int, field: String, expected: String, found: String) {
        self.offset = offset; self.field = field; self.expected = expected; self.found = found
    }
    public var description: String { "FDT \(field) at offset \(hex(offset)): expected \(expected), found \(found)" }
}

extension DeviceTree {
    /// 0xD00DFEED, the header's `magic` (§5.2).
    public static let magic: UInt32 = 0xD00D_FEED
    /// The header of version 17: ten 32-bit fields (§5.2).
    public static let headerSize = 40
    /// Nesting deeper than this is refused (a blob is a handful of levels deep; the bound keeps
    /// a hostile blob from costing unbounded stack in code that walks the tree).
    public static let maxDepth = 64

    /// Structure block tokens (§5.4.1).
    enum Token: UInt32 { case beginNode = 1, endNode = 2, prop = 3, nop = 4, end = 9 }

    /// The header fields, by spec name and offset (§5.2).
    public struct Header: Sendable, Equatable {
        public let totalSize, structOffset, stringsOffset, reservationOffset, version, lastCompatibleVersion, bootCPU, stringsSize, structSize: UInt32
    }

    /// Reads the header at the start of `blob`, checked against the blob's length: magic,
    /// totalsize inside the blob, version 16 or 17 compatible, the three blocks inside
    /// totalsize and aligned (reservation block 8, structure block 4).
    public static func header(_ blob: [UInt8]) throws(FDTError) -> Header {
        func field(_ o: Int, _ name: String) throws(FDTError) -> UInt32 {
            guard let v = blob.be(o, 4) else { throw FDTError(offset: o, field: name, expected: "4 bytes", found: "the blob ends at \(hex(blob.count))") }
            return UInt32(v)
        }
        let m = try field(0x00, "magic")
        guard m == magic else { throw FDTError(offset: 0, field: "magic", expected: hex(magic), found: hex(m)) }
        let total = try field(0x04, "totalsize")
        guard total >= headerSize, Int(total) <= blob.count else {
            throw FDTError(offset: 4, field: "totalsize", expected: "\(hex(headerSize))…\(hex(blob.count)) (the header to the blob's end)", found: hex(total))
        }
        let version = try field(0x14, "version"), last = try field(0x18, "last_comp_version")
        guard version >= 16 else { throw FDTError(offset: 0x14, field: "version", expected: "16 or later", found: String(version)) }
        guard last <= 17 else { throw FDTError(offset: 0x18, field: "last_comp_version", expected: "17 or earlier (this reader knows version 17)", found: String(last)) }
        let h = Header(totalSize: total, structOffset: try field(0x08, "off_dt_struct"), stringsOffset: try field(0x0C, "off_dt_strings"),
                       reservationOffset: try field(0x10, "off_mem_rsvmap"), version: version, lastCompatibleVersion: last,
                       bootCPU: try field(0x1C, "boot_cpuid_phys"), stringsSize: try field(0x20, "size_dt_strings"),
                       structSize: version >= 17 ? try field(0x24, "size_dt_struct") : total &- min(total, try field(0x08, "off_dt_struct")))
        func inside(_ off: UInt32, _ size: UInt32, _ at: Int, _ name: String, align: UInt32) throws(FDTError) {
            let first = version >= 17 ? headerSize : 36
            guard off >= first, UInt64(off) + UInt64(size) <= UInt64(total) else {
                throw FDTError(offset: at, field: name, expected: "a block inside [\(hex(first)), totalsize \(hex(total)))", found: "\(hex(off)) + \(hex(size))")
            }
            guard off % align == 0 else { throw FDTError(offset: at, field: name, expected: "a multiple of \(align)", found: hex(off)) }
        }
        try inside(h.reservationOffset, 16, 0x10, "off_mem_rsvmap", align: 8)
        try inside(h.structOffset, h.structSize, 0x08, "off_dt_struct", align: 4)
        try inside(h.stringsOffset, h.stringsSize, 0x0C, "off_dt_strings", align: 1)
        return h
    }

    /// Reads a flattened device tree. Every offset and length is checked against the blob and
    /// its blocks; nothing traps, and every refusal is an `FDTError` naming its offset.
    public init(blob: [UInt8]) throws(FDTError) {
        let h = try Self.header(blob)
        let total = Int(h.totalSize)

        // Memory reservation block (§5.3): (address, size) pairs up to a (0, 0) pair.
        var reservations: [Reservation] = []
        var o = Int(h.reservationOffset)
        while true {
            guard o + 16 <= total, let a = blob.be(o, 8), let s = blob.be(o + 8, 8) else {
                throw FDTError(offset: o, field: "memory reservation block", expected: "a (0, 0) entry before totalsize \(hex(total))", found: "no terminator")
            }
            if a == 0 && s == 0 { break }
            reservations.append(Reservation(address: a, size: s)); o += 16
        }

        // Structure block (§5.4) and strings block (§5.5).
        let sStart = Int(h.structOffset), sEnd = sStart + Int(h.structSize)
        let strStart = Int(h.stringsOffset), strEnd = strStart + Int(h.stringsSize)
        func word(_ at: Int, _ what: String) throws(FDTError) -> UInt32 {
            guard at + 4 <= sEnd, let v = blob.be(at, 4) else {
                throw FDTError(offset: at, field: what, expected: "4 bytes inside the structure block (ends at \(hex(sEnd)))", found: "the block's end")
            }
            return UInt32(v)
        }
        /// A NUL-terminated string in [at, end).
        func cString(_ at: Int, end: Int, _ what: String) throws(FDTError) -> (String, Int) {
            guard at < end, let nul = blob[at..<end].firstIndex(of: 0) else {
                throw FDTError(offset: at, field: what, expected: "a NUL-terminated string before \(hex(end))", found: "no NUL")
            }
            return (String(decoding: blob[at..<nul], as: UTF8.self), nul + 1)
        }
        var stack: [Node] = []
        var root: Node?
        var p = sStart
        scan: while true {
            let tokenAt = p
            let raw = try word(p, "structure block token"); p += 4
            guard let token = Token(rawValue: raw) else {
                throw FDTError(offset: tokenAt, field: "structure block token", expected: "FDT_BEGIN_NODE 1, FDT_END_NODE 2, FDT_PROP 3, FDT_NOP 4 or FDT_END 9", found: hex(raw))
            }
            switch token {
            case .nop: continue
            case .beginNode:
                guard root == nil else { throw FDTError(offset: tokenAt, field: "FDT_BEGIN_NODE", expected: "FDT_END after the root node", found: "a second top-level node") }
                guard stack.count < Self.maxDepth else { throw FDTError(offset: tokenAt, field: "FDT_BEGIN_NODE", expected: "nesting up to \(Self.maxDepth) levels", found: "level \(stack.count + 1)") }
                let (name, next) = try cString(p, end: sEnd, "node name")
                guard stack.isEmpty ? name.isEmpty : !name.isEmpty else {
                    throw FDTError(offset: p, field: "node name", expected: stack.isEmpty ? "the root's empty name" : "a non-empty name", found: name.isEmpty ? "\"\"" : "\"\(name)\"")
                }
                stack.append(Node(name)); p = (next + 3) & ~3
            case .endNode:
                guard let done = stack.popLast() else { throw FDTError(offset: tokenAt, field: "FDT_END_NODE", expected: "an open node", found: "none") }
                if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
            case .prop:
                guard !stack.isEmpty else { throw FDTError(offset: tokenAt, field: "FDT_PROP", expected: "inside a node", found: "outside every node") }
                let len = Int(try word(p, "FDT_PROP len")), nameOff = Int(try word(p + 4, "FDT_PROP nameoff"))
                let valueAt = p + 8
                guard len <= sEnd - valueAt else {
                    throw FDTError(offset: p, field: "FDT_PROP len", expected: "at most \(hex(max(0, sEnd - valueAt))) (to the structure block's end)", found: hex(len))
                }
                guard nameOff < strEnd - strStart else {
                    throw FDTError(offset: p + 4, field: "FDT_PROP nameoff", expected: "below size_dt_strings \(hex(h.stringsSize))", found: hex(nameOff))
                }
                let (name, _) = try cString(strStart + nameOff, end: strEnd, "property name")
                stack[stack.count - 1].properties.append(Property(name, bytes: Array(blob[valueAt..<(valueAt + len)])))
                p = (valueAt + len + 3) & ~3
            case .end:
                guard stack.isEmpty, root != nil else {
                    throw FDTError(offset: tokenAt, field: "FDT_END", expected: "after the root node's FDT_END_NODE", found: root == nil && stack.isEmpty ? "no root node" : "\(stack.count) open node\(stack.count == 1 ? "" : "s")")
                }
                break scan
            }
        }
        self.init(root: root!, reservations: reservations, bootCPU: h.bootCPU, version: h.version)
    }
}
