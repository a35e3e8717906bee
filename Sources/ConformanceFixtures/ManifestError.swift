import Conformance
import Foundation

/// Reading manifest JSON: numbers may be written as "0x…" strings, sizes as "16M".
public enum ManifestError: Error, CustomStringConvertible, Equatable, Sendable {
    case unreadable(path: String, reason: String)
    case badValue(caseID: String, key: String, found: String)
    public var description: String {
        switch self {
        case let .unreadable(p, r): "\(p): \(r)"
        case let .badValue(c, k, f): "manifest case \(c): \(k) = \(f) is not valid"
        }
    }
}

struct Fields {
    let id: String
    let d: [String: Any]
    func has(_ k: String) -> Bool { d[k] != nil && !(d[k] is NSNull) }
    func num(_ k: String) throws(ManifestError) -> UInt64? {
        guard let v = d[k], !(v is NSNull) else { return nil }
        if let s = v as? String, let n = parseSize(s) { return n }
        if let n = v as? Int, n >= 0 { return UInt64(n) }
        throw .badValue(caseID: id, key: k, found: "\(v)")
    }
    func num(_ k: String, _ def: UInt64) throws(ManifestError) -> UInt64 { try num(k) ?? def }
    /// A size or count that becomes an allocation or an index: at most `max`.
    func size(_ k: String, _ def: Int, max: Int) throws(ManifestError) -> Int {
        let v = try num(k, UInt64(def))
        guard v <= UInt64(max) else { throw .badValue(caseID: id, key: k, found: "\(hex(v)) (at most \(hex(max)))") }
        return Int(v)
    }
    func str(_ k: String) -> String? { d[k] as? String }
    func bool(_ k: String) -> Bool? { d[k] as? Bool }
    func sub(_ k: String) -> Fields? { (d[k] as? [String: Any]).map { Fields(id: id, d: $0) } }
    func list(_ k: String) -> [Fields] { ((d[k] as? [[String: Any]]) ?? []).map { Fields(id: id, d: $0) } }
    func strings(_ k: String) -> [String] { (d[k] as? [String]) ?? [] }
}

/// Deterministic filler bytes (xorshift64*), so images and initrds have content worth hashing.
public func patternBytes(count: Int, seed: String) -> [UInt8] {
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    for b in seed.utf8 { x = (x ^ UInt64(b)) &* 0x100_0000_01B3 }
    if x == 0 { x = 1 }
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27
        var v = x &* 0x2545_F491_4F6C_DD1D
        for _ in 0..<8 where i < count { out[i] = UInt8(truncatingIfNeeded: v); v >>= 8; i += 1 }
    }
    return out
}
