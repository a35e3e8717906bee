import ArgumentParser
import Conformance
import Foundation
import HarnessKVM
import Reports
import Runners

/// Every benchmark in one run: each part runs as this binary's own subcommand with --json, so
/// the parts measure exactly what `bench`, `bench-probe` and `bench-boot` measure alone; then
/// the whole test suite's wall time. One table and one JSON document.
struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Run every benchmark in one go: loader vs read floor, probe boot HarnessKVM vs QEMU, real kernels to userspace by each path, suite wall time.",
        discussion: "Build with -c release: swift run -c release conform benchmark [--json-file F]. The figures in docs/PERFORMANCE.md come from it.")
    @Option(help: "Rounds of bench-boot (each boots four kernels).") var rounds = 5
    @Option(help: "QEMU accelerator for the probe comparison (the issue's reference is kvm).") var probeAccel = "kvm"
    @Flag(help: "Do not time `swift test`.") var noSuite = false
    @Option(help: "Write the JSON here as well.") var jsonFile: String?
    @Flag(help: "Print JSON instead of the table.") var json = false

    func run() throws {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        func part(_ args: [String]) throws -> ([String: Any], Double) {
            let p = Process(), out = Pipe(), err = Pipe()
            p.executableURL = URL(fileURLWithPath: me); p.arguments = args + ["--json"]
            p.standardOutput = out; p.standardError = err
            let t0 = DispatchTime.now().uptimeNanoseconds
            do { try p.run() } catch { throw fail("cannot run \(me) \(args.joined(separator: " ")): \(error.localizedDescription)") }
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let msg = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            let t = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            guard p.terminationStatus == 0, let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw fail("\(args.first ?? "") failed (status \(p.terminationStatus)): \(String(decoding: msg, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return (obj, t)
        }
        func say(_ s: String) { if !json { FileHandle.standardError.write(Data((s + "\n").utf8)) } }
        var doc: [String: Any] = ["machine": machine()]
        say("benchmark 1/4: reference loader vs raw read floor")
        let (load, _) = try part(["bench"])
        doc["load"] = load
        say("benchmark 2/4: probe boot, HarnessKVM vs QEMU -accel \(probeAccel)")
        let (probe, _) = try part(["bench-probe", "--accel", probeAccel])
        doc["probe"] = probe
        say("benchmark 3/4: real kernels to the userspace marker, \(rounds) rounds")
        let (boot, _) = try part(["bench-boot", "--rounds", String(rounds)])
        doc["realKernels"] = boot
        if !noSuite {
            say("benchmark 4/4: swift test (the whole suite)")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env"); p.arguments = ["swift", "test"]
            p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
            let t0 = DispatchTime.now().uptimeNanoseconds
            do { try p.run() } catch { throw fail("cannot run swift test: \(error.localizedDescription)") }
            p.waitUntilExit()
            doc["suite"] = ["wallSeconds": Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9, "status": Int(p.terminationStatus)]
        }
        if let jsonFile {
            let d = (try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
            guard FileManager.default.createFile(atPath: jsonFile, contents: d) else { throw fail("cannot write \(jsonFile)") }
        }
        if json { writeJSON(doc); return }
        for line in BenchmarkText.table(doc, rounds: rounds, probeAccel: probeAccel) { print(line) }
    }

    func machine() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
        let kernel = (try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(ProcessInfo.processInfo.physicalMemory >> 30) GiB, Linux \(kernel), \(KVMAvailability.check().reason)"
    }
}
