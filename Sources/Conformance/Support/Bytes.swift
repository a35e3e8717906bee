/// Little-endian access to packed byte structures by explicit offset (and big-endian reads and
/// byte orders for the device tree's cells).
///
/// The zero page, setup header, ELF headers and PVH start_info are all packed little-endian
/// structures, so nothing here relies on a Swift struct's memory layout.
public extension Array where Element == UInt8 {
    /// Reads an unsigned little-endian integer of `width` bytes at `offset`; nil when out of range.
    func le(_ offset: Int, _ width: Int) -> UInt64? {
        guard offset >= 0, width > 0, width <= 8, offset <= count - width else { return nil }
        var value: UInt64 = 0
        for i in 0..<width { value |= UInt64(self[offset + i]) << (8 * UInt64(i)) }
        return value
    }
    /// Reads an unsigned big-endian integer of `width` bytes at `offset` (a device tree's cells
    /// and header); nil when out of range.
    func be(_ offset: Int, _ width: Int) -> UInt64? {
        guard offset >= 0, width > 0, width <= 8, offset <= count - width else { return nil }
        var value: UInt64 = 0
        for i in 0..<width { value = value << 8 | UInt64(self[offset + i]) }
        return value
    }
    /// The low `width` bytes of `value`, least significant first.
    init(littleEndian value: some FixedWidthInteger, width: Int) {
        let u = UInt64(truncatingIfNeeded: value)
        self = (0..<width).map { UInt8(truncatingIfNeeded: u >> (8 * UInt64($0))) }
    }
    /// The low `width` bytes of `value`, most significant first.
    init(bigEndian value: some FixedWidthInteger, width: Int) {
        let u = UInt64(truncatingIfNeeded: value)
        self = (0..<width).map { UInt8(truncatingIfNeeded: u >> (8 * UInt64(width - 1 - $0))) }
    }
    func u8(_ offset: Int) -> UInt8? { offset >= 0 && offset < count ? self[offset] : nil }
    func u16(_ offset: Int) -> UInt16? { le(offset, 2).map { UInt16($0) } }
    func u32(_ offset: Int) -> UInt32? { le(offset, 4).map { UInt32($0) } }
    func u64(_ offset: Int) -> UInt64? { le(offset, 8) }

    /// Writes `value` as `width` little-endian bytes at `offset`. Callers write only inside
    /// buffers they sized themselves; an out-of-range write is our own bug and traps.
    mutating func put(_ value: UInt64, at offset: Int, width: Int) {
        precondition(offset >= 0 && width <= 8 && offset + width <= count, "internal: write outside buffer")
        for i in 0..<width { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    mutating func put8(_ v: UInt8, at o: Int) { put(UInt64(v), at: o, width: 1) }
    mutating func put16(_ v: UInt16, at o: Int) { put(UInt64(v), at: o, width: 2) }
    mutating func put32(_ v: UInt32, at o: Int) { put(UInt64(v), at: o, width: 4) }
    mutating func put64(_ v: UInt64, at o: Int) { put(v, at: o, width: 8) }
    mutating func put(bytes: [UInt8], at o: Int) {
        precondition(o >= 0 && o + bytes.count <= count, "internal: write outside buffer")
        replaceSubrange(o..<(o + bytes.count), with: bytes)
    }

    /// Slice clamped to the array; never traps.
    func slice(_ offset: Int, _ length: Int) -> [UInt8] {
        guard offset >= 0, offset < count, length > 0 else { return [] }
        return Array(self[offset..<Swift.min(count, offset + length)])
    }

    /// Lowercase hex, two digits a byte, written straight into the string's storage (SHA-256
    /// digests of every snapshot and rule check go through here).
    var hexString: String {
        String(unsafeUninitializedCapacity: count * 2) { out in
            for (i, b) in enumerated() {
                let hi = b >> 4, lo = b & 0xF
                out[2 * i] = hi < 10 ? 0x30 + hi : 0x57 + hi
                out[2 * i + 1] = lo < 10 ? 0x30 + lo : 0x57 + lo
            }
            return count * 2
        }
    }

    init?(hex: String) {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var out = [UInt8](); out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let h = nibble(chars[i]), let l = nibble(chars[i + 1]) else { return nil }
            out.append(h << 4 | l); i += 2
        }
        self = out
    }
}

/// `0x1000000`-style formatting used in every message and in snapshot JSON.
@inlinable public func hex<T: BinaryInteger>(_ v: T) -> String { "0x" + String(v, radix: 16, uppercase: true) }

/// A 64-bit hash as 16 lowercase hex digits, zero-padded (`hash64` values in reports).
public func hash64Text(_ v: UInt64) -> String { [UInt8](bigEndian: v, width: 8).hexString }

/// "0x" and 1 to 16 hex digits of either case, the form snapshot files write numbers in; nil
/// for anything else (no sign, no spaces, no more digits than a UInt64 holds).
public func parseHexLiteral(_ s: String) -> UInt64? {
    let digits = s.utf8.dropFirst(2)
    guard s.utf8.starts(with: "0x".utf8), (1...16).contains(digits.count),
          digits.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }) else { return nil }
    return UInt64(Substring(digits), radix: 16)
}

/// Parses `0x…`, decimal, or a size with a K/M/G/T suffix (binary units).
public func parseNumber(_ text: String) -> UInt64? {
    // Trim only when an end could be whitespace: Foundation's trim is most of a probe report's
    // parse, and the report's values ("base=0x7000") never have any.
    let plain = { (b: UInt8?) in b.map { $0 < 0x80 && $0 != 0x20 && $0 != 0x09 } ?? true }
    let t = plain(text.utf8.first) && plain(text.utf8.last) ? text : text.trimmingCharacters(in: .whitespaces)
    if t.hasPrefix("0x") || t.hasPrefix("0X") { return UInt64(t.dropFirst(2), radix: 16) }
    return UInt64(t)
}

public func parseSize(_ text: String) -> UInt64? {
    var t = text.trimmingCharacters(in: .whitespaces).uppercased()
    if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
    let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    var mult: UInt64 = 1
    if let last = t.last, let u = units[last] { mult = u; t.removeLast() }
    guard let n = parseNumber(t.lowercased()) else { return nil }
    let (r, o) = n.multipliedReportingOverflow(by: mult)
    return o ? nil : r
}

/// Why an address range cannot be built (issue 14: a range that wraps is an error, never a
/// clamp): its end lies before its start, or start + length wraps past 2^64.
public struct AddressRangeError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let start: UInt64
    /// The end asked for, when the range was given by its end.
    public let end: UInt64?
    /// The length asked for, when the range was given by its length.
    public let length: UInt64?
    public init(start: UInt64, end: UInt64?, length: UInt64?) { self.start = start; self.end = end; self.length = length }
    public var description: String {
        if let end { return "range [\(hex(start)), \(hex(end))) ends before it starts" }
        return "range \(hex(start)) + \(hex(length ?? 0)) wraps past 2^64"
    }
}

/// A half-open physical address range [start, end), start ≤ end. It cannot be built inverted
/// or wrapping: the initialisers throw, `make` returns nil, and only our own constants use
/// `init(constantStart:end:)`.
public struct AddressRange: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let start: UInt64
    public let end: UInt64
    private init(valid start: UInt64, _ end: UInt64) { self.start = start; self.end = end }
    /// [start, end); throws when end < start.
    public init(start: UInt64, end: UInt64) throws(AddressRangeError) {
        guard end >= start else { throw AddressRangeError(start: start, end: end, length: nil) }
        self.init(valid: start, end)
    }
    /// [start, start + length); throws when the sum wraps past 2^64.
    public init(start: UInt64, length: UInt64) throws(AddressRangeError) {
        let (e, o) = start.addingReportingOverflow(length)
        guard !o else { throw AddressRangeError(start: start, end: nil, length: length) }
        self.init(valid: start, e)
    }
    /// One of our own constants (never a value read from an image, a snapshot, a report or a
    /// guest): an inverted constant is our bug and traps.
    public init(constantStart start: UInt64, end: UInt64) {
        precondition(end >= start, "internal: constant range ends before it starts")
        self.init(valid: start, end)
    }
    /// nil when `start + length` wraps past 2^64.
    public static func make(_ start: UInt64, length: UInt64) -> AddressRange? { try? AddressRange(start: start, length: length) }
    /// [first, last], as /proc/iomem and the kernel log print ranges; nil when last < first or
    /// last is 2^64 − 1 (the end, 2^64, is not representable).
    public static func inclusive(_ first: UInt64, _ last: UInt64) -> AddressRange? {
        guard last >= first, last < .max else { return nil }
        return AddressRange(valid: first, last + 1)
    }
    /// The smallest range holding both (merging adjacent or overlapping ranges).
    public func spanning(_ o: AddressRange) -> AddressRange { AddressRange(valid: Swift.min(start, o.start), Swift.max(end, o.end)) }
    public var length: UInt64 { end - start }
    public var isEmpty: Bool { end == start }
    public func overlaps(_ o: AddressRange) -> Bool { !isEmpty && !o.isEmpty && start < o.end && o.start < end }
    public func contains(_ o: AddressRange) -> Bool { o.start >= start && o.end <= end }
    public func contains(_ a: UInt64) -> Bool { a >= start && a < end }
    public var description: String { "[\(hex(start)), \(hex(end)))" }
    public static func < (a: AddressRange, b: AddressRange) -> Bool { (a.start, a.end) < (b.start, b.end) }

    /// The parts of this range that no range of `covering` holds, in address order.
    public func uncovered(by covering: [AddressRange]) -> [AddressRange] {
        var out: [AddressRange] = []
        var at = start
        for c in covering.sorted() where c.end > at && c.start < end {
            if c.start > at { out.append(AddressRange(valid: at, c.start)) }
            at = max(at, c.end)
            if at >= end { return out }
        }
        if at < end { out.append(AddressRange(valid: at, end)) }
        return out
    }
}

public extension UInt64 {
    /// Rounds up to a power-of-two-or-not multiple; nil on overflow or a zero alignment.
    func alignedUp(_ a: UInt64) -> UInt64? {
        guard a > 0 else { return nil }
        let r = self % a
        if r == 0 { return self }
        let (v, o) = addingReportingOverflow(a - r)
        return o ? nil : v
    }
    func alignedDown(_ a: UInt64) -> UInt64 { a == 0 ? self : self - self % a }
    var isPowerOfTwo: Bool { self != 0 && (self & (self - 1)) == 0 }
}

import Foundation

public extension AddressRange {
    /// The union of `ranges` as sorted ranges, touching and overlapping ones merged, empty ones
    /// dropped.
    static func union(_ ranges: [AddressRange]) -> [AddressRange] {
        var out: [AddressRange] = []
        for r in ranges.sorted() where !r.isEmpty {
            if let last = out.last, r.start <= last.end { out[out.count - 1] = last.spanning(r) } else { out.append(r) }
        }
        return out
    }
}
