import Conformance
import Foundation

/// Corpus/real.lock.json, committed: the Debian packages tools/build-corpus.sh fetches (series,
/// flavour, suite, package, version, .deb SHA-256) and the SHA-256 of the bzImage and the ELF
/// vmlinux taken from each. The script fetches exactly these; the manifest it writes
/// (Corpus/real/manifest.json) must agree with them.
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

    package static let format = "real-corpus-lock/1"
    /// The committed lock under the corpus directory `corpus`.
    package static func committed(corpus: String) -> String { corpus + "/real.lock.json" }

    package let packages: [Package]

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
            func field(_ key: String) throws(ManifestError) -> String {
                var value: Any? = d
                for k in key.split(separator: ".") { value = (value as? [String: Any])?[String(k)] }
                guard let s = value as? String, !s.isEmpty else {
                    throw .unreadable(path: path, reason: "packages[\(i)].\(key): expected a string, found \(value.map { "\($0)" } ?? "nothing")")
                }
                if key.hasSuffix("ha256"), !(s.count == 64 && s.allSatisfy { "0123456789abcdef".contains($0) }) {
                    throw .unreadable(path: path, reason: "packages[\(i)].\(key): expected 64 lowercase hex digits, found \(s)")
                }
                return s
            }
            let p = Package(series: try field("series"), flavour: try field("flavour"), suite: try field("suite"),
                            package: try field("package"), version: try field("version"), debSha256: try field("debSha256"),
                            member: try field("bzImage.member"),
                            bzImage: File(path: try field("bzImage.path"), sha256: try field("bzImage.sha256")),
                            vmlinux: File(path: try field("vmlinux.path"), sha256: try field("vmlinux.sha256")))
            if packages.contains(where: { $0.series == p.series && $0.flavour == p.flavour }) {
                throw .unreadable(path: path, reason: "packages[\(i)]: expected one package per series and flavour, found \(p.series) \(p.flavour) again")
            }
            packages.append(p)
        }
        return RealCorpusLock(packages: packages)
    }

    /// Where a manifest's images differ from the lock: one line per difference naming the file,
    /// the field, the lock's value and the manifest's. Empty when they agree.
    package func differences(from kernels: [RealKernel]) -> [String] {
        let expected: [(file: File, format: String, package: Package)] = packages.flatMap { p in
            [(p.bzImage, "bzImage", p), (p.vmlinux, "elf", p)]
        }
        let built = Dictionary(kernels.map { (URL(fileURLWithPath: $0.path).lastPathComponent, $0) }) { first, _ in first }
        var out: [String] = []
        for (file, format, p) in expected {
            guard let k = built[file.path] else {
                out.append("\(file.path): in the lock (\(p.package) \(p.version)), not in the manifest"); continue
            }
            let fields = [("package", p.package, k.package), ("version", p.version, k.version), ("debSha256", p.debSha256, k.debSha256),
                          ("sha256", file.sha256, k.sha256), ("format", format, k.format), ("series", p.series, k.series),
                          ("flavour", p.flavour, k.flavour)]
            for (name, locked, manifest) in fields where locked != manifest {
                out.append("\(file.path): \(name): the lock says \(locked), the manifest \(manifest)")
            }
        }
        let locked = Set(expected.map(\.file.path))
        for name in built.keys.sorted() where !locked.contains(name) { out.append("\(name): in the manifest, not in the lock") }
        return out
    }
}
