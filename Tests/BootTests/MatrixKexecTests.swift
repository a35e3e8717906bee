import Conformance
import TestSupport
import Reports
import Runners
import ConformanceFixtures
import Foundation
import HarnessKVM
import Testing

/// Linux as the loader (issue 13): the corpus's Debian 6.12 cloud kernel boots under QEMU TCG
/// into an initramfs holding kexec-tools and every probe variant (`KexecInitramfs`), and
/// loads the variant named on its command line with `kexec_load` (`kexec-load`: kexec-tools
/// builds boot_params) or `kexec_file_load` (`kexec-file`: the kernel's kexec-bzimage64.c
/// does). Each run either reports, and only the loader's recorded deviations fail
/// (KnownDeviations.kexec), or is refused with the words the spec and the source lead us to
/// expect (`KexecExpectation`). Needs the real-kernel corpus (tools/build-corpus.sh), QEMU,
/// gcc and kexec-tools (tools/install-loaders.sh); cancelled with the reason otherwise.
/// `KEXEC_ONLY=ID,ID swift test --filter MatrixKexec` boots only those variants.
@Suite("MatrixKexec", .serialized)
struct MatrixKexecTests {
    struct Run: CustomTestStringConvertible, Sendable {
        let mode: KexecAdapter.Mode, variant: String
        var testDescription: String { "kexec-\(mode.rawValue) \(variant)" }
    }

    static let adapters: [KexecAdapter.Mode: KexecAdapter] = Dictionary(uniqueKeysWithValues: KexecAdapter.Mode.allCases.map { ($0, KexecAdapter(mode: $0, corpus: Repo.corpus)) })
    static let runs: [Run] = KexecAdapter.Mode.allCases.flatMap { m in Probe.variants.filter { c in ProcessInfo.processInfo.environment["KEXEC_ONLY"].map { $0.split(separator: ",").contains(Substring(c.id)) } ?? true }.map { Run(mode: m, variant: $0.id) } }

    /// The variants as files and the initramfs, built once for the suite (both modes share it).
    static let prepared: Result<(work: String, variants: [MatrixVariant]), HostToolError> = {
        Result { () throws(HostToolError) in
            do {
                let dir = try Scratch.directory("kexec")
                let vs = try MatrixFixture.variants.get()
                try KexecInitramfs.build(variants: vs, initSource: Repo.corpus + "/kexec-initramfs/init.c", work: dir)
                return (dir, vs)
            } catch let e as HostToolError { throw e } catch { throw HostToolError("\(error)") }
        }
    }()

    @Test(.hangGuard, arguments: TestTier.sample(runs, quick: ["kexec-file bz-2.15"], id: \.testDescription))
    func kexecLoadsTheProbe(_ run: Run) async throws {
        let adapter = try #require(Self.adapters[run.mode])
        if let why = adapter.unavailable {
            // Swift Testing 6.3's console shows a cancelled case as passed, without the reason.
            print("MatrixKexec \(run.testDescription): cancelled: \(why)")
            try Test.cancel("\(why)")
        }
        _ = try Probe.require()
        let c = try #require(Probe.variants.first { $0.id == run.variant })
        let prepared = try Self.prepared.get()
        let v = try #require(prepared.variants.first { $0.id == run.variant })
        #expect(adapter.accepts(v))
        // A boot takes 3–12 s to the outer userspace under TCG and well under a second more
        // for the probe; the limit only ends a hung run.
        let r = try await offPool { try adapter.boot(v, work: prepared.work, timeout: .seconds(180)) }
        let m = LoaderMatrix.judge(r, variant: v, loader: adapter.id)
        let image = try ImageRecord.record(try KernelImage(source: MemorySource(name: c.id, bytes: c.image)), source: MemorySource(name: c.id, bytes: c.image))
        // KnownDeviations.all does not hold the kexec records yet (KnownDeviation.swift is
        // shared), so LoaderMatrix.judge explains nothing here: match them directly.
        let known = KnownDeviations.kexecOf(loader: adapter.id, image: image, inputs: try InputRecord.of(commandLine: c.options.commandLine, initrd: nil))
        let expected = KexecExpectation.refusal(mode: run.mode, image: c.image, known: known, commandLineCount: c.options.commandLine.utf8.count)
        print("MatrixKexec \(run.testDescription): \(String(format: "%.1f", r.seconds)) s, " + (r.refused.map { "refused: \($0)" }
              ?? "entry \(m.entry), fail \(m.fail), \(m.pass.count) pass, \(m.na.count) n/a"))
        if let expected {
            let words = try #require(r.refused, "\(run.testDescription) should be refused (\(expected.why)): \(r.outcome); \(m.notes); serial tail: \(String(decoding: r.serial.suffix(600), as: UTF8.self))")
            #expect(words.contains(expected.words), "\(run.testDescription) refused, but not with \"\(expected.words)\": \(words)")
            return
        }
        #expect(r.refused == nil, "\(run.testDescription) refused: \(r.refused ?? "")")
        #expect(m.report, "\(run.testDescription): no probe report: \(m.notes); \(r.outcome); serial tail: \(String(decoding: r.serial.suffix(800), as: UTF8.self))")
        guard m.report else { return }
        let report = try ProbeReport.parse(serial: r.serial)
        #expect(report.variant == c.id)
        #expect(r.outcome.contains("exited(status: 1)") || r.outcome.contains("status 1"), "the probe leaves through isa-debug-exit with 0: \(r.outcome)")
        let unexplained = m.failures.filter { f in !known.contains { $0.rule == f.rule } }
        #expect(unexplained.isEmpty, "\(run.testDescription) (entry \(m.entry)): \(unexplained)")
        for d in known where !d.preventsReport && d.certain {
            #expect(m.fail.contains(d.rule.rawValue), "\(d) no longer shows: update KnownDeviations.kexec")
        }
    }
}

/// The parts of the kexec adapter that need no guest.
@Suite("MatrixKexecParts")
struct MatrixKexecPartsTests {
    /// What NewcWriter writes, the judge's newc reader reads back: paths, modes, sizes, hashes,
    /// and the device node; the archive is padded to 512 bytes and the same input gives the
    /// same bytes.
    @Test func newcWriterRoundTrips() throws {
        func archive() -> [UInt8] {
            var w = NewcWriter()
            w.directory("dev"); w.characterDevice("dev/console", major: 5, minor: 1)
            w.file("init", Array("#!init\n".utf8), mode: 0o755)
            w.file("probe/a.cmdline", Array("console=ttyS0".utf8), mode: 0o644)
            w.file("empty", [], mode: 0o644)
            return w.finish()
        }
        let a = archive()
        #expect(a == archive())
        #expect(a.count % 512 == 0)
        let entries = try Newc.entries(a)
        #expect(entries.map(\.path) == ["/dev", "/dev/console", "/init", "/probe/a.cmdline", "/empty"])
        let cmd = try #require(entries.first { $0.path == "/probe/a.cmdline" })
        #expect(cmd.isRegularFile && cmd.size == 13 && cmd.hash64 == ProbeHash64.of(Array("console=ttyS0".utf8)[...]))
        #expect(entries.first { $0.path == "/dev/console" }?.mode == 0o020600)
        #expect(entries.first { $0.path == "/dev" }?.isDirectory == true)
    }

    /// A refusal quotes kexec's console lines, the direct syscall's result and the kernel's
    /// log lines about kexec, and nothing else of the log.
    @Test func refusalQuotesKexecAndTheKernel() {
        let serial = """
        [    1.0] unrelated
        kexec-init run /sbin/kexec -s -l /probe/bz-2.06.kernel --command-line=console=ttyS0
        Could not find a free area of memory of 0x9000 bytes...
        kexec-init refused status=1
        kexec-init syscall refused Exec format error
        kexec-init dmesg <6>[    0.000000] Linux version 6.12
        kexec-init dmesg <3>[    4.200000] kexec-bzImage64: Must be at least protocol version 2.12
        kexec-init done
        """
        let r = KexecInitramfs.refusal(serial)
        #expect(r == "kexec -l failed (status=1): kexec: Could not find a free area of memory of 0x9000 bytes... | kexec_file_load(2) called directly: refused Exec format error | dmesg: <3>[    4.200000] kexec-bzImage64: Must be at least protocol version 2.12")
        #expect(KexecInitramfs.refusal("kexec-init run x\nkexec-init loaded\nBOOTPROBE 1\n") == nil)
        #expect(KexecInitramfs.refusal("") == nil)
        #expect(KexecInitramfs.refusal("kexec-init refused") == "kexec -l failed ()")
    }

    /// Without the corpus the adapter says what to fetch; the outer command line names the run.
    @Test func unavailableNamesWhatIsMissing() {
        let a = KexecAdapter(mode: .file, outerKernel: nil, initSource: "/nonexistent/init.c")
        #expect(a.id == "kexec-file")
        #expect(a.unavailable?.contains("no outer kernel given") == true)
        #expect(a.unavailable?.contains("/nonexistent/init.c missing") == true)
        let v = MatrixVariant(id: "bz-2.15", kernel: "k.bzImage", initrd: nil, commandLine: "console=ttyS0", entries: [])
        #expect(a.outerCommandLine(v).hasSuffix(" probe=bz-2.15 kexec=file"))
        #expect(a.outerCommandLine(v).hasPrefix(KernelBoot.defaultCommandLine))
    }
}

extension MatrixKexecPartsTests {
    /// A corpus whose manifest does not read is named as such, never as a corpus not built;
    /// one that was not built says so.
    @Test func corruptManifestIsNotAMissingCorpus() throws {
        let dir = try Scratch.directory("kexec-corpus")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(KexecAdapter(mode: .load, corpus: dir).unavailable?.contains("real-kernel corpus missing: run tools/build-corpus.sh") == true)
        try FileManager.default.createDirectory(atPath: dir + "/real", withIntermediateDirectories: true)
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: dir + "/real/manifest.json"))
        let why = try #require(KexecAdapter(mode: .load, corpus: dir).unavailable)
        #expect(why.contains("the real-kernel manifest does not read") && !why.contains("corpus missing"), "\(why)")
    }
}

/// What kexec refuses, from its source, with the words it refuses with.
enum KexecExpectation {
    struct Refusal { let why: String, words: String }

    static func refusal(mode: KexecAdapter.Mode, image: [UInt8], known: [KnownDeviation], commandLineCount: Int) -> Refusal? {
        if let d = known.first(where: \.preventsReport) {
            // kexec-tools refuses without a word unless -d ("Cannot load FILE"); the kernel
            // says "Kernel command line too long" at exactly cmdline_size.
            // At exactly cmdline_size the kernel says why; within 30 bytes below, only EINVAL.
            let version = image.u32(0x202) == 0x5372_6448 ? image.u16(0x206) ?? 0 : 0
            let atLimit = version >= 0x0206 && UInt32(commandLineCount) == image.u32(0x238)
            return Refusal(why: "\(d)", words: mode == .load ? "Cannot load" : atLimit ? "kexec-bzImage64: Kernel command line too long" : "kexec_file_load(2) called directly: refused Invalid argument")
        }
        let isELF = image.count >= 4 && image[0] == 0x7F && image[1] == 0x45 && image[2] == 0x4C && image[3] == 0x46
        let hdrS = image.u32(0x202) == 0x5372_6448 // "HdrS"
        let version = hdrS ? image.u16(0x206) ?? 0 : 0
        let xloadflags = version >= 0x020C ? image.u16(0x236) ?? 0 : 0
        switch mode {
        case .file:
            // kexec_file_load on x86-64 has one image loader, kexec_bzImage64_ops
            // (arch/x86/kernel/kexec-bzimage64.c bzImage64_probe): "HdrS", protocol 2.12+,
            // LOADED_HIGH, XLF_KERNEL_64, XLF_CAN_BE_LOADED_ABOVE_4G. Anything else finds no
            // loader (kexec_image_probe_default: -ENOEXEC).
            // kexec -s refuses these in userspace first (its own elf-x86_64 or 32-bit bzImage
            // code has no memory ranges in file mode); the driver then asks the kernel itself.
            if isELF || !hdrS { return Refusal(why: "bzImage64_probe: no \"HdrS\"", words: "kexec-bzImage64: Not a bzImage") }
            if image.u16(0x1FE) != 0xAA55 { return Refusal(why: "bzImage64_probe: boot_flag is not 0xAA55", words: "kexec-bzImage64: No x86 boot sector present") }
            if version < 0x020C { return Refusal(why: "bzImage64_probe: protocol below 2.12", words: "kexec-bzImage64: Must be at least protocol version 2.12") }
            if (image.u8(0x211) ?? 0) & 0x1 == 0 { return Refusal(why: "bzImage64_probe: LOADED_HIGH clear", words: "kexec-bzImage64: zImage not a bzImage") }
            if xloadflags & 0x1 == 0 { return Refusal(why: "bzImage64_probe: XLF_KERNEL_64 clear", words: "kexec-bzImage64: Not a bzImage64. XLF_KERNEL_64 is not set") }
            if xloadflags & 0x2 == 0 { return Refusal(why: "bzImage64_probe: XLF_CAN_BE_LOADED_ABOVE_4G clear", words: "kexec-bzImage64: XLF_CAN_BE_LOADED_ABOVE_4G is not set") }
            return nil
        case .load:
            return nil
        }
    }
}
