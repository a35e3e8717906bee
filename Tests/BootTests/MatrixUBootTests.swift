import Conformance
import TestSupport
import Reports
import Runners
import ConformanceFixtures
import Foundation
import HarnessKVM
import Testing

/// The matrix variants (`MatrixFixture`) prepared per adapter.
enum MatrixFiles {
    static var variants: Result<[MatrixVariant], HostToolError> { MatrixFixture.variants }

    /// The ids of the variants `adapter` accepts (empty without a probe build).
    static func ids(_ adapter: some LoaderAdapter) -> [String] { ((try? variants.get()) ?? []).filter { adapter.accepts($0) }.map(\.id) }

    /// A prepared work directory per adapter, built once; `extra` are variants made in the test
    /// (a variant's image with other inputs).
    static func prepare(_ adapter: some LoaderAdapter, extra: [MatrixVariant] = []) throws -> (work: String, variants: [MatrixVariant]) {
        let all = try variants.get()
        let work = try Scratch.directory("matrix-\(adapter.id)")
        let mine = all.filter { adapter.accepts($0) } + extra
        try adapter.prepare(mine, work: work)
        return (work, mine)
    }
}

/// A matrix cell checked the way the entry-path suites check a loader: the probe reported, the
/// only failures are the loader's recorded deviations (matched here against `records` too, the
/// list this suite's loader keeps outside `KnownDeviations.all`), and each certain record that
/// applies shows.
func expectConforming(_ r: MatrixResult, variant v: MatrixVariant, records: [KnownDeviation]) throws {
    let kernel = try FileSource(path: v.kernel)
    let image = try ImageRecord.record(try KernelImage(source: kernel), source: kernel)
    let inputs = try InputRecord.of(commandLine: v.commandLine, initrd: nil)
    let applying = records.filter { $0.applies(image, inputs) }
    let unexplained = r.unexplained.filter { rule in !applying.contains { $0.rule.rawValue == rule } }
    #expect(unexplained.isEmpty, "\(r.loader) \(v.id): \(unexplained) fail: \(r.failures.filter { unexplained.contains($0.rule.rawValue) }.map { "\($0.rule): \($0.evidence)" })")
    for d in applying where d.certain && !d.preventsReport {
        #expect(r.fail.contains(d.rule.rawValue), "\(d) no longer shows: update KnownDeviations")
    }
}

/// U-Boot 2023.01 for x86 (Debian's u-boot-qemu, qemu-x86 `u-boot.rom` as QEMU's -bios),
/// typed at over COM1: every bzImage variant is read from QEMU's FAT disk and booted with
/// `zboot` (the 32-bit entry). Select with `swift test --filter MatrixUBoot`.
@Suite("MatrixUBoot", .serialized)
struct MatrixUBootTests {
    static let adapter = UBootAdapter()
    /// bz-cmdline-at-limit's image (cmdline_size 32) asked to boot with a 48-byte line that
    /// also holds what U-Boot's shell and `env import` would change if not escaped.
    static let overLimitID = "bz-cmdline-over-limit"
    static let overLimitLine = #"a\b \w "q" ${x} 'y' ;# $(z)"# + String(repeating: "a", count: 21)
    static let notAKernelID = "not-a-kernel"
    static let prepared: Result<(work: String, variants: [MatrixVariant]), any Error> = Result {
        let atLimit = try MatrixFiles.variants.get().first { $0.id == "bz-cmdline-at-limit" }
        var extra = atLimit.map { [MatrixVariant(id: overLimitID, kernel: $0.kernel, initrd: nil, commandLine: overLimitLine, entries: $0.entries)] } ?? []
        // Bytes that are no kernel (an initrd): zboot must refuse them.
        if let rd = try MatrixFiles.variants.get().compactMap(\.initrd).first {
            extra.append(MatrixVariant(id: notAKernelID, kernel: rd, initrd: nil, commandLine: "console=ttyS0", entries: []))
        }
        return try MatrixFiles.prepare(adapter, extra: extra)
    }

    @Test(.enabled(if: adapter.unavailable == nil, "\(adapter.unavailable ?? "")"), .hangGuard, arguments: TestTier.sample(MatrixFiles.ids(adapter), quick: TestTier.bzSample, id: { $0 }))
    func ubootZbootsTheProbe(_ id: String) async throws {
        _ = try Probe.require()
        let (work, variants) = try Self.prepared.get()
        let v = try #require(variants.first { $0.id == id })
        let adapter = Self.adapter
        let run = try await offPool { try adapter.boot(v, work: work, timeout: .seconds(120)) }
        let r = LoaderMatrix.judge(run, variant: v, loader: adapter.id)
        print("u-boot \(id): \(String(format: "%.2f", run.seconds)) s, \(run.outcome); pass \(r.pass.count) warn \(r.warn) n/a \(r.na.count) fail \(r.fail) notes \(r.notes)")
        #expect(run.refused == nil, "U-Boot refused \(id): \(run.refused ?? "")")
        #expect(r.report, "\(id): no report: \(r.notes)")
        #expect(r.entry == "32", "zboot enters at the 32-bit entry")
        try expectConforming(r, variant: v, records: KnownDeviations.uboot)
    }

    /// A refusal ends the run at once (the typed `|| echo` marker) and is recorded with
    /// U-Boot's words, not judged: zboot checks boot_flag first (load_zimage, kernel_magic_ok).
    @Test(.enabled(if: adapter.unavailable == nil, "\(adapter.unavailable ?? "")"), .hangGuard)
    func ubootRefusalEndsTheRun() async throws {
        _ = try Probe.require()
        let (work, variants) = try Self.prepared.get()
        let v = try #require(variants.first { $0.id == Self.notAKernelID })
        let adapter = Self.adapter
        let run = try await offPool { try adapter.boot(v, work: work, timeout: .seconds(120)) }
        let why = try #require(run.refused, "zboot should refuse bytes without boot_flag: \(run.outcome)")
        #expect(why.contains("Invalid Boot Flag") && why.contains("Kernel loading failed"), "\(why)")
        #expect(run.outcome.contains("marker"), "the run ended on the failure marker, not the time limit: \(run.outcome)")
        let r = LoaderMatrix.judge(run, variant: v, loader: adapter.id)
        #expect(!r.booted && !r.report && r.notes.contains { $0.hasPrefix("refused: ") })
    }

    @Test func environmentFileEscapesBackslashes() {
        #expect(UBootAdapter.environmentFile(#"a\b c\d"#) == #"bootargs=a\\b c\\d"# + "\n")
        #expect(UBootAdapter.environmentFile("console=ttyS0") == "bootargs=console=ttyS0\n")
    }

    @Test func failedCommandIsReadFromTheConsole() {
        let text = "=> fatload ide 0:1 ${loadaddr} x.bzImage" + UBootAdapter.failureEcho + "\r\n18944 bytes read\r\n=> zboot ${loadaddr} ${filesize}" + UBootAdapter.failureEcho
            + "\r\nError: Invalid Boot Flag (found 0x0000, expected 0xaa55)\r\n## Kernel loading failed ...\r\n" + UBootAdapter.failureMarker + "\r\n=> "
        let (command, output) = UBootAdapter.failedCommand(text)
        #expect(command == "zboot ${loadaddr} ${filesize}")
        #expect(output == "Error: Invalid Boot Flag (found 0x0000, expected 0xaa55) | ## Kernel loading failed ...")
        #expect(UBootAdapter.failedCommand("no marker here").command == "")
    }

    /// BP-27: asked for a line longer than cmdline_size, U-Boot passes all of it (no
    /// truncation, no refusal): its recorded deviation, which must show.
    @Test(.enabled(if: adapter.unavailable == nil, "\(adapter.unavailable ?? "")"), .hangGuard)
    func ubootPassesAnOverlongCommandLine() async throws {
        _ = try Probe.require()
        let (work, variants) = try Self.prepared.get()
        let v = try #require(variants.first { $0.id == Self.overLimitID }, "no bz-cmdline-at-limit variant")
        let adapter = Self.adapter
        let run = try await offPool { try adapter.boot(v, work: work, timeout: .seconds(120)) }
        let r = LoaderMatrix.judge(run, variant: v, loader: adapter.id)
        print("u-boot \(v.id): \(String(format: "%.2f", run.seconds)) s, \(run.outcome); fail \(r.fail) notes \(r.notes)")
        #expect(r.report, "\(v.id): no report: \(r.notes)")
        #expect(Self.overLimitLine.utf8.count == 48)
        #expect(run.notes.contains { $0.contains(Self.overLimitLine) }, "U-Boot printed the whole line: \(run.notes)")
        try expectConforming(r, variant: v, records: KnownDeviations.uboot)
        #expect(r.fail == ["BP-27"], "\(r.failures.map { "\($0.rule): \($0.evidence)" })")
    }
}

/// systemd-boot 252 (Debian's systemd-boot-efi) under OVMF: each variant offering an EFI entry
/// is a Type #1 loader entry on an ESP QEMU makes from a directory, chosen by loader.conf's
/// `default`. The PE/COFF variant (`efi-pe`) is started at its PE entry with LoadOptions
/// "initrd=\PATH OPTIONS" and the initrd on LoadFile2 too; a bzImage that is not a PE image is
/// refused by LoadImage. Select with `swift test --filter MatrixSystemdBoot`.
@Suite("MatrixSystemdBoot", .serialized)
struct MatrixSystemdBootTests {
    static let adapter = SystemdBootAdapter()
    /// efi-pe with a line systemd-boot's entry parser would change if it were written as it is
    /// (blanks around it, quotes at both ends, a backslash).
    static let oddLineID = "efi-pe-odd-line"
    static let oddLine = #" "console=ttyS0 a\b 'c' "d" "#
    static let prepared: Result<(work: String, variants: [MatrixVariant]), any Error> = Result {
        let pe = try MatrixFiles.variants.get().first { $0.id == "efi-pe" }
        let extra = pe.map { [MatrixVariant(id: oddLineID, kernel: $0.kernel, initrd: $0.initrd, commandLine: oddLine, entries: $0.entries)] } ?? []
        return try MatrixFiles.prepare(adapter, extra: extra)
    }

    @Test(.enabled(if: adapter.unavailable == nil, "\(adapter.unavailable ?? "")"), .hangGuard, arguments: TestTier.sample(MatrixFiles.ids(adapter) + [oddLineID], quick: ["efi-pe"], id: { $0 }))
    func systemdBootStartsTheProbe(_ id: String) async throws {
        _ = try Probe.require()
        let (work, variants) = try Self.prepared.get()
        let v = try #require(variants.first { $0.id == id })
        let adapter = Self.adapter
        let run = try await offPool { try adapter.boot(v, work: work, timeout: .seconds(180)) }
        let r = LoaderMatrix.judge(run, variant: v, loader: adapter.id)
        print("systemd-boot \(id): \(String(format: "%.2f", run.seconds)) s, \(run.outcome); refused \(run.refused ?? "no"); pass \(r.pass.count) warn \(r.warn) n/a \(r.na.count) fail \(r.fail) notes \(r.notes)")
        guard v.entries.contains(.efiStub) else {
            // Not a PE image: the firmware's LoadImage refuses it and systemd-boot says so.
            let why = try #require(run.refused, "systemd-boot should refuse \(id), which is not an EFI application: \(run.outcome)")
            #expect(why.contains("Error loading") && why.contains("Unsupported"), "\(why)")
            return
        }
        #expect(run.refused == nil, "systemd-boot refused \(id): \(run.refused ?? "")")
        #expect(r.report, "\(id): no report: \(r.notes)")
        #expect(r.entry == "efi-stub", "systemd-boot starts the kernel as an EFI application")
        // The EFI rules were judged, not skipped.
        for rule in ["BP-82", "BP-86", "BP-87", "BP-88", "BP-89", "BP-90"] { #expect(r.pass.contains(rule), "\(rule) did not pass: \(r.failures.filter { $0.rule.rawValue == rule })") }
        try expectConforming(r, variant: v, records: KnownDeviations.systemdBoot)
    }

    @Test func optionsSurviveTheEntryParser() {
        #expect(SystemdBootAdapter.optionsValue("console=ttyS0 hello") == "console=ttyS0 hello")
        #expect(SystemdBootAdapter.optionsValue(" a ") == "\" a \"")
        #expect(SystemdBootAdapter.optionsValue("\"q\"") == "\"\"q\"\"")
        #expect(SystemdBootAdapter.optionsValue("\"q") == "\"q")
        #expect(SystemdBootAdapter.optionsValue("\"") == "\"\"\"")
    }
}

/// `QEMUBoot.serialInput`, the typing U-Boot's adapter relies on: the script alone, and
/// through `QEMURunner` with a stand-in process for QEMU (a shell script that prompts on
/// stdout and reads stdin), so no guest and no machine speed is involved.
@Suite("MatrixUBootSerialInput")
struct MatrixUBootSerialInputTests {
    @Test func stepsFireInOrderAcrossChunks() {
        var s = SerialInputScript([(after: "Hit any key", send: " "), (after: "=> ", send: "ide reset\r"), (after: "=> ", send: "zboot\r")])
        #expect(s.feed(Array("U-Boot 2023.01\nHit any ".utf8)).isEmpty)
        #expect(String(decoding: s.feed(Array("key to stop autoboot: 2".utf8)), as: UTF8.self) == " ")
        // One prompt, one step: the second "=> " must arrive after the first was answered.
        #expect(String(decoding: s.feed(Array("\n=".utf8)), as: UTF8.self) == "")
        #expect(String(decoding: s.feed(Array("> ".utf8)), as: UTF8.self) == "ide reset\r")
        #expect(s.sent == 2 && !s.finished)
        #expect(String(decoding: s.feed(Array("ide reset\nReset IDE: OK\n=> ".utf8)), as: UTF8.self) == "zboot\r")
        #expect(s.finished)
        #expect(s.feed(Array("=> => ".utf8)).isEmpty, "nothing is typed after the last step")
    }

    /// `QEMUBoot(bios:)`: firmware alone, no -kernel, no CD; nil leaves the machine's own.
    @Test func firmwareAloneHasNoKernel() {
        let a = QEMUBoot(bios: "/x/u-boot.rom").arguments(accel: .tcg)
        #expect(a.contains("-bios") && a.contains("/x/u-boot.rom") && !a.contains("-kernel") && !a.contains("-cdrom"))
        #expect(!QEMUBoot(bios: nil).arguments(accel: .tcg).contains("-bios"))
    }

    @Test func severalStepsInOneChunk() {
        var s = SerialInputScript([(after: "a", send: "1"), (after: "b", send: "2"), (after: "b", send: "3")])
        // "b" before "a" does not count for the second step; each "b" after "a" answers one step.
        #expect(String(decoding: s.feed(Array("b a b b".utf8)), as: UTF8.self) == "123")
    }

    @Test func emptyAfterFiresAtOnceAndMemoryStaysBounded() {
        var s = SerialInputScript([(after: "", send: "go\r"), (after: "never", send: "x")])
        #expect(String(decoding: s.feed([0x41]), as: UTF8.self) == "go\r")
        for _ in 0..<100 { _ = s.feed([UInt8](repeating: 0x6E, count: 10_000)) }   // "nnnn…": never a match
        #expect(s.sent == 1)
        #expect(s.pendingCount < "never".utf8.count, "what cannot be part of a match is dropped")
    }

    /// Writes a stand-in "QEMU" script. The file is written through a close-on-exec descriptor:
    /// one inherited by a process another test spawns meanwhile would keep it open for writing,
    /// and exec would then fail with ETXTBSY (status 126 from setpriv; seen in a full run).
    static func standIn(_ dir: String, _ body: String) -> String {
        let script = dir + "/qemu-stand-in.sh"
        let fd = open(script, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        if fd >= 0 {
            let bytes = Array("#!/bin/sh\n\(body)\n".utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        return script
    }

    /// Runs a stand-in; a run whose exec met ETXTBSY anyway (status 126, nothing printed: a
    /// descriptor for the script held by some other process's fork) is tried again, twice.
    static func runStandIn(_ b: QEMUBoot) async throws -> QEMUReport {
        var r = try await offPool { try QEMURunner.run(b) }
        for _ in 0..<2 where r.outcome == .exited(status: 126) && r.serial.isEmpty {
            usleep(200_000)
            r = try await offPool { try QEMURunner.run(b) }
        }
        return r
    }

    @Test(.hangGuard) func runnerTypesAfterEachPrompt() async throws {
        let dir = try Scratch.directory("serial-input")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var b = QEMUBoot(bios: nil)
        b.executable = Self.standIn(dir, "printf 'login: '; read a; printf 'got %s\\npassword: ' \"$a\"; read b; printf 'got %s\\n' \"$b\"; exit 3")
        b.timeout = .seconds(60)
        b.serialInput = [(after: "login: ", send: "root\n"), (after: "password: ", send: "secret\n")]
        let r = try await Self.runStandIn(b)
        #expect(r.outcome == .exited(status: 3), "\(r.summary)")
        #expect(r.serialText == "login: got root\npassword: got secret\n")
        #expect(r.serialInputSent == 2)
    }

    /// Without serialInput stdin stays /dev/null (a read sees end of file at once), as before.
    @Test(.hangGuard) func noInputMeansDevNull() async throws {
        let dir = try Scratch.directory("serial-input")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var b = QEMUBoot(bios: nil)
        b.executable = Self.standIn(dir, "if read a; then echo read; else echo eof; fi; readlink /proc/self/fd/0")
        b.timeout = .seconds(60)
        let r = try await Self.runStandIn(b)
        #expect(r.serialText == "eof\n/dev/null\n", "\(r.summary)")
        #expect(r.serialInputSent == 0)
    }

    /// Typing at a process that has already exited neither raises SIGPIPE in this process nor
    /// blocks: the text is dropped and the run ends as the process did.
    @Test(.hangGuard) func typingAfterExitIsHarmless() async throws {
        let dir = try Scratch.directory("serial-input")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var b = QEMUBoot(bios: nil)
        b.executable = Self.standIn(dir, "exec 0<&-; printf 'prompt> '; exit 0")
        b.timeout = .seconds(60)
        b.serialInput = [(after: "prompt> ", send: String(repeating: "x", count: 1 << 20))]
        let r = try await Self.runStandIn(b)
        #expect(r.outcome == .exited(status: 0), "\(r.summary)")
        #expect(r.serialText == "prompt> ")
    }
}
