import Conformance
import Foundation

/// The arm64 and riscv64 Image probes in the matrix (issue 16): their variants, read from the
/// manifest each probe's build writes (`Corpus/probe-ARCH/build/variants.json`, format
/// "image-probe/1"), and each run's report as raw facts until the A64/RV catalogue judges them.
public enum ImageProbeVariants {
    public static let architectures = ["arm64", "riscv64"]
    public static func manifest(_ arch: String, corpus: String = "Corpus") -> String { "\(corpus)/probe-\(arch)/build/variants.json" }

    public struct Missing: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The variants of one architecture as files, or why there are none (the probe is not built:
    /// its cross compiler is missing, or tools/build-corpus.sh has not run).
    public static func load(_ arch: String, corpus: String = "Corpus") throws(Missing) -> [MatrixVariant] {
        let path = manifest(arch, corpus: corpus)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Missing(description: "\(path) is missing: run tools/build-corpus.sh (it needs gcc-\(arch == "arm64" ? "aarch64" : "riscv64")-linux-gnu)")
        }
        guard let top = try? JSONSerialization.jsonObject(with: data) as? [String: Any], top["format"] as? String == "image-probe/1",
              top["arch"] as? String == arch, let list = top["variants"] as? [[String: Any]] else {
            throw Missing(description: "\(path): not an image-probe/1 manifest for \(arch)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        var out: [MatrixVariant] = []
        for v in list {
            guard let id = v["id"] as? String, let kernel = v["kernel"] as? String, let line = v["commandLine"] as? String else {
                throw Missing(description: "\(path): a variant lacks id, kernel or commandLine")
            }
            var m = MatrixVariant(id: id, kernel: dir + "/" + kernel, initrd: (v["initrd"] as? String).map { dir + "/" + $0 }, commandLine: line, entries: [])
            m.architecture = arch
            out.append(m)
        }
        return out
    }

    /// QEMU `virt` as every Image row runs it (`-m 1024`) under a loader of its own firmware
    /// (`ImagePlatform.VirtBoot.firmwareLoader`).
    public static func virtPlatform(_ arch: ImageProbeReport.Architecture) -> ImagePlatform {
        .qemuVirt(arch, ramSize: 1 << 30, boot: .firmwareLoader)
    }

    /// Every architecture's variants that are built; the others are left out (their adapters
    /// say why when they list themselves as skipped).
    public static func all(corpus: String = "Corpus") -> [MatrixVariant] {
        architectures.flatMap { (try? load($0, corpus: corpus)) ?? [] }
    }
}

extension LoaderMatrix {
    /// One Image-probe run judged by the A64/RV catalogue: whether it booted and reported, the
    /// report's facts as notes (entry registers, CPU state, where the image, the DTB and the
    /// initrd were, whether they arrived as given), its `ImageBootSnapshot` on the platform the
    /// adapter knows (`LoaderRun.imagePlatform`), and every rule's verdict, each failure matched
    /// against the loader's recorded deviations (`KnownDeviations.of(loader:subject:)`). A run
    /// with no report says why: a refusal, a reset (QEMU exited before any report), a recorded
    /// deviation that prevents the report, or the outcome and the last serial line.
    public static func judgeImage(_ run: LoaderRun, variant v: MatrixVariant, loader: String) -> MatrixResult {
        var r = result(run, variant: v, loader: loader)
        guard r.booted else { return r }
        let image = FileManager.default.contents(atPath: v.kernel).map { [UInt8]($0) }
        let initrd = v.initrd.flatMap { FileManager.default.contents(atPath: $0) }.map { [UInt8]($0) }
        let arch: ImageBootSnapshot.Architecture = v.architecture == "riscv64" ? .riscv64 : .arm64
        let known = image.map { KnownDeviations.of(loader: loader, subject: ImageDeviationSubject(architecture: arch, image: $0, initrdSize: initrd.map { UInt64($0.count) }, commandLine: run.expectedCommandLine)) } ?? []
        let report: ImageProbeReport
        do { report = try ImageProbeReport.parse(serial: run.serial) } catch {
            if run.guestStopped { r.notes.append("reset with no report: the machine stopped before the probe reported (\(run.outcome))") }
            r.noteNoReport(error, run: run)
            if let d = known.first(where: \.preventsReport) { r.notes.append("\(d)"); r.explained[d.rule.rawValue] = d }
            return r
        }
        r.report = true
        r.imageReport = report
        r.notes += facts(report, image: image, initrd: initrd, expectsInitrd: v.initrd != nil, commandLine: run.expectedCommandLine)
        switch report.cpu {
        case .arm64(let s): r.entry = "el\(s.exceptionLevel)"
        case .riscv64: r.entry = "s-mode"
        }
        guard let image else { r.notes.append("cannot judge: \(v.kernel) is not readable"); return r }
        let snapshot = report.snapshot(image: image, initrd: initrd, commandLine: run.expectedCommandLine,
                                       platform: run.imagePlatform ?? ImageProbeVariants.virtPlatform(report.architecture), producer: "\(loader) × \(v.id)")
        r.imageSnapshot = snapshot
        r.record(Conformance.judge(snapshot), known: known)
        return r
    }

    /// The report in words, each comparison against the variant's files (`image`, `initrd`:
    /// their bytes, nil where they could not be read).
    static func facts(_ p: ImageProbeReport, image: [UInt8]?, initrd: [UInt8]?, expectsInitrd: Bool, commandLine: String) -> [String] {
        var n: [String] = []
        n.append(zip(p.architecture.registerNames, p.entryRegisters).map { "\($0)=\(hex($1))" }.joined(separator: " "))
        switch p.cpu {
        case .arm64(let s):
            var cpu = "EL\(s.exceptionLevel) DAIF=\(hex(s.daif)) SCTLR=\(hex(s.sctlr)) CNTFRQ=\(hex(s.cntfrq))"
            if let h = s.hcrEL2 { cpu += " HCR_EL2=\(hex(h))" }
            switch s.iccSreEL2 { case .value(let x)?: cpu += " ICC_SRE_EL2=\(hex(x))"; case .trapped?: cpu += " ICC_SRE_EL2 trapped"; case .absent?: cpu += " no GICv3 system registers"; case nil: break }
            n.append(cpu)
        case .riscv64(let s):
            n.append("satp=\(hex(s.satp)) sstatus=\(hex(s.sstatus)) SBI spec \(s.sbiSpecVersion >> 24).\(s.sbiSpecVersion & 0xFF_FFFF) impl \(hex(s.sbiImplementationID)) v\(hex(s.sbiImplementationVersion))")
        }
        n.append("loaded at \(hex(p.loadAddress)); DTB at \(hex(p.fdt?.address ?? 0))\(p.fdt?.valid == true ? "" : " (not a valid FDT)")")
        if let image, let h = p.image {
            n.append(h.matches(image) ? "image intact" : "image differs from the file (\(h.length) bytes read, hash64 \(hex(h.hash64)))")
        }
        if let s = p.initrdStart, let e = p.initrdEnd {
            var line = "initrd [\(hex(s)), \(hex(e)))"
            if let initrd {
                if let h = p.initrd { line += h.matches(initrd) ? " intact" : " differs from the file" }
                else if p.initrdUnreadable { line += " outside /memory: not read" }
            }
            n.append(line)
        } else if expectsInitrd { n.append("no initrd in /chosen") }
        if let got = p.commandLine { n.append(got == commandLine ? "bootargs exact" : "bootargs \"\(got)\", expected \"\(commandLine)\"") } else { n.append("no /chosen bootargs") }
        if p.exceptionCount > 0 { n.append("\(p.exceptionCount) exception(s) in the probe: " + p.exceptions.map { "cause \(hex($0.cause)) at \(hex($0.pc))" }.joined(separator: ", ")) }
        return n
    }
}
