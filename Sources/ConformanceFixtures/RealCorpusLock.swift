import Conformance
import Foundation

/// Corpus/real.lock.json, committed: the Debian packages tools/build-corpus.sh fetches (series,
/// flavour, suite, package, version, .deb SHA-256) and the SHA-256 of the bzImage and the ELF
/// vmlinux taken from each; and under "imagePackages" the arm64 and riscv64 packages and the
/// SHA-256 of the Image taken from each. The script fetches exactly these; the manifest it
/// writes (Corpus/real/manifest.json, "images" and "imageKernels") must agree with them.
package struct RealCorpusLock: Sendable, Equatable {
    /// A file taken from a package: its name in Corpus/real and its SHA-256.
    package struct File: Sendable, Equatable {
        package let path: String
        package let sha256: String
    }

    package struct Package: Sendable, Equatable {
        /// "6.1" or "6.12", and "cloud" or "generic": the series `--update` follows.
        package let series: String
        package let flavour: String
        /// The suite apt found it in when it was locked (bookworm-security); informational, the
        /// version and hash are what is fetched.
        package let suite: String
        package let package: String
        package let version: String
        package let debSha256: String
        /// The bzImage's path inside the .deb ("./boot/vmlinuz-…").
        package let member: String
        package let bzImage: File
        package let vmlinux: File
    }

    /// An arm64 or riscv64 kernel package ("imagePackages"): the same facts, with the
    /// architecture, and the one Image taken from it.
    package struct ImagePackage: Sendable, Equatable {
        /// "arm64" or "riscv64" (the manifest's `architecture`).
        package let architecture: String
        /// As in `Package`.
        package let series, flavour, suite, package, version, debSha256: String
        /// The Image's path inside the .deb ("./boot/vmlinuz-…", "./usr/lib/modules/…/vmlinuz").
        package let member: String
        package let image: File
    }

    package static let format = "real-corpus-lock/1"
    /// The committed lock under the corpus directory `corpus`.
    package static func committed(corpus: String) -> String { corpus + "/real.lock.json" }

    package let packages: [Package]
    /// Empty when the lock has no "imagePackages".
    package let imagePackages: [ImagePackage]

    /// Reads a lock; a lock that does not parse is an error naming the field, what was expected
    /// and what was found.
    package static func load(path: String) throws(ManifestError) -> RealCorpusLock {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw .unreadable(path: path, reason: "not a readable lock: \(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else { throw .unreadable(path: path, reason: "expected a JSON object, found \(type(of: object))") }
        guard let found = root["format"] as? String, found == format else {
            throw .unreadable(path: path, reason: "format: expected \(format), found \(root["format"].map { "\($0)" } ?? "nothing")")
        }
        guard let list = root["packages"] as? [[String: Any]], !list.isEmpty else {
            throw .unreadable(path: path, reason: "packages: expected a non-empty list of objects")
        }
        var packages: [Package] = []
        for (i, d) in list.enumerated() {
            let f = Fields(path: path, list: "packages", index: i, object: d)
            let p = Package(series: try f["series"], flavour: try f["flavour"], suite: try f["suite"],
                            package: try f["package"], version: try f["version"], debSha256: try f["debSha256"],
                            member: try f["bzImage.member"],
                            bzImage: File(path: try f["bzImage.path"], sha256: try f["bzImage.sha256"]),
                            vmlinux: File(path: try f["vmlinux.path"], sha256: try f["vmlinux.sha256"]))
            if packages.contains(where: { $0.series == p.series && $0.flavour == p.flavour }) {
                throw .unreadable(path: path, reason: "packages[\(i)]: expected one package per series and flavour, found \(p.series) \(p.flavour) again")
            }
            packages.append(p)
        }
        let images: [[String: Any]]
        switch root["imagePackages"] {
        case nil: images = []
        case let list as [[String: Any]]: images = list
        case let other?: throw .unreadable(path: path, reason: "imagePackages: expected a list of objects, found \(other)")
        }
        var imagePackages: [ImagePackage] = []
        for (i, d) in images.enumerated() {
            let f = Fields(path: path, list: "imagePackages", index: i, object: d)
            let p = ImagePackage(architecture: try f["architecture"], series: try f["series"], flavour: try f["flavour"], suite: try f["suite"],
                                 package: try f["package"], version: try f["version"], debSha256: try f["debSha256"],
                                 member: try f["image.member"], image: File(path: try f["image.path"], sha256: try f["image.sha256"]))
            guard ["arm64", "riscv64"].contains(p.architecture) else {
                throw .unreadable(path: path, reason: "imagePackages[\(i)].architecture: expected arm64 or riscv64, found \(p.architecture)")
            }
            if imagePackages.contains(where: { $0.architecture == p.architecture && $0.series == p.series && $0.flavour == p.flavour }) {
                throw .unreadable(path: path, reason: "imagePackages[\(i)]: expected one package per architecture, series and flavour, found \(p.architecture) \(p.series) \(p.flavour) again")
            }
            imagePackages.append(p)
        }
        return RealCorpusLock(packages: packages, imagePackages: imagePackages)
    }

    /// One entry of a list in the lock: its string fields by dotted key, each checked (a
    /// non-empty string; 64 lowercase hex digits for a SHA-256), a refusal naming the entry and
    /// the field, what was expected and what was found.
    struct Fields {
        let path: String, list: String, index: Int, object: [String: Any]
        subscript(key: String) -> String {
            get throws(ManifestError) {
                var value: Any? = object
                for k in key.split(separator: ".") { value = (value as? [String: Any])?[String(k)] }
                guard let s = value as? String, !s.isEmpty else {
                    throw .unreadable(path: path, reason: "\(list)[\(index)].\(key): expected a string, found \(value.map { "\($0)" } ?? "nothing")")
                }
                if key.hasSuffix("ha256"), !(s.count == 64 && s.allSatisfy { "0123456789abcdef".contains($0) }) {
                    throw .unreadable(path: path, reason: "\(list)[\(index)].\(key): expected 64 lowercase hex digits, found \(s)")
                }
                return s
            }
        }
    }

    /// Where a manifest's images ("images" as `RealCorpus.load` reads them, and "imageKernels" as
    /// `RealCorpus.imageKernels` does) differ from the lock: one line per difference naming the
    /// file, the field, the lock's value and the manifest's. Empty when they agree.
    package func differences(from kernels: [RealKernel], images: [RealKernel]) -> [String] {
        let x86: [Expected] = packages.flatMap { p in
            [(p.bzImage, "bzImage"), (p.vmlinux, "elf")].map { Expected(file: $0.0, format: $0.1, package: p.package, version: p.version, debSha256: p.debSha256, series: p.series, flavour: p.flavour) }
        }
        // An Image's RealKernel carries its architecture in `format`.
        let other = imagePackages.map { p in
            Expected(file: p.image, format: p.architecture, package: p.package, version: p.version, debSha256: p.debSha256, series: p.series, flavour: p.flavour)
        }
        return Self.compare(x86, kernels) + Self.compare(other, images)
    }

    /// A file the lock names, with the facts the manifest must repeat.
    struct Expected {
        let file: File, format: String, package: String, version: String, debSha256: String, series: String, flavour: String
    }

    static func compare(_ expected: [Expected], _ kernels: [RealKernel]) -> [String] {
        let built = Dictionary(kernels.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0) }) { first, _ in first }
        var out: [String] = []
        for e in expected {
            guard let k = built[e.file.path] else {
                out.append("\(e.file.path): in the lock (\(e.package) \(e.version)), not in the manifest"); continue
            }
            let fields = [("package", e.package, k.package), ("version", e.version, k.version), ("debSha256", e.debSha256, k.debSha256),
                          ("sha256", e.file.sha256, k.sha256), ("format", e.format, k.format), ("series", e.series, k.series),
                          ("flavour", e.flavour, k.flavour)]
            for (name, locked, manifest) in fields where locked != manifest {
                out.append("\(e.file.path): \(name): the lock says \(locked), the manifest \(manifest)")
            }
        }
        let locked = Set(expected.map(\.file.path))
        for name in built.keys.sorted() where !locked.contains(name) { out.append("\(name): in the manifest, not in the lock") }
        return out
    }
}
