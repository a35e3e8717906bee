import Conformance
import Foundation

/// A real kernel fetched by `tools/build-corpus.sh` (never committed): Corpus/real/manifest.json.
public struct RealKernel: Sendable, CustomStringConvertible {
    public let name: String
    public let path: String
    public let format: String
    public let package: String
    public let version: String
    public let sha256: String
    /// The SHA-256 of the .deb it was taken from ("" in manifests that predate it).
    public let debSha256: String
    /// "6.1" or "6.12", and "cloud" or "generic" (older manifests: from the name).
    public let series: String
    public let flavour: String
    public var description: String { name }

    /// How the suite boots it: a bzImage by its 64-bit entry, an ELF by the direct 64-bit
    /// entry and by PVH.
    public var entries: [EntryPoint] { format == "elf" ? [.long64, .pvh] : [.long64, .protected32] }
}

public enum RealCorpus {
    /// Corpus/real/manifest.json's path and its JSON; nil when the corpus has not been built.
    static func manifest(directory: String) throws(ManifestError) -> (path: String, object: Any)? {
        let path = directory + "/real/manifest.json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do { return (path, try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))) } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
    }

    /// Reads the generated manifest; nil when the corpus has not been built.
    public static func load(directory: String) throws(ManifestError) -> [RealKernel]? {
        guard let (path, obj) = try manifest(directory: directory) else { return nil }
        guard let root = obj as? [String: Any], let images = root["images"] as? [[String: Any]] else { throw .unreadable(path: path, reason: "expected {\"images\": [...]}") }
        return try images.map { (d) throws(ManifestError) -> RealKernel in
            guard let n = d["name"] as? String, let p = d["path"] as? String, let f = d["format"] as? String, let s = d["sha256"] as? String else {
                throw .unreadable(path: path, reason: "image entry missing name/path/format/sha256: \(d)")
            }
            let full = p.hasPrefix("/") ? p : directory + "/real/" + p
            let version = d["version"] as? String ?? ""
            let series = d["series"] as? String ?? (version.hasPrefix("6.12") ? "6.12" : version.hasPrefix("6.1.") ? "6.1" : "")
            let flavour = d["flavour"] as? String ?? (n.contains("-cloud-") ? "cloud" : "generic")
            return RealKernel(name: n, path: full, format: f, package: d["package"] as? String ?? "", version: version, sha256: s, debSha256: d["debSha256"] as? String ?? "", series: series, flavour: flavour)
        }
    }

    /// The arm64 and riscv64 kernels (the manifest's "imageKernels": Debian's Image vmlinuz),
    /// with the architecture in `format`; empty when the corpus has none, nil when it is not built.
    public static func imageKernels(directory: String) throws(ManifestError) -> [RealKernel]? {
        guard let (path, obj) = try manifest(directory: directory) else { return nil }
        guard let root = obj as? [String: Any] else { throw .unreadable(path: path, reason: "expected a JSON object") }
        guard let list = root["imageKernels"] else { return [] }
        guard let images = list as? [[String: Any]] else { throw .unreadable(path: path, reason: "imageKernels: expected a list of objects") }
        return try images.map { (d) throws(ManifestError) -> RealKernel in
            let keys = ["name", "path", "architecture", "package", "version", "sha256", "debSha256", "series", "flavour"]
            let v = keys.compactMap { d[$0] as? String }
            guard v.count == keys.count else { throw .unreadable(path: path, reason: "imageKernels entry: expected the strings \(keys.joined(separator: ", ")), found \(d)") }
            return RealKernel(name: v[0], path: directory + "/real/" + v[1], format: v[2], package: v[3], version: v[4], sha256: v[5], debSha256: v[6], series: v[7], flavour: v[8])
        }
    }

    /// The initramfs built for an arm64 or riscv64 Image (Corpus/initramfs/build-ARCH/), if built.
    public static func initramfs(directory: String, architecture: String) -> String? {
        let p = directory + "/initramfs/build-\(architecture)/initramfs.cpio"
        return FileManager.default.isReadableFile(atPath: p) ? p : nil
    }

    /// The initramfs real kernels boot into (Corpus/initramfs/build/initramfs.cpio), if built.
    public static func initramfs(directory: String) -> String? {
        let p = directory + "/initramfs/build/initramfs.cpio"
        return FileManager.default.isReadableFile(atPath: p) ? p : nil
    }

    /// A deterministic initrd for real-kernel runs (content only matters for BP-31).
    public static func testInitrd(size: Int = 1 << 20) -> [UInt8] { patternBytes(count: size, seed: "real-corpus-initrd") }
}
