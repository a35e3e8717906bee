import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// The committed lock (Corpus/real.lock.json) and the manifest tools/build-corpus.sh built from
/// it (issue 14: a pinned corpus). Pure: reads JSON, boots nothing.
@Suite("RealCorpusLock")
struct RealCorpusLockTests {
    static func committed() throws -> RealCorpusLock { try RealCorpusLock.load(path: RealCorpusLock.committed(corpus: Repo.corpus)) }

    @Test("the committed lock names one package per series and flavour, each with its hashes")
    func committedLockParses() throws {
        let lock = try Self.committed()
        #expect(lock.packages.map { "\($0.series) \($0.flavour)" }.sorted() == ["6.1 cloud", "6.1 generic", "6.12 cloud", "6.12 generic"])
        for p in lock.packages {
            #expect(p.version.hasPrefix(p.series + "."), "\(p.package): version \(p.version) is not of series \(p.series)")
            #expect(p.package.hasPrefix("linux-image-") && p.package.hasSuffix("-unsigned"), "\(p.package)")
            #expect(p.member.hasSuffix("/" + p.bzImage.path), "\(p.package): member \(p.member), file \(p.bzImage.path)")
        }
        // The arm64 and riscv64 packages (issue 16): one per architecture, an Image from either layout.
        #expect(lock.imagePackages.map(\.architecture).sorted() == ["arm64", "riscv64"])
        for p in lock.imagePackages {
            #expect(p.version.hasPrefix(p.series + "."), "\(p.package): version \(p.version) is not of series \(p.series)")
            #expect(p.member.hasPrefix("./boot/vmlinuz-") || p.member.hasPrefix("./usr/lib/modules/"), "\(p.package): member \(p.member)")
            #expect(p.image.path.hasPrefix("vmlinuz-") && p.image.path.hasSuffix(p.architecture), "\(p.package): file \(p.image.path)")
        }
    }

    @Test("the built manifest names the lock's packages, versions and hashes")
    func manifestAgreesWithLock() throws {
        let lock = try Self.committed()
        let kernels = try RealCorpusManifest.repository.require()
        let images = try #require(try RealCorpus.imageKernels(directory: Repo.corpus))
        let differences = lock.differences(from: kernels, images: images)
        #expect(differences.isEmpty, "Corpus/real was not built from the committed lock (run tools/build-corpus.sh):\n\(differences.joined(separator: "\n"))")
    }

    /// The manifest tools/build-corpus.sh writes for a lock, as JSON, for the tests below.
    static func manifest(of lock: RealCorpusLock) -> [String: Any] {
        let images: [[String: Any]] = lock.packages.flatMap { p in
            [(p.bzImage, "bzImage", "bzImage"), (p.vmlinux, "elf", "vmlinux")].map { file, format, what in
                ["name": "debian-\(p.bzImage.path.replacingOccurrences(of: "vmlinuz-", with: "")) \(what)", "path": file.path, "format": format,
                 "package": p.package, "version": p.version, "sha256": file.sha256, "debSha256": p.debSha256,
                 "series": p.series, "flavour": p.flavour]
            }
        }
        let imageKernels: [[String: Any]] = lock.imagePackages.map { p in
            ["name": "debian-\(p.image.path.replacingOccurrences(of: "vmlinuz-", with: "")) Image", "path": p.image.path, "architecture": p.architecture,
             "package": p.package, "version": p.version, "sha256": p.image.sha256, "debSha256": p.debSha256, "series": p.series, "flavour": p.flavour]
        }
        return ["about": "test", "images": images, "imageKernels": imageKernels]
    }

    static func withManifest(_ json: [String: Any], _ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir + "/real/manifest.json"))
        try body(dir)
    }

    @Test("a manifest that differs from the lock is reported by file, field, locked and built value")
    func differencesNameTheField() throws {
        let lock = try Self.committed()
        let agreeing = Self.manifest(of: lock)
        try Self.withManifest(agreeing) { dir in
            let kernels = try #require(try RealCorpus.load(directory: dir))
            let images = try #require(try RealCorpus.imageKernels(directory: dir))
            #expect(kernels.count == 2 * lock.packages.count && images.count == lock.imagePackages.count)
            #expect(lock.differences(from: kernels, images: images) == [])
        }
        var images = try #require(agreeing["images"] as? [[String: Any]])
        let p0 = lock.packages[0], p1 = lock.packages[1]
        images[0]["version"] = "0.0-1"                       // p0's bzImage
        images[1]["sha256"] = String(repeating: "0", count: 64) // p0's vmlinux
        images[2]["debSha256"] = String(repeating: "1", count: 64) // p1's bzImage
        images.remove(at: 3)                                 // p1's vmlinux
        images.append(["name": "extra", "path": "vmlinuz-extra", "format": "bzImage", "sha256": String(repeating: "2", count: 64)])
        try Self.withManifest(["images": images, "imageKernels": agreeing["imageKernels"] ?? []]) { dir in
            let kernels = try #require(try RealCorpus.load(directory: dir)), images = try #require(try RealCorpus.imageKernels(directory: dir))
            #expect(lock.differences(from: kernels, images: images) == [
                "\(p0.bzImage.path): version: the lock says \(p0.version), the manifest 0.0-1",
                "\(p0.vmlinux.path): sha256: the lock says \(p0.vmlinux.sha256), the manifest \(String(repeating: "0", count: 64))",
                "\(p1.bzImage.path): debSha256: the lock says \(p1.debSha256), the manifest \(String(repeating: "1", count: 64))",
                "\(p1.vmlinux.path): in the lock (\(p1.package) \(p1.version)), not in the manifest",
                "vmlinuz-extra: in the manifest, not in the lock",
            ])
        }
        // The Images, as for amd64: a changed hash, another architecture, a missing entry.
        var imageKernels = try #require(agreeing["imageKernels"] as? [[String: Any]])
        try #require(lock.imagePackages.count == 2)
        let i0 = lock.imagePackages[0], i1 = lock.imagePackages[1]
        imageKernels[0]["sha256"] = String(repeating: "3", count: 64)
        imageKernels[0]["architecture"] = i1.architecture
        imageKernels.remove(at: 1)
        try Self.withManifest(["images": agreeing["images"] ?? [], "imageKernels": imageKernels]) { dir in
            let kernels = try #require(try RealCorpus.load(directory: dir)), images = try #require(try RealCorpus.imageKernels(directory: dir))
            #expect(lock.differences(from: kernels, images: images) == [
                "\(i0.image.path): sha256: the lock says \(i0.image.sha256), the manifest \(String(repeating: "3", count: 64))",
                "\(i0.image.path): format: the lock says \(i0.architecture), the manifest \(i1.architecture)",
                "\(i1.image.path): in the lock (\(i1.package) \(i1.version)), not in the manifest",
            ])
        }
    }

    @Test("a lock that does not parse is an error naming the field, expected and found")
    func malformedLockIsAnError() throws {
        let text = try String(contentsOfFile: RealCorpusLock.committed(corpus: Repo.corpus), encoding: .utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let first = try Self.committed().packages[0]
        func edited(_ list: String = "packages", _ edit: (inout [[String: Any]]) -> Void) throws -> String {
            var r = root
            var packages = r[list] as? [[String: Any]] ?? []
            edit(&packages)
            r[list] = packages
            return String(decoding: try JSONSerialization.data(withJSONObject: r), as: UTF8.self)
        }
        var notAList = root
        notAList["imagePackages"] = "arm64"
        let cases: [(String, String)] = [
            (String(text.prefix(40)), "not a readable lock: "),
            ("[]", "expected a JSON object, found "),
            ("{\"format\": \"real-corpus-lock/0\", \"packages\": []}", "format: expected real-corpus-lock/1, found real-corpus-lock/0"),
            ("{\"format\": \"real-corpus-lock/1\", \"packages\": []}", "packages: expected a non-empty list of objects"),
            (try edited { p in var v = p[1]["vmlinux"] as? [String: Any] ?? [:]; v["sha256"] = nil; p[1]["vmlinux"] = v },
             "packages[1].vmlinux.sha256: expected a string, found nothing"),
            (try edited { p in p[2]["debSha256"] = "E31A28" }, "packages[2].debSha256: expected 64 lowercase hex digits, found E31A28"),
            (try edited { p in p[0]["version"] = 7 }, "packages[0].version: expected a string, found 7"),
            (try edited { p in p[1]["series"] = p[0]["series"]; p[1]["flavour"] = p[0]["flavour"] },
             "packages[1]: expected one package per series and flavour, found \(first.series) \(first.flavour) again"),
            (String(decoding: try JSONSerialization.data(withJSONObject: notAList), as: UTF8.self), "imagePackages: expected a list of objects, found arm64"),
            (try edited("imagePackages") { p in var v = p[0]["image"] as? [String: Any] ?? [:]; v["sha256"] = nil; p[0]["image"] = v },
             "imagePackages[0].image.sha256: expected a string, found nothing"),
            (try edited("imagePackages") { p in p[1]["architecture"] = "amd64" }, "imagePackages[1].architecture: expected arm64 or riscv64, found amd64"),
            (try edited("imagePackages") { p in p[1] = p[0] },
             "imagePackages[1]: expected one package per architecture, series and flavour, found \(try Self.committed().imagePackages[0].architecture) "),
        ]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/real.lock.json"
        for (contents, reason) in cases {
            try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
            do {
                let lock = try RealCorpusLock.load(path: path)
                Issue.record("expected \(reason), read \(lock.packages.count) packages from \(contents.prefix(80))")
            } catch {
                guard case .unreadable(let p, let r) = error else { Issue.record("expected unreadable, got \(error)"); continue }
                #expect(p == path)
                #expect(r.hasPrefix(reason), "expected \(reason), got \(r)")
            }
        }
        #expect(throws: Never.self) { try RealCorpusLock.load(path: RealCorpusLock.committed(corpus: Repo.corpus)) }
    }
}
