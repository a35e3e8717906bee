import Conformance
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Reports
import Runners
import Testing

/// The release history (issue 15, item 2), without the network: releases in dpkg order, the
/// timeline and the changes at the release where each first appeared, the JSON shape, and the
/// SVG plots.
@Suite("KernelHistory")
struct HistoryTests {
    /// A bzImage surface with a payload ELF, as `Surface.of` names its items: the entry in
    /// PT_LOAD `entrySegment`, the build-noise offset into it, init_size, and XLF_5LEVEL.
    static func surface(initSize: UInt64, entrySegment: Int, entry: UInt64, fiveLevel: Bool) -> [SurfaceItem] {
        [.init("format", "bzImage"), .init("protocol", "2.15"), .init("header.init_size", hex(initSize)), .init("header.handover_offset", hex(0x190 + entry % 0x40)),
         .init("xloadflags.XLF_5LEVEL", fiveLevel ? "set" : "clear"),
         .init("payload.elf.entry", hex(0x1000000 + entry)), .init("payload.elf.physical_start", hex(0x1000000)),
         .init("payload.elf.entry.segment", "PT_LOAD \(entrySegment) (\(entrySegment == 0 ? "R-X" : "RWX"))"),
         .init("payload.size.elf.entry.offset", hex(entry % 0x1000))]
    }

    static func release(_ version: String, _ suite: String, _ surface: [SurfaceItem], size: UInt64) -> HistoryRelease {
        let v = DebianVersion(version)!
        return HistoryRelease(release: v.release, version: v, suite: suite, package: "linux-binary-unsigned-\(v.release)-cloud-amd64", imageSize: size, surface: surface)
    }

    /// Given out of order: 6.17 moves the entry to PT_LOAD 1, 7.3-rc7 grows init_size, 7.3
    /// advertises XLF_5LEVEL; the entry's offset changes in every release (build noise).
    static let history = KernelHistory(releases: [
        release("7.3-1", "unstable", surface(initSize: 0x3000000, entrySegment: 1, entry: 0x2345000, fiveLevel: true), size: 14_000_000),
        release("6.16.3-1~bpo13+1", "trixie-backports", surface(initSize: 0x2800000, entrySegment: 0, entry: 0xB53, fiveLevel: false), size: 12_000_000),
        release("7.3~rc7-1~exp1", "experimental", surface(initSize: 0x3000000, entrySegment: 1, entry: 0x2344000, fiveLevel: false), size: 13_900_000),
        release("6.17.8-1~bpo13+1", "trixie-backports", surface(initSize: 0x2800000, entrySegment: 1, entry: 0x2300123, fiveLevel: false), size: 12_500_000),
        release("6.16.12-1~bpo13+1", "trixie-backports", surface(initSize: 0x2800000, entrySegment: 0, entry: 0xC11, fiveLevel: false), size: 12_100_000),
    ])

    @Test func releasesInDpkgOrder() {
        #expect(Self.history.releases.map(\.release) == ["6.16.3", "6.16.12", "6.17.8", "7.3-rc7", "7.3"])
    }

    @Test func eachChangeAtTheReleaseWhereItFirstAppeared() throws {
        let h = Self.history
        let significant = h.changes.filter { !$0.change.noise }
        #expect(significant.map { "\($0.release) \($0.change.key)" } == ["6.17.8 payload.elf.entry.segment", "7.3-rc7 header.init_size", "7.3 xloadflags.XLF_5LEVEL"])
        let move = try #require(significant.first)
        #expect(move.previous == "6.16.12" && move.change.old == "PT_LOAD 0 (R-X)" && move.change.new == "PT_LOAD 1 (RWX)")
        #expect(move.change.impact >= .needsAttention && move.change.reason.contains("6.17"))
        #expect(significant[1].change.impact == .needsAttention && significant[1].previous == "6.17.8")
        // The entry offset and handover_offset move in every release: noise, at each release.
        #expect(Set(h.changes.filter(\.change.noise).map(\.release)) == ["6.16.12", "6.17.8", "7.3-rc7", "7.3"])
        #expect(h.noiseKeys.contains("payload.size.elf.entry.offset") && !h.noiseKeys.contains("header.init_size"))
        #expect(h.changeLines.first == "6.16.12 (trixie-backports, from 6.16.3): 0 breaking, 0 needs-attention, 0 informational, \(h.changes.filter { $0.release == "6.16.12" }.count) build noise")
    }

    @Test func timelineHasARowPerChangingKeyAndAColumnPerRelease() throws {
        let h = Self.history
        #expect(h.timeline.map(\.key) == ["header.init_size", "header.handover_offset", "xloadflags.XLF_5LEVEL", "payload.elf.entry", "payload.elf.entry.segment", "payload.size.elf.entry.offset"])
        #expect(h.timeline.allSatisfy { $0.values.count == 5 })
        let lines = h.timelineLines
        #expect(lines[0].split(separator: " ").map(String.init) == ["release", "6.16.3", "6.16.12", "6.17.8", "7.3-rc7", "7.3"])
        let segment = try #require(lines.first { $0.hasPrefix("payload.elf.entry.segment") })
        #expect(segment.split(separator: " ").dropFirst().map(String.init) == ["A", "A", "B", "B", "B"])
        #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces) == "B = PT_LOAD 1 (RWX)" })
        // Build noise is named, not tabulated.
        #expect(!lines.contains { $0.hasPrefix("payload.size.elf.entry.offset") })
        #expect(lines.last?.hasPrefix("build noise") == true && lines.last!.contains("payload.size.elf.entry.offset"))
    }

    @Test func jsonShape() throws {
        let data = try JSONSerialization.data(withJSONObject: Self.history.json)
        let o = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(o["format"] as? String == "kernel-history/1")
        let rs = try #require(o["releases"] as? [[String: Any]])
        #expect(rs.map { $0["release"] as? String } == ["6.16.3", "6.16.12", "6.17.8", "7.3-rc7", "7.3"])
        #expect(rs[4]["suite"] as? String == "unstable" && rs[4]["package"] as? String == "linux-binary-unsigned-7.3-cloud-amd64" && rs[4]["version"] as? String == "7.3-1")
        let surface = try #require(rs[2]["surface"] as? [String: String])
        #expect(surface["payload.elf.entry.segment"] == "PT_LOAD 1 (RWX)" && surface.count == 9)
        let cs = try #require(o["changes"] as? [[String: Any]])
        #expect(cs.count == Self.history.changes.count)
        let move = try #require(cs.first { $0["key"] as? String == "payload.elf.entry.segment" })
        #expect(move["release"] as? String == "6.17.8" && move["previous"] as? String == "6.16.12" && move["impact"] as? String == "needs-attention")
        #expect(move["old"] as? String == "PT_LOAD 0 (R-X)" && move["noise"] as? Bool == false && (move["reason"] as? String)?.isEmpty == false)
    }

    /// Each plot parses as XML, is SVG, and has one point per release in each series
    /// (handover_offset and the entry offsets are in every release here).
    @Test func plotsAreWellFormedSVGWithAPointPerRelease() throws {
        let plots = Self.history.plots
        #expect(plots.map(\.name) == ["init_size.svg", "image-size.svg", "entry-offsets.svg"])
        for (name, svg) in plots {
            #expect(!svg.contains("href") && !svg.contains("<script"), "\(name): self-contained")
            let doc = try XMLDocument(xmlString: svg)
            let root = try #require(doc.rootElement())
            #expect(root.localName == "svg" && root.uri == "http://www.w3.org/2000/svg", "\(name)")
            let series = try root.nodes(forXPath: "//*[local-name()='g'][@class='series']").compactMap { $0 as? XMLElement }
            #expect(series.count == (name == "entry-offsets.svg" ? 3 : 1), "\(name)")
            for g in series {
                let points = try g.nodes(forXPath: "*[local-name()='circle'][@class='point']")
                #expect(points.count == 5, "\(name) \(Self.attribute(g, "data-name") ?? "")")
                let titles = points.compactMap { ($0 as? XMLElement)?.elements(forName: "title").first?.stringValue }
                #expect(titles.map { String($0.prefix { $0 != ":" }) } == ["6.16.3", "6.16.12", "6.17.8", "7.3-rc7", "7.3"])
            }
        }
        // The jump of e_entry − p_paddr at 6.17 is drawn: that point sits far above 6.16.12's.
        let doc = try XMLDocument(xmlString: plots[2].svg)
        let entry = try #require(doc.rootElement())
        let g = try #require(try entry.nodes(forXPath: "//*[local-name()='g'][@class='series']").compactMap { $0 as? XMLElement }.first { Self.attribute($0, "data-name") == "e_entry - lowest p_paddr" })
        let ys = try g.nodes(forXPath: "*[local-name()='circle']").compactMap { ($0 as? XMLElement).flatMap { Self.attribute($0, "cy") }.flatMap(Double.init) }
        #expect(ys.count == 5 && ys[2] < ys[1] - 100)
    }

    /// An attribute by name (FoundationXML's attribute(forName:) misses names with a '-').
    static func attribute(_ e: XMLElement, _ name: String) -> String? { e.attributes?.first { $0.name == name }?.stringValue }

    /// One package per release: the higher package version where two suites share a release,
    /// and the newest of each series.
    @Test func candidatesOnePerRelease() {
        let stanzas = """
            Package: linux-binary-unsigned-7.2.13+deb13-cloud-amd64
            Version: 7.2.13-1~bpo13+1
            SHA256: 1111111111111111111111111111111111111111111111111111111111111111

            Package: linux-binary-unsigned-7.3-cloud-amd64
            Version: 7.3~rc7-1~exp1
            SHA256: 2222222222222222222222222222222222222222222222222222222222222222

            Package: linux-image-6.12.57+deb13-cloud-amd64-unsigned
            Version: 6.12.57-1
            SHA256: 3333333333333333333333333333333333333333333333333333333333333333

            Package: linux-image-6.12.48+deb13-cloud-amd64-unsigned
            Version: 6.12.48-1
            SHA256: 4444444444444444444444444444444444444444444444444444444444444444
            """
        let unstable = """
            Package: linux-binary-unsigned-7.2.13+deb14-cloud-amd64
            Version: 7.2.13-1
            SHA256: 5555555555555555555555555555555555555555555555555555555555555555
            """
        let ks = DebianArchive.kernels(stanzas: stanzas, suite: .trixieBackports, flavour: .cloud) + DebianArchive.kernels(stanzas: unstable, suite: .unstable, flavour: .cloud)
        let c = KernelHistory.candidates(ks)
        #expect(c.map(\.release) == ["6.12.48", "6.12.57", "7.2.13", "7.3-rc7"])
        #expect(c[2].suite == .unstable && c[2].version.description == "7.2.13-1")
        #expect(KernelHistory.newestPerSeries(c).map(\.release) == ["6.12.57", "7.2.13", "7.3-rc7"])
    }
}
