import ArgumentParser
import Conformance
import Reports
import Runners
import Foundation

/// Judges a probe's serial output: the same rules the suite applies to the reference loader.
struct Judge: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Judge a probe kernel's serial output (from any loader or VMM) with the rule catalogue.",
        discussion: "An arm64 or riscv64 Image probe's report (Corpus/probe-arm64, probe-riscv64) is judged by the A64/RV rules: its Image, initrd and command line are its variant's in Corpus/probe-ARCH/build/variants.json unless --kernel, --initrd and --cmdline say otherwise, on QEMU virt's RAM and firmware ranges as the matrix rows know them (the reference loader's with --loader reference-image-ARCH). The report names its variant; the image and the inputs it was booted with are looked up in the variants' index.json (under --probe-images, else next to the report or above it, else ./Corpus/probe/images) unless --kernel, --initrd and --cmdline say otherwise. A variant name the index lacks is checked against the variants' images: a probe image that is no variant's means the loader corrupted the kernel (BP-19).")
    @Argument(help: "A file with the probe's serial output, or - for standard input.") var file = "-"
    @Option(help: "Directory holding the probe variants' index.json anywhere below it (from `conform corpus --probe`). Default: next to the report or in its parent directories, then ./Corpus/probe/images.") var probeImages: String?
    @Option(help: "The kernel image that was booted (default: the report's variant).") var kernel: String?
    @Option(help: "The initrd that was given (default: the variant's).") var initrd: String?
    @Option(help: "The command line that was given (default: the variant's).") var cmdline: String?
    @Option(help: "The loader that booted the probe (qemu-pc, grub-bios-linux, grub-bios-linux16, …): failures that are its recorded deviations are explained, with their source.") var loader: String?
    @Flag(help: "JSON output.") var json = false
    @Flag(help: "Show the evidence for every rule.") var verbose = false

    func run() throws {
        let data: Data
        if file == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else {
            guard let d = FileManager.default.contents(atPath: file) else { throw fail("\(file): cannot read") }
            data = d
        }
        let report: ProbeReport
        do { report = try ProbeReport.parse(serial: [UInt8](data)) } catch {
            // Not the x86 probe's report: an arm64 or riscv64 Image probe's, or neither.
            guard let image = try? ImageProbeReport.parse(serial: [UInt8](data)) else { throw fail("\(file): \(error)") }
            return try judgeImage(image)
        }
        var variant: ProbeIndex.Variant? = nil, index: ProbeIndex? = nil
        var notes: [String] = []
        if kernel == nil || cmdline == nil {
            let idx: ProbeIndex
            do {
                idx = try ProbeIndex.locate(probeImages: probeImages, report: file == "-" ? nil : file, variant: report.variant,
                                            workingDirectory: FileManager.default.currentDirectoryPath)
            } catch { throw fail(error.description) }
            index = idx
            switch idx.identify(report) {
            case .named(let v): variant = v
            case .sameImage(let v):
                variant = v
                notes.append("the report's variant '\(report.variant)' is not in \(idx.file), but the probe's image is byte for byte that of '\(v.id)': judged as '\(v.id)'")
            case .imageCorrupted(let bp19, let guess):
                guard let guess else {
                    // Nothing else can be judged without knowing what the loader was given.
                    if json { writeJSON(["file": file, "variant": report.variant, "verdicts": verdictJSON([bp19]), "judged": "BP-19 only: the variant is unknown"]) } else {
                        for line in BootVerdictText.corruptedUnknown(report, index: idx.file, bp19: bp19) { print(line) }
                    }
                    throw ExitCode(1)
                }
                variant = guess
                notes.append("the report's variant '\(report.variant)' is not in \(idx.file) and the probe's own image is no variant's (BP-19): judged as '\(guess.id)', the one variant whose name the garbled one could be")
            case .unknown(let why): throw fail(why)
            }
        }
        let kpath = kernel ?? (variant.map { index!.imagePath($0) } ?? "")
        let ipath = initrd ?? variant.flatMap { index!.initrdPath($0) }
        let line = cmdline ?? (variant?.commandLine ?? "")
        let src = try openSource(kpath, what: "kernel")
        let rd = try ipath.map { try openSource($0, what: "initrd") }
        let image: ImageRecord
        do { image = try ImageRecord.record(try KernelImage(source: src), source: src) } catch { throw fail("\(kpath): \(error)") }
        let inputs: InputRecord
        do { inputs = try InputRecord.of(commandLine: line, initrd: rd) } catch { throw fail("\(error)") }
        let snap = report.snapshot(image: image, inputs: inputs, known: try KnownContent.of(kernel: src, initrd: rd), producer: "probe(\(report.variant))")
        let verdicts = judge(snap)
        let known = loader.map { KnownDeviations.of(loader: $0, image: image, inputs: inputs) } ?? []
        if json {
            var o = SnapshotJSON.object(snap, verdicts: verdicts)
            if let loader {
                o["loader"] = loader
                o["knownDeviations"] = verdicts.compactMap { v in KnownDeviation.explaining(v, in: known).map { ["rule": v.rule.rawValue, "what": $0.what, "evidence": $0.evidence] } }
            }
            FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8))
        } else {
            for line in BootVerdictText.judged(report, notes: notes, verdicts: verdicts, loader: loader, known: known, showAll: verbose) { print(line) }
        }
        if verdicts.contains(where: { $0.outcome == .fail }) { throw ExitCode(1) }
    }

    /// An Image probe's report: its snapshot on the row's platform, the A64/RV verdicts, and
    /// `--loader`'s recorded deviations for that Image (exit 1 on a failure).
    func judgeImage(_ report: ImageProbeReport) throws {
        let arch = report.architecture.rawValue
        var variant: MatrixVariant? = nil
        if kernel == nil || cmdline == nil {
            let all: [MatrixVariant]
            do { all = try ImageProbeVariants.load(arch) } catch { throw fail("\(error) (or give --kernel and --cmdline)") }
            guard let v = all.first(where: { $0.id == report.variant }) else {
                throw fail("the report's variant '\(report.variant)' is not in \(ImageProbeVariants.manifest(arch)) (give --kernel and --cmdline)")
            }
            variant = v
        }
        let kpath = kernel ?? variant!.kernel
        guard let image = FileManager.default.contents(atPath: kpath) else { throw fail("\(kpath): cannot read") }
        let rd = try (initrd ?? variant?.initrd).map { p -> [UInt8] in
            guard let d = FileManager.default.contents(atPath: p) else { throw fail("\(p): cannot read") }
            return [UInt8](d)
        }
        let line = cmdline ?? variant!.commandLine
        let platform = loader.flatMap { l in ReferenceImageAdapter.all.first { $0.id == l }?.platform } ?? ImageProbeVariants.virtPlatform(report.architecture)
        let snap = report.snapshot(image: [UInt8](image), initrd: rd, commandLine: line, platform: platform, producer: "probe(\(report.variant))")
        let verdicts = Conformance.judge(snap)
        let known = loader.map { KnownDeviations.of(loader: $0, subject: ImageDeviationSubject(snap)) } ?? []
        if json {
            var o = ImageSnapshotJSON.object(snap, verdicts: verdicts)
            o["evidence"] = verdictJSON(verdicts)
            if let loader {
                o["loader"] = loader
                o["knownDeviations"] = verdicts.compactMap { v in KnownDeviation.explaining(v, in: known).map { ["rule": v.rule.rawValue, "what": $0.what, "evidence": $0.evidence] } }
            }
            FileHandle.standardOutput.write(jsonData(o))
        } else {
            for l in ImageVerdictText.judged(snap, variant: report.variant, verdicts: verdicts, loader: loader, known: known, showAll: verbose) { print(l) }
        }
        if verdicts.contains(where: { $0.outcome == .fail }) { throw ExitCode(1) }
    }
}
