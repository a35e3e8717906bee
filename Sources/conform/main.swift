import Conformance
for p in CommandLine.arguments.dropFirst() {
    do {
        let src = try FileSource(path: p)
        var o = LoadOptions(); o.rngSeed = LoadOptions.corpusSeed
        if p.hasSuffix("pvh") { o.entry = .pvh }
        let path = p.hasSuffix("pvh") ? String(p.dropLast(3)) : p
        let s2 = try FileSource(path: path)
        let r = try ReferenceLoader.load(kernel: s2, initrd: try FileSource(path: "/tmp/k/payload.zst"), options: o)
        let snap = try BootSnapshot.of(r, kernel: s2, initrd: try FileSource(path: "/tmp/k/payload.zst"), commandLine: o.commandLine)
        for v in judge(snap) where v.outcome != .notApplicable { print(v) }
        _ = src
    } catch { print(p, "error:", error) }
}
