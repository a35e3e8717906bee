import Foundation

/// `index.json` next to the probe variants (`conform corpus --probe`, format "probe-index/1"):
/// the image, initrd and command line each variant is meant to be booted with. `conform judge`
/// finds it, and through it what a report's variant was given.
public struct ProbeIndex: Sendable {
    public struct Variant: Sendable, Equatable {
        public let id: String
        /// File names relative to the index's directory.
        public let image: String, initrd: String?
        public let commandLine: String
        /// "64", "32", "pvh" or "default".
        public let entry: String
    }

    public static let format = "probe-index/1"
    /// The index file itself; images and initrds are named relative to its directory.
    public let file: String
    public let variants: [Variant]
    public var directory: String { (file as NSString).deletingLastPathComponent }

    public func variant(_ id: String) -> Variant? { variants.first { $0.id == id } }
    public func imagePath(_ v: Variant) -> String { directory + "/" + v.image }
    public func initrdPath(_ v: Variant) -> String? { v.initrd.map { directory + "/" + $0 } }

    /// Reads and checks an index file (at most 16 MiB).
    public static func read(_ file: String) throws(ProbeIndexError) -> ProbeIndex {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: file), let size = attrs[.size] as? UInt64 else { throw ProbeIndexError("\(file): cannot read") }
        guard size <= 16 << 20 else { throw ProbeIndexError("\(file): \(size) bytes, more than an index holds (16 MiB)") }
        guard let d = FileManager.default.contents(atPath: file) else { throw ProbeIndexError("\(file): cannot read") }
        guard let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { throw ProbeIndexError("\(file): not a JSON object") }
        guard o["format"] as? String == format else { throw ProbeIndexError("\(file): format is \(o["format"].map { "\($0)" } ?? "missing"), expected \"\(format)\"") }
        guard let vs = o["variants"] as? [[String: Any]] else { throw ProbeIndexError("\(file): no \"variants\" array") }
        var out: [Variant] = []
        for (i, v) in vs.enumerated() {
            guard let id = v["id"] as? String, let image = v["image"] as? String else { throw ProbeIndexError("\(file): variants[\(i)] lacks \"id\" or \"image\"") }
            guard !image.contains("/"), !(v["initrd"] as? String ?? "").contains("/") else { throw ProbeIndexError("\(file): variants[\(i)] names a file outside the index's directory") }
            out.append(Variant(id: id, image: image, initrd: v["initrd"] as? String, commandLine: v["cmdline"] as? String ?? "", entry: v["entry"] as? String ?? "default"))
        }
        return ProbeIndex(file: file, variants: out)
    }

    /// Every `index.json` under `directory` (itself included), shallowest first. The walk is
    /// bounded (depth, directories visited) and skips hidden directories and symbolic links.
    public static func find(under directory: String, maxDepth: Int = 6, maxDirectories: Int = 5_000) -> [String] {
        let fm = FileManager.default
        var found: [String] = [], queue: [(String, Int)] = [(directory, 0)], visited = 0
        while !queue.isEmpty, visited < maxDirectories {
            let (dir, depth) = queue.removeFirst()
            visited += 1
            guard let names = try? fm.contentsOfDirectory(atPath: dir) else { continue }
            for n in names.sorted() {
                let p = dir + "/" + n
                guard let t = (try? fm.attributesOfItem(atPath: p))?[.type] as? FileAttributeType else { continue }
                if t == .typeRegular, n == "index.json" { found.append(p) }
                if t == .typeDirectory, !n.hasPrefix("."), depth < maxDepth { queue.append((p, depth + 1)) }
            }
        }
        return found
    }

    /// Where an index is looked for when none is named: next to the report and in its parent
    /// directories (up to `parents` levels; in each, `index.json`, `images/index.json` and
    /// `Corpus/probe/images/index.json`), then `Corpus/probe/images` of `workingDirectory`.
    public static func candidates(report: String?, workingDirectory: String, parents: Int = 4) -> [String] {
        var out: [String] = []
        if let report {
            var dir = ((report as NSString).deletingLastPathComponent as NSString).standardizingPath
            if dir.isEmpty { dir = workingDirectory }
            if !dir.hasPrefix("/") { dir = workingDirectory + "/" + dir }
            for _ in 0...parents {
                out += [dir + "/index.json", dir + "/images/index.json", dir + "/Corpus/probe/images/index.json"]
                let up = (dir as NSString).deletingLastPathComponent
                if up == dir || up.isEmpty { break }
                dir = up
            }
        }
        out.append(workingDirectory + "/Corpus/probe/images/index.json")
        var seen: Set<String> = []
        return out.map { ($0 as NSString).standardizingPath }.filter { seen.insert($0).inserted }
    }

    /// The index to judge a report of `variant` with: under `probeImages` when given (anywhere
    /// below it), else from `candidates(report:…)`. Of several, the first that lists the
    /// variant; else the first that reads.
    public static func locate(probeImages: String?, report: String?, variant: String, workingDirectory: String) throws(ProbeIndexError) -> ProbeIndex {
        let places: [String]
        if let probeImages {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: probeImages, isDirectory: &isDir) else { throw ProbeIndexError("--probe-images \(probeImages): no such directory") }
            places = isDir.boolValue ? find(under: probeImages) : [probeImages]
            if places.isEmpty { throw ProbeIndexError("no index.json under \(probeImages) (run `conform corpus --probe DIR`, or give --kernel and --cmdline)") }
        } else {
            places = candidates(report: report, workingDirectory: workingDirectory).filter { FileManager.default.fileExists(atPath: $0) }
            if places.isEmpty {
                let looked = candidates(report: report, workingDirectory: workingDirectory)
                throw ProbeIndexError("no probe index.json next to the report or in its parent directories, nor in ./Corpus/probe/images (looked in \(looked.count) places, e.g. \(looked.prefix(3).joined(separator: ", "))); give --probe-images DIR, or --kernel and --cmdline")
            }
        }
        var readable: [ProbeIndex] = [], problems: [String] = []
        for p in places {
            do throws(ProbeIndexError) { readable.append(try read(p)) } catch { problems.append(error.message) }
        }
        if let i = readable.first(where: { $0.variant(variant) != nil }) ?? readable.first { return i }
        throw ProbeIndexError("no readable probe index: " + problems.joined(separator: "; "))
    }
}

public struct ProbeIndexError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ProbeIndex {
    /// Which variant a report came from.
    public enum Identification: Sendable {
        /// The report names a variant of the index.
        case named(Variant)
        /// The name is not in the index, but the probe's own image is that variant's, byte for byte.
        case sameImage(Variant)
        /// The probe's own image in guest memory (its `hash64 segment` line) is no variant's:
        /// the loader did not copy the kernel byte for byte, which garbles the probe's strings
        /// too. `verdict` is that BP-19 failure; `guess` the one variant whose name the garbled
        /// one could be (a prefix of it, or the same length with at most two bytes changed).
        case imageCorrupted(verdict: Verdict, guess: Variant?)
        /// Not in the index, and nothing more can be said.
        case unknown(String)
    }

    /// Identifies a report's variant; for a name the index lacks, compares the probe's image
    /// checksum with each variant's image (the same file bytes, from offset 0 of the protected-
    /// mode image or of the first PT_LOAD).
    public func identify(_ report: ProbeReport) -> Identification {
        if let v = variant(report.variant) { return .named(v) }
        let name = report.variant.isEmpty ? "(empty)" : "'\(report.variant)'"
        guard let seg = report.hash("segment"), seg.length > 0, seg.length <= 64 << 20 else {
            return .unknown("\(file): no variant \(name) (the report's 'variant' line), and the report has no hash64 segment line to compare images with; give --kernel and --cmdline")
        }
        var same: [Variant] = []
        for v in variants {
            guard let src = try? FileSource(path: imagePath(v)), let img = try? KernelImage(source: src) else { continue }
            let offset: UInt64
            switch img {
            case .bzImage(let bz): offset = bz.protectedModeOffset
            case .elf(let e): guard let s = e.segments.first else { continue }; offset = s.offset
            }
            guard offset <= src.size, seg.length <= src.size - offset, let bytes = try? src.read(at: offset, count: Int(seg.length)) else { continue }
            if ProbeHash64.of(bytes) == seg.hash64 { same.append(v) }
        }
        if let v = same.first { return .sameImage(v) }
        let candidates = variants.filter { v in
            let a = Array(report.variant.utf8), b = Array(v.id.utf8)
            if !a.isEmpty, b.starts(with: a) { return true }
            return a.count == b.count && zip(a, b).filter { $0 != $1 }.count <= 2
        }
        let verdict = Verdict(rule: "BP-19", outcome: .fail,
                              evidence: "the probe's own image at \(hex(seg.address)) (\(hex(seg.length)) bytes) has hash64 \(hex(seg.hash64)), which is no variant's image in \(file): the loader did not copy the kernel byte for byte, and the variant name the probe read from it, \(name), is garbled too")
        return .imageCorrupted(verdict: verdict, guess: candidates.count == 1 ? candidates[0] : nil)
    }
}
