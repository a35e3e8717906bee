import Conformance
import HarnessKVM
import ConformanceFixtures
import Foundation
import Glibc

/// One (loader, variant) cell of the matrix: did it boot, did the probe report, and every
/// rule's verdict (format "loader-matrix/1", issue 13).
public struct MatrixResult: Sendable {
    public let loader: String
    public let variant: String
    /// The entry the probe reported ("16", "32", …), or "" without a report.
    public var entry: String = ""
    public var booted = false
    public var report = false
    public var seconds: Double = 0
    public var fail: [String] = [], pass: [String] = [], warn: [String] = [], na: [String] = []
    /// Evidence for each failure, and, where a recorded deviation explains it, that record.
    public var failures: [Verdict] = []
    public var explained: [String: KnownDeviation] = [:]
    public var notes: [String] = []
    /// The command line judged against (what the loader legitimately passes).
    public var expectedCommandLine = ""
    var _expected: [KnownDeviation] = []
    /// An Image probe's parsed report (arm64, riscv64 rows), for callers in this process; the
    /// JSON carries what `notes` says of it.
    public var imageReport: ImageProbeReport? = nil
    /// That report as the snapshot the A64/RV rules judge (`ImageProbeReport.snapshot`).
    public var imageSnapshot: ImageBootSnapshot? = nil
    public init(loader: String, variant: String) { self.loader = loader; self.variant = variant }
    /// Failures no recorded deviation explains.
    public var unexplained: [String] { fail.filter { explained[$0] == nil } }
}

public enum LoaderMatrix {
    /// The variants of a probe index as files, with the entries each image offers. A header
    /// may declare a handover entry where the probe has none (the corpus case `bz-handover`
    /// tests the header, not the entry): with the probe build given, a handover entry counts
    /// only where handover_offset + 0x200 is the probe's `efi_handover64`.
    public static func variants(_ index: ProbeIndex, probe: ProbeBuild? = nil) -> [MatrixVariant] {
        index.variants.map { v in
            let path = index.imagePath(v)
            let bytes = (FileManager.default.contents(atPath: path)).map { [UInt8]($0) } ?? []
            var entries = offeredEntries(kernel: bytes)
            if let probe, let hov = bytes.field(.handoverOffset), hov + 0x200 != probe.efiHandover64 {
                entries.removeAll { $0 == .efiHandover64 || $0 == .efiHandover32 }
            }
            return MatrixVariant(id: v.id, kernel: path, initrd: index.initrdPath(v), commandLine: v.commandLine, entries: entries)
        }
    }

    /// A run's cell before its report is read: timing, notes, and a refusal (not booted).
    static func result(_ run: LoaderRun, variant v: MatrixVariant, loader: String) -> MatrixResult {
        var r = MatrixResult(loader: loader, variant: v.id)
        r.seconds = run.seconds
        r.expectedCommandLine = run.expectedCommandLine
        r.notes = run.notes
        if let why = run.refused { r.notes.append("refused: \(why)") } else { r.booted = true }
        return r
    }

    /// Judges one run: the report's rules, each failure matched against the loader's recorded
    /// deviations; a run without a report says why (a refusal, a deviation that prevents the
    /// report, or the outcome and the last serial bytes).
    public static func judge(_ run: LoaderRun, variant v: MatrixVariant, loader: String) -> MatrixResult {
        if v.architecture != "x86_64" { return judgeImage(run, variant: v, loader: loader) }
        var r = result(run, variant: v, loader: loader)
        guard r.booted else { return r }
        let report: ProbeReport
        do { report = try ProbeReport.parse(serial: run.serial) } catch {
            r.noteNoReport(error, run: run)
            if let kernel = try? FileSource(path: v.kernel), let image = try? ImageRecord.record(try KernelImage(source: kernel), source: kernel),
               let inputs = try? InputRecord.of(commandLine: run.expectedCommandLine, initrd: nil),
               let d = KnownDeviations.of(loader: loader, image: image, inputs: inputs).first(where: \.preventsReport) {
                r.notes.append("\(d)")
                r.explained[d.rule.rawValue] = d
            }
            return r
        }
        r.report = true
        r.entry = report.entryPoint.rawValue
        do {
            let kernel = try FileSource(path: v.kernel)
            let initrd = try v.initrd.map { try FileSource(path: $0) }
            let j = try ProbeJudgement(report: report, kernel: kernel, initrd: initrd, commandLine: run.expectedCommandLine, loader: loader)
            for v in j.verdicts {
                switch v.outcome {
                case .fail: r.fail.append(v.rule.rawValue); r.failures.append(v); if let d = j.deviation(v) { r.explained[v.rule.rawValue] = d }
                case .pass: r.pass.append(v.rule.rawValue)
                case .warn: r.warn.append(v.rule.rawValue)
                case .notApplicable: r.na.append(v.rule.rawValue)
                }
            }
        } catch { r.notes.append("cannot judge: \(error)") }
        return r
    }
}

/// A loader as the matrix reports it.
public struct MatrixLoader: Sendable {
    public let id: String, version: String, package: String
    /// Why it did not run here (package missing), or nil.
    public let skipped: String?
    public init(id: String, version: String, package: String, skipped: String?) {
        self.id = id; self.version = version; self.package = package; self.skipped = skipped
    }
}

/// A whole run: the loaders, every cell, and the wall time.
public struct MatrixReport: Sendable {
    public var loaders: [MatrixLoader] = []
    public var results: [MatrixResult] = []
    public var seconds: Double = 0
    public init() {}

    /// Certain recorded deviations that apply to a cell that reported, but did not show there.
    public var vanished: [(MatrixResult, KnownDeviation)] {
        var out: [(MatrixResult, KnownDeviation)] = []
        for r in results where r.report {
            for d in r.expectedDeviations where d.certain && !d.preventsReport && !r.fail.contains(d.rule.rawValue) { out.append((r, d)) }
        }
        return out
    }
    /// What fails CI: a failure no record explains, a cell without a report that nothing
    /// explains, or a certain record that no longer shows.
    public var changes: [String] {
        var out: [String] = []
        for r in results {
            for f in r.unexplained { out.append("\(r.loader) × \(r.variant): \(f) fails (\(r.failures.first { $0.rule.rawValue == f }?.evidence ?? ""))") }
            if r.booted && !r.report && r.explained.isEmpty { out.append("\(r.loader) × \(r.variant): no report (\(r.notes.joined(separator: "; ")))") }
        }
        for (r, d) in vanished { out.append("\(r.loader) × \(r.variant): recorded deviation \(d.rule) (\(d.what)) no longer shows") }
        return out
    }
}

extension MatrixResult {
    /// Files each verdict under its outcome; a failure that one of `known` (the loader's
    /// records for this image and inputs) names is explained by it.
    mutating func record(_ verdicts: [Verdict], known: [KnownDeviation]) {
        for v in verdicts {
            switch v.outcome {
            case .fail:
                fail.append(v.rule.rawValue); failures.append(v)
                if let d = KnownDeviation.explaining(v, in: known) { explained[v.rule.rawValue] = d }
            case .pass: pass.append(v.rule.rawValue)
            case .warn: warn.append(v.rule.rawValue)
            case .notApplicable: na.append(v.rule.rawValue)
            }
        }
    }

    /// A boot whose serial holds no report: why, how the run ended, and its last line.
    mutating func noteNoReport(_ error: any Error, run: LoaderRun) {
        notes.append("no report (\(error)); \(run.outcome)")
        let tail = String(decoding: run.serial.suffix(200), as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        if !tail.isEmpty { notes.append("last serial line: \(tail)") }
    }

    /// The loader's recorded deviations for this cell's image and inputs (set by the runner).
    public var expectedDeviations: [KnownDeviation] { _expected }
}

extension LoaderMatrix {
    /// Runs every (adapter, variant) pair the adapter accepts: each adapter's `prepare` once,
    /// then the boots on `parallel` threads (one QEMU per core), each bounded by `timeout`.
    /// `progress` is called once per finished cell, from the worker threads.
    public static func run(adapters: [any LoaderAdapter], variants: [MatrixVariant], parallel: Int, timeout: Duration, work: String,
                           include: (String, String) -> Bool = { _, _ in true }, progress: (@Sendable (MatrixResult) -> Void)? = nil) -> MatrixReport {
        let clock = ContinuousClock(), start = clock.now
        var report = MatrixReport()
        var jobs: [(any LoaderAdapter, MatrixVariant, String)] = []
        for a in adapters {
            if let why = a.unavailable {
                report.loaders.append(MatrixLoader(id: a.id, version: "", package: a.packages.joined(separator: " "), skipped: why)); continue
            }
            let dir = work + "/" + a.id
            let mine = variants.filter { a.takes($0) && include(a.id, $0.id) }
            if mine.isEmpty { continue }
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try a.prepare(mine, work: dir)
            } catch {
                report.loaders.append(MatrixLoader(id: a.id, version: a.version, package: a.packages.joined(separator: " "), skipped: "cannot prepare its boot medium: \(error)")); continue
            }
            report.loaders.append(MatrixLoader(id: a.id, version: a.version, package: a.packages.joined(separator: " "), skipped: nil))
            jobs += mine.map { (a, $0, dir) }
        }
        let all = jobs
        report.results = runInParallel(count: all.count, threads: parallel) { i in
            let (a, v, dir) = all[i]
            var r: MatrixResult
            // A cell whose recorded deviation keeps the kernel from running spins until
            // its limit: 20 s shows that as well as two minutes.
            let known = expected(loader: a.id, variant: v, commandLine: v.commandLine)
            let limit = known.contains(where: \.preventsReport) ? min(timeout, .seconds(20)) : timeout
            do { r = judge(try a.boot(v, work: dir, timeout: limit), variant: v, loader: a.id) } catch {
                r = MatrixResult(loader: a.id, variant: v.id); r.notes.append("could not run: \(error)")
            }
            r._expected = expected(loader: a.id, variant: v, commandLine: r.expectedCommandLine)
            progress?(r)
            return r
        }
        report.seconds = (clock.now - start).seconds
        return report
    }

    /// The loader's recorded deviations that apply to `v` with `commandLine` (x86 records by the
    /// image's `ImageRecord`, Image records by its header).
    public static func expected(loader: String, variant v: MatrixVariant, commandLine: String) -> [KnownDeviation] {
        if v.architecture != "x86_64" {
            guard let image = FileManager.default.contents(atPath: v.kernel) else { return [] }
            let initrdSize = v.initrd.flatMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int }.map(UInt64.init)
            let subject = ImageDeviationSubject(architecture: v.architecture == "riscv64" ? .riscv64 : .arm64, image: [UInt8](image), initrdSize: initrdSize, commandLine: commandLine)
            return KnownDeviations.of(loader: loader, subject: subject)
        }
        guard let k = try? FileSource(path: v.kernel), let image = try? ImageRecord.record(try KernelImage(source: k), source: k),
              let inputs = try? InputRecord.of(commandLine: commandLine, initrd: v.initrd.flatMap { try? FileSource(path: $0) }) else { return [] }
        return KnownDeviations.of(loader: loader, image: image, inputs: inputs)
    }
}

extension LoaderMatrix {
    /// The adapters issue 13 names that this build has, in matrix order; the reference rows
    /// need the corpus cases the variants were built from.
    public static func standardAdapters(cases: [CorpusCase], corpus: String = "Corpus") -> [any LoaderAdapter] {
        var a: [any LoaderAdapter] = [QEMUKernelAdapter.pc, QEMUKernelAdapter.pvhELF, QEMUKernelAdapter.microvm,
                                      GrubAdapter.biosLinux, GrubAdapter.biosLinux16, GrubAdapter.efiLinux, GrubAdapter.efiHandover, OVMFKernelAdapter()]
        a += [ISOLINUXAdapter(), IPXEAdapter(), UBootAdapter(), SystemdBootAdapter(),
              KexecAdapter(mode: .load, corpus: corpus), KexecAdapter(mode: .file, corpus: corpus)]
        a += [ReferenceAdapter(.harness, cases: cases), ReferenceAdapter(.bundle, cases: cases)]
        // The arm64 and riscv64 Image probes (issue 16): QEMU virt -kernel, U-Boot booti, and
        // the reference Image loader's control rows.
        a += ImageQEMUKernelAdapter.all + ImageUBootAdapter.all + ReferenceImageAdapter.all
        return a
    }

    /// `--quick`: one or two cells per loader, about a minute on two cores (CI).
    public static let quick: Set<String> = [
        "qemu-pc/bz-2.15", "qemu-pc/bz-2.01-initrd-quiet", "qemu-pvh/pvh-desc8", "qemu-microvm/bz-2.12", "qemu-microvm/pvh-desc8",
        "grub-bios-linux/bz-2.15", "grub-bios-linux16/bz-2.15", "grub-efi-linux/efi-pe", "grub-efi-handover/efi-pe",
        "ovmf-kernel/efi-pe", "ovmf-kernel/efi-handover", "reference-harnesskvm/bz-2.15", "reference-harnesskvm/bz-16bit-entry",
        "reference-bundle/bz-2.15", "isolinux/bz-2.15", "ipxe/bz-2.15", "u-boot/bz-2.15", "systemd-boot/efi-pe",
        "kexec-load/bz-2.15", "kexec-file/bz-2.15",
        "qemu-virt-arm64-el1/arm64-t0-anywhere", "qemu-virt-arm64-el2/arm64-t80000-base", "qemu-virt-arm64-secure/arm64-t0-base",
        "qemu-virt-riscv64-fw-dynamic/riscv64-t200000", "qemu-virt-riscv64-fw-jump/riscv64-t200000",
        "u-boot-arm64/arm64-t0-anywhere", "u-boot-arm64/arm64-big", "u-boot-riscv64/riscv64-t200000",
        "reference-image-arm64/arm64-big", "reference-image-riscv64/riscv64-t0",
    ]
}
