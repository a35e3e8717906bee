import Conformance
import HarnessKVM
import Foundation
import Glibc

public struct GateError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ m: String) { message = m }
    public var description: String { message }
}

/// A kernel handed to the gate: an image file, or a Debian package it is taken from; with the
/// ELF inside a bzImage's payload when a decompressor for it is installed.
public struct GateKernel: Sendable {
    /// What the user gave.
    public let given: String
    /// The image file (extracted from the .deb when one was given).
    public let image: String
    /// "linux-image-…_6.12.117-1~deb12u1_amd64.deb → boot/vmlinuz-…" (the member taken from a
    /// .deb) or the file name.
    public let label: String
    public let parsed: KernelImage
    public let payload: ElfImage?
    /// Why the payload ELF could not be read (missing tool, unknown format), if it could not.
    public let payloadNote: String?

    public var surface: [SurfaceItem] {
        switch parsed {
        case .bzImage(let bz): Surface.of(bzImage: bz, payload: payload)
        case .elf(let e): Surface.of(elf: e)
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
    /// ./usr/lib/modules/*/vmlinuz* (the 7.x linux-binary-* packages).
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
        let src: FileSource
        do { src = try FileSource(path: image) } catch { throw GateError("\(image): \(error)") }
        let parsed: KernelImage
        do { parsed = try KernelImage(source: src) } catch { throw GateError("\(image): \(error)") }
        var payload: ElfImage? = nil, note: String? = nil
        if case .bzImage(let bz) = parsed { (payload, note) = payloadELF(bz, source: src, name: (image as NSString).lastPathComponent) }
        return GateKernel(given: path, image: image, label: label, parsed: parsed, payload: payload, payloadNote: note)
    }

    /// Decompresses a bzImage's payload with the matching host tool and parses the ELF inside.
    func payloadELF(_ bz: BzImage, source: FileSource, name: String) -> (ElfImage?, String?) {
        guard let off = bz.header.payloadOffset, let len = bz.header.payloadLength, len > 4, let fmt = bz.payloadFormat else {
            return (nil, "no payload fields (protocol < 2.08) or unknown payload format")
        }
        let tools: [PayloadFormat: (String, String, [String])] = [.gzip: ("gzip", "gzip", ["-dc"]), .bzip2: ("bzip2", "bzip2", ["-dc"]), .xz: ("xz", "xz-utils", ["-dc"]),
                                                                 .lzma: ("xz", "xz-utils", ["--format=lzma", "-dc"]), .lz4: ("lz4", "lz4", ["-dc"]), .zstd: ("zstd", "zstd", ["-dcq"])]
        let compressed = directory + "/\(name).payload", out = directory + "/\(name).elf"
        do {
            // The last 4 bytes are the decompressed length, not part of the stream.
            let bytes = try source.read(at: bz.protectedModeOffset + UInt64(off), count: Int(len) - 4)
            guard FileManager.default.createFile(atPath: compressed, contents: Data(bytes)) else { return (nil, "cannot write \(compressed)") }
            if fmt == .elf { try FileManager.default.moveItem(atPath: compressed, toPath: out) } else {
                guard let (tool, pkg, args) = tools[fmt] else { return (nil, "no decompressor for \(fmt.rawValue)") }
                try run(tool, package: pkg, args, stdin: compressed, stdout: out)
            }
            try? FileManager.default.removeItem(atPath: compressed)
            return (try ElfImage(source: FileSource(path: out)), nil)
        } catch {
            return (nil, "payload \(fmt.rawValue): \(error)")
        }
    }
}
