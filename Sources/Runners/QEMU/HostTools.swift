import Conformance
import Foundation
import Glibc

/// Host programs, shared by the QEMU runner and the gate.
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

    /// Runs `tool args` (stdin and stdout redirected to files, or nothing); a missing tool names
    /// the Debian package to install, a failure quotes the tool's stderr.
    static func run(_ tool: String, package: String, _ args: [String], stdin: String? = nil, stdout: String? = nil) throws(HostToolError) {
        guard let exe = find(tool) else { throw HostToolError("\(tool) is not installed (apt-get install \(package))") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let stdin { p.standardInput = FileHandle(forReadingAtPath: stdin) }
        if let stdout {
            FileManager.default.createFile(atPath: stdout, contents: nil)
            p.standardOutput = FileHandle(forWritingAtPath: stdout)
        } else { p.standardOutput = FileHandle.nullDevice }
        let err = Pipe()
        p.standardError = err
        do { try p.run() } catch { throw HostToolError("cannot run \(tool): \(error.localizedDescription)") }
        let msg = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            throw HostToolError("\(tool) \(args.joined(separator: " ")) failed (status \(p.terminationStatus)): \(String(decoding: msg, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

/// A host program that is missing or failed, in one sentence.
public struct HostToolError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

