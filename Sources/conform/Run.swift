import ArgumentParser
import Conformance
import Foundation
import HarnessKVM

/// The main job: the synthetic corpus and the real kernels, every rule's verdict per image.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the conformance suite on the corpus (the default command).")

    @Option(help: "Corpus directory (holds synthetic/manifest.json and, once built, real/manifest.json).")
    var corpus = "Corpus"
    @Flag(help: "List every rule's evidence, not only failures.")
    var verbose = false
    @Flag(help: "Machine-readable output.")
    var json = false
    @Flag(help: "Do not boot the real kernels to userspace (QEMU).")
    var noBoot = false

    func run() throws {
        let cases: [CorpusCase]
        let manifest = corpus + "/synthetic/manifest.json"
        guard FileManager.default.fileExists(atPath: manifest) else { throw fail("no \(manifest): run from the repository root, or pass --corpus DIR") }
        do { cases = try SyntheticCorpus.load(manifest: manifest) } catch { throw fail(error.description) }
        var deviations = 0
        var jsonCases: [[String: Any]] = []
        if !json { print("Synthetic corpus: \(cases.count) cases (\(corpus)/synthetic/manifest.json)\n") }
        for c in cases {
            let r = SyntheticCorpus.run(c)
            if !r.problems.isEmpty { deviations += 1 }
            if json {
                var o: [String: Any] = ["id": c.id, "about": c.about, "asExpected": r.problems.isEmpty, "problems": r.problems, "verdicts": verdictJSON(r.verdicts)]
                if let e = r.error { o["rejected"] = e.description }
                if let res = r.result { o["placement"] = placement(res) }
                jsonCases.append(o)
                continue
            }
            let mark = r.problems.isEmpty ? "ok  " : "DIFF"
            print("\(mark) \(c.id) — \(c.about)")
            if let e = r.error { print("     rejected: \(e)") }
            if let res = r.result {
                print("     reference loader placed: " + placement(res).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                for f in c.faults { print("     then fault \(f.name): \(f.about)") }
                for w in res.warnings { print("     \(w)") }
                var expected: Set<String> = []
                if case let .loads(_, fail, _, _, _) = c.expectation { expected = fail.rules }
                printVerdicts(r.verdicts, indent: "     ", showAll: verbose, expectedFailures: expected)
            }
            for p in r.problems { print("     ✗ not as the manifest says: \(p)") }
        }
        // Real kernels.
        var realFailures = 0
        var jsonReal: [[String: Any]] = []
        let kernels: [RealKernel]?
        do { kernels = try RealCorpus.load(directory: corpus) } catch { throw fail(error.description) }
        if let kernels {
            if !json { print("\nReal kernels: \(kernels.count) images (\(corpus)/real/manifest.json)\n") }
            let initrdBytes = RealCorpus.testInitrd()
            for k in kernels {
                for entry in k.entries {
                    let (verdicts, result, error) = realRun(k, entry: entry, initrd: initrdBytes)
                    let failed = verdicts.filter { $0.outcome == .fail }
                    if error != nil || !failed.isEmpty { realFailures += 1 }
                    if json {
                        var o: [String: Any] = ["name": k.name, "entry": entry.rawValue, "sha256": k.sha256, "verdicts": verdictJSON(verdicts)]
                        if let error { o["error"] = error }
                        if let result { o["placement"] = placement(result) }
                        jsonReal.append(o); continue
                    }
                    print("\(error == nil && failed.isEmpty ? "ok  " : "FAIL") \(k.name) (\(k.format), entry \(entry.rawValue))")
                    if let error { print("     error: \(error)") }
                    if let result {
                        print("     loaded: " + placement(result).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                        printVerdicts(verdicts, indent: "     ", showAll: verbose)
                    }
                }
            }
        } else if !json {
            print("\nReal kernels: not built — run tools/build-corpus.sh to fetch the Debian 6.1 and 6.12 kernels.")
        }
        // Real kernels to userspace, by QEMU's loader and by the reference loader's bundle.
        var bootFailures = 0, jsonBoots: [[String: Any]] = [], bootSummary = ""
        if let kernels, !noBoot {
            let initramfs = RealCorpus.initramfs(directory: corpus)
            let qemu = try? QEMURunner.executable()
            if let initramfs, qemu != nil {
                let jobs = kernels.flatMap { k in [KernelBootPath.qemuLoader, .referenceBundle].map { (k, $0) } }
                if !json { print("\nReal kernels to userspace: \(jobs.count) boots, QEMU -accel \(QEMUAccel.automatic.resolved().rawValue), initramfs \(initramfs)\n") }
                let results = bootAll(jobs, initrd: initramfs)
                for ((k, path), r) in zip(jobs, results) {
                    switch r {
                    case .success(let b):
                        if !b.passed { bootFailures += 1 }
                        if json { var o = resultJSON(b); o["name"] = k.name; jsonBoots.append(o); continue }
                        print("\(b.passed ? "ok  " : "FAIL") \(k.name) by \(path.rawValue): " + (b.toMarker.map { String(format: "userspace after %.2f s, ", $0.seconds) } ?? "")
                              + "\(b.checks.count - b.failedChecks.count)/\(b.checks.count) kernel-observed checks pass")
                        if let e = b.reportError { print("     \(e); \(b.outcome)") }
                        for c in b.failedChecks { print("     ✗ \(c.kind.rawValue) \(c.field): loader \(c.expected); kernel \(c.found) \(c.note)") }
                    case .failure(let e):
                        bootFailures += 1
                        if json { jsonBoots.append(["name": k.name, "path": path.rawValue, "error": "\(e)"]); continue }
                        print("FAIL \(k.name) by \(path.rawValue): \(e)")
                    }
                }
                bootSummary = ", \(jobs.count) boots to userspace: \(bootFailures) failed"
            } else if !json {
                print("\nReal kernels to userspace: skipped — " + (initramfs == nil ? "no initramfs (run tools/build-corpus.sh)" : "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"))
            }
        }
        if json {
            writeJSON(["synthetic": jsonCases, "real": jsonReal, "boots": jsonBoots, "summary": ["cases": cases.count, "deviations": deviations, "realFailures": realFailures, "bootFailures": bootFailures]])
        } else {
            print("\nSummary: \(cases.count - deviations) of \(cases.count) synthetic cases as expected" + (kernels.map { ", \($0.count) real kernels: \(realFailures) runs with failures" } ?? "") + bootSummary)
        }
        if deviations > 0 || realFailures > 0 || bootFailures > 0 { throw ExitCode(1) }
    }

    /// Two boots at a time (QEMU's TCG runs one guest per host thread; this machine has two cores).
    func bootAll(_ jobs: [(RealKernel, KernelBootPath)], initrd: String) -> [Result<KernelBootResult, Error>] {
        let results = Locked([Result<KernelBootResult, Error>?](repeating: nil, count: jobs.count))
        let next = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            while true {
                let i = next.update { n in defer { n += 1 }; return n }
                guard i < jobs.count else { return }
                let (k, path) = jobs[i]
                let r = Result { () throws -> KernelBootResult in
                    path == .qemuLoader ? try KernelBoot.qemuLoader(kernel: k.path, initrd: initrd, timeout: .seconds(300))
                        : try KernelBoot.referenceBundle(kernel: k.path, initrd: initrd, timeout: .seconds(300))
                }
                results.update { $0[i] = r }
            }
        }
        return results.update { $0.map { $0! } }
    }

    func placement(_ r: LoadResult) -> [String: String] {
        var p = ["kernel": hex(r.kernelAddress), "entry": "\(r.entry.entryPoint.rawValue)@\(hex(r.entry.rip))", "cmdline": hex(r.commandLine.address), "window": r.kernelWindow.description]
        if let b = r.bootParams { p["zeroPage"] = hex(b) }
        if let s = r.startInfo { p["startInfo"] = hex(s) }
        if let i = r.initrd { p["initrd"] = i.description }
        return p
    }

    func realRun(_ k: RealKernel, entry: EntryPoint, initrd: [UInt8]) -> ([Verdict], LoadResult?, String?) {
        do {
            let src = try FileSource(path: k.path)
            let rd = MemorySource(name: "test-initrd", bytes: initrd)
            var o = LoadOptions(); o.entry = entry; o.rngSeed = LoadOptions.corpusSeed
            let r = try ReferenceLoader.load(kernel: src, initrd: rd, options: o)
            let s = try BootSnapshot.of(r, kernel: src, initrd: rd, commandLine: o.commandLine)
            if s.image.sha256 != k.sha256 { return ([], r, "sha256 \(s.image.sha256) differs from the manifest's \(k.sha256): rebuild the corpus") }
            return (judge(s), r, nil)
        } catch { return ([], nil, "\(error)") }
    }
}

/// A value behind a lock, for the two boot workers.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func update<R>(_ f: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return f(&value) }
}
