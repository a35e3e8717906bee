import Conformance
do {
    let cases = try SyntheticCorpus.load(manifest: "Corpus/synthetic/manifest.json")
    var bad = 0
    for c in cases {
        let r = SyntheticCorpus.run(c)
        if !r.problems.isEmpty { bad += 1; print("✗ \(c.id)"); for p in r.problems { print("    \(p)") } }
    }
    print("\(cases.count - bad) ok, \(bad) with problems")
} catch { print(error) }
