import Conformance
import HarnessKVM
import ConformanceFixtures
import Foundation
import Glibc

/// A newc ("070701") cpio archive writer: headers written by hand, every entry owned by 0:0
/// with mtime 0 and inodes numbered in order, so the bytes depend on the contents alone.
/// (`Newc.entries` in Conformance reads what this writes.)
public struct NewcWriter {
    private var bytes: [UInt8] = []
    private var inode: UInt32 = 0
    /// False once a file of 4 GiB or more was added (newc's size field is 32-bit); its size
    /// is then written truncated, and the archive must not be used.
    public private(set) var fits = true
    public init() {}

    public mutating func directory(_ name: String) { entry(name, mode: 0o040755, data: []) }
    public mutating func file(_ name: String, _ data: [UInt8], mode: UInt32) { entry(name, mode: 0o100000 | (mode & 0o7777), data: data) }
    public mutating func characterDevice(_ name: String, major: UInt32, minor: UInt32) { entry(name, mode: 0o020600, data: [], rdev: (major, minor)) }

    /// The archive: the entries, the trailer, zero padding to 512 bytes.
    public mutating func finish() -> [UInt8] {
        entry("TRAILER!!!", mode: 0, data: [], numbered: false)
        while bytes.count % 512 != 0 { bytes.append(0) }
        return bytes
    }

    private mutating func entry(_ name: String, mode: UInt32, data: [UInt8], rdev: (UInt32, UInt32) = (0, 0), numbered: Bool = true) {
        if numbered { inode &+= 1 }
        if data.count > Int(UInt32.max) { fits = false }
        let n = Array(name.utf8) + [0]
        let isDirectory = mode & 0o170000 == 0o040000
        // c_ino c_mode c_uid c_gid c_nlink c_mtime c_filesize c_devmajor c_devminor
        // c_rdevmajor c_rdevminor c_namesize c_check
        let fields: [UInt32] = [numbered ? inode : 0, mode, 0, 0, isDirectory ? 2 : 1, 0, UInt32(truncatingIfNeeded: data.count), 0, 0,
                                rdev.0, rdev.1, UInt32(n.count), 0]
        bytes += Array("070701".utf8)
        for f in fields { bytes += Array(String(format: "%08X", f).utf8) }
        bytes += n
        while bytes.count % 4 != 0 { bytes.append(0) }
        bytes += data
        while bytes.count % 4 != 0 { bytes.append(0) }
    }
}
