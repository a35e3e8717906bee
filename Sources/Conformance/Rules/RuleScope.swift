/// The image formats and protocol versions each rule applies to, declared beside its entries
/// (`RuleEntries`): a rule is judged only on an image of one of its formats and, for a
/// bzImage, of one of its protocol versions; elsewhere it is n/a with the declared reason
/// ("applies to bzImage images; this is an ELF vmlinux", "applies from protocol 2.09; this
/// image is 2.06").
///
/// Formats follow the spec digest's sections: §4.1's header checks and §4.3's bzImage placement
/// read a setup header an ELF does not have; §4.12 is the ELF's own entry, §4.13 its well-formedness. Versions follow §3
/// (the version history): kernel_info from 2.15 (BP-09), hardware_subarch from 2.07 (BP-18),
/// cmd_line_ptr from 2.02 (BP-26) and the cl_magic protocol before it (BP-30), setup_data from
/// 2.09 (BP-41). A rule not named here applies to both formats and every version.
public struct RuleScope: Sendable, Equatable {
    public let formats: Set<ImageRecord.Format>
    /// The bzImage protocol versions (an ELF has none); nil: every version.
    public let versions: Range<ProtocolVersion>?

    static let any = RuleScope(formats: [.bzImage, .elf], versions: nil)
    static func bz(from v: ProtocolVersion? = nil, before end: ProtocolVersion? = nil) -> RuleScope {
        let lo = v ?? ProtocolVersion(rawValue: 0), hi = end ?? ProtocolVersion(rawValue: .max)
        return RuleScope(formats: [.bzImage], versions: v == nil && end == nil ? nil : lo..<hi)
    }
    static let elf = RuleScope(formats: [.elf], versions: nil)

    static let table: [RuleID: RuleScope] = {
        var t: [RuleID: RuleScope] = [:]
        for id: RuleID in ["BP-01", "BP-02", "BP-03", "BP-04", "BP-05", "BP-06", "BP-07", "BP-10", "BP-20", "BP-21", "BP-23", "BP-32", "BP-53", "BP-59"] { t[id] = .bz() }
        t["BP-09"] = .bz(from: ProtocolVersion(2, 15))
        t["BP-30"] = .bz(before: ProtocolVersion(2, 2))
        for id: RuleID in ["BP-68", "BP-70", "BP-71", "BP-72", "BP-73", "BP-74", "BP-75", "BP-76", "BP-77"] { t[id] = .elf }
        // Both formats, but the field exists only from a version on (an ELF has no version).
        t["BP-18"] = RuleScope(formats: [.bzImage, .elf], versions: ProtocolVersion(2, 7)..<ProtocolVersion(rawValue: .max))
        t["BP-26"] = RuleScope(formats: [.bzImage, .elf], versions: ProtocolVersion(2, 2)..<ProtocolVersion(rawValue: .max))
        t["BP-41"] = RuleScope(formats: [.bzImage, .elf], versions: ProtocolVersion(2, 9)..<ProtocolVersion(rawValue: .max))
        return t
    }()

    /// The scope of rule `id` (every format and version for an id the table does not name).
    public static func of(_ id: RuleID) -> RuleScope { table[id] ?? .any }

    /// Why the rule does not apply to this image, or nil when it does.
    public func exclusion(format: ImageRecord.Format, version: ProtocolVersion) -> String? {
        guard formats.contains(format) else {
            return "applies to \(formats.contains(.bzImage) ? "bzImage" : "ELF vmlinux") images; this is \(format == .elf ? "an ELF vmlinux" : "a bzImage")"
        }
        guard format == .bzImage, let versions, !versions.contains(version) else { return nil }
        if versions.upperBound.rawValue == .max { return "applies from protocol \(versions.lowerBound); this image is \(version)" }
        if versions.lowerBound.rawValue == 0 { return "applies before protocol \(versions.upperBound); this image is \(version)" }
        return "applies to protocols \(versions.lowerBound) to before \(versions.upperBound); this image is \(version)"
    }

    /// "bzImage", "ELF", "bzImage and ELF", with the versions: "bzImage 2.09+".
    public var summary: String {
        let f = [ImageRecord.Format.bzImage, .elf].filter(formats.contains).map { $0 == .elf ? "ELF" : "bzImage" }.joined(separator: " and ")
        guard let versions else { return f }
        if versions.upperBound.rawValue == .max { return f + " (bzImage \(versions.lowerBound)+)" }
        if versions.lowerBound.rawValue == 0 { return f + " (bzImage before \(versions.upperBound))" }
        return f + " (bzImage \(versions.lowerBound) to before \(versions.upperBound))"
    }
}
