import Conformance
for p in CommandLine.arguments.dropFirst() {
    do {
        let src = try FileSource(path: p)
        var o = LoadOptions(); o.rngSeed = LoadOptions.corpusSeed
        let r = try ReferenceLoader.load(kernel: src, initrd: nil, options: o)
        print(p, hex(r.kernelAddress), r.kernelWindow, hex(r.entry.rip), r.regions.map { "\($0.name)\($0.range)" }, r.warnings, r.memory.residentBytes())
    } catch { print(p, "error:", error) }
}
