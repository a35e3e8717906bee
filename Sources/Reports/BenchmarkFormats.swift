import Foundation

/// `conform benchmark`'s table: each measure beside its reference and their ratio, from the
/// JSON document the run writes (its parts are `bench`, `bench-probe` and `bench-boot`'s own
/// --json output). A figure the document lacks prints as nan (a count as 0).
public enum BenchmarkText {
    public static func table(_ doc: [String: Any], rounds: Int, probeAccel: String) -> [String] {
        func n(_ d: [String: Any], _ k: String) -> Double { (d[k] as? Double) ?? (d[k] as? Int).map(Double.init) ?? .nan }
        func c(_ d: [String: Any], _ k: String) -> Int { let v = n(d, k); return v.isFinite ? Int(exactly: v.rounded(.towardZero)) ?? 0 : 0 }
        let load = doc["load"] as? [String: Any] ?? [:], probe = doc["probe"] as? [String: Any] ?? [:], boot = doc["realKernels"] as? [String: Any] ?? [:]
        var out = ["machine: \(doc["machine"] as? String ?? "")", "| Measure | Subject | Reference | Ratio |", "|---|---|---|---|"]
        out.append(String(format: "| Load 6.12 bzImage + 16 MiB initrd (median of %d) | %.2f ms | read floor %.2f ms | %.2f (goal ≤ 1.5) |", c(load, "runs"), n(load, "loadMedianMs"), n(load, "readFloorMedianMs"), n(load, "ratio")))
        out.append(String(format: "| Probe boot (pvh-desc8) | HarnessKVM %.1f ms (%.1f–%.1f, %d boots) | QEMU -accel %@ %.1f ms (%d boots) | %.1f× (goal ≥ 20×) |",
                          n(probe, "harnessMedianMs"), n(probe, "harnessMinMs"), n(probe, "harnessMaxMs"), c(probe, "harnessRuns"), probeAccel, n(probe, "qemuMedianMs"), c(probe, "qemuRuns"), n(probe, "ratio")))
        if let paths = boot["paths"] as? [[String: Any]], paths.count == 4, let ratios = boot["ratios"] as? [String: Double] {
            for (i, kind) in ["bzImage", "ELF"].enumerated() {
                let q = paths[2 * i], r = paths[2 * i + 1]
                out.append(String(format: "| %@ to userspace (%d rounds) | reference bundle %.0f ms (%.0f–%.0f) | QEMU's loader %.0f ms (%.0f–%.0f) | %.2f× |", kind, rounds,
                                  n(r, "medianMs"), n(r, "minMs"), n(r, "maxMs"), n(q, "medianMs"), n(q, "minMs"), n(q, "maxMs"), ratios[kind] ?? .nan))
            }
        }
        if let s = doc["suite"] as? [String: Any] { out.append(String(format: "| `swift test` wall time | %.1f s (status %d) | | |", n(s, "wallSeconds"), c(s, "status"))) }
        return out
    }
}
