import Conformance
import Foundation

/// What re-recording one golden snapshot changed (`CONFORM_RECORD_GOLDEN=1`), printed one line
/// per golden file so a reviewer sees which verdicts moved before committing them.
enum GoldenChange: Equatable, CustomStringConvertible {
    case added
    case unchanged
    /// The verdicts that changed ("BP-38: fail → pass") and the other fields that did, by path.
    case changed(verdicts: [String], otherFields: [String])

    /// Compares the golden file as it was (`old`, nil when there was none) with the new text.
    static func of(old: Data?, new: Data) throws -> GoldenChange {
        guard let old else { return .added }
        let diff = JSONDifference.diff(expected: try JSONSerialization.jsonObject(with: old), found: try JSONSerialization.jsonObject(with: new))
        if diff.isEmpty { return .unchanged }
        let prefix = "verdicts."
        let verdicts = diff.filter { $0.path.hasPrefix(prefix) }.map { "\($0.path.dropFirst(prefix.count)): \($0.expected ?? "(absent)") → \($0.found ?? "(absent)")" }
        return .changed(verdicts: verdicts, otherFields: diff.filter { !$0.path.hasPrefix(prefix) }.map(\.path))
    }

    var description: String {
        switch self {
        case .added: "added"
        case .unchanged: "unchanged"
        case let .changed(verdicts, other):
            "changed: " + (verdicts.isEmpty ? "no verdict" : verdicts.joined(separator: ", "))
                + (other.isEmpty ? "" : "; \(other.count) other field\(other.count == 1 ? "" : "s") (\(other.prefix(5).joined(separator: ", "))\(other.count > 5 ? ", …" : ""))")
        }
    }
}

/// The golden directory against the cases that have a snapshot: files with no such case
/// (orphans, left by a renamed or removed case, or by one that is now rejected) and cases
/// with no file (missing).
struct GoldenAudit: Equatable {
    let orphans: [String]
    let missing: [String]
}

extension GoldenAudit {
    init(files: [String], casesWithSnapshot: [String]) {
        let names = Set(files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
        orphans = names.subtracting(casesWithSnapshot).sorted()
        missing = Set(casesWithSnapshot).subtracting(names).sorted()
    }
}
