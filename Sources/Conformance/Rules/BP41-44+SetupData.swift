/// §4.7 setup_data of the spec digest (shared/spec/x86-boot-protocol.md): BP-41…BP-44.
extension RuleCatalogue {
    static let setupData: [Rule] = [
        Rule("BP-41", "setup_data chain well formed", reference: "§4.7; BOOT; SDH; SETUPC",
             statement: "setup_data only with 2.09+; nodes {next, type, len, data}; the list ends with 0, has no cycle, and each node is RAM outside W.") { c in
            guard let zp = c.zp else { return noZeroPage(c) }
            if c.isBz && c.version < 0x0209 { return .na("protocol \(ProtocolVersion(rawValue: c.version)) has no setup_data (2.09+); BP-04 judges bytes written past its header") }
            guard zp.field(.setupData)! != 0 else { return .na("no setup_data") }
            if let why = c.setupDataUnseen { return .na(why) }
            var conds: [(Bool, String)] = []
            if let p = c.setupWalkProblem { conds.append((false, p)) }
            for n in c.setupNodes {
                guard let r = AddressRange.make(n.address, length: 16 + UInt64(n.length)) else {
                    conds.append((false, "node \(hex(n.address)) + 16 + len \(hex(UInt64(n.length))) wraps past 2^64")); continue
                }
                conds += c.inRAM(r, "node")
                conds += c.clearOfWindow(r, "node")
            }
            return .check(conds, ok: "\(c.setupNodes.count) node(s): \(c.setupNodes.map { "\(SetupDataType(rawValue: $0.type)) at \(hex($0.address)), len \($0.length)" }.joined(separator: ", ")), in RAM, clear of W \(c.window?.description ?? "(none)")")
        },
        Rule("BP-42", "SETUP_INDIRECT well formed (2.15+)", reference: "§4.7, §1.8; BOOT; SDH",
             statement: "SETUP_INDIRECT only with 2.15+; node len 24; indirect.type = 0x80000000|X with X ∉ {0, 0x80000000}; reserved 0; payload RAM outside W.") { c in
            let ind = c.setupNodes.filter { $0.type == SetupDataType.indirect.rawValue }
            guard !ind.isEmpty else { return .na("no SETUP_INDIRECT node") }
            var conds: [(Bool, String)] = []
            if c.isBz { conds.append((c.version >= 0x020F, "SETUP_INDIRECT with protocol \(ProtocolVersion(rawValue: c.version)) < 2.15")) }
            for n in ind {
                conds.append((n.length == 24, "indirect node at \(hex(n.address)) has len \(n.length), expected 24"))
                let at = n.address &+ UInt64(SetupData.headerSize)
                guard let d = c.memory.bytes(at: at, count: SetupData.indirectSize), let (len, addr) = SetupData.parseIndirect(d) else { conds.append((false, "indirect data at \(hex(at)) unreadable")); continue }
                let t = UInt32(d.field(SetupData.Indirect.type)!), x = t & 0x7FFF_FFFF, reserved = d.field(SetupData.Indirect.reserved)!
                conds.append((t & 0x8000_0000 != 0 && x != 0, "indirect type \(hex(t)) is not SETUP_INDIRECT|X with X ≠ 0"))
                conds.append((reserved == 0, "indirect reserved = \(hex(reserved))"))
                if let r = AddressRange.make(addr, length: len) {
                    conds += c.inRAM(r, "indirect payload")
                    conds += c.clearOfWindow(r, "indirect payload")
                } else { conds.append((false, "indirect payload addr \(hex(addr)) + len \(hex(len)) wraps past 2^64")) }
            }
            return .check(conds, ok: "\(ind.count) indirect node(s) well formed: payloads \(ind.compactMap { c.memory.bytes(at: $0.address &+ UInt64(SetupData.headerSize), count: SetupData.indirectSize).flatMap(SetupData.parseIndirect) }.compactMap { AddressRange.make($0.address, length: $0.length)?.description }.joined(separator: ", ")) in RAM, clear of W \(c.window?.description ?? "(none)")")
        },
        Rule("BP-43", "setup_data types ≤ setup_type_max (2.15+)", reference: "§4.7, §1.7; BOOT; KINFO",
             statement: "For 2.15+, every emitted setup_data and indirect type is ≤ kernel_info.setup_type_max.") { c in
            guard !c.setupNodes.isEmpty else { return .na("no setup_data") }
            guard let ki = kernelInfo(c) else { return .na("no kernel_info to read setup_type_max from (protocol < 2.15, not a bzImage, or none valid at L + kernel_info_offset: BP-09)") }
            var types = c.setupNodes.map(\.type)
            for n in c.setupNodes where n.type == SetupDataType.indirect.rawValue { if let t = c.memory.bytes(at: n.address &+ UInt64(SetupData.headerSize), count: SetupData.indirectSize)?.field(SetupData.Indirect.type) { types.append(UInt32(t)) } }
            let bad = types.filter { $0 > ki.setupTypeMax }
            return bad.isEmpty ? .pass("types \(types.map { hex($0) }) ≤ \(hex(ki.setupTypeMax))") : .fail("types \(bad.map { hex($0) }) exceed setup_type_max \(hex(ki.setupTypeMax))")
        },
        Rule("BP-44", "RNG seed in memory of its own", reference: "§4.7; SETUPC",
             statement: "The kernel zeroes SETUP_RNG_SEED data (and len) after use, so the seed must not share bytes with anything else the kernel or loader reads later.") { c in
            let seeds = c.setupNodes.filter { $0.type == SetupDataType.rngSeed.rawValue }
            guard !seeds.isEmpty else { return .na("no SETUP_RNG_SEED node") }
            var conds: [(Bool, String)] = []
            for n in seeds {
                guard let r = AddressRange.make(n.address, length: 16 + UInt64(n.length)) else {
                    conds.append((false, "RNG seed node at \(hex(n.address)) + 16 + len \(hex(UInt64(n.length))) wraps past 2^64")); continue
                }
                for (name, o) in c.bootObjects where !name.hasPrefix("setup_data") { conds.append((!r.overlaps(o), "RNG seed node \(r) shares bytes with \(name) \(o)")) }
                conds += c.clearOfWindow(r, "RNG seed node")
            }
            conds += c.wrapConditions(window: false).filter { !$0.1.hasPrefix("setup_data") }
            let others = c.bootObjects.filter { !$0.0.hasPrefix("setup_data") }.map { "\($0.0) \($0.1)" } + (c.window.map { ["W \($0)"] } ?? [])
            return .check(conds, ok: "\(seeds.count) seed node(s) at \(seeds.map { hex($0.address) }.joined(separator: ", ")) share no bytes with \(others.joined(separator: ", "))")
        },
    ]
}

extension RuleCatalogue {
    static func kernelInfo(_ c: RuleContext) -> KernelInfo? {
        guard c.isBz, let kio = c.header(.kernelInfoOffset), case let (at, false) = c.L.addingReportingOverflow(kio), let b = c.memory.bytes(at: at, count: 16) else { return nil }
        let k = KernelInfo(bytes: b)
        return k.magic == KernelInfo.magicValue ? k : nil
    }
}
