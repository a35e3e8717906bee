import ArgumentParser
import Foundation
import Reports
import Runners

/// The protocol-visible surface across every kernel release Debian's suites package.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Trace the protocol-visible surface across every kernel release Debian packages.",
        discussion: """
        Lists the flavour's unsigned image packages (linux-image-ABI-FLAVOUR-unsigned, \
        linux-binary-unsigned-ABI-FLAVOUR) in each suite's package lists (private apt \
        configuration, as `conform fetch`), takes one package per upstream release (the highest \
        package version where suites share a release), fetches each image into the cache (the \
        .deb downloaded once and checked against the archive's SHA-256; only the vmlinuz taken \
        out) and reads its surface: header fields, loadflags, xloadflags, kernel_info, payload \
        ELF segments and notes, entry points. Prints a timeline (one row per surface key that \
        changes, one column per release in dpkg version order) and every change at the release \
        where it first appeared, classified as `conform diff` does. --svg writes init_size.svg, \
        image-size.svg and entry-offsets.svg.
        """)
    @Option(parsing: .upToNextOption, help: "The suites (default: all: \(DebianSuite.allCases.map(\.rawValue).joined(separator: ", "))).") var suites: [String] = []
    @Option(help: "The flavour: \(KernelFlavour.allCases.map(\.rawValue).joined(separator: ", ")).") var flavour = "cloud"
    @Flag(help: "Only the newest release of each series (6.1, 6.12, …, 7.3).") var newestPerSeries = false
    @Option(help: "Write the SVG plots into this directory.") var svg: String?
    @Option(help: "The cache directory (default: $BOOTCONFORMANCE_CACHE, else $XDG_CACHE_HOME/bootconformance, else ~/.cache/bootconformance).") var cache: String?
    @Flag(help: "Fetch the package lists again even if they are less than a day old.") var refresh = false
    @Flag(help: "Print JSON (kernel-history/1).") var json = false

    func run() throws {
        var o = KernelHistory.Options()
        guard let f = KernelFlavour(rawValue: flavour) else { throw fail("flavour '\(flavour)' is not one of \(KernelFlavour.allCases.map(\.rawValue).joined(separator: ", "))") }
        o.flavour = f; o.newestPerSeries = newestPerSeries; o.refresh = refresh
        if !suites.isEmpty {
            o.suites = try suites.map { s in
                guard let x = DebianSuite(rawValue: s) else { throw fail("suite '\(s)' is not one of \(DebianSuite.allCases.map(\.rawValue).joined(separator: ", "))") }
                return x
            }
        }
        let start = ContinuousClock.now
        let history: KernelHistory
        let progress = ProgressLine("conform history")
        do {
            defer { progress.finish() }
            history = try KernelHistory.run(archive: DebianArchive(cache: cache ?? DebianArchive.defaultCache), options: o, progress: progress.step)
        } catch { throw fail("\(error)") }
        if let svg {
            do { try FileManager.default.createDirectory(atPath: svg, withIntermediateDirectories: true) } catch { throw fail("cannot create \(svg): \(error.localizedDescription)") }
            for (name, text) in history.plots {
                guard FileManager.default.createFile(atPath: svg + "/" + name, contents: Data(text.utf8)) else { throw fail("cannot write \(svg)/\(name)") }
            }
        }
        if json { writeJSON(history.json); return }
        print(history.summaryLine + " (\(String(format: "%.1f", (ContinuousClock.now - start).seconds)) s)")
        print("")
        for l in history.timelineLines { print(l) }
        print("")
        print("changes, at the release where each first appeared:")
        for l in history.changeLines { print(l) }
        if let svg { print(""); print("plots: " + history.plots.map { svg + "/" + $0.name }.joined(separator: ", ")) }
    }
}
