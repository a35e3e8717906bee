/// A newc ("070701"/"070702") cpio archive, read so the judge knows which files the kernel
/// should have unpacked from an initrd. Concatenated archives (zero padding between them) are
/// read in turn, as the kernel does; compressed ones are named, not unpacked.
public enum Newc {
    public struct Entry: Sendable, Equatable {
        /// "/init", "/etc/x"; the root "." is "/".
        public let path: String
        public let mode: UInt32
        public let size: UInt64
        public let hash64: UInt64
        public init(path: String, mode: UInt32, size: UInt64, hash64: UInt64) { self.path = path; self.mode = mode; self.size = size; self.hash64 = hash64 }
        public var isRegularFile: Bool { mode & 0o170000 == 0o100000 }
        public var isDirectory: Bool { mode & 0o170000 == 0o040000 }
    }

    public struct Error: Swift.Error, CustomStringConvertible, Sendable, Equatable {
        public let offset: Int
        public let message: String
        public var description: String { "initrd at byte \(hex(UInt64(offset))): \(message)" }
    }

    public static let maximumEntries = 100_000

    public static func entries(_ b: [UInt8]) throws(Error) -> [Entry] {
        var out: [Entry] = []
        var at = 0
        func field(_ i: Int, _ base: Int) throws(Error) -> UInt64 {
            let s = base + 6 + 8 * i
            guard let v = UInt64(String(decoding: b[s..<s + 8], as: UTF8.self), radix: 16) else {
                throw Error(offset: s, message: "header field \(i) is not 8 hex digits")
            }
            return v
        }
        while at < b.count {
            if b[at] == 0 { at += 1; continue }     // padding between concatenated archives
            guard at + 110 <= b.count else { throw Error(offset: at, message: "truncated header (\(b.count - at) bytes left, 110 needed)") }
            let magic = String(decoding: b[at..<at + 6], as: UTF8.self)
            guard magic == "070701" || magic == "070702" else {
                let kind: String
                switch (b[at], b[at + 1]) {
                case (0x1F, 0x8B): kind = "gzip"
                case (0x28, 0xB5): kind = "zstd"
                case (0xFD, 0x37): kind = "xz"
                case (0x02, 0x21): kind = "lz4"
                default: kind = "not a newc header"
                }
                throw Error(offset: at, message: "magic '\(magic.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : "." }.joined())': \(kind) (only uncompressed newc archives are unpacked for the check)")
            }
            let mode = try field(1, at), size = try field(6, at), nameSize = try field(11, at)
            guard nameSize >= 1, nameSize <= 4096 else { throw Error(offset: at + 94, message: "name size \(nameSize) outside 1…4096") }
            let nameAt = at + 110
            guard nameAt + Int(nameSize) <= b.count else { throw Error(offset: nameAt, message: "name runs past the end") }
            let name = String(decoding: b[nameAt..<nameAt + Int(nameSize) - 1], as: UTF8.self)
            let dataAt = (nameAt + Int(nameSize) + 3) & ~3
            guard size <= UInt64(b.count), dataAt + Int(size) <= b.count else { throw Error(offset: at + 54, message: "'\(name)': file size \(size) runs past the end of the archive") }
            if name == "TRAILER!!!" { at = (dataAt + Int(size) + 3) & ~3; continue }
            let path = name == "." ? "/" : "/" + (name.hasPrefix("./") ? String(name.dropFirst(2)) : name)
            out.append(Entry(path: path, mode: UInt32(truncatingIfNeeded: mode), size: size, hash64: ProbeHash64.of(b[dataAt..<dataAt + Int(size)])))
            guard out.count <= maximumEntries else { throw Error(offset: at, message: "more than \(maximumEntries) entries") }
            at = (dataAt + Int(size) + 3) & ~3
        }
        return out
    }
}
