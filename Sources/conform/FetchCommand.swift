import ArgumentParser
import Foundation
import Runners

/// Fetches one Debian kernel package and takes its image out.
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Fetch a Debian kernel (any suite, flavour, release) and extract its image.",
        discussion: """
        Looks the unsigned image package up in SUITE's package lists (linux-image-ABI-FLAVOUR-unsigned \
        for 6.x, linux-binary-unsigned-ABI-FLAVOUR for 7.x), downloads that one .deb (apt-get \
        download) into the cache unless it is there with the archive's SHA-256, checks the SHA-256 \
        against the archive's record, and extracts only the image. apt runs with a private \
        configuration under the cache (CACHE/apt/SUITE/apt.conf): the system's apt sources and lists \
        are neither read nor changed. Prints the .deb, its version and SHA-256, and the image's path. \
        The result is not pinned: tools/build-corpus.sh --add pins a kernel in Corpus/real.lock.json. \
        With SUITE alone it writes the suite's apt configuration, fetches the package lists when \
        they are missing or stale, and prints the apt.conf path (run apt-cache -c PATH to ask apt \
        yourself; tools/build-corpus.sh uses it so). --arch arm64 or riscv64 fetches that \
        architecture's kernel (an Image, booted by boot-kernel --arch) through its own private \
        configuration (CACHE/apt/SUITE-ARCH, APT::Architecture ARCH): dpkg's architectures are \
        not touched. riscv64 has one flavour, generic (linux-image-ABI-riscv64, or \
        linux-binary-ABI-riscv64 in the 7.x layout).
        """)
    @Argument(help: "The suite: \(DebianSuite.allCases.map(\.rawValue).joined(separator: ", ")).") var suite: String
    @Argument(help: "The flavour: \(KernelFlavour.allCases.map(\.rawValue).joined(separator: ", ")).") var flavour: String?
    @Argument(help: "A release (7.2.13, 7.3-rc7), a series (6.12: its newest release) or newest.") var release: String?
    @Option(help: "The architecture: \(DebianArchitecture.allCases.map(\.rawValue).joined(separator: ", ")).") var arch = "amd64"
    @Option(help: "Write the image here (default: CACHE/kernels).") var output: String?
    @Option(help: "The cache directory (default: $BOOTCONFORMANCE_CACHE, else $XDG_CACHE_HOME/bootconformance, else ~/.cache/bootconformance).") var cache: String?
    @Flag(help: "Fetch the suite's package lists again even if they are less than a day old.") var refresh = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        guard let s = DebianSuite(rawValue: suite) else { throw fail("suite '\(suite)' is not one of \(DebianSuite.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard let a = DebianArchitecture(rawValue: arch) else { throw fail("--arch '\(arch)' is not one of \(DebianArchitecture.allCases.map(\.rawValue).joined(separator: ", "))") }
        let archive = DebianArchive(cache: cache ?? DebianArchive.defaultCache)
        guard let flavour else {
            do { _ = try archive.updateLists(s, a, force: refresh) } catch { throw fail("\(error)") }
            print(archive.configFile(s, a))
            return
        }
        guard let f = KernelFlavour(rawValue: flavour) else { throw fail("flavour '\(flavour)' is not one of \(KernelFlavour.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard let release else { throw fail("a flavour needs a release: a release (7.2.13), a series (6.12) or newest") }
        let r: FetchedKernel
        let progress = ProgressLine("conform fetch")
        do {
            defer { progress.finish() }
            r = try archive.fetch(s, f, a, release: release, output: output ?? archive.cache + "/kernels", refresh: refresh, progress: progress.step)
        } catch { throw fail("\(error)") }
        let k = r.kernel
        if json {
            writeJSON(["suite": s.rawValue, "flavour": f.rawValue, "architecture": a.rawValue, "release": k.release, "package": k.package, "version": k.version.description,
                       "layout": k.layout.rawValue, "deb": r.deb, "debSha256": k.sha256, "member": r.member, "image": r.image, "reused": r.reused,
                       "aptConfig": archive.configFile(s, a)])
            return
        }
        print("package: \(k.package) \(k.version) (\(s.rawValue), \(f.rawValue), \(a.rawValue), release \(k.release), \(k.layout.rawValue) layout)")
        print("deb:     \(r.deb)\(r.reused ? " (cached)" : "")")
        print("sha256:  \(k.sha256) (matches the archive's Packages index)")
        print("image:   \(r.image) (from \(r.member))")
    }
}
