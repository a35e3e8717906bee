import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Scratch directories under the system's temporary directory, named
/// `conform-KIND-PID-RANDOM`. The first one a process makes also removes those whose PID is not
/// running: what an interrupted run (Ctrl-C, a killed CI job) left behind. Everything `conform`
/// and its tests write to the temporary directory goes in one of these.
public enum Scratch {
    /// A new, empty directory for this process; the caller removes it when done.
    public static func directory(_ kind: String) throws -> String {
        sweepOnce
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("conform-\(kind)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        return dir
    }

    static let sweepOnce: Void = sweep()

    /// Removes conform-…-PID-RANDOM entries of the temporary directory whose PID is not running.
    static func sweep() {
        let tmp = FileManager.default.temporaryDirectory.path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [] where name.hasPrefix("conform-") {
            let parts = name.split(separator: "-")
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0, UInt32(parts[parts.count - 1]) != nil else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: tmp + "/" + name) }
        }
    }
}
