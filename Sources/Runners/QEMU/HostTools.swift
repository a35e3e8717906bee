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
        let out: FileHandle
        if let stdout {
            _ = FileManager.default.createFile(atPath: stdout, contents: nil)
            guard let h = FileHandle(forWritingAtPath: stdout) else { throw HostToolError("cannot write \(stdout)") }
            out = h
        } else { out = FileHandle.nullDevice }
        _ = try execute(tool, package: package, args, stdin: stdin, stdout: out)
    }

    /// Runs `tool args` in `directory` (or the current one) and returns its standard output;
    /// `environment` is added to the inherited one. Failures as `run`'s.
    static func output(_ tool: String, package: String, _ args: [String], directory: String? = nil, environment: [String: String] = [:]) throws(HostToolError) -> String {
        let out = Pipe()
        let data = try execute(tool, package: package, args, stdout: out, directory: directory, environment: environment)
        return String(decoding: data, as: UTF8.self)
    }

    /// The one place a host tool is started: stderr is collected (quoted on failure) while
    /// stdout goes to `stdout`; a Pipe there is read to its end and returned.
    private static func execute(_ tool: String, package: String, _ args: [String], stdin: String? = nil, stdout: Any, directory: String? = nil,
                                environment: [String: String] = [:]) throws(HostToolError) -> Data {
        guard let exe = find(tool) else { throw HostToolError("\(tool) is not installed (apt-get install \(package))") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
        if let stdin {
            guard let h = FileHandle(forReadingAtPath: stdin) else { throw HostToolError("cannot read \(stdin)") }
            p.standardInput = h
        }
        p.standardOutput = stdout
        let err = Pipe()
        p.standardError = err
        do { try p.run() } catch { throw HostToolError("cannot run \(tool): \(error.localizedDescription)") }
        // stderr is drained on its own thread so a chatty tool cannot block on a full pipe
        // while stdout is read here.
        let errText = ErrorText()
        let reader = Thread { errText.data = err.fileHandleForReading.readDataToEndOfFile(); errText.done.signal() }
        reader.start()
        let data = (stdout as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        errText.done.wait()
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            throw HostToolError("\(tool) \(args.joined(separator: " ")) failed (status \(p.terminationStatus)): \(String(decoding: errText.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return data
    }

    private final class ErrorText: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }
}

/// A host program that is missing or failed, in one sentence.
public struct HostToolError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

