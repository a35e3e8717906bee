import Foundation
import Glibc

/// Host programs and scratch space, shared by the QEMU runner and the gate.
enum HostTools {
    /// The first executable `tool` on PATH (then /usr/bin, /bin), or nil.
    static func find(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":").map(String.init) + ["/usr/bin", "/bin"]).map { "\($0)/\(tool)" }.first { access($0, X_OK) == 0 }
    }
    /// The places `find` looks, for error messages.
    static func searched(_ tool: String) -> [String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }
    }
    /// A new directory under the system's temporary directory, named for this process.
    static func temporaryDirectory(_ prefix: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        return dir
    }
}
