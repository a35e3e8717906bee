import Conformance
import Foundation

/// One kernel release in the history: where Debian packages it and its protocol-visible surface.
public struct HistoryRelease: Sendable {
    /// The upstream release ("7.2.13", "7.3-rc7").
    public let release: String
    /// The package version, which orders the releases as dpkg does ("7.3~rc7-1~exp1" < "7.3-1").
    public let version: DebianVersion
    public let suite: String
    public let package: String
    /// The image file's size in bytes.
    public let imageSize: UInt64
    public let surface: [SurfaceItem]
    /// Why the payload ELF could not be read, when it could not (its items are then missing).
    public let payloadNote: String?

    public init(release: String, version: DebianVersion, suite: String, package: String, imageSize: UInt64, surface: [SurfaceItem], payloadNote: String? = nil) {
        self.release = release; self.version = version; self.suite = suite; self.package = package
        self.imageSize = imageSize; self.surface = surface; self.payloadNote = payloadNote
    }

    /// The value of a surface item, or nil when the release does not have it.
    public func value(_ key: String) -> String? { surface.first { $0.key == key }?.value }
}

/// A surface change with the release where it first appeared and the release before it.
public struct HistoryChange: Sendable {
    public let release: String
    public let previous: String
    public let change: SurfaceChange
}

/// The protocol-visible surface across kernel releases, in version order, with each change at
/// the release where it first appeared (the surface diff of consecutive releases, classified
/// by `Surface.diff`).
public struct KernelHistory: Sendable {
    public let releases: [HistoryRelease]
    public let changes: [HistoryChange]

    /// Sorts the releases by package version (dpkg order) and diffs each with the one before.
    public init(releases: [HistoryRelease]) {
        let sorted = releases.sorted { $0.version < $1.version }
        self.releases = sorted
        changes = zip(sorted, sorted.dropFirst()).flatMap { a, b in
            Surface.diff(old: a.surface, new: b.surface).map { HistoryChange(release: b.release, previous: a.release, change: $0) }
        }
    }

    /// One row per surface key whose value differs between any two releases (present in one
    /// and absent in another counts), in surface order; each row holds one value per release
    /// (nil where the release lacks the key).
    public var timeline: [(key: String, values: [String?])] {
        var keys: [String] = []
        var seen: Set<String> = []
        for k in releases.flatMap({ $0.surface.map(\.key) }) where seen.insert(k).inserted { keys.append(k) }
        return keys.compactMap { k in
            let values = releases.map { $0.value(k) }
            return Set(values).count > 1 ? (k, values) : nil
        }
    }

    /// The keys whose every change is build noise (sizes, addresses, IDs).
    public var noiseKeys: Set<String> {
        let significant = Set(changes.filter { !$0.change.noise }.map(\.change.key))
        return Set(changes.map(\.change.key)).subtracting(significant)
    }

    /// One kernel per upstream release among `kernels`, in version order: where several
    /// suites package the same release, the highest package version (a later Debian
    /// revision), and on a tie the first suite in `suites` order.
    public static func candidates(_ kernels: [DebianKernel], suites: [DebianSuite] = DebianSuite.allCases) -> [DebianKernel] {
        func rank(_ s: DebianSuite) -> Int { suites.firstIndex(of: s) ?? suites.count }
        var best: [String: DebianKernel] = [:]
        for k in kernels {
            guard let b = best[k.release] else { best[k.release] = k; continue }
            if b.version < k.version || (b.version == k.version && rank(k.suite) < rank(b.suite)) { best[k.release] = k }
        }
        return best.values.sorted { $0.version < $1.version }
    }

    /// The newest release of each series ("6.12", "7.3"; a release candidate belongs to its series).
    public static func newestPerSeries(_ kernels: [DebianKernel]) -> [DebianKernel] {
        func series(_ r: String) -> String {
            let base = r.split(separator: "-").first.map(String.init) ?? r
            return base.split(separator: ".").prefix(2).joined(separator: ".")
        }
        return Dictionary(grouping: kernels) { series($0.release) }.values.compactMap { $0.max { $0.version < $1.version } }.sorted { $0.version < $1.version }
    }

    public struct Options: Sendable {
        public var suites: [DebianSuite] = DebianSuite.allCases
        public var flavour: KernelFlavour = .cloud
        /// Only the newest release of each series.
        public var newestPerSeries = false
        /// Fetch the package lists again even if they are fresh.
        public var refresh = false
        public init() {}
    }

    /// Lists every release the suites package for the flavour (refreshing stale package lists),
    /// fetches each image into the cache (the .deb downloaded once, only the vmlinuz taken
    /// out) and reads its surface, payload ELF included.
    public static func run(archive: DebianArchive, options o: Options, progress: (String) -> Void = { _ in }) throws -> KernelHistory {
        var all: [DebianKernel] = []
        for s in o.suites {
            if try archive.updateLists(s, force: o.refresh) { progress("\(s.rawValue): fetched the package lists") }
            let found = try archive.kernels(s, o.flavour)
            progress("\(s.rawValue): \(found.count) \(o.flavour.rawValue) kernel package\(found.count == 1 ? "" : "s")")
            all += found
        }
        var picked = candidates(all, suites: o.suites)
        if o.newestPerSeries { picked = newestPerSeries(picked) }
        guard !picked.isEmpty else {
            throw DebianArchiveError("no \(o.flavour.rawValue) kernel in \(o.suites.map(\.rawValue).joined(separator: ", "))")
        }
        let ws = try GateWorkspace()
        defer { ws.cleanup() }
        var releases: [HistoryRelease] = []
        for (i, k) in picked.enumerated() {
            progress("[\(i + 1)/\(picked.count)] \(k.release) (\(k.suite.rawValue), \(k.package) \(k.version))")
            let f = try archive.fetch(k, output: archive.cache + "/kernels", progress: progress)
            let g = try ws.kernel(f.image)
            let surface = g.surface
            // The decompressed payload (tens of MB) is only needed for this release's surface.
            try? FileManager.default.removeItem(atPath: ws.directory + "/" + (f.image as NSString).lastPathComponent + ".elf")
            let attributes = try? FileManager.default.attributesOfItem(atPath: f.image)
            releases.append(HistoryRelease(release: k.release, version: k.version, suite: k.suite.rawValue, package: k.package,
                                           imageSize: (attributes?[.size] as? NSNumber)?.uint64Value ?? 0, surface: surface, payloadNote: g.payloadNote))
        }
        return KernelHistory(releases: releases)
    }
}
