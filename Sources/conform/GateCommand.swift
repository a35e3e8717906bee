import ArgumentParser
import Conformance
import Foundation
import HarnessKVM
import Reports
import Runners

/// Gates a new kernel release: surface diff against a baseline, every rule, a boot to userspace.
struct GateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Pass/fail gate for a new kernel release: surface diff, every rule, boot to userspace.",
        discussion: """
        NEW and --baseline are bzImages, ELF vmlinux files or Debian kernel packages of either \
        layout (linux-image-…-unsigned with ./boot/vmlinuz-*, or 7.x linux-binary-unsigned-… with \
        ./usr/lib/modules/*/vmlinuz*; `conform fetch` gets them). \
        The gate decodes both, diffs the protocol-visible surface (protocol version, setup header \
        fields, loadflags, xloadflags, kernel_info, payload ELF program headers and notes, entry \
        points, which PT_LOAD holds the entry), classifies each change as breaking (the gate \
        fails), needs-attention or informational with the reason a loader maintainer needs, and \
        collapses build noise; it loads the new kernel with the reference loader for each entry it offers and runs \
        every rule, and boots it to the initramfs's userspace marker by QEMU's loader and by the \
        reference loader's bundle, checking what the kernel observed. \
        An arm64 or riscv64 Image (told by its magic at 0x38; a plain Image, an Image.gz or an EFI \
        zboot image, or a .deb of either layout holding one) is gated on its header surface \
        (text_offset, image_size, flags by name, magics, riscv64 header version, PE header \
        offset and "MZ"), loaded by the reference Image loader on QEMU virt (1 GiB) and judged by \
        the A64-nn or RV-nn rules, and booted by QEMU's own loader on virt under TCG with the \
        initramfs built for its architecture (Corpus/initramfs/build-ARCH/). A baseline of \
        another architecture is refused. \
        --junit, --markdown, --html and --json-file write the report in each format; the HTML is \
        `conform report`'s for both kernels (memory layouts, kernel × rule, the surface diff). \
        Exit status: 0 pass, 1 regression, 2 bad input.
        """)
    @Argument(help: "The new kernel (image or .deb).") var new: String
    @Option(help: "The release to compare with (image or .deb).") var baseline: String?
    @Option(help: "The initramfs to boot with (default: Corpus/initramfs/build/initramfs.cpio; for an arm64 or riscv64 Image, build-ARCH/ instead).") var initrd: String?
    @Flag(help: "Skip the boot step.") var noBoot = false
    @Option(help: "QEMU accelerator: auto, kvm or tcg.") var accel = "auto"
    @Option(help: "Seconds to wait for the userspace marker on each boot path.") var timeout = 180.0
    @Option(help: "Write JUnit XML here.") var junit: String?
    @Option(help: "Write the Markdown report here.") var markdown: String?
    @Option(help: "Write the HTML report here (as `conform report`: memory layouts and rules of both kernels, the surface diff).") var html: String?
    @Option(name: .customLong("json-file"), help: "Write the JSON report here.") var jsonFile: String?
    @Flag(help: "Print the JSON report instead of the summary.") var json = false

    func run() throws {
        guard let a = QEMUAccel(rawValue: accel) else { throw fail("--accel '\(accel)' is not auto, kvm or tcg") }
        let ws: GateWorkspace
        do { ws = try GateWorkspace() } catch { throw fail("\(error)") }
        defer { ws.cleanup() }
        let report: GateReport
        do {
            let n = try ws.kernel(new)
            let b = try baseline.map { try ws.kernel($0) }
            var o = KernelGate.Options()
            if let initrd { o.initrd = initrd; for a in ImageHandoff.Architecture.allCases { o.imageInitrds[a] = initrd } }
            o.boot = !noBoot; o.accel = a; o.timeout = .milliseconds(Int(timeout * 1000))
            let progress = ProgressLine("conform gate")
            defer { progress.finish() }
            report = try KernelGate.run(new: n, baseline: b, options: o, progress: progress.step)
        } catch { throw fail("\(error)") }
        var htmlText: String? = nil
        if html != nil {
            // The same loads the gate judged (same initrd, command line and RNG seed), kept for their memory.
            let rd = KernelGate.initrdBytes(initrd ?? KernelGate.Options().initrd)
            htmlText = HTMLReport(gate: report, kernels: ([report.new] + [report.baseline].compactMap { $0 }).map { HTMLReport.Kernel($0, initrd: rd) }).html
        }
        for (path, text) in [(junit, report.junitXML), (markdown, report.markdown), (html, htmlText ?? "")] {
            guard let path else { continue }
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw fail("cannot write \(path)") }
        }
        if let jsonFile {
            let d = (try? JSONSerialization.data(withJSONObject: report.json, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
            guard FileManager.default.createFile(atPath: jsonFile, contents: d) else { throw fail("cannot write \(jsonFile)") }
        }
        if json { writeJSON(report.json) } else { for l in report.summaryLines { print(l) } }
        if !report.passed { throw ExitCode(1) }
    }
}

/// The protocol-visible surface diff alone, for triage.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Print the protocol-visible surface diff between two kernels (images or .deb), or between two snapshot files.",
        discussion: "The kernels are x86 (bzImage, ELF vmlinux) or arm64 or riscv64 Images (told by the magic at 0x38), both of one architecture. Two .json arguments are read as snapshot files (boot-snapshot/1, from `conform load --json` or `--dump`): every field that differs, then every verdict that changed.")
    @Argument(help: "The older kernel (or snapshot file).") var old: String
    @Argument(help: "The newer kernel (or snapshot file).") var new: String
    @Flag(help: "Include items that did not change.") var all = false
    @Flag(help: "List each build-noise change instead of one collapsed line.") var noise = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        if old.hasSuffix(".json") && new.hasSuffix(".json") { return try diffSnapshots() }
        let ws: GateWorkspace
        do { ws = try GateWorkspace() } catch { throw fail("\(error)") }
        defer { ws.cleanup() }
        let a: GateKernel, b: GateKernel
        do { a = try ws.kernel(old); b = try ws.kernel(new) } catch { throw fail("\(error)") }
        let changes: [SurfaceChange]
        do { changes = try Surface.diff(old: a.surface, new: b.surface, oldName: a.label, newName: b.label) } catch { throw fail("\(error)") }
        if json {
            writeJSON(["old": a.label, "new": b.label, "changes": changes.json])
            return
        }
        print("\(a.label) → \(b.label): \(changes.count) change\(changes.count == 1 ? "" : "s") (\(changes.impactCounts))")
        for n in [a.payloadNote, b.payloadNote].compactMap({ $0 }) { print("  payload ELF not read: \(n)") }
        for l in changes.lines { print("  " + l) }
        if noise { for c in changes.noise { print("    \(c.key): \(c.old ?? "—") → \(c.new ?? "—")") } }
        if all {
            let changed = Set(changes.map(\.key))
            print("unchanged:")
            for i in b.surface where !changed.contains(i.key) { print("  = \(i.key): \(i.value)") }
        }
    }

    /// Two snapshot files: the field-level difference of the documents, and the verdicts that changed.
    func diffSnapshots() throws {
        func read(_ path: String) throws -> (DecodedSnapshot, Any) {
            guard let d = FileManager.default.contents(atPath: path) else { throw fail("\(path): cannot read") }
            do {
                let s = try SnapshotJSON.decode([UInt8](d))
                guard var o = try JSONSerialization.jsonObject(with: d) as? [String: Any] else { throw fail("\(path): not a JSON object") }
                o.removeValue(forKey: "verdicts")
                return (s, o)
            } catch let e as SnapshotDecodeError { throw fail("\(path): \(e)") }
        }
        let (a, ao) = try read(old), (b, bo) = try read(new)
        let fields = JSONDifference.diff(expected: ao, found: bo)
        let rules = Set(a.verdicts.keys).union(b.verdicts.keys).sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        let verdicts = rules.compactMap { r -> (String, String, String)? in
            let x = a.verdicts[r]?.rawValue ?? "(none)", y = b.verdicts[r]?.rawValue ?? "(none)"
            return x == y ? nil : (r, x, y)
        }
        if json {
            writeJSON(["old": old, "new": new,
                       "fields": fields.map { ["path": $0.path, "old": $0.expected ?? NSNull(), "new": $0.found ?? NSNull()] as [String: Any] },
                       "verdicts": verdicts.map { ["rule": $0.0, "old": $0.1, "new": $0.2] }])
            return
        }
        print("\(old) → \(new): \(fields.count) field\(fields.count == 1 ? "" : "s") differ, \(verdicts.count) verdict\(verdicts.count == 1 ? "" : "s") changed")
        for f in fields { print("  \(f.path): \(f.expected ?? "(absent)") → \(f.found ?? "(absent)")") }
        for (r, x, y) in verdicts { print("  \(r): \(x) → \(y)") }
    }
}
