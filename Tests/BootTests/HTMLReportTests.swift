import Conformance
import ConformanceFixtures
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Glibc
import Reports
import Runners
import TestSupport
import Testing

/// A report over two synthetic kernels (a bzImage and a PVH ELF), with a hostile command line
/// and file name, a loader matrix, a surface diff and a two-release history: every section.
enum HTMLFixture {
    static let hostileCommandLine = "console=ttyS0 <script>alert('x')</script> a&b \"q\""
    static let hostileName = "new<script>&.bz"

    static func report() throws -> HTMLReport {
        let ws = try GateWorkspace()
        defer { ws.cleanup() }
        var kernels: [HTMLReport.Kernel] = []
        var gate: [GateKernel] = []
        for (id, name) in [("bz-2.15", hostileName), ("pvh-desc8", "pvh.elf")] {
            let path = ws.directory + "/" + name
            #expect(FileManager.default.createFile(atPath: path, contents: Data(try syntheticImage(id).image)))
            let k = try ws.kernel(path)
            gate.append(k)
            kernels.append(HTMLReport.Kernel(k, initrd: [UInt8](repeating: 0x5A, count: 8192), commandLine: hostileCommandLine))
        }
        var r = HTMLReport(title: "test <report>")
        r.kernels = kernels
        r.diffs = [HTMLReport.SurfaceDiff(from: gate[1].label, to: gate[0].label, changes: Surface.diff(old: gate[1].surface, new: gate[0].surface))]
        r.matrix = matrix
        r.history = KernelHistory(releases: [
            HistoryRelease(release: "6.1.1", version: DebianVersion("6.1.1-1")!, suite: "bookworm", package: "p", imageSize: 8_000_000,
                           surface: [SurfaceItem("header.init_size", "0x2000000"), SurfaceItem("protocol", "2.15")]),
            HistoryRelease(release: "6.12.1", version: DebianVersion("6.12.1-1")!, suite: "trixie", package: "p", imageSize: 9_000_000,
                           surface: [SurfaceItem("header.init_size", "0x3000000"), SurfaceItem("protocol", "2.15")]),
        ])
        return r
    }

    /// Three loaders: one fails BP-27 on one variant (with hostile evidence) and passes it on
    /// another; one is skipped; an arm64 Image row fails A64-11, explained by a record.
    static var matrix: MatrixReport {
        var m = MatrixReport()
        m.loaders = [MatrixLoader(id: "vmm", version: "1.0", package: "vmm", skipped: nil),
                     MatrixLoader(id: "absent", version: "", package: "absent-pkg", skipped: "not installed (apt-get install absent-pkg)"),
                     MatrixLoader(id: "u-boot-arm64", version: "2023.01", package: "u-boot-qemu", skipped: nil)]
        var a = MatrixResult(loader: "vmm", variant: "v1")
        a.booted = true; a.report = true; a.fail = ["BP-27"]; a.pass = ["BP-01"]; a.na = ["BP-60"]
        a.failures = [Verdict(rule: "BP-27", outcome: .fail, evidence: "command line <b>cut</b> at 0x10")]
        var b = MatrixResult(loader: "vmm", variant: "v2")
        b.booted = true; b.report = true; b.pass = ["BP-27", "BP-01"]; b.warn = ["BP-35"]
        var c = MatrixResult(loader: "u-boot-arm64", variant: "arm64-t0-base")
        c.booted = true; c.report = true; c.fail = ["A64-11"]; c.pass = ["A64-01"]; c.na = ["A64-14"]
        c.failures = [Verdict(rule: "A64-11", outcome: .fail, evidence: "DAIF = 0x2C0: A unmasked")]
        c.explained["A64-11"] = KnownDeviations.imageLoaders.first { $0.loader == "u-boot-arm64" && $0.rule == "A64-11" }
        m.results = [a, b, c]
        return m
    }
}

/// Serialized: with a malformed document (a broken build), libxml2's error reporting through
/// Foundation hung when two tests parsed at once; one at a time, the tests fail as they should.
@Suite("HTMLReport", .serialized)
struct HTMLReportTests {
    static func parse(_ html: String) throws -> XMLDocument { try XMLDocument(xmlString: html) }
    /// An attribute by XPath (`attribute(forName:)` misses attributes of elements in a default
    /// namespace, as XHTML's and SVG's are).
    static func attribute(_ e: XMLElement, _ name: String) -> String? { (try? e.nodes(forXPath: "@" + name))?.first?.stringValue }

    /// The document parses as XML (a strict check of nesting and escaping), names every rule
    /// of the catalogue in the kernel × rule and loader × rule matrices, carries no script and
    /// refers to nothing outside itself.
    @Test func wellFormedCompleteAndSelfContained() throws {
        let html = try HTMLFixture.report().html
        let doc = try Self.parse(html)
        #expect(doc.rootElement()?.name == "html")
        for table in ["kernel-rules", "loader-rules"] {
            let rows = Set(try doc.nodes(forXPath: "//*[local-name()='table'][@id='\(table)']/*[local-name()='tr']/@data-rule").compactMap(\.stringValue))
            let missing = RuleCatalogue.all.map(\.id.rawValue).filter { !rows.contains($0) }
            #expect(missing.isEmpty, "\(table) lacks \(missing)")
        }
        // Self-contained: no script, no external reference of any kind.
        #expect(try doc.nodes(forXPath: "//*[local-name()='script']").isEmpty)
        for bad in ["<script", "src=", "url(", "@import", "@font-face", "http://", "https://"] {
            let hits = html.components(separatedBy: bad).count - 1
            // The only http URLs are the XML namespaces of XHTML and SVG.
            let allowed = bad == "http://" ? html.components(separatedBy: "xmlns=\"http://www.w3.org/").count - 1 : 0
            #expect(hits == allowed, "\(bad) appears \(hits) times")
        }
        for href in try doc.nodes(forXPath: "//@href").compactMap(\.stringValue) { #expect(href.hasPrefix("#"), "\(href)") }
        // Each section is there: four memory pictures (two entries each), the diff, the plots.
        #expect(try doc.nodes(forXPath: "//*[local-name()='svg'][@class='memory']").count == 4)
        #expect(try doc.nodes(forXPath: "//*[local-name()='table'][@class='surface']").count == 2, "the diff and the history's changes")
        #expect(try doc.nodes(forXPath: "//*[local-name()='circle'][@class='point']").count == 4, "init_size and image size, two releases each (the fixture has no entry offsets)")
    }

    /// Hostile text (a command line holding `<script>`, a file name with `<` and `&`, loader
    /// evidence with markup) comes out as text, never as markup.
    @Test func hostileStringsAreEscaped() throws {
        let html = try HTMLFixture.report().html
        let doc = try Self.parse(html)
        let code = try doc.nodes(forXPath: "//*[local-name()='code']").compactMap(\.stringValue)
        #expect(code.contains(HTMLFixture.hostileCommandLine), "\(code)")
        #expect(try doc.nodes(forXPath: "//*[local-name()='b']").isEmpty, "loader evidence became markup")
        let titles = try doc.nodes(forXPath: "//*[local-name()='td']/@title").compactMap(\.stringValue)
        #expect(titles.contains { $0.contains("fails on v1: command line <b>cut</b> at 0x10") }, "the evidence is the cell's tooltip")
        #expect(try doc.nodes(forXPath: "//*[local-name()='h3']").compactMap(\.stringValue).contains { $0.contains(HTMLFixture.hostileName) })
        #expect(try doc.nodes(forXPath: "//*[local-name()='title']").first?.stringValue == "test <report>")
    }

    /// The loader × rule cells count variants: a failure on one variant fails the cell, a
    /// warning alone warns, a skipped loader says so.
    @Test func loaderMatrixCells() throws {
        let doc = try Self.parse(try HTMLFixture.report().html)
        func cell(_ rule: String, _ column: Int) throws -> (class: String?, stringValue: String?) {
            let n = try doc.nodes(forXPath: "//*[local-name()='table'][@id='loader-rules']/*[local-name()='tr'][@data-rule='\(rule)']/*[local-name()='td'][\(column + 1)]")
            let e = try #require(n.first as? XMLElement, "no cell \(rule) column \(column)")
            return (Self.attribute(e, "class"), e.stringValue)
        }
        #expect(try cell("BP-27", 1).class == "v fail")
        #expect(try cell("BP-27", 1).stringValue == "✗ 1")
        #expect(try cell("BP-35", 1).class == "v warn")
        #expect(try cell("BP-01", 1).stringValue == "✓ 2")
        #expect(try cell("BP-60", 1).stringValue == "n/a")
        #expect(try cell("BP-02", 1).class == "v none")
        // The Image row's column lists the A64 rules (catalogue order after the BP rules, with
        // their titles); no RV row, since no verdict names one.
        #expect(try cell("A64-11", 3).class == "v known")
        #expect(try cell("A64-01", 3).stringValue == "✓ 1")
        #expect(try cell("A64-02", 3).class == "v none")
        let title = try doc.nodes(forXPath: "//*[local-name()='tr'][@data-rule='A64-01']/*[local-name()='td'][1]/@title").first?.stringValue
        #expect(title == "Image header valid")
        #expect(try doc.nodes(forXPath: "//*[local-name()='tr'][@data-rule='RV-01']").isEmpty)
        let rows = try doc.nodes(forXPath: "//*[local-name()='table'][@id='loader-rules']/*[local-name()='tr']/@data-rule").compactMap(\.stringValue)
        #expect(rows.firstIndex(of: "BP-92").map { $0 < rows.firstIndex(of: "A64-01") ?? -1 } == true, "BP rules first, then A64")
    }

    /// The memory picture: in each lane the rectangles go up the page as addresses rise (a log
    /// axis with low memory at the bottom), every rectangle has a label naming its start, and
    /// the labels keep address order without overlapping.
    @Test func memoryPictureIsOrderedAndLabelled() throws {
        let report = try HTMLFixture.report()
        let load = try #require(report.kernels[0].loads.first { $0.entry == .long64 }?.load)
        let svg = MemoryPicture(title: "bz", load: load).svg
        let doc = try Self.parse(svg)
        let rects = try doc.nodes(forXPath: "//*[local-name()='rect'][@class='box']").compactMap { $0 as? XMLElement }
        func attr(_ e: XMLElement, _ n: String) -> String { HTMLReportTests.attribute(e, n) ?? "" }
        func num(_ s: String) -> UInt64 { UInt64(s.dropFirst(2), radix: 16) ?? .max }
        // Every object the loader placed is there.
        let names = rects.compactMap { $0.elements(forName: "title").first?.stringValue }
        for n in ["zero page", "command line", "setup_data", "page tables", "kernel", "initrd", "W (init_size from L)", "e820 RAM", "GDT"] {
            #expect(names.contains { $0.hasPrefix(n + " [") }, "no \(n) in \(names)")
        }
        #expect(names.contains { $0.hasPrefix("kernel [\(hex(load.kernelAddress)), ") }, "the kernel sits at L")
        for lane in MemoryPicture.Lane.allCases {
            let mine = rects.filter { attr($0, "data-lane") == lane.rawValue }
            #expect(!mine.isEmpty, "lane \(lane)")
            let starts = mine.map { num(attr($0, "data-start")) }
            #expect(starts == starts.sorted(), "lane \(lane) out of address order: \(starts.map(hex))")
            let ys = mine.map { Double(attr($0, "y"))! + Double(attr($0, "height"))! }   // the lower edge: the start
            for (a, b) in zip(zip(starts, ys), zip(starts, ys).dropFirst()) where a.0 < b.0 { #expect(a.1 > b.1, "a higher address is drawn higher") }
        }
        let labels = try doc.nodes(forXPath: "//*[local-name()='text'][@class='label']").compactMap { $0 as? XMLElement }
        #expect(labels.count == rects.count)
        for r in rects { #expect(labels.contains { attr($0, "data-start") == attr(r, "data-start") && ($0.stringValue ?? "").contains("[" + attr(r, "data-start") + ", ") }) }
        // Going up the page, the labels' addresses never fall, and labels are a line apart.
        let up = labels.sorted { Double(attr($0, "y"))! > Double(attr($1, "y"))! }
        let starts = up.map { num(attr($0, "data-start")) }
        #expect(starts == starts.sorted(), "labels out of address order: \(starts.map(hex))")
        let ly = up.map { Double(attr($0, "y"))! }
        for (a, b) in zip(ly, ly.dropFirst()) { #expect(a - b >= MemoryPicture.labelGap - 0.01, "labels overlap: \(ly)") }
    }

    /// `conform report --history` reads what `conform history --json` wrote: the same releases,
    /// so the same plots.
    @Test func historyReadsBack() throws {
        let h = try #require(try HTMLFixture.report().history)
        let back = try KernelHistory.read(jsonData(h.json), name: "h.json")
        #expect(back.releases.map(\.release) == h.releases.map(\.release))
        #expect(back.plots.map(\.svg) == h.plots.map(\.svg))
        #expect(throws: HostToolError.self) { try KernelHistory.read(Data("{\"format\":\"kernel-history/0\"}".utf8), name: "old.json") }
    }
}

/// The report in a real browser: Debian's chromium renders it headless; the screenshot must be
/// a PNG of more than one colour and the console must stay silent (the report has no script,
/// so any console message is an error). The same check on a page with a failing script must
/// see the error, so the check itself can fail.
@Suite("HTMLReportBrowser", .serialized)
struct HTMLReportBrowserTests {
    static let chromium = (["/usr/bin/chromium", "/usr/bin/chromium-browser"] as [String]).first { access($0, X_OK) == 0 }
    static let why = "chromium not installed (apt-get install chromium)"

    struct Rendered { let png: [UInt8]; let console: [String] }

    /// Renders `html` at 1280 × 2000 into a PNG; the console lines chromium logged.
    static func render(_ html: String) throws -> Rendered {
        let dir = try Scratch.directory("html-browser")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let page = dir + "/report.html", shot = dir + "/shot.png"
        try html.write(toFile: page, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(chromium))
        p.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(dir)/profile", "--enable-logging=stderr", "--v=0",
                       "--screenshot=\(shot)", "--window-size=1280,2000", "file://" + page]
        let err = Pipe()
        p.standardError = err; p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Reading to the end also waits for the browser's helpers, which share the pipe.
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let console = log.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") }
        let png = FileManager.default.contents(atPath: shot).map { [UInt8]($0) } ?? []
        #expect(!png.isEmpty, "no screenshot; chromium said: \(log.suffix(2000))")
        return Rendered(png: png, console: console)
    }

    @Test(.enabled(if: chromium != nil, "\(why)"), .hangGuard)
    func rendersWithoutConsoleErrors() async throws {
        let html = try HTMLFixture.report().html
        let r = try await offPool { try Self.render(html) }
        let image = try PNGImage(r.png)
        #expect(image.width == 1280 && image.height == 2000)
        #expect(image.distinctColours(upTo: 16) > 1, "the screenshot is a single colour")
        #expect(r.console.isEmpty, "\(r.console)")
    }

    @Test(.enabled(if: chromium != nil, "\(why)"), .hangGuard)
    func theCheckSeesAConsoleError() async throws {
        let r = try await offPool { try Self.render("<!DOCTYPE html><html><body><p>x</p><script>undefinedFunction();</script></body></html>") }
        #expect(r.console.contains { $0.contains("undefinedFunction") }, "\(r.console)")
        #expect(try PNGImage(r.png).distinctColours(upTo: 16) > 1)
    }
}

/// Just enough of PNG to look at a screenshot: 8-bit RGB or RGBA, not interlaced; the zlib
/// stream inflated by the system's libz (found with dlopen, as every Debian system has it).
struct PNGImage {
    struct Bad: Error, CustomStringConvertible { let description: String }
    let width: Int, height: Int, channels: Int
    let pixels: [UInt8]

    init(_ b: [UInt8]) throws {
        guard b.count > 33, b.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw Bad(description: "not a PNG (\(b.count) bytes)") }
        func u32(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        var o = 8, idat: [UInt8] = []
        var w = 0, h = 0, depth = 0, type = 0, interlace = 0
        while o + 12 <= b.count {
            let len = u32(o), kind = String(decoding: b[(o + 4)..<(o + 8)], as: UTF8.self)
            guard o + 12 + len <= b.count else { throw Bad(description: "chunk \(kind) at \(o) runs past the file") }
            let d = Array(b[(o + 8)..<(o + 8 + len)])
            if kind == "IHDR" { w = u32(o + 8); h = u32(o + 12); depth = Int(d[8]); type = Int(d[9]); interlace = Int(d[12]) }
            if kind == "IDAT" { idat += d }
            o += 12 + len
        }
        guard depth == 8, type == 2 || type == 6, interlace == 0 else { throw Bad(description: "PNG depth \(depth) type \(type) interlace \(interlace): not handled") }
        width = w; height = h; channels = type == 6 ? 4 : 3
        let stride = w * channels
        var raw = [UInt8](repeating: 0, count: h * (stride + 1))
        guard let lib = dlopen("libz.so.1", RTLD_NOW), let sym = dlsym(lib, "uncompress") else { throw Bad(description: "libz.so.1 not found") }
        typealias Uncompress = @convention(c) (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt>, UnsafePointer<UInt8>, UInt) -> Int32
        var outLen = UInt(raw.count)
        let rc = raw.withUnsafeMutableBufferPointer { out in idat.withUnsafeBufferPointer { unsafeBitCast(sym, to: Uncompress.self)(out.baseAddress!, &outLen, $0.baseAddress!, UInt($0.count)) } }
        guard rc == 0, outLen == UInt(raw.count) else { throw Bad(description: "inflate: zlib \(rc), \(outLen) of \(raw.count) bytes") }
        // Undo the per-row filters (PNG 1.2 §6).
        var px = [UInt8](repeating: 0, count: h * stride)
        for y in 0..<h {
            let f = raw[y * (stride + 1)], row = y * (stride + 1) + 1
            for x in 0..<stride {
                let a = x >= channels ? Int(px[y * stride + x - channels]) : 0
                let up = y > 0 ? Int(px[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(px[(y - 1) * stride + x - channels]) : 0
                let v = Int(raw[row + x])
                let pred: Int
                switch f {
                case 0: pred = 0
                case 1: pred = a
                case 2: pred = up
                case 3: pred = (a + up) / 2
                case 4:
                    let p = a + up - c, pa = abs(p - a), pb = abs(p - up), pc = abs(p - c)
                    pred = pa <= pb && pa <= pc ? a : pb <= pc ? up : c
                default: throw Bad(description: "row \(y): filter \(f)")
                }
                px[y * stride + x] = UInt8((v + pred) & 0xFF)
            }
        }
        pixels = px
    }

    /// How many different pixel values there are, counting up to `limit`.
    func distinctColours(upTo limit: Int) -> Int {
        var seen: Set<[UInt8]> = []
        var i = 0
        while i < pixels.count && seen.count < limit {
            seen.insert(Array(pixels[i..<(i + channels)]))
            i += channels
        }
        return seen.count
    }
}
