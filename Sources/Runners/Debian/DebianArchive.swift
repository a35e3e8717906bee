import Conformance
import Foundation
import Glibc

/// The Debian suites whose kernels can be fetched.
public enum DebianSuite: String, Sendable, CaseIterable {
    case bookworm, bookwormBackports = "bookworm-backports", trixie, trixieBackports = "trixie-backports", unstable, experimental

    /// The archive suites apt reads for it: a stable release with its point updates and
    /// security archive (Debian 12's 6.1 and 6.12 kernels are in bookworm-security), the others
    /// alone (a package is downloaded without its dependencies, so experimental needs no unstable).
    var archiveSuites: [(uri: String, suite: String)] {
        let main = "http://deb.debian.org/debian", security = "http://deb.debian.org/debian-security"
        switch self {
        case .bookworm, .trixie: return [(main, rawValue), (main, rawValue + "-updates"), (security, rawValue + "-security")]
        default: return [(main, rawValue)]
        }
    }

    /// The suite a lock entry's recorded suite belongs to ("bookworm-security" → bookworm).
    public init?(archiveSuite: String) {
        guard let s = DebianSuite.allCases.first(where: { s in s.archiveSuites.contains { $0.suite == archiveSuite } }) else { return nil }
        self = s
    }
}

/// The Debian architectures whose kernels can be fetched. Each has its own private apt
/// configuration (APT::Architecture), so the system's dpkg architectures are never changed.
public enum DebianArchitecture: String, Sendable, CaseIterable {
    case amd64, arm64, riscv64

    /// The flavours Debian builds for it: riscv64 has only the plain one.
    public var flavours: [KernelFlavour] { self == .riscv64 ? [.generic] : KernelFlavour.allCases }
    /// Whether the archive carries a Secure Boot signed image beside the unsigned one, so the
    /// unsigned package's name ends in "-unsigned" (amd64, arm64); riscv64 ships only the
    /// unsigned image, under the plain name (linux-image-ABI-riscv64, linux-binary-ABI-riscv64).
    var signed: Bool { self != .riscv64 }
}

/// Debian's kernel flavours.
public enum KernelFlavour: String, Sendable, CaseIterable {
    case cloud, generic, rt
    /// The end of the package's ABI name on amd64: "cloud-amd64", "amd64", "rt-amd64".
    public var suffix: String { suffix(.amd64) }
    /// The end of the package's ABI name: "cloud-arm64", "riscv64", "rt-amd64".
    public func suffix(_ arch: DebianArchitecture) -> String { self == .generic ? arch.rawValue : rawValue + "-" + arch.rawValue }
}

/// One kernel package of a suite, as apt records it.
public struct DebianKernel: Sendable {
    public let suite: DebianSuite
    public let flavour: KernelFlavour
    public let architecture: DebianArchitecture
    public let package: String
    public let version: DebianVersion
    public let layout: DebianKernelLayout
    /// "7.2.13+deb14-cloud-amd64": the directory under /usr/lib/modules, the vmlinuz-… suffix.
    public let abiName: String
    /// The SHA-256 of the .deb in the archive's Packages index.
    public let sha256: String
    public let size: UInt64

    /// The upstream release ("7.2.13", "7.3-rc7").
    public var release: String { version.release }
    /// apt-get download's file name: PACKAGE_VERSION_ARCH.deb, the epoch's ':' as %3a.
    public var debFileName: String { "\(package)_\(version.description.replacingOccurrences(of: ":", with: "%3a"))_\(architecture.rawValue).deb" }

    /// The flavour's unsigned image package in either layout, or nil for any other name:
    /// linux-image-ABI-FLAVOUR-unsigned (boot) or linux-binary-unsigned-ABI-FLAVOUR (modules);
    /// on riscv64, which has no signed images, linux-image-ABI-riscv64 and
    /// linux-binary-ABI-riscv64. (There linux-image-ABI-riscv64 of the modules layout is the
    /// small dependency package; `kernels(stanzas:…)` drops it by its Depends.)
    package static func parse(name: String, flavour: KernelFlavour, architecture: DebianArchitecture = .amd64) -> (layout: DebianKernelLayout, abi: String)? {
        let abiEnd = flavour.suffix(architecture)
        let forms: [(DebianKernelLayout, String, String)] = architecture.signed
            ? [(.boot, "linux-image-", "-\(abiEnd)-unsigned"), (.modules, "linux-binary-unsigned-", "-\(abiEnd)")]
            : [(.boot, "linux-image-", "-\(abiEnd)"), (.modules, "linux-binary-", "-\(abiEnd)")]
        for (layout, prefix, suffix) in forms where name.hasPrefix(prefix) && name.hasSuffix(suffix) && name.count > prefix.count + suffix.count {
            let abi = String(name.dropFirst(prefix.count).dropLast(suffix.count))
            // "6.12.117+deb12-cloud" under generic is another flavour's package.
            guard abi.first?.isNumber == true, !KernelFlavour.allCases.contains(where: { $0 != .generic && abi.hasSuffix("-" + $0.rawValue) }) else { continue }
            return (layout, abi + "-" + flavour.suffix(architecture))
        }
        return nil
    }
}

/// A kernel fetched from the archive.
public struct FetchedKernel: Sendable {
    public let kernel: DebianKernel
    /// The .deb in the cache, its SHA-256 equal to the archive's record.
    public let deb: String
    /// The member taken from it and the file it was written to.
    public let member: String
    public let image: String
    /// The .deb was in the cache already.
    public let reused: Bool
}

public struct DebianArchiveError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

/// Debian's archive through a private apt configuration: sources, package lists and caches
/// under `cache` (apt/SUITE/…), debs in cache/debs. Nothing of the system's apt (its sources,
/// lists, preferences or dpkg status) is read or written; apt's own apt.conf.d options (proxies)
/// still apply. Reproduce any query with `apt-cache -c CACHE/apt/SUITE/apt.conf …`.
public struct DebianArchive: Sendable {
    public let cache: String
    /// Package lists older than this are fetched again.
    public var maxListAge: Duration = .seconds(24 * 3600)
    public static let keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

    public init(cache: String) { self.cache = cache }

    /// $BOOTCONFORMANCE_CACHE, else $XDG_CACHE_HOME/bootconformance, else ~/.cache/bootconformance.
    public static var defaultCache: String {
        let env = ProcessInfo.processInfo.environment
        if let c = env["BOOTCONFORMANCE_CACHE"], !c.isEmpty { return c }
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty { return x + "/bootconformance" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.cache/bootconformance"
    }

    /// CACHE/apt/SUITE for amd64 (the layout tools/build-corpus.sh has always used),
    /// CACHE/apt/SUITE-ARCH for the others.
    func directory(_ suite: DebianSuite, _ arch: DebianArchitecture = .amd64) -> String {
        cache + "/apt/" + suite.rawValue + (arch == .amd64 ? "" : "-" + arch.rawValue)
    }
    public func configFile(_ suite: DebianSuite, _ arch: DebianArchitecture = .amd64) -> String { directory(suite, arch) + "/apt.conf" }
    var debs: String { cache + "/debs" }

    /// Writes the suite's sources.list and apt.conf for one architecture (every time: they are a
    /// few lines). The architecture is apt's only (APT::Architecture and APT::Architectures in
    /// the private apt.conf); dpkg's list of foreign architectures is not touched.
    func configure(_ suite: DebianSuite, _ arch: DebianArchitecture = .amd64) throws(DebianArchiveError) -> String {
        guard FileManager.default.isReadableFile(atPath: Self.keyring) else { throw DebianArchiveError("\(Self.keyring) is missing (apt-get install debian-archive-keyring)") }
        let d = directory(suite, arch)
        let sources = suite.archiveSuites.map { "deb [signed-by=\(Self.keyring)] \($0.uri) \($0.suite) main\n" }.joined()
        // The same layout tools/build-corpus.sh writes (private_apt there).
        let conf = """
            Dir::Etc::SourceList "\(d)/sources.list";
            Dir::Etc::SourceParts "\(d)/sources.list.d";
            Dir::Etc::Preferences "\(d)/preferences";
            Dir::Etc::PreferencesParts "\(d)/preferences.d";
            Dir::State::Lists "\(d)/lists";
            Dir::State::status "\(d)/status";
            Dir::Cache "\(d)/cache";
            Dir::Cache::pkgcache "\(d)/cache/pkgcache.bin";
            Dir::Cache::srcpkgcache "\(d)/cache/srcpkgcache.bin";
            APT::Architecture "\(arch.rawValue)";
            APT::Architectures { "\(arch.rawValue)"; };
            Acquire::Languages "none";
            Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";

            """
        do {
            for sub in ["sources.list.d", "preferences.d", "lists/partial", "cache/archives/partial"] {
                try FileManager.default.createDirectory(atPath: d + "/" + sub, withIntermediateDirectories: true)
            }
            if !FileManager.default.fileExists(atPath: d + "/status") { try Data().write(to: URL(fileURLWithPath: d + "/status")) }
            try Data(sources.utf8).write(to: URL(fileURLWithPath: d + "/sources.list"))
            try Data(conf.utf8).write(to: URL(fileURLWithPath: d + "/apt.conf"))
        } catch { throw DebianArchiveError("cannot write the apt configuration under \(d): \(error.localizedDescription)") }
        return d + "/apt.conf"
    }

    func apt(_ tool: String, _ suite: DebianSuite, _ arch: DebianArchitecture = .amd64, _ args: [String], directory: String? = nil) throws(DebianArchiveError) -> String {
        let conf = try configure(suite, arch)
        // As root apt drops to the _apt user for downloads, which cannot write a private cache.
        let sandbox = geteuid() == 0 ? ["-o", "APT::Sandbox::User=root"] : []
        do { return try HostTools.output(tool, package: "apt", ["-c", conf] + sandbox + args, directory: directory) } catch {
            throw DebianArchiveError("\(suite.rawValue)\(arch == .amd64 ? "" : " (\(arch.rawValue))"): \(error.description)")
        }
    }

    /// When the suite's package lists were last fetched, or nil if never.
    func listsDate(_ suite: DebianSuite, _ arch: DebianArchitecture = .amd64) -> Date? {
        let lists = directory(suite, arch) + "/lists"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: lists)) ?? []).filter { $0.contains("_Packages") }
        guard names.count >= suite.archiveSuites.count else { return nil }
        return names.compactMap { (try? FileManager.default.attributesOfItem(atPath: lists + "/" + $0))?[.modificationDate] as? Date }.min()
    }

    /// apt-get update for the suite alone, when its lists are missing, older than
    /// `maxListAge`, or `force`.
    public func updateLists(_ suite: DebianSuite, _ arch: DebianArchitecture = .amd64, force: Bool = false) throws(DebianArchiveError) -> Bool {
        if !force, let date = listsDate(suite, arch), Date().timeIntervalSince(date) < Double(maxListAge.components.seconds) { return false }
        _ = try apt("apt-get", suite, arch, ["-qq", "update"])
        return true
    }

    /// Every version of the flavour's unsigned image packages, in both layouts, that the
    /// suite's lists hold.
    public func kernels(_ suite: DebianSuite, _ flavour: KernelFlavour, _ arch: DebianArchitecture = .amd64) throws(DebianArchiveError) -> [DebianKernel] {
        let names = try apt("apt-cache", suite, arch, ["search", "--names-only", "^linux-(image|binary|binary-unsigned)-[0-9]"])
            .split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { DebianKernel.parse(name: $0, flavour: flavour, architecture: arch) != nil }
        guard !names.isEmpty else { return [] }
        return Self.kernels(stanzas: try apt("apt-cache", suite, arch, ["show"] + Set(names).sorted()), suite: suite, flavour: flavour, architecture: arch)
    }

    /// The kernels in `apt-cache show` output (stanzas of "Field: value" lines). A package that
    /// depends on a linux-binary-… package is the modules layout's small dependency package
    /// (riscv64's linux-image-ABI-riscv64 has the same name form as the old layout's image), not
    /// an image.
    package static func kernels(stanzas text: String, suite: DebianSuite, flavour: KernelFlavour, architecture: DebianArchitecture = .amd64) -> [DebianKernel] {
        text.components(separatedBy: "\n\n").compactMap { stanza in
            var f: [String: String] = [:]
            for line in stanza.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                f[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            guard let name = f["Package"], let (layout, abi) = DebianKernel.parse(name: name, flavour: flavour, architecture: architecture),
                  let v = f["Version"].flatMap(DebianVersion.init), let sha = f["SHA256"], sha.count == 64 else { return nil }
            let depends = (f["Depends"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if depends.contains(where: { $0.hasPrefix("linux-binary-") }) { return nil }
            return DebianKernel(suite: suite, flavour: flavour, architecture: architecture, package: name, version: v, layout: layout, abiName: abi, sha256: sha, size: f["Size"].flatMap { UInt64($0) } ?? 0)
        }
    }

    /// The kernel for `release`: "newest"; an exact release ("7.2.13", "7.3-rc7" or "7.3~rc7");
    /// or a series ("6.12", "7.3"), its newest release. Nil when none matches.
    public static func select(_ kernels: [DebianKernel], release: String) -> DebianKernel? {
        let r = release.replacingOccurrences(of: "~rc", with: "-rc")
        if r == "newest" { return kernels.max { $0.version < $1.version } }
        let exact = kernels.filter { $0.release == r }
        let matching = exact.isEmpty ? kernels.filter { $0.release.hasPrefix(r + ".") || $0.release.hasPrefix(r + "-rc") } : exact
        return matching.max { $0.version < $1.version }
    }

    /// Looks the kernel up (refreshing the suite's lists when they are stale, or once more when
    /// the release is not in them), downloads its .deb into the cache unless a file with the
    /// archive's SHA-256 is there, checks the SHA-256, and extracts only the image into
    /// `output` as vmlinuz-ABI.
    public func fetch(_ suite: DebianSuite, _ flavour: KernelFlavour, _ arch: DebianArchitecture = .amd64, release: String, output: String, refresh: Bool = false,
                      progress: (String) -> Void = { _ in }) throws(DebianArchiveError) -> FetchedKernel {
        guard arch.flavours.contains(flavour) else {
            throw DebianArchiveError("Debian builds no \(flavour.rawValue) kernel for \(arch.rawValue) (flavours there: \(arch.flavours.map(\.rawValue).joined(separator: ", ")))")
        }
        let name = suite.rawValue + (arch == .amd64 ? "" : " (\(arch.rawValue))")
        if !FileManager.default.fileExists(atPath: configFile(suite, arch)) || refresh || listsDate(suite, arch) == nil { progress("\(name): fetching package lists") }
        var refreshed = try updateLists(suite, arch, force: refresh)
        var all = try kernels(suite, flavour, arch)
        var found = Self.select(all, release: release)
        if found == nil && !refreshed {
            progress("\(name): \(release) not in the package lists; fetching them again")
            refreshed = try updateLists(suite, arch, force: true)
            all = try kernels(suite, flavour, arch); found = Self.select(all, release: release)
        }
        guard let k = found else {
            var have: [String] = []
            for r in all.sorted(by: { $0.version < $1.version }).map(\.release) where !have.contains(r) { have.append(r) }
            let sfx = flavour.suffix(arch), names = arch.signed ? "linux-image-…-\(sfx)-unsigned, linux-binary-unsigned-…-\(sfx)" : "linux-image-…-\(sfx), linux-binary-…-\(sfx)"
            throw DebianArchiveError("\(name) has no \(flavour.rawValue) kernel \(release) (unsigned image packages: \(names)); it has \(have.isEmpty ? "none" : have.joined(separator: ", "))")
        }
        return try fetch(k, output: output, progress: progress)
    }

    /// Downloads the kernel's .deb into the cache unless a file with the archive's SHA-256 is
    /// there, checks the SHA-256, and extracts only the image into `output` as vmlinuz-ABI.
    public func fetch(_ k: DebianKernel, output: String, progress: (String) -> Void = { _ in }) throws(DebianArchiveError) -> FetchedKernel {
        let suite = k.suite
        let deb = debs + "/" + k.debFileName
        var reused = false
        if FileManager.default.fileExists(atPath: deb), (try? Self.sha256(file: deb)) == k.sha256 { reused = true } else {
            progress("\(k.package) \(k.version): downloading \(k.size / 1_000_000) MB")
            do { try FileManager.default.createDirectory(atPath: debs, withIntermediateDirectories: true) } catch { throw DebianArchiveError("cannot create \(debs): \(error.localizedDescription)") }
            try? FileManager.default.removeItem(atPath: deb)
            _ = try apt("apt-get", suite, k.architecture, ["-qq", "download", "\(k.package)=\(k.version)"], directory: debs)
            guard FileManager.default.fileExists(atPath: deb) else { throw DebianArchiveError("apt-get download \(k.package)=\(k.version) wrote no \(deb)") }
            let got = try Self.sha256(file: deb)
            guard got == k.sha256 else {
                try? FileManager.default.removeItem(atPath: deb)
                throw DebianArchiveError("\(k.debFileName): SHA-256 \(got), the archive's Packages index records \(k.sha256) (removed)")
            }
        }
        let image = output + "/vmlinuz-" + k.abiName
        let member: String
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            let tmp = try Scratch.directory("fetch")
            defer { try? FileManager.default.removeItem(atPath: tmp) }
            let x = try DebianKernelPackage.extractImage(deb: deb, into: tmp)
            try? FileManager.default.removeItem(atPath: image)
            try FileManager.default.moveItem(atPath: x.path, toPath: image)
            member = x.member
        } catch let e as HostToolError { throw DebianArchiveError(e.description) } catch {
            throw DebianArchiveError("cannot write \(image): \(error.localizedDescription)")
        }
        return FetchedKernel(kernel: k, deb: deb, member: member, image: image, reused: reused)
    }

    public static func sha256(file: String) throws(DebianArchiveError) -> String {
        do { return sha256Hex(try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped)) } catch {
            throw DebianArchiveError("cannot read \(file): \(error.localizedDescription)")
        }
    }
}
