extension DeviceTree {
    /// The tree as a flattened device tree of version 17 (last compatible version 16), laid
    /// out as dtc lays it out (Devicetree Specification v0.4, §5): the 40-byte header, the
    /// memory reservation block at 0x28 (8-byte aligned, ended by a (0, 0) entry), the
    /// structure block (4-byte aligned tokens), then the strings block, each property name
    /// stored once. `version` is not written from the value: a written blob is always 17.
    public func blob() -> [UInt8] {
        var strings: [UInt8] = []
        var stringOffsets: [String: Int] = [:]
        func nameOffset(_ s: String) -> Int {
            if let o = stringOffsets[s] { return o }
            let o = strings.count
            strings += Array(s.utf8) + [0]; stringOffsets[s] = o
            return o
        }
        var structure: [UInt8] = []
        func token(_ t: Token) { structure += Self.be(t.rawValue, 4) }
        func pad() { while structure.count % 4 != 0 { structure.append(0) } }
        func emit(_ n: Node) {
            token(.beginNode); structure += Array(n.name.utf8) + [0]; pad()
            for p in n.properties {
                token(.prop); structure += Self.be(UInt32(p.value.count), 4) + Self.be(UInt32(nameOffset(p.name)), 4)
                structure += p.value; pad()
            }
            for c in n.children { emit(c) }
            token(.endNode)
        }
        emit(root); token(.end)

        var reservationBlock: [UInt8] = []
        for r in reservations + [Reservation(address: 0, size: 0)] { reservationBlock += Self.be(r.address, 8) + Self.be(r.size, 8) }
        let reservationOffset = Self.headerSize  // 40: already 8-byte aligned
        let structOffset = reservationOffset + reservationBlock.count
        let stringsOffset = structOffset + structure.count
        let total = stringsOffset + strings.count
        var out: [UInt8] = []
        for v in [Int(Self.magic), total, structOffset, stringsOffset, reservationOffset, 17, 16, Int(bootCPU), strings.count, structure.count] {
            out += Self.be(UInt32(truncatingIfNeeded: v), 4)
        }
        return out + reservationBlock + structure + strings
    }
}
