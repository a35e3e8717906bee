import Conformance
import TestSupport
import Reports
import Runners
import ConformanceFixtures
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HarnessKVM
import Testing

/// The probe variants as the loader matrix sees them (`MatrixVariant`: files, command line,
/// offered entries), written once per process with their index.json into a scratch directory
/// from the probe build, so the suites do not depend on a `conform corpus --probe` run.
enum MatrixFixture {
    static let variants: Result<[MatrixVariant], HostToolError> = {
        Result { () throws(HostToolError) in
            guard case .success(let build) = Probe.build else { throw HostToolError("probe kernel unavailable: run Corpus/probe/build.sh") }
            do {
                let dir = try Scratch.directory("matrix-variants")
                try CorpusFiles.write(Probe.variants, to: dir, index: true)
                return LoaderMatrix.variants(try ProbeIndex.read(dir + "/index.json"), probe: build)
            } catch let e as HostToolError { throw e } catch { throw HostToolError("cannot write the probe variants: \(error)") }
        }
    }()
    static func require() throws -> [MatrixVariant] {
        switch variants {
        case .success(let v): return v
        case .failure(let e): try Test.cancel("\(e)")
        }
    }
}

/// The loader matrix's quick subset (what .ci/run also runs as `conform matrix --quick`): every
/// loader this machine has, a cell or two each, in parallel. No cell may fail a rule that no
/// recorded deviation explains, lack a report nothing explains, or miss a certain recorded
/// deviation; a loader whose package is missing is reported skipped with the package named.
@Suite("LoaderMatrix", .serialized)
struct LoaderMatrixTests {
    /// The quick tier runs the matrix's quick cells of the loaders no suite of their own boots
    /// in that tier (the full tier and `conform matrix --quick` run them all).
    static let quickTierLoaders: Set<String> = ["qemu-pc", "qemu-pvh", "qemu-microvm", "reference-harnesskvm", "reference-bundle"]

    @Test(.enabled(if: QEMU.installed, "\(QEMU.why)"), .hangGuard)
    func quickMatrixHasNoChanges() async throws {
        let variants = try MatrixFixture.require()
        let adapters = LoaderMatrix.standardAdapters(cases: Probe.variants, corpus: Repo.corpus)
        let report = try await offPool { () -> MatrixReport in
            let work = try Scratch.directory("matrix")
            defer { try? FileManager.default.removeItem(atPath: work) }
            return LoaderMatrix.run(adapters: adapters, variants: variants, parallel: 2, timeout: .seconds(120), work: work,
                                    include: { l, v in LoaderMatrix.quick.contains("\(l)/\(v)") && (TestTier.full || Self.quickTierLoaders.contains(l)) })
        }
        #expect(report.changes.isEmpty, "\(report.changes)")
        #expect(report.results.contains { $0.loader == "qemu-pc" && $0.report }, "the QEMU row ran")
        for l in report.loaders where l.skipped != nil { #expect(l.skipped!.contains("install") || l.skipped!.contains("/dev/kvm"), "\(l.id): \(l.skipped!)") }
        // The JSON is the documented shape, and reads back to the same cells.
        let json = report.json()
        #expect(json["format"] as? String == "loader-matrix/1")
        let back = try MatrixReport.read(try report.jsonData(), name: "quick")
        #expect(back.results.map { "\($0.loader)/\($0.variant)/\($0.fail)" } == report.results.map { "\($0.loader)/\($0.variant)/\($0.fail)" })
    }

    /// Bring your own loader: the command template gets every placeholder quoted for the
    /// shell, `{initrd?TEXT}` only when there is an initrd.
    /// The matrix's JUnit escapes as every other XML output does (`xmlEscape`): a loader's
    /// evidence may hold "]]>" (not allowed in XML character data unless `>` is escaped) and
    /// control characters XML 1.0 cannot carry; the document still parses and says the same.
    @Test func junitEscapesHostileEvidence() throws {
        var m = MatrixReport()
        m.loaders = [MatrixLoader(id: "vmm<x>", version: "1 > 0", package: "p", skipped: nil)]
        var r = MatrixResult(loader: "vmm<x>", variant: "v]]>1")
        r.booted = true; r.report = true; r.fail = ["BP-27"]
        r.failures = [Verdict(rule: "BP-27", outcome: .fail, evidence: "cmdline \"a]]>b\u{1}\" & <script>")]
        m.results = [r]
        let x = m.junit()
        #expect(!x.contains("]]>"), "\(x)")
        let doc = try XMLDocument(xmlString: x)
        let failure = try #require(try doc.nodes(forXPath: "//failure").first)
        #expect(failure.stringValue == "cmdline \"a]]>b?\" & <script>")
        #expect(try doc.nodes(forXPath: "//testcase/@name").first?.stringValue == "v]]>1")
    }

    @Test func commandTemplateExpands() {
        let t = "vmm --kernel {kernel} {initrd?--initrd} --append {cmdline} --serial {serial}"
        #expect(CommandAdapter.expand(t, kernel: "/k", initrd: "/i", cmdline: "console=ttyS0 a'b", serial: "/s") ==
                "vmm --kernel '/k' --initrd '/i' --append 'console=ttyS0 a'\\''b' --serial '/s'")
        #expect(CommandAdapter.expand(t, kernel: "/k", initrd: nil, cmdline: "", serial: "/s") == "vmm --kernel '/k'  --append '' --serial '/s'")
        #expect(CommandAdapter.expand("x {unknown}", kernel: "", initrd: nil, cmdline: "", serial: "") == "x {unknown}")
    }

    /// QEMU as the "foreign" VMM through a command template: the same judgement as the
    /// qemu-pc adapter, for one variant.
    @Test(.enabled(if: QEMU.installed, "\(QEMU.why)"), .hangGuard)
    func qemuThroughACommandTemplate() async throws {
        let variants = try MatrixFixture.require().filter { $0.id == "bz-2.15" }
        let template = "qemu-system-x86_64 -accel tcg -M pc -m 1024 -nodefaults -display none -no-reboot -kernel {kernel} {initrd?-initrd} -append {cmdline} -serial file:{serial} -device isa-debug-exit,iobase=0x501,iosize=2"
        let report = try await offPool { () -> MatrixReport in
            let work = try Scratch.directory("matrix")
            defer { try? FileManager.default.removeItem(atPath: work) }
            return LoaderMatrix.run(adapters: [CommandAdapter(id: "qemu-by-template", template: template)], variants: variants, parallel: 1, timeout: .seconds(120), work: work)
        }
        let r = try #require(report.results.first)
        #expect(r.report && r.entry == "16", "\(r.notes)")
        #expect(r.fail.isEmpty, "\(r.failures)")
    }
}

/// The full matrix as a suite: every variant through each loader that has no suite of its
/// own booting every variant (those are Entry16QEMU for qemu-pc, GrubBIOS, MatrixISOLINUX,
/// MatrixIPXE, MatrixUBoot, MatrixSystemdBoot, MatrixKexec, and ProbeKernels for
/// reference-harnesskvm). A loader whose package is missing is skipped with the reason.
@Suite("LoaderMatrixFull", .serialized)
struct LoaderMatrixFullTests {
    static let loaders = ["qemu-pvh", "qemu-microvm", "grub-efi-linux", "grub-efi-handover", "ovmf-kernel", "reference-bundle"]

    /// One test boots all 30 variants of a loader, each bounded by its own limit: the test's
    /// limit ends a hang of the whole sweep (30 OVMF boots under TCG on a busy two-core machine
    /// took more than the 5 minutes of `.hangGuard`).
    @Test(.enabled(if: TestTier.full, "\(TestTier.fullOnly)"), .timeLimit(.minutes(30)), arguments: loaders)
    func everyVariant(_ loader: String) async throws {
        let variants = try MatrixFixture.require()
        let adapter = try #require(LoaderMatrix.standardAdapters(cases: Probe.variants, corpus: Repo.corpus).first { $0.id == loader })
        if let why = adapter.unavailable { try Test.cancel("\(loader): \(why)") }
        let report = try await offPool { () -> MatrixReport in
            let work = try Scratch.directory("matrix-full")
            defer { try? FileManager.default.removeItem(atPath: work) }
            return LoaderMatrix.run(adapters: [adapter], variants: variants, parallel: 2, timeout: .seconds(180), work: work)
        }
        #expect(!report.results.isEmpty, "\(loader) accepted no variant")
        #expect(report.changes.isEmpty, "\(report.changes)")
    }
}

/// A loader maintainer's own loader, graded with `swift test`: set CONFORM_LOADER_COMMAND to a
/// command template (as for `conform matrix --loader-command`) and this suite boots every
/// variant with it, one test case per variant; each failing rule is a named issue. Without
/// the variable the suite is skipped.
@Suite("YourLoader")
struct YourLoaderTests {
    static let template = ProcessInfo.processInfo.environment["CONFORM_LOADER_COMMAND"]
    static var variantIDs: [String] { template == nil ? [] : ((try? MatrixFixture.variants.get()) ?? []).map(\.id) }

    @Test(.enabled(if: template != nil, "set CONFORM_LOADER_COMMAND to a command template to grade your loader"), .hangGuard, arguments: variantIDs)
    func variant(_ id: String) async throws {
        let v = try #require(try MatrixFixture.require().first { $0.id == id })
        let adapter = CommandAdapter(id: ProcessInfo.processInfo.environment["CONFORM_LOADER_ID"] ?? "custom", template: Self.template!,
                                     marker: ProcessInfo.processInfo.environment["CONFORM_LOADER_MARKER"])
        let r = try await offPool { () -> MatrixResult in
            let work = try Scratch.directory("your-loader")
            defer { try? FileManager.default.removeItem(atPath: work) }
            return LoaderMatrix.judge(try adapter.boot(v, work: work, timeout: .seconds(120)), variant: v, loader: adapter.id)
        }
        #expect(r.report, "no probe report: \(r.notes.joined(separator: "; "))")
        for f in r.failures where r.explained[f.rule.rawValue] == nil { Issue.record("\(f.rule): \(f.evidence)") }
    }
}
