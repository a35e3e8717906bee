import Conformance
import HarnessKVM
import Foundation
import Glibc

public struct GateError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ m: String) { message = m }
    public var description: String { message }
}

/// A kernel handed to the gate: an image file, or a Debian package it is taken from; an x86
/// kernel (bzImage or ELF vmlinux, with the ELF inside a bzImage's payload when a decompressor
/// for it is installed) or an arm64 or riscv64 Image.
public struct GateKernel: Sendable {
    /// What the file is, by its magic: "ARM\x64" or "RSC\x05" at 0x38 (or the deprecated
    /// "RISCV" at 0x30) is an Image (spec §6); an ELF or a bzImage otherwise.
    public enum Format: Sendable {
        case x86(KernelImage)
        /// The header and the 64 bytes it was read from.
        case image(ImageHeader, header: [UInt8])
    }
    /// What the user gave.
    public let given: String
    /// The image file (extracted from the .deb, and decompressed, when need be).
    public let image: String
    /// "linux-image-…_6.12.117-1~deb12u1_amd64.deb → boot/vmlinuz-…" (the member taken from a
    /// .deb) or the file name.
    public let label: String
    public let format: Format
    public let payload: ElfImage?
    /// Why the payload ELF could not be read (missing tool, unknown format), if it could not;
    /// for an Image that came compressed, how it was unpacked.
    public let payloadNote: String?

    /// The x86 kernel; nil for an Image.
    public var parsed: KernelImage? { if case .x86(let k) = format { k } else { nil } }
    /// The Image header; nil for an x86 kernel.
    public var imageHeader: ImageHeader? { if case .image(let h, _) = format { h } else { nil } }
    /// "bzImage", "ELF vmlinux", "arm64 Image", "riscv64 Image".
    public var formatName: String {
        switch format {
        case .x86(let k): k.formatName
        case .image(let h, _): "\(h.architecture.rawValue) Image"
        }
    }

    public var surface: [SurfaceItem] {
        switch format {
        case .x86(.bzImage(let bz)): Surface.of(bzImage: bz, payload: payload)
        case .x86(.elf(let e)): Surface.of(elf: e)
        case .image(let h, let bytes): Surface.of(image: h, header: bytes)
        }
    }
}

/// Runs host tools (dpkg-deb, tar, decompressors) with clear errors; keeps its files in one
/// temporary directory that `cleanup()` removes.
public final class GateWorkspace: @unchecked Sendable {
    public let directory: String
    public init() throws {
        do { directory = try Scratch.directory("gate") } catch {
            throw GateError("cannot create a temporary directory: \(error.localizedDescription)")
        }
    }
    public func cleanup() { try? FileManager.default.removeItem(atPath: directory) }

    static func which(_ tool: String, package: String) throws -> String {
        guard let exe = HostTools.find(tool) else { throw GateError("\(tool) is not installed (apt-get install \(package))") }
        return exe
    }

    /// Runs `tool args` with stdin and stdout redirected to files; returns stderr on failure.
    func run(_ tool: String, package: String, _ args: [String], stdin: String? = nil, stdout: String? = nil) throws {
        do { try HostTools.run(tool, package: package, args, stdin: stdin, stdout: stdout) } catch { throw GateError(error.description) }
    }

    /// Opens an image file or a Debian package: its ./boot/vmlinuz-* (6.x packages) or its
    /// ./usr/lib/modules/*/vmlinuz* (the 7.x linux-binary-* packages). An arm64 or riscv64
    /// Image is told by its magic at 0x38 and read as one, after decompression when it came as
    /// an Image.gz or an EFI zboot image; anything else is parsed as a bzImage or an ELF.
    public func kernel(_ path: String) throws -> GateKernel {
        guard FileManager.default.isReadableFile(atPath: path) else { throw GateError("\(path): not a readable file") }
        var image = path, label = (path as NSString).lastPathComponent
        if path.hasSuffix(".deb") {
            let sub = directory + "/" + label + ".d"
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            let x: DebianKernelPackage.Extracted
            do { x = try DebianKernelPackage.extractImage(deb: path, into: sub) } catch { throw GateError("\(error)") }
            image = x.path
            label += " → " + x.member.replacingOccurrences(of: "./", with: "")
        }
        /// The file and its first 64 bytes (fewer when it is shorter).
        func open(_ path: String) throws -> (FileSource, [UInt8]) {
            do {
                let src = try FileSource(path: path)
                return (src, try src.read(at: 0, count: Int(min(src.size, UInt64(ImageHeader.size)))))
            } catch { throw GateError("\(path): \(error)") }
        }
        var (src, head) = try open(image)
        var unpacked: String? = nil
        if ImageHeader.architecture(of: head) == nil, let (how, out) = try unpackImage(image, head: head) {
            image = out; unpacked = how
            (src, head) = try open(image)
        }
        if let arch = ImageHeader.architecture(of: head) {
            let h: ImageHeader
            do { h = try ImageHeader(head, architecture: arch, fileSize: src.size) } catch { throw GateError("\(image): \(error)") }
            return GateKernel(given: path, image: image, label: label, format: .image(h, header: head), payload: nil, payloadNote: unpacked)
        }
        let parsed: KernelImage
        do { parsed = try KernelImage(source: src) } catch { throw GateError("\(image): \(error)") }
        var payload: ElfImage? = nil, note: String? = nil
        if case .bzImage(let bz) = parsed { (payload, note) = payloadELF(bz, source: src, name: (image as NSString).lastPathComponent) }
        return GateKernel(given: path, image: image, label: label, format: .x86(parsed), payload: payload, payloadNote: note)
    }

    /// The decompressors by format: the host tool, its Debian package, its arguments.
    static let decompressors: [PayloadFormat: (String, String, [String])] = [
        .gzip: ("gzip", "gzip", ["-dc"]), .bzip2: ("bzip2", "bzip2", ["-dc"]), .xz: ("xz", "xz-utils", ["-dc"]),
        .lzma: ("xz", "xz-utils", ["--format=lzma", "-dc"]), .lz4: ("lz4", "lz4", ["-dc"]), .zstd: ("zstd", "zstd", ["-dcq"])]

    /// A compressed arm64 or riscv64 Image, as Debian has shipped them: an Image.gz (gzip
    /// magic 1F 8B at 0), or an EFI zboot image ("MZ" at 0, "zimg" at 4; the payload's offset
    /// and size at 8 and 12, the compression's name at 0x18; drivers/firmware/efi/libstub/
    /// zboot-header.S). Decompressed next to the workspace's other files; returns how it was
    /// unpacked and where, or nil when the file is neither (an x86 kernel, or not a kernel).
    func unpackImage(_ path: String, head: [UInt8]) throws -> (String, String)? {
        let name = (path as NSString).lastPathComponent, out = directory + "/\(name).Image"
        if head.starts(with: [0x1F, 0x8B]) {
            try run("gzip", package: "gzip", ["-dc"], stdin: path, stdout: out)
            return ("a gzip-compressed Image (Image.gz), decompressed", out)
        }
        guard head.count >= 0x38, head.starts(with: [0x4D, 0x5A]), Array(head[4..<8]) == Array("zimg".utf8) else { return nil }
        let offset = UInt64(head.u32(8)!), size = Int(head.u32(12)!)
        let method = String(decoding: head[0x18..<0x38].prefix { $0 != 0 }, as: UTF8.self)
        let names: [String: PayloadFormat] = ["gzip": .gzip, "xz": .xz, "lzma": .lzma, "lz4": .lz4, "zstd": .zstd, "bzip2": .bzip2]
        guard let fmt = names[method], let (tool, pkg, args) = Self.decompressors[fmt] else {
            throw GateError("\(path): EFI zboot image: compression name at 0x18: expected one of \(names.keys.sorted().joined(separator: ", ")), found \"\(method)\"")
        }
        let payload: [UInt8]
        do { payload = try FileSource(path: path).read(at: offset, count: size) } catch {
            throw GateError("\(path): EFI zboot image: payload at \(hex(offset)) (offset at 0x8), \(size) bytes (size at 0xC): \(error)")
        }
        let compressed = directory + "/\(name).zboot-payload"
        guard FileManager.default.createFile(atPath: compressed, contents: Data(payload)) else { throw GateError("cannot write \(compressed)") }
        defer { try? FileManager.default.removeItem(atPath: compressed) }
        try run(tool, package: pkg, args, stdin: compressed, stdout: out)
        return ("an EFI zboot image (\(method) payload at \(hex(offset)), \(size) bytes), decompressed", out)
    }

    /// Decompresses a bzImage's payload with the matching host tool and parses the ELF inside.
    func payloadELF(_ bz: BzImage, source: FileSource, name: String) -> (ElfImage?, String?) {
        guard let off = bz.header.payloadOffset, let len = bz.header.payloadLength, len > 4, let fmt = bz.payloadFormat else {
            return (nil, "no payload fields (protocol < 2.08) or unknown payload format")
        }
        let compressed = directory + "/\(name).payload", out = directory + "/\(name).elf"
        do {
            // The last 4 bytes are the decompressed length, not part of the stream.
            let bytes = try source.read(at: bz.protectedModeOffset + UInt64(off), count: Int(len) - 4)
            guard FileManager.default.createFile(atPath: compressed, contents: Data(bytes)) else { return (nil, "cannot write \(compressed)") }
            if fmt == .elf { try FileManager.default.moveItem(atPath: compressed, toPath: out) } else {
                guard let (tool, pkg, args) = Self.decompressors[fmt] else { return (nil, "no decompressor for \(fmt.rawValue)") }
                try run(tool, package: pkg, args, stdin: compressed, stdout: out)
            }
            try? FileManager.default.removeItem(atPath: compressed)
            return (try ElfImage(source: FileSource(path: out)), nil)
        } catch {
            return (nil, "payload \(fmt.rawValue): \(error)")
        }
    }
}
