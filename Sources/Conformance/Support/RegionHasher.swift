import Crypto

/// SHA-256 as lowercase hex, as it appears in snapshot JSON and corpus manifests.
public func sha256Hex<D: DataProtocol>(_ data: D) -> String {
    Array(SHA256.hash(data: data)).hexString
}

/// Incremental SHA-256 for large guest regions (hashed in place, no copy).
public struct RegionHasher {
    var inner = SHA256()
    public init() {}
    public mutating func update(_ buffer: UnsafeRawBufferPointer) { inner.update(bufferPointer: buffer) }
    public mutating func update(_ bytes: [UInt8]) { inner.update(data: bytes) }
    public func finalizeHex() -> String { Array(inner.finalize()).hexString }
}

import Foundation
