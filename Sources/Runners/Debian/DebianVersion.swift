/// A Debian package version, `[epoch:]upstream[-revision]`, ordered as `dpkg --compare-versions`
/// orders them (deb-version(7)): "6.12.117-1~deb12u1" < "7.2.13-1"; "7.3~rc7-1~exp1" < "7.3-1".
public struct DebianVersion: Sendable, Comparable, CustomStringConvertible {
    public let epoch: Int
    public let upstream: String
    public let revision: String
    public let description: String

    /// Nil when the text is not a version: empty, a non-numeric epoch, or an empty upstream part.
    public init?(_ text: String) {
        var rest = Substring(text)
        var e = 0
        if let colon = rest.firstIndex(of: ":") {
            guard let n = Int(rest[..<colon]), n >= 0 else { return nil }
            e = n; rest = rest[rest.index(after: colon)...]
        }
        var rev = ""
        if let dash = rest.lastIndex(of: "-") { rev = String(rest[rest.index(after: dash)...]); rest = rest[..<dash] }
        guard !rest.isEmpty, rest.first!.isNumber else { return nil }
        epoch = e; upstream = String(rest); revision = rev; description = text
    }

    /// The kernel release a package version carries: the upstream part, with "~rc" as the
    /// kernel spells it, "-rc" ("7.3~rc7-1~exp1" → "7.3-rc7").
    public var release: String { upstream.replacingOccurrences(of: "~rc", with: "-rc") }

    public static func < (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) < 0 }
    public static func == (a: DebianVersion, b: DebianVersion) -> Bool { compare(a, b) == 0 }

    static func compare(_ a: DebianVersion, _ b: DebianVersion) -> Int {
        if a.epoch != b.epoch { return a.epoch < b.epoch ? -1 : 1 }
        let u = compare(part: a.upstream, b.upstream)
        return u != 0 ? u : compare(part: a.revision, b.revision)
    }

    /// deb-version(7): alternate non-digit runs (compared character by character, '~' before
    /// everything, even the end; letters before non-letters) and digit runs (compared as numbers).
    static func compare(part a: String, _ b: String) -> Int {
        func digit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
        func order(_ c: Character?) -> Int {
            guard let c else { return 0 }
            if c == "~" { return -1 }
            if c.isASCII && c.isLetter { return Int(c.asciiValue ?? 0) }
            return Int(c.asciiValue ?? 0) + 256
        }
        var x = Array(a)[...], y = Array(b)[...]
        while !x.isEmpty || !y.isEmpty {
            while x.first.map({ !digit($0) }) ?? false || y.first.map({ !digit($0) }) ?? false {
                let p = order(x.first.flatMap { digit($0) ? nil : $0 }), q = order(y.first.flatMap { digit($0) ? nil : $0 })
                if p != q { return p < q ? -1 : 1 }
                // Equal orders: both are the same non-digit.
                x = x.dropFirst(); y = y.dropFirst()
            }
            let dx = x.prefix(while: digit), dy = y.prefix(while: digit)
            x = x.dropFirst(dx.count); y = y.dropFirst(dy.count)
            let nx = dx.drop { $0 == "0" }, ny = dy.drop { $0 == "0" }
            if nx.count != ny.count { return nx.count < ny.count ? -1 : 1 }
            if nx != ny { return String(nx) < String(ny) ? -1 : 1 }
        }
        return 0
    }
}
