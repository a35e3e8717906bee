import Foundation

/// Hex-string Codable forms for the Image snapshot's numbers and blobs, so its JSON matches the
/// x86 snapshot's ("0x40200000" for numbers, lowercase hex for bytes). Decoding checks the text:
/// at most 16 hex digits after "0x", an even number of hex digits for bytes.
enum HexText {
    static func number(_ v: UInt64) -> String { hex(v) }
    static func number(_ s: String, _ d: Decoder) throws -> UInt64 {
        guard let v = parseHexLiteral(s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: d.codingPath, debugDescription: "expected a hex string of 1 to 16 digits (\"0x1F\"), found \"\(s.prefix(40))\""))
        }
        return v
    }
    static func bytes(_ s: String, _ d: Decoder) throws -> [UInt8] {
        guard let b = [UInt8](hex: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: d.codingPath, debugDescription: "expected an even number of hex digits, found \(s.count) characters"))
        }
        return b
    }
}

/// A UInt64 written as "0x…".
@propertyWrapper public struct Hex: Codable, Sendable, Hashable {
    public var wrappedValue: UInt64
    public init(wrappedValue: UInt64) { self.wrappedValue = wrappedValue }
    public init(from d: Decoder) throws { wrappedValue = try HexText.number(try d.singleValueContainer().decode(String.self), d) }
    public func encode(to e: Encoder) throws { var c = e.singleValueContainer(); try c.encode(HexText.number(wrappedValue)) }
}

/// An optional UInt64 written as "0x…", its key left out when nil.
@propertyWrapper public struct OptionalHex: Codable, Sendable, Hashable {
    public var wrappedValue: UInt64?
    public init(wrappedValue: UInt64?) { self.wrappedValue = wrappedValue }
    public init(from d: Decoder) throws { wrappedValue = try HexText.number(try d.singleValueContainer().decode(String.self), d) }
    public func encode(to e: Encoder) throws { var c = e.singleValueContainer(); try wrappedValue.map { try c.encode(HexText.number($0)) } ?? c.encodeNil() }
}

/// A list of UInt64, each written as "0x…".
@propertyWrapper public struct HexList: Codable, Sendable, Hashable {
    public var wrappedValue: [UInt64]
    public init(wrappedValue: [UInt64]) { self.wrappedValue = wrappedValue }
    public init(from d: Decoder) throws { wrappedValue = try d.singleValueContainer().decode([String].self).map { try HexText.number($0, d) } }
    public func encode(to e: Encoder) throws { var c = e.singleValueContainer(); try c.encode(wrappedValue.map(HexText.number)) }
}

/// Bytes written as one lowercase hex string.
@propertyWrapper public struct HexBytes: Codable, Sendable, Hashable {
    public var wrappedValue: [UInt8]
    public init(wrappedValue: [UInt8]) { self.wrappedValue = wrappedValue }
    public init(from d: Decoder) throws { wrappedValue = try HexText.bytes(try d.singleValueContainer().decode(String.self), d) }
    public func encode(to e: Encoder) throws { var c = e.singleValueContainer(); try c.encode(wrappedValue.hexString) }
}

/// Optional bytes written as one lowercase hex string, the key left out when nil.
@propertyWrapper public struct OptionalHexBytes: Codable, Sendable, Hashable {
    public var wrappedValue: [UInt8]?
    public init(wrappedValue: [UInt8]?) { self.wrappedValue = wrappedValue }
    public init(from d: Decoder) throws { wrappedValue = try HexText.bytes(try d.singleValueContainer().decode(String.self), d) }
    public func encode(to e: Encoder) throws { var c = e.singleValueContainer(); try wrappedValue.map { try c.encode($0.hexString) } ?? c.encodeNil() }
}

// A nil optional wrapper leaves its key out, and an absent key decodes as nil.
extension KeyedEncodingContainer {
    mutating func encode(_ v: OptionalHex, forKey k: Key) throws { if v.wrappedValue != nil { try encodeIfPresent(v as OptionalHex?, forKey: k) } }
    mutating func encode(_ v: OptionalHexBytes, forKey k: Key) throws { if v.wrappedValue != nil { try encodeIfPresent(v as OptionalHexBytes?, forKey: k) } }
}
extension KeyedDecodingContainer {
    func decode(_ t: OptionalHex.Type, forKey k: Key) throws -> OptionalHex { try decodeIfPresent(t, forKey: k) ?? OptionalHex(wrappedValue: nil) }
    func decode(_ t: OptionalHexBytes.Type, forKey k: Key) throws -> OptionalHexBytes { try decodeIfPresent(t, forKey: k) ?? OptionalHexBytes(wrappedValue: nil) }
}
