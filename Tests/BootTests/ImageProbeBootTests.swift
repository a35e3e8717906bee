import Conformance
import ConformanceFixtures
import Reports
import TestSupport
import Runners
import Foundation
import Testing

/// The arm64 and riscv64 Image probes (Corpus/probe-arm64, Corpus/probe-riscv64) booted by the
/// matrix's Image rows: QEMU `virt` -kernel (EL1, EL2, secure=on; OpenSBI fw_dynamic and
/// fw_jump) and U-Boot booti. The quick tier boots one variant per row; CONFORM_TESTS=full every
/// variant through every row. Select with `swift test --filter ImageProbeBoot`.
@Suite("ImageProbeBoot")
struct ImageProbeBootTests {
    static let adapters: [any LoaderAdapter] = ImageQEMUKernelAdapter.all + ImageUBootAdapter.all

    struct Cell: Sendable, CustomTestStringConvertible {
        let adapter: any LoaderAdapter
        let variant: MatrixVariant
        var id: String { "\(adapter.id)/\(variant.id)" }
        var testDescription: String { id }
    }
    /// Every (row, variant) of the row's architecture whose probe is built.
    static let cells: [Cell] = adapters.flatMap { a in ImageProbeVariants.all(corpus: Repo.corpus).filter(a.takes).map { Cell(adapter: a, variant: $0) } }
    /// One variant per row, and U-Boot's three outcomes: each QEMU row a different header
    /// layout; U-Boot arm64 the large image_size (its refusal) and one it boots (the recorded
    /// A64-11), U-Boot riscv64 the default layout and text_offset 0 (the recorded reset).
    static let quick = ["qemu-virt-arm64-el1/arm64-t0-anywhere", "qemu-virt-arm64-el2/arm64-t80000-base", "qemu-virt-arm64-secure/arm64-t0-base",
                        "qemu-virt-riscv64-fw-dynamic/riscv64-t200000", "qemu-virt-riscv64-fw-jump/riscv64-t0",
                        "u-boot-arm64/arm64-big", "u-boot-arm64/arm64-t0-anywhere", "u-boot-riscv64/riscv64-t200000", "u-boot-riscv64/riscv64-t0"]
    static var sample: [Cell] { cells.isEmpty ? [] : TestTier.sample(cells, quick: quick, id: \.id) }

    /// Boots one cell (cancelled, naming the package, where its loader is missing) and judges
    /// it as the matrix does.
    static func boot(_ c: Cell) async throws -> (LoaderRun, MatrixResult) {
        if let why = c.adapter.unavailable { try Test.cancel(Comment(rawValue: why)) }
        let work = try Scratch.directory("image-\(c.adapter.id)")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let adapter = c.adapter, v = c.variant
        let run = try await offPool { try adapter.boot(v, work: work, timeout: .seconds(120)) }
        return (run, LoaderMatrix.judge(run, variant: v, loader: adapter.id))
    }

    /// Each boot reports, and what it reports is what the row's loader was asked for: the DTB at
    /// x0 (arm64) or a1 (riscv64) is a valid FDT, the image arrived as the file holds it, /chosen
    /// holds the command line exactly and the initrd byte for byte. A booti refusal is accepted
    /// only for the large image_size, and only as U-Boot's named overlap error, ended at once.
    @Test(.hangGuard, arguments: sample)
    func rowBootsTheProbe(_ c: Cell) async throws {
        let (run, r) = try await Self.boot(c)
        let adapter = c.adapter, v = c.variant
        print("\(c.id): \(String(format: "%.2f", run.seconds)) s, \(run.outcome); entry \(r.entry); \(r.notes.joined(separator: "; "))")
        if let why = run.refused {
            #expect(adapter.id.hasPrefix("u-boot") && v.id.hasSuffix("-big"), "\(c.id) refused: \(why)")
            #expect(why.contains("overlaps OS image"), "\(why)")
            #expect(run.outcome.contains("marker"), "the refusal ended the run, not the time limit: \(run.outcome)")
            #expect(!r.booted && r.notes.contains { $0.hasPrefix("refused: ") })
            return
        }
        // What the A64/RV catalogue found is what the loader's records say, no more, no less:
        // a cell with no report has a record that prevents it (and ended as a reset, not at the
        // limit); every failure is explained; every certain record shows.
        let known = LoaderMatrix.expected(loader: adapter.id, variant: v, commandLine: run.expectedCommandLine)
        if !r.report {
            let d = try #require(known.first { $0.preventsReport }, "\(c.id): no report, and no record explains it: \(r.notes)")
            #expect(r.explained[d.rule.rawValue] != nil && run.guestStopped && r.notes.contains { $0.hasPrefix("reset with no report") }, "\(c.id): \(r.notes)")
            return
        }
        #expect(r.unexplained.isEmpty, "\(c.id): failures no record explains: \(r.failures.filter { r.unexplained.contains($0.rule.rawValue) })")
        for d in known where d.certain && !d.preventsReport { #expect(r.fail.contains(d.rule.rawValue), "\(c.id): recorded \(d.rule) (\(d.what)) no longer shows") }
        let rules = ImageRuleCatalogue.rules(for: adapter.architecture == "arm64" ? .arm64 : .riscv64).map(\.id.rawValue)
        #expect(Set(r.pass + r.fail + r.warn + r.na) == Set(rules) && (r.pass + r.fail + r.warn + r.na).count == rules.count, "\(c.id): every rule judged once")
        let p = try #require(r.imageReport, "\(c.id): no report: \(r.notes)")
        #expect(p.architecture.rawValue == adapter.architecture && p.variant == v.id)
        let fdt = try #require(p.fdt)
        #expect(fdt.valid, "\(c.id): the device tree at \(hex(fdt.address)) is not valid")
        #expect(p.entryRegisters[p.architecture == .arm64 ? 0 : 1] == fdt.address)
        #expect(r.notes.contains("image intact"), "\(r.notes)")
        #expect(r.notes.contains("bootargs exact"), "\(r.notes)")
        #expect(r.notes.contains { $0.hasPrefix("initrd [") && $0.hasSuffix(" intact") }, "\(r.notes)")
        #expect(p.dtb.map { UInt64($0.bytes.count) } == fdt.totalSize)
        if case .arm64(let s) = p.cpu {
            #expect(s.exceptionLevel == (adapter.id == "qemu-virt-arm64-el2" ? 2 : 1), "\(c.id) entered at EL\(s.exceptionLevel)")
            // secure=on lists the secure world's PL011 first, disabled; the probe writes to the
            // non-secure one /chosen names (or it would have faulted and never reported).
            #expect(p.uart == .init(kind: .pl011, address: 0x900_0000, regShift: 0, source: "stdout-path"))
        } else {
            #expect(p.uart?.kind == .ns16550a)
        }
        #expect(p.exceptionCount == 0, "\(p.exceptions)")
        // The snapshot the A64/RV rules judge: the bytes arrived as the files hold them.
        let snap = try #require(r.imageSnapshot)
        #expect(snap.loadedSHA256 == snap.image.sha256 && snap.initrd?.sha256 == snap.inputs.initrdSHA256 && snap.dtb != nil)
        #expect(snap.ram == ImageProbeVariants.virtPlatform(p.architecture).ram)
    }

    /// The reference Image loader's rows (`reference-image-arm64`, `-riscv64`): the issue's
    /// "the reference loader's arm64 and riscv64 images pass every rule". Each variant is
    /// placed by `ReferenceImageLoader`, booted from its written files under QEMU virt, and the
    /// probe's report judged: every rule passes, or is n/a with its reason. The quick tier
    /// boots one variant each (arm64-big, riscv64-t0); CONFORM_TESTS=full every variant.
    static let referenceCells: [Cell] = ReferenceImageAdapter.all.flatMap { a in ImageProbeVariants.all(corpus: Repo.corpus).filter(a.takes).map { Cell(adapter: a, variant: $0) } }
    static var referenceSample: [Cell] {
        referenceCells.isEmpty ? [] : TestTier.sample(referenceCells, quick: ["reference-image-arm64/arm64-big", "reference-image-riscv64/riscv64-t0"], id: \.id)
    }

    @Test(.hangGuard, arguments: referenceSample)
    func referenceRowPassesEveryRule(_ c: Cell) async throws {
        let (run, r) = try await Self.boot(c)
        #expect(run.refused == nil, "\(c.id): \(run.refused ?? "")")
        let snap = try #require(r.imageSnapshot, "\(c.id): no report: \(r.notes)")
        let verdicts = judge(snap)
        #expect(verdicts.count == ImageRuleCatalogue.rules(for: snap.architecture).count)
        for x in verdicts {
            #expect(x.outcome == .pass || (x.outcome == .notApplicable && !x.evidence.isEmpty), "\(c.id): \(x.rule) \(x.outcome): \(x.evidence)")
        }
        #expect(r.fail.isEmpty && r.warn.isEmpty)
        // Judged on the platform the loader placed for: its RAM and firmware ranges.
        let platform = try #require(c.adapter as? ReferenceImageAdapter).platform
        #expect(snap.ram == platform.ram && snap.firmware == platform.firmware)
    }

    /// The matrix over Image cells, as `conform matrix` runs them (`LoaderMatrix.run`, which
    /// looks up each cell's records): no change from the recorded deviations, and the JSON
    /// reads back to the same verdicts. The quick tier runs the reference rows' cells and the
    /// two U-Boot cells with a record (A64-11 shown, the riscv64 reset); the full tier the
    /// sampled cells of every row.
    @Test(.hangGuard)
    func imageMatrixHasNoChanges() async throws {
        let variants = ImageProbeVariants.all(corpus: Repo.corpus)
        if variants.isEmpty { try Test.cancel("no Image probe built: run tools/build-corpus.sh") }
        let chosen = TestTier.full ? Set((Self.sample + Self.referenceSample).map(\.id))
            : Set(Self.referenceSample.map(\.id) + ["u-boot-arm64/arm64-t0-anywhere", "u-boot-riscv64/riscv64-t0"])
        let adapters: [any LoaderAdapter] = Self.adapters + ReferenceImageAdapter.all
        let report = try await offPool { () -> MatrixReport in
            let work = try Scratch.directory("image-matrix")
            defer { try? FileManager.default.removeItem(atPath: work) }
            return LoaderMatrix.run(adapters: adapters, variants: variants, parallel: 2, timeout: .seconds(120), work: work, include: { l, v in chosen.contains("\(l)/\(v)") })
        }
        if report.results.isEmpty { try Test.cancel("no Image row can run here: \(report.loaders.compactMap(\.skipped))") }
        #expect(report.changes.isEmpty, "\(report.changes)")
        let judged = report.results.filter(\.report)
        #expect(judged.allSatisfy { !($0.pass + $0.na).isEmpty && ($0.pass + $0.fail + $0.na).allSatisfy { $0.hasPrefix("A64-") || $0.hasPrefix("RV-") } })
        let back = try MatrixReport.read(try report.jsonData(), name: "image")
        #expect(back.changes.isEmpty, "read back: \(back.changes)")
        #expect(back.results.map { "\($0.loader)/\($0.variant)/\($0.fail)/\(($0.pass + $0.warn).count)" } == report.results.map { "\($0.loader)/\($0.variant)/\($0.fail)/\(($0.pass + $0.warn).count)" })
    }

    /// Started with no loader at all (QEMU's generic loader writes the Image and points the CPU
    /// at it; x0 is 0, no device tree), the probe still reports: the FDT header as found (magic
    /// 0), on the platform's PL011 named as a fallback, and exits by PSCI over HVC at EL1.
    @Test(.hangGuard)
    func probeWithoutDeviceTreeStillReports() async throws {
        guard let v = ImageProbeVariants.all(corpus: Repo.corpus).first(where: { $0.architecture == "arm64" }) else { try Test.cancel("no arm64 Image probe built") }
        if let why = ImageQEMUKernelAdapter.arm64EL1.unavailable { try Test.cancel(Comment(rawValue: why)) }
        let exe = try #require(["/usr/bin/qemu-system-aarch64", "/usr/local/bin/qemu-system-aarch64"].first { FileManager.default.isExecutableFile(atPath: $0) })
        var b = QEMUBoot(bios: nil)
        b.command = [exe, "-M", "virt", "-cpu", "cortex-a57", "-m", "1024", "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
                     "-serial", "stdio", "-device", "loader,file=\(v.kernel),addr=0x40200000,cpu-num=0"]
        b.timeout = .seconds(120)
        let boot = b
        let run = try await offPool { try QEMURunner.run(boot) }
        let p = try ImageProbeReport.parse(serial: run.serial)
        #expect(run.outcome == .exited(status: 0), "PSCI SYSTEM_OFF ended the run: \(run.summary)")
        #expect(p.loadAddress == 0x4020_0000 && p.entryRegisters == [0, 0, 0, 0])
        #expect(p.fdt == ImageProbeReport.FDTHeader(address: 0, magic: 0) && p.dtb == nil && p.memory.isEmpty)
        #expect(p.uart?.source == "platform-default")
    }

    /// The Image rows take only their architecture's variants, and the x86 rows none of them.
    @Test func rowsTakeTheirArchitecture() throws {
        let images = ImageProbeVariants.all(corpus: Repo.corpus)
        if images.isEmpty { try Test.cancel("no Image probe built: run tools/build-corpus.sh") }
        for a in Self.adapters { #expect(images.filter(a.takes).allSatisfy { $0.architecture == a.architecture }) }
        #expect(images.filter(QEMUKernelAdapter.pc.takes).isEmpty && images.filter(UBootAdapter().takes).isEmpty)
        let ids = LoaderMatrix.standardAdapters(cases: []).map(\.id)
        #expect(Self.adapters.allSatisfy { ids.contains($0.id) })
        for q in LoaderMatrix.quick where Self.adapters.contains(where: { q.hasPrefix($0.id + "/") }) {
            #expect(Self.cells.contains { $0.id == q }, "LoaderMatrix.quick names \(q), which no Image row boots")
        }
    }

    /// A run that printed no report says so with the last serial line; a report that does not
    /// match the files says which.
    @Test func judgeImageStatesTheFacts() throws {
        guard let v = ImageProbeVariants.all(corpus: Repo.corpus).first(where: { $0.architecture == "riscv64" }) else { try Test.cancel("no riscv64 Image probe built") }
        let silent = LoaderMatrix.judgeImage(LoaderRun(serial: Array("OpenSBI v1.1\nhang\n".utf8), outcome: "timed out", seconds: 1, expectedCommandLine: v.commandLine), variant: v, loader: "x")
        #expect(silent.booted && !silent.report && silent.notes.contains("last serial line: hang"))
        // A riscv64 report whose image checksum cannot be the file's, without bootargs, and
        // with its initrd outside /memory.
        let serial = ImageReportText.report(ImageReportText.riscv64.replacingOccurrences(of: "0x2c68 0xe1dd9c24dad3a3b", with: "0x2c68 0x1"))
        let r = LoaderMatrix.judgeImage(LoaderRun(serial: serial, outcome: "exited", seconds: 1, expectedCommandLine: v.commandLine), variant: v, loader: "x")
        #expect(r.report && r.entry == "s-mode")
        #expect(r.notes.contains { $0.hasPrefix("image differs from the file") })
        #expect(r.notes.contains("no /chosen bootargs"))
        #expect(r.notes.contains("initrd [0x100000000, 0x100003005) outside /memory: not read"))
        #expect(!r.notes.contains { $0.contains("(not a valid FDT)") })
    }

    /// `conform load IMAGE` and `conform judge` print through `ImageVerdictText`: the blocks
    /// the reference loader writes and the verdicts; a failure a record explains is marked
    /// expected and followed by the record's source.
    @Test func imageVerdictTextNamesBlocksAndRecords() throws {
        let image = ImageCorpus.synthesize(id: "text", .arm64, fields: [:], fileSize: 0x1000)
        let r = try ReferenceImageLoader.load(image, ImageLoadOptions(platform: .qemuVirt(.arm64), commandLine: "console=ttyAMA0"))
        let lines = ImageVerdictText.load("x.Image", r, verdicts: judge(r.snapshot), showAll: false)
        for b in r.blocks { #expect(lines.contains { $0.contains(hex(b.address)) && $0.hasSuffix(b.name) }, "\(b.name) not listed: \(lines)") }
        #expect(lines.contains { $0.contains("pass 17:") } && lines.contains { $0.contains("n/a   2: A64-14 A64-16") } && !lines.contains { $0.contains("fail") }, "\(lines)")
        var s = r.snapshot
        s.arm64!.daif = 0x2C0
        let known = KnownDeviations.of(loader: "u-boot-arm64", subject: ImageDeviationSubject(s))
        let judged = ImageVerdictText.judged(s, variant: "text", verdicts: judge(s), loader: "u-boot-arm64", known: known, showAll: false)
        #expect(judged.contains { $0.contains("✗ (expected) A64-11") }, "\(judged)")
        #expect(judged.contains { $0.contains("source: u-boot 2023.01 arch/arm/cpu/armv8/start.S") })
        #expect(judged.last == "16 pass, 0 warn, 1 fail (1 of them known u-boot-arm64 deviations), 2 n/a")
    }
}
