import Conformance
import ConformanceFixtures
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HarnessKVM
import Reports
import Runners
import TestSupport
import Testing

/// Surface diff and the gate.
@Suite("Gate")
struct GateTests {
    static func surface(_ id: String) throws -> [SurfaceItem] {
        let c = try syntheticImage(id)
        switch try KernelImage(source: MemorySource(name: id, bytes: c.image)) {
        case .bzImage(let bz): return Surface.of(bzImage: bz)
        case .elf(let e): return Surface.of(elf: e)
        }
    }

    @Test func regressionsAreCalledRegressions() throws {
        // Losing XLF_KERNEL_64 and going down a protocol version.
        var d = Surface.diff(old: try Self.surface("bz-2.15"), new: try Self.surface("bz-2.06"))
        #expect(d.contains { $0.key == "protocol" && $0.impact == .breaking })
        #expect(d.contains { $0.key == "entry.64-bit" && $0.new == nil && $0.impact == .breaking })
        // The reverse is an upgrade: nothing regresses.
        d = Surface.diff(old: try Self.surface("bz-2.06"), new: try Self.surface("bz-2.15"))
        #expect(!d.contains { $0.impact == .breaking }, "\(d.filter { $0.impact == .breaking })")
        // Losing the PVH note.
        d = Surface.diff(old: try Self.surface("pvh-desc8"), new: try Self.surface("pvh-missing-note"))
        #expect(d.contains { $0.key == "entry.pvh" && $0.impact == .breaking }, "\(d)")
        // No change, no diff.
        #expect(Surface.diff(old: try Self.surface("bz-2.15"), new: try Self.surface("bz-2.15")).isEmpty)
    }

    @Test func aFailingGateWritesJUnitFailures() throws {
        let ws = try GateWorkspace()
        defer { ws.cleanup() }
        let old = ws.directory + "/old.bz", new = ws.directory + "/new.bz"
        FileManager.default.createFile(atPath: old, contents: Data(try syntheticImage("bz-2.15").image))
        FileManager.default.createFile(atPath: new, contents: Data(try syntheticImage("bz-2.06").image))
        var o = KernelGate.Options(); o.boot = false; o.initrd = nil
        let r = try KernelGate.run(new: try ws.kernel(new), baseline: try ws.kernel(old), options: o)
        #expect(!r.passed)
        #expect(r.regressions.contains { $0.contains("protocol") }, "\(r.regressions)")
        let x = try JUnit(r.junitXML)
        #expect(x.failures > 0 && x.failures == x.failureElements)
        #expect(r.markdown.contains("# conform gate: FAIL"))
    }

    @Test(.enabled(if: RealBoot.ready, "needs the real-kernel corpus, the initramfs and QEMU"), .enabled(if: TestTier.full, "\(TestTier.fullOnly)"), .timeLimit(.minutes(10)))
    func newDebianReleasePassesAgainstTheOld() async throws {
        let debs = (try? FileManager.default.contentsOfDirectory(atPath: Repo.corpus + "/real/debs")) ?? []
        // amd64 only: Corpus/real/debs also holds the arm64 6.12 cloud package (ImageGate gates it).
        let old = try #require(debs.first { $0.hasPrefix("linux-image-6.1.0-") && $0.contains("-cloud-") && $0.hasSuffix("_amd64.deb") })
        let new = try #require(debs.first { $0.hasPrefix("linux-image-6.12.") && $0.contains("-cloud-") && $0.hasSuffix("_amd64.deb") })
        let ws = try GateWorkspace()
        defer { ws.cleanup() }
        var o = KernelGate.Options(); o.initrd = RealBoot.initramfs
        let options = o
        let r = try await offPool { try KernelGate.run(new: try ws.kernel(Repo.corpus + "/real/debs/" + new), baseline: try ws.kernel(Repo.corpus + "/real/debs/" + old), options: options) }
        #expect(r.passed, "\(r.regressions)")
        // 6.12 added the PVH relocation note (PHYS32_RELOC, type 19) that 6.1 lacks.
        #expect(r.changes.contains { $0.key == "payload.elf.note.Xen.PHYS32_RELOC" && $0.old == nil })
        #expect(r.boots.count == 2 && r.boots.allSatisfy(\.passed))
        let x = try JUnit(r.junitXML)
        #expect(x.tests == x.testcaseElements && x.failures == 0 && x.tests > 100)
    }
}

/// The JUnit structure CI systems read (Jenkins, GitLab, GitHub reporters): <testsuites> of
/// <testsuite> of <testcase classname name time>, with counts that match the children.
struct JUnit {
    let tests: Int, failures: Int, testcaseElements: Int, failureElements: Int
    init(_ xml: String) throws {
        let doc = try XMLDocument(xmlString: xml)
        let root = try #require(doc.rootElement())
        #expect(root.name == "testsuites")
        func n(_ e: XMLElement, _ a: String) -> Int? { e.attribute(forName: a)?.stringValue.flatMap { Int($0) } }
        var cases = 0, fails = 0
        for s in root.elements(forName: "testsuite") {
            let cs = s.elements(forName: "testcase")
            #expect(n(s, "tests") == cs.count, "testsuite \(s.attribute(forName: "name")?.stringValue ?? "")")
            let f = cs.filter { !$0.elements(forName: "failure").isEmpty }.count
            #expect(n(s, "failures") == f)
            #expect(n(s, "skipped") == cs.filter { !$0.elements(forName: "skipped").isEmpty }.count)
            for c in cs { #expect(c.attribute(forName: "classname") != nil && c.attribute(forName: "name") != nil && c.attribute(forName: "time") != nil) }
            cases += cs.count; fails += f
        }
        tests = n(root, "tests") ?? -1; failures = n(root, "failures") ?? -1
        testcaseElements = cases; failureElements = fails
    }
}
