/// What a real kernel said it received, as the corpus initramfs's init printed it on the
/// console (Corpus/initramfs/init.c has the line format).
public struct KernelReport: Sendable {
    public static let startMarker = "BOOTCONFORM-INIT-START"
    public static let endMarker = "BOOTCONFORM-INIT-END"

    public struct MemoryRange: Sendable, Equatable, CustomStringConvertible {
        /// [start, end): the init prints sysfs's inclusive end; one is added here.
        public let range: AddressRange
        public let type: String
        public init(range: AddressRange, type: String) { self.range = range; self.type = type }
        public var description: String { "\(range) \(type)" }
    }
    public struct File: Sendable, Equatable { public let size: UInt64; public let hash64: UInt64 }

    public var release = ""
    /// /sys/kernel/boot_params/data: the kernel's copy of boot_params.
    public var bootParams: [UInt8] = []
    /// /proc/cmdline without its trailing newline.
    public var commandLine: [UInt8]? = nil
    public var memoryMap: [MemoryRange] = []
    /// Regular files the kernel unpacked from the initrd, by path.
    public var files: [String: File] = [:]
    public var directories: [String] = []
    public var nodes: [String: UInt32] = [:]
    /// /proc/iomem "Kernel code/rodata/data/bss" and kernel-log lines about initrd, command line, e820.
    public var iomem: [String] = []
    public var kernelLog: [String] = []
    /// Sources the init could not read (path and errno).
    public var unreadable: [String] = []
    /// /sys/firmware/fdt: the flattened device tree the kernel was handed (arm64, riscv64), as
    /// the init reported it (its all-zero 64-byte rows left out, so zeros there), and the hash64
    /// the init computed over it; nil where the kernel has none (x86).
    public var deviceTree: [UInt8]? = nil
    public var deviceTreeHash64: UInt64? = nil
    /// Properties under /proc/device-tree by path from the root ("/chosen/bootargs",
    /// "/memory@40000000/reg"), their raw bytes: the tree as the kernel unflattened it.
    public var deviceTreeProperties: [String: [UInt8]] = [:]
    public var lineCount = 0

    /// Where the kernel's code ended up (/proc/iomem "Kernel code").
    public var kernelCode: AddressRange? {
        for l in iomem where l.hasSuffix(": Kernel code") {
            let parts = l.trimmingCharacters(in: .whitespaces).split(separator: " ")[0].split(separator: "-")
            if parts.count == 2, let s = UInt64(parts[0], radix: 16), let e = UInt64(parts[1], radix: 16) { return AddressRange.inclusive(s, e) }
        }
        return nil
    }
    /// The top-level /proc/iomem "System RAM" ranges (lines without indentation): the memory the
    /// kernel uses, as it took it from the device tree's /memory nodes (or e820 on x86).
    public var systemRAM: [AddressRange] {
        iomem.compactMap { l -> AddressRange? in
            guard !l.hasPrefix(" "), l.hasSuffix(" : System RAM") else { return nil }
            let parts = l.split(separator: " ")[0].split(separator: "-")
            guard parts.count == 2, let s = UInt64(parts[0], radix: 16), let e = UInt64(parts[1], radix: 16) else { return nil }
            return AddressRange.inclusive(s, e)
        }
    }

    /// The kernel log's "RAMDISK: [mem a-b]" (b inclusive), where the kernel found its initrd.
    public var ramdiskLogged: AddressRange? {
        for l in kernelLog {
            guard let r = l.range(of: "RAMDISK: [mem ") else { continue }
            let rest = l[r.upperBound...].prefix { $0 != "]" }.split(separator: "-")
            if rest.count == 2, let s = UInt64(rest[0].dropFirst(2), radix: 16), let e = UInt64(rest[1].dropFirst(2), radix: 16) { return AddressRange.inclusive(s, e) }
        }
        return nil
    }
}

public struct KernelReportError: Error, CustomStringConvertible, Sendable, Equatable {
    /// 1-based line within the report (0: the report as a whole).
    public let line: Int
    public let message: String
    public init(line: Int, message: String) { self.line = line; self.message = message }
    public var description: String { line == 0 ? "kernel report: \(message)" : "kernel report line \(line): \(message)" }
}

import Foundation

extension KernelReport {
    public static let maximumLines = 20_000, maximumBootParams = 1 << 16
    /// The largest device tree the report may carry: the arm64 boot protocol's limit (the DTB
    /// "must not exceed 2 megabytes in size", Documentation/arch/arm64/booting.rst, 2.).
    public static let maximumDeviceTree = 2 << 20
    /// How the kernel's panic() starts its message (kernel/panic.c).
    static let panicPrefix = "Kernel panic - not syncing:"

    /// Finds the report between the markers in console output (kernel messages and CR before
    /// LF are tolerated around it), checks the line count and hash64 of the end line, parses.
    public static func parse(serial: [UInt8]) throws(KernelReportError) -> KernelReport {
        // Bytes, not Characters: "\r\n" is one Character in Swift and would hide the line ends.
        // A last line without its newline was cut off; it is not read.
        let complete = serial.last == 0x0A ? serial[...] : serial[..<(serial.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)]
        let lines = complete.split(separator: 0x0A, omittingEmptySubsequences: false).map { l -> Substring in
            Substring(String(decoding: l.last == 0x0D ? l.dropLast() : l, as: UTF8.self))
        }
        guard let first = lines.firstIndex(of: Substring(startMarker)) else {
            let panic = lines.reversed().lazy.compactMap { l in l.range(of: panicPrefix).map { l[$0.upperBound...] } }.first
            let panicked = panic.map { "; the kernel panicked: \($0.trimmingCharacters(in: .whitespaces).prefix(200))" } ?? ""
            throw KernelReportError(line: 0, message: "no '\(startMarker)' line in \(serial.count) bytes of console output (the kernel did not reach the initramfs's init, or its console is not on COM1)\(panicked)")
        }
        var r = KernelReport()
        var hash = ProbeHash64()
        var n = 0
        var ended = false
        for line in lines[(first + 1)...] {
            guard line.hasPrefix("kinit ") else {
                if line == endMarker { break }
                continue   // a kernel message between ours
            }
            let body = line.dropFirst(6)
            if body.hasPrefix("end ") {
                let kv = Dictionary(body.split(separator: " ").dropFirst().compactMap { p -> (String, String)? in
                    let s = p.split(separator: "=", maxSplits: 1); return s.count == 2 ? (String(s[0]), String(s[1])) : nil }, uniquingKeysWith: { a, _ in a })
                guard let lines = kv["lines"].flatMap({ Int($0, radix: 16) }), let h = kv["hash64"].flatMap({ UInt64($0, radix: 16) }) else {
                    throw KernelReportError(line: n + 1, message: "end line without lines= and hash64=: \(body)")
                }
                guard lines == n else { throw KernelReportError(line: n + 1, message: "end line says \(lines) lines, \(n) arrived (lines lost or mixed with console output)") }
                guard h == hash.value else { throw KernelReportError(line: n + 1, message: "hash64 of the report is \(hash64Text(hash.value)), the end line says \(hash64Text(h)) (console output corrupted)") }
                ended = true
                break
            }
            n += 1
            guard n <= maximumLines else { throw KernelReportError(line: n, message: "more than \(maximumLines) lines") }
            hash.update(Array(line.utf8)); hash.update([0x0A])
            try r.take(body, line: n)
        }
        guard ended else { throw KernelReportError(line: 0, message: "no end line after \(n) lines (output cut off: the guest stopped or the time limit passed)") }
        if let dt = r.deviceTree, let want = r.deviceTreeHash64, ProbeHash64.of(dt) != want {
            throw KernelReportError(line: 0, message: "fdt: hash64 of the \(dt.count) bytes reassembled from the fdtrow lines is \(hash64Text(ProbeHash64.of(dt))), the fdt line says \(hash64Text(want))")
        }
        r.lineCount = n
        return r
    }

    mutating func take(_ body: Substring, line n: Int) throws(KernelReportError) {
        func bad(_ m: String) -> KernelReportError { KernelReportError(line: n, message: m) }
        let f = body.split(separator: " ", maxSplits: 1)
        let key = f.first.map(String.init) ?? "", rest = f.count > 1 ? String(f[1]) : ""
        func hexNumber(_ s: Substring) throws(KernelReportError) -> UInt64 {
            guard let v = UInt64(s, radix: 16) else { throw bad("\(key): '\(s)' is not a hex number") }
            return v
        }
        switch key {
        case "version": guard rest == "1" else { throw bad("report version \(rest); this judge reads version 1") }
        case "kernel": release = rest
        case "bootparams":
            let size = try hexNumber(Substring(rest))
            guard size <= UInt64(Self.maximumBootParams) else { throw bad("bootparams size \(size) exceeds \(Self.maximumBootParams)") }
            bootParams = [UInt8](repeating: 0, count: Int(size))
        case "bp":
            let p = rest.split(separator: " ")
            guard p.count == 2, let bytes = [UInt8](hex: String(p[1])) else { throw bad("bp: expected OFFSET HEX") }
            let off = try hexNumber(p[0])
            guard off + UInt64(bytes.count) <= UInt64(bootParams.count) else { throw bad("bp row at \(hex(off)) of \(bytes.count) bytes is outside the \(bootParams.count)-byte zero page (or before the bootparams line)") }
            bootParams.replaceSubrange(Int(off)..<Int(off) + bytes.count, with: bytes)
        case "cmdline":
            guard let b = [UInt8](hex: rest) else { throw bad("cmdline: not hex") }
            commandLine = b
        case "memmap":
            let p = rest.split(separator: " ", maxSplits: 2)
            guard p.count == 3 else { throw bad("memmap: expected START END TYPE") }
            let s = try hexNumber(p[0]), e = try hexNumber(p[1])
            guard let r = AddressRange.inclusive(s, e) else { throw bad("memmap: [\(hex(s)), \(hex(e))] ends before it starts, or at 2^64 − 1") }
            memoryMap.append(MemoryRange(range: r, type: String(p[2])))
        case "file":
            let p = rest.split(separator: " ")
            guard p.count == 3 else { throw bad("file: expected PATH SIZE HASH64") }
            files[String(p[0])] = File(size: try hexNumber(p[1]), hash64: try hexNumber(p[2]))
        case "dir": directories.append(rest)
        case "node":
            let p = rest.split(separator: " ")
            guard p.count == 2, let m = UInt32(p[1], radix: 8) else { throw bad("node: expected PATH MODE") }
            nodes[String(p[0])] = m
        case "fdt":
            let p = rest.split(separator: " ")
            guard p.count == 2 else { throw bad("fdt: expected SIZE HASH64") }
            let size = try hexNumber(p[0])
            guard size <= UInt64(Self.maximumDeviceTree) else { throw bad("fdt size \(hex(size)) exceeds \(hex(UInt64(Self.maximumDeviceTree))) (the 2 MiB DTB limit)") }
            deviceTree = [UInt8](repeating: 0, count: Int(size))
            deviceTreeHash64 = try hexNumber(p[1])
        case "fdtrow":
            let p = rest.split(separator: " ")
            guard p.count == 2, let bytes = [UInt8](hex: String(p[1])) else { throw bad("fdtrow: expected OFFSET HEX") }
            let off = try hexNumber(p[0])
            guard let count = deviceTree?.count, off <= UInt64(count), UInt64(bytes.count) <= UInt64(count) - off else {
                throw bad("fdtrow at \(hex(off)) of \(bytes.count) bytes is outside the \(deviceTree?.count ?? 0)-byte device tree (or before the fdt line)")
            }
            deviceTree!.replaceSubrange(Int(off)..<Int(off) + bytes.count, with: bytes)
        case "dtprop":
            // "dtprop PATH HEX"; an empty property (a flag such as "ranges") has nothing after the path.
            let p = rest.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard let path = p.first, path.hasPrefix("/"), let bytes = [UInt8](hex: p.count > 1 ? String(p[1]) : "") else { throw bad("dtprop: expected PATH HEX") }
            deviceTreeProperties[String(path)] = bytes
        case "iomem": iomem.append(rest)
        case "klog": kernelLog.append(rest)
        case "unreadable": unreadable.append(rest)
        default: throw bad("unknown line '\(key)'")
        }
    }
}
