import ArgumentParser
import Conformance
import Foundation
import Reports
import Runners

/// The HTML report: guest memory pictures, the kernel × rule matrix, and, when given, the
/// loader matrix, a surface diff and the release history.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML report: memory layouts, kernel × rule, loader × rule, surface diff, history.",
        discussion: """
        Each KERNEL (a bzImage, an ELF vmlinux, or a Debian kernel package of either layout) is \
        loaded by the reference loader at every entry it offers (as `conform gate` does) with \
        --initrd and --cmdline; the report draws guest memory as laid out (e820, W, zero page, \
        command line, setup_data, page tables, kernel, initrd, on a log address axis) and judges \
        every rule (the kernel × rule matrix, the evidence in each cell's tooltip). \
        --baseline adds the surface diff of each KERNEL against it, with impact classes. \
        --matrix adds the loader × rule matrix from `conform matrix --json F`; --history adds the \
        plots and changes from `conform history --json > F`. The file has inline CSS and SVG only: \
        no script, no external asset. Exit status: 0 written, 2 bad input.
        """)
    @Argument(help: "Kernels to lay out and judge (images or .deb).") var kernels: [String] = []
    @Option(help: "A kernel to diff each KERNEL's surface against (image or .deb).") var baseline: String?
    @Option(help: "A loader-matrix/1 JSON file (conform matrix --json F).") var matrix: String?
    @Option(help: "A kernel-history/1 JSON file (conform history --json > F).") var history: String?
    @Option(help: "The initrd the kernels are loaded with (default: the corpus's test initrd when this file is missing).") var initrd = "Corpus/initramfs/build/initramfs.cpio"
    @Option(help: "The command line the kernels are loaded with.") var cmdline = KernelBoot.defaultCommandLine
    @Option(help: "The report's title.") var title = "conform report"
    @Option(name: [.short, .long], help: "Where the HTML goes.") var output = "conform-report.html"

    func run() throws {
        guard !kernels.isEmpty || matrix != nil || history != nil else { throw fail("nothing to report: give kernels, --matrix or --history") }
        guard baseline == nil || !kernels.isEmpty else { throw fail("--baseline needs at least one KERNEL to diff against it") }
        var report = HTMLReport(title: title)
        if let matrix {
            guard let d = FileManager.default.contents(atPath: matrix) else { throw fail("--matrix \(matrix): cannot read") }
            do { report.matrix = try MatrixReport.read(d, name: matrix) } catch { throw fail(error.description) }
        }
        if let history {
            guard let d = FileManager.default.contents(atPath: history) else { throw fail("--history \(history): cannot read") }
            do { report.history = try KernelHistory.read(d, name: history) } catch { throw fail(error.description) }
        }
        let ws: GateWorkspace
        do { ws = try GateWorkspace() } catch { throw fail("\(error)") }
        defer { ws.cleanup() }
        let rd = KernelGate.initrdBytes(FileManager.default.isReadableFile(atPath: initrd) ? initrd : nil)
        do {
            let base = try baseline.map { try ws.kernel($0) }
            for path in kernels {
                let k = try ws.kernel(path)
                report.kernels.append(HTMLReport.Kernel(k, initrd: rd, commandLine: cmdline))
                if let base { report.diffs.append(HTMLReport.SurfaceDiff(from: base.label, to: k.label, changes: Surface.diff(old: base.surface, new: k.surface))) }
            }
        } catch { throw fail("\(error)") }
        guard FileManager.default.createFile(atPath: output, contents: Data(report.html.utf8)) else { throw fail("cannot write \(output)") }
        print("report: \(output) (\(report.kernels.count) kernel\(report.kernels.count == 1 ? "" : "s"), \(report.kernels.flatMap(\.loads).count) loads\(report.matrix != nil ? ", loader matrix" : "")\(report.diffs.isEmpty ? "" : ", \(report.diffs.count) surface diff\(report.diffs.count == 1 ? "" : "s")")\(report.history != nil ? ", history" : ""))")
    }
}
