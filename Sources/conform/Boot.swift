import ArgumentParser
import Conformance
import ConformanceFixtures
import Foundation
import HarnessKVM
import Reports
import Runners

/// Boots a kernel under HarnessKVM with the reference loader.
struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Boot a kernel under the built-in KVM VMM, loaded by the reference loader; report the outcome and serial output. A probe kernel's report is judged.")
    @Argument(help: "A bzImage or ELF vmlinux.") var kernel: String
    @Option(help: "Entry point: 64, 32, 16 (bzImage: the real-mode setup entry, with a minimal INT 15h) or pvh (default: 64 where the image allows it).") var entry: String?
    @Option(help: "Initial ramdisk.") var initrd: String?
    @Option(help: "Kernel command line.") var cmdline = "console=ttyS0 earlyprintk=serial"
    @Option(help: "Guest RAM (e.g. 512M, 4G).") var memory = "1G"
    @Option(help: "Seconds before the vCPU is stopped.") var timeout = 10.0
    @Option(help: "Stop when this text appears on COM1.") var marker: String?
    @Option(help: "Serial bytes to keep (the rest is counted).") var serialLimit = "1M"
    @Flag(help: "Print the serial output even when a probe report was judged.") var serial = false
    @Flag(help: "JSON output.") var json = false

    func run() throws {
        let availability = KVMAvailability.check()
        guard availability.isUsable else { throw fail("cannot boot: \(availability.reason)") }
        var o = LoadOptions()
        o.memorySize = try size(memory, option: "--memory")
        if let entry {
            guard let e = EntryPoint(rawValue: entry), !e.isEFI else { throw fail("--entry '\(entry)' is not one of 64, 32, 16, pvh (the EFI entries need firmware: boot under OVMF)") }
            o.entry = e
        }
        o.commandLine = cmdline
        guard timeout > 0, timeout <= 86_400 else { throw fail("--timeout \(timeout) must be in (0, 86400] seconds") }
        let limit = try size(serialLimit, option: "--serial-limit")
        guard limit <= 1 << 30 else { throw fail("--serial-limit must be at most 1G") }
        let src = try openSource(kernel, what: "kernel")
        let rd = try initrd.map { try openSource($0, what: "initrd") }
        let result: ProbeBootResult
        do {
            result = try ProbeBoot.boot(kernel: src, initrd: rd, options: o,
                                        bootOptions: BootOptions(timeout: .milliseconds(Int64(timeout * 1000)), serialLimit: Int(limit), marker: marker),
                                        producer: "probe under HarnessKVM")
        } catch let e as LoadError { throw fail("\(kernel): rejected: \(e)") } catch { throw fail("\(kernel): \(error)") }
        let report = result.boot
        let ms = milliseconds(report.elapsed)
        var out: [String: Any] = ["kernel": kernel, "outcome": report.outcome.word, "detail": report.outcome.description,
                                  "kvm": report.flavor.description, "milliseconds": ms, "exits": report.exits,
                                  "serialBytes": report.serial.count, "serialDropped": report.serialDropped]
        var probeLines: [String] = []
        if let probe = result.report {
            let v = result.guestVerdicts, d = result.disagreements
            out["verdicts"] = v.map { ["rule": $0.rule.rawValue, "outcome": $0.outcome.rawValue, "evidence": $0.evidence] }
            out["disagreements"] = d
            probeLines.append("probe report: \(probe.lineCount) lines, entry \(probe.entryPoint.rawValue), base \(hex(probe.base))")
            probeLines.append("guest view: " + verdictSummary(v, loader: nil, explained: 0))
            for f in v where f.outcome == .fail || f.outcome == .warn { probeLines.append("  \(f.outcome == .fail ? "FAIL" : "WARN") \(f)") }
            probeLines.append(d.isEmpty ? "guest view agrees with the loader's" : "guest view differs from the loader's:")
            for x in d { probeLines.append("  \(x)") }
        }
        if json {
            if serial || probeLines.isEmpty { out["serial"] = report.serialText }
            FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8))
        } else {
            if serial || probeLines.isEmpty { FileHandle.standardOutput.write(Data(report.serial)); if report.serial.last != 0x0A { print() } }
            print("\(kernel): \(report.outcome) after \(String(format: "%.2f", ms)) ms, \(report.exits) exits, \(report.serial.count) serial bytes\(report.serialDropped > 0 ? " (+\(report.serialDropped) dropped)" : "") on \(report.flavor)" + (report.finalRIP.map { "; vCPU at rip \(hex($0)) (\(report.finalMode ?? "?") mode)" } ?? ""))
            for l in probeLines { print(l) }
        }
        switch report.outcome {
        case .reachedMarker, .exited: break
        default: throw ExitCode(1)
        }
    }
}
