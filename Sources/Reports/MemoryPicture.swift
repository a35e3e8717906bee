import Conformance
import Foundation

/// Guest memory as a loader laid it out, as self-contained SVG text: addresses on a vertical
/// log₂ axis (low memory at the bottom, so the GDT at 0x500 and RAM above 4 GiB share one
/// picture), three lanes of rectangles (the e820 map; W, the kernel's claimed range; what the
/// loader wrote: zero page, command line, setup_data, page tables, GDT, kernel, initrd,
/// start_info), and a column of labels, each naming its object's addresses and joined to its
/// rectangle by a leader line. Labels keep their objects' address order and are pushed apart
/// so they never overlap.
///
/// Every rectangle is `<rect class="box" data-lane=… data-start=… data-end=…>` with a
/// `<title>` (the browser's tooltip), in lane order and, within a lane, in address order.
public struct MemoryPicture: Sendable {
    public enum Lane: String, Sendable, CaseIterable {
        case e820
        /// W: [L, L + init_size), the memory the kernel claims before it reads the map (BP-22).
        case window = "W"
        case loader
    }

    public struct Box: Sendable {
        public let name: String
        public let lane: Lane
        public let range: AddressRange
        public init(name: String, lane: Lane, range: AddressRange) { self.name = name; self.lane = lane; self.range = range }
    }

    public let title: String
    /// In lane order, then by address.
    public let boxes: [Box]

    public init(title: String, boxes: [Box]) {
        self.title = title
        let lanes = Lane.allCases
        self.boxes = boxes.sorted { a, b in
            let (la, lb) = (lanes.firstIndex(of: a.lane)!, lanes.firstIndex(of: b.lane)!)
            return la != lb ? la < lb : (a.range.start, a.range.end) < (b.range.start, b.range.end)
        }
    }

    /// The reference loader's load: its e820, W and every region it wrote.
    public init(title: String, load r: LoadResult) {
        var boxes = r.e820.compactMap { e in e.range.map { Box(name: "e820 \(e.type)", lane: .e820, range: $0) } }
        boxes.append(Box(name: "W (init_size from L)", lane: .window, range: r.kernelWindow))
        boxes += r.regions.map { Box(name: Self.regionNames[$0.name] ?? $0.name, lane: .loader, range: $0.range) }
        self.init(title: title, boxes: boxes)
    }

    /// The loader's region names as a reader knows them.
    static let regionNames = ["zero_page": "zero page", "cmdline": "command line", "page_tables": "page tables", "gdt": "GDT",
                              "pvh.start_info": "start_info", "pvh.modlist": "start_info modules", "pvh.memmap": "start_info memory map",
                              "acpi.rsdp": "ACPI RSDP", "real_mode": "real-mode part"]

    /// Fill colours by object: RAM green, reserved grey, the kernel blue, the initrd orange.
    static func colour(_ b: Box) -> String {
        switch b.lane {
        case .e820: return b.name == "e820 RAM" ? "#cdeccd" : "#d0d0d0"
        case .window: return "#fff3b0"
        case .loader:
            if b.name.hasPrefix("kernel") { return "#7fa7d9" }
            let c = ["initrd": "#f4a259", "zero page": "#e05d5d", "command line": "#9b6fcf", "setup_data": "#4fb0a5",
                     "page tables": "#8d6e63", "GDT": "#5c6bc0", "start_info": "#e05d5d"]
            return c[b.name] ?? "#a0a0a0"
        }
    }

    /// "4 KiB", "1.5 MiB", "300 B".
    static func sizeText(_ n: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (u, name) in units where n >= u {
            let v = Double(n) / Double(u)
            return (v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v)) + " " + name
        }
        return "\(n) B"
    }

    /// "zero page [0x7000, 0x8000) 4 KiB".
    public static func label(_ b: Box) -> String { "\(b.name) \(b.range) \(sizeText(b.range.length))" }

    // Geometry: the axis, three lanes, the label column.
    static let top = 50.0, plotHeight = 600.0, axisX = 150.0, labelX = 420.0, width = 900.0
    static let laneX: [Lane: (Double, Double)] = [.e820: (160, 230), .window: (245, 285), .loader: (300, 370)]
    /// The least vertical distance between two labels.
    public static let labelGap = 13.0

    public var svg: String {
        func f(_ d: Double) -> String { String(format: "%.1f", d) }
        let lowExp = 8   // 256 bytes: anything below (the first e820 entry starts at 0) sits on the floor
        let highest = boxes.map(\.range.end).max() ?? (1 << 20)
        var highExp = 20
        while highExp < 64 && (UInt64(1) << UInt64(highExp)) < highest { highExp += 1 }
        let bottom = Self.top + Self.plotHeight
        func y(_ a: UInt64) -> Double {
            let e = a <= (1 << UInt64(lowExp)) ? Double(lowExp) : log2(Double(a))
            return bottom - Self.plotHeight * (e - Double(lowExp)) / Double(highExp - lowExp)
        }
        let height = bottom + 40
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" class="memory" width="\(f(Self.width))" height="\(f(height))" viewBox="0 0 \(f(Self.width)) \(f(height))" font-family="sans-serif" font-size="11">
            <title>\(xmlEscape(title))</title>
            <rect x="0" y="0" width="\(f(Self.width))" height="\(f(height))" fill="white"/>
            <text x="10" y="20" font-size="14" font-weight="bold">\(xmlEscape(title))</text>
            <line x1="\(f(Self.axisX))" y1="\(f(Self.top))" x2="\(f(Self.axisX))" y2="\(f(bottom))" stroke="black"/>

            """
        for (lane, (x0, x1)) in Self.laneX.sorted(by: { $0.value.0 < $1.value.0 }) {
            s += "<text x=\"\(f((x0 + x1) / 2))\" y=\"\(f(Self.top - 8))\" text-anchor=\"middle\" font-weight=\"bold\">\(lane.rawValue)</text>\n"
        }
        // One tick per power of two, labelled every other one (and at the top).
        for e in lowExp...highExp {
            let v = UInt64(1) << UInt64(e), ty = y(v)
            s += "<line x1=\"\(f(Self.axisX - 4))\" y1=\"\(f(ty))\" x2=\"\(f(Self.laneX[.loader]!.1))\" y2=\"\(f(ty))\" stroke=\"#eee\"/>"
            if (e - lowExp) % 2 == 0 || e == highExp {
                s += "<text class=\"tick\" x=\"\(f(Self.axisX - 6))\" y=\"\(f(ty + 4))\" text-anchor=\"end\">\(hex(v)) (\(Self.sizeText(v)))</text>"
            }
            s += "\n"
        }
        s += "<text class=\"tick\" x=\"\(f(Self.axisX - 6))\" y=\"\(f(bottom + 14))\" text-anchor=\"end\">0</text>\n"

        // Rectangles, then labels placed in address order (bottom up) and pushed apart.
        struct Placed {
            let box: Box, y0: Double, y1: Double
            var labelY: Double
            var anchor: Double { y1 - min(4, (y1 - y0) / 2) }
        }
        var placed = boxes.map { b -> Placed in
            let y1 = y(b.range.start), y0 = min(y(b.range.end), y1 - 2)   // at least 2 px tall
            // Each label starts out beside its object's start (its lower edge).
            return Placed(box: b, y0: y0, y1: y1, labelY: y1 - min(4, (y1 - y0) / 2))
        }
        var order = placed.indices.sorted { (placed[$0].box.range.start, placed[$0].box.range.end, placed[$0].box.lane.rawValue) < (placed[$1].box.range.start, placed[$1].box.range.end, placed[$1].box.lane.rawValue) }
        order.reverse()   // top of the picture (highest address) first
        var last = -Double.infinity
        for i in order { placed[i].labelY = max(placed[i].labelY, last + Self.labelGap); last = placed[i].labelY }
        var floor = bottom + 10
        for i in order.reversed() { placed[i].labelY = min(placed[i].labelY, floor); floor = placed[i].labelY - Self.labelGap }
        for p in placed {
            let (x0, x1) = Self.laneX[p.box.lane]!
            let text = Self.label(p.box)
            s += "<rect class=\"box\" data-lane=\"\(p.box.lane.rawValue)\" data-start=\"\(hex(p.box.range.start))\" data-end=\"\(hex(p.box.range.end))\" x=\"\(f(x0))\" y=\"\(f(p.y0))\" width=\"\(f(x1 - x0))\" height=\"\(f(p.y1 - p.y0))\" fill=\"\(Self.colour(p.box))\" stroke=\"#333\" stroke-width=\"0.5\"><title>\(xmlEscape(text))</title></rect>\n"
            s += "<polyline fill=\"none\" stroke=\"#888\" stroke-width=\"0.7\" points=\"\(f(x1)),\(f(p.anchor)) \(f(Self.labelX - 30)),\(f(p.anchor)) \(f(Self.labelX - 4)),\(f(p.labelY - 4))\"/>"
            s += "<text class=\"label\" data-start=\"\(hex(p.box.range.start))\" x=\"\(f(Self.labelX))\" y=\"\(f(p.labelY))\">\(xmlEscape(text))</text>\n"
        }
        return s + "</svg>\n"
    }
}
