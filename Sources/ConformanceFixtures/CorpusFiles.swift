import Conformance
import Foundation

/// Corpus cases written to a directory for another loader: `ID.bzImage` or `ID.elf`, `ID.initrd`
/// when the case has one, and, for probe variants, `index.json` (format "probe-index/1", read by
/// `ProbeIndex`): how each was loaded, so another loader can be run the same way and `conform
/// judge` can find the image and inputs a report came from.
public enum CorpusFiles {
    /// The image's file name: `ID.elf` or `ID.bzImage`.
    public static func imageName(_ c: CorpusCase) -> String { "\(c.id).\(c.kind == "elf" ? "elf" : "bzImage")" }

    /// Writes `c`'s image (and initrd) into `dir`; returns their paths.
    @discardableResult
    public static func write(_ c: CorpusCase, to dir: String) throws -> (kernel: String, initrd: String?) {
        let k = dir + "/" + imageName(c)
        try Data(c.image).write(to: URL(fileURLWithPath: k))
        var i: String? = nil
        if let rd = c.initrd { i = dir + "/\(c.id).initrd"; try Data(rd).write(to: URL(fileURLWithPath: i!)) }
        return (k, i)
    }

    /// Writes every case and, with `index`, index.json listing them.
    public static func write(_ cases: [CorpusCase], to dir: String, index: Bool) throws {
        for c in cases { try write(c, to: dir) }
        if index { try indexData(cases).write(to: URL(fileURLWithPath: dir + "/index.json")) }
    }

    /// index.json for `cases`.
    public static func indexData(_ cases: [CorpusCase]) throws -> Data {
        var entries: [[String: Any]] = []
        for c in cases {
            var e: [String: Any] = ["id": c.id, "image": imageName(c), "about": c.about,
                                    "cmdline": c.options.commandLine, "memory": hex(c.options.memorySize),
                                    "entry": c.options.entry?.rawValue ?? "default", "high": c.options.highPlacement]
            if c.initrd != nil { e["initrd"] = "\(c.id).initrd" }
            e["entries"] = offeredEntries(kernel: c.image).map(\.rawValue)
            if let k = c.options.kernelAddress { e["kernelAddress"] = hex(k) }
            entries.append(e)
        }
        return try JSONSerialization.data(withJSONObject: ["format": "probe-index/1", "variants": entries], options: [.prettyPrinted, .sortedKeys])
    }
}
