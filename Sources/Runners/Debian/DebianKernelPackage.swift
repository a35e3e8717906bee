import Foundation

/// Where a Debian kernel package keeps the image, in both layouts Debian has used.
public enum DebianKernelLayout: String, Sendable, CaseIterable {
    /// Up to the 6.x packages: linux-image-RELEASE-FLAVOUR-unsigned carries ./boot/vmlinuz-ABI.
    case boot
    /// The 7.x packages (unstable, experimental, the backports suites):
    /// linux-binary-unsigned-ABI carries ./usr/lib/modules/ABI/vmlinuz.unsigned, and
    /// linux-image-ABI is a small package that depends on it.
    case modules

    /// The tar member pattern of the image (GNU tar --wildcards).
    public var memberPattern: String {
        switch self {
        case .boot: "./boot/vmlinuz-*"
        case .modules: "./usr/lib/modules/*/vmlinuz*"
        }
    }
}

/// The kernel image inside a Debian package, taken out with only that member written to disk.
public enum DebianKernelPackage {
    /// A kernel image extracted from a package.
    public struct Extracted: Sendable, Equatable {
        /// The member's path in the package ("./usr/lib/modules/7.2.13+deb14-cloud-amd64/vmlinuz.unsigned").
        public let member: String
        /// Where it was written.
        public let path: String
        public let layout: DebianKernelLayout
    }

    /// dpkg-deb --fsys-tarfile DEB | tar -x -C DIR --wildcards (both layouts' patterns): a pipe,
    /// so the modules of a generic package (about 400 MB) never touch the disk. A package with
    /// no image names the package that has it when its Depends does (linux-image-* in the
    /// modules layout depends on linux-binary-*).
    public static func extractImage(deb: String, into dir: String) throws(HostToolError) -> Extracted {
        let patterns = DebianKernelLayout.allCases.map(\.memberPattern)
        let (dpkgStatus, dpkgErr, tarStatus, tarErr) = try pipe(["dpkg-deb", "--fsys-tarfile", deb], package: "dpkg",
                                                                into: ["tar", "-x", "-C", dir, "--wildcards"] + patterns, package: "tar")
        guard dpkgStatus == 0 else { throw HostToolError("\(deb): dpkg-deb --fsys-tarfile failed: \(dpkgErr)") }
        // tar ends with status 2 when a pattern matched nothing; that is expected for the
        // layout the package does not use, and only that.
        let unexpected = tarErr.split(separator: "\n").filter { !$0.contains("Not found in archive") && !$0.contains("Exiting with failure status due to previous errors") }
        guard tarStatus == 0 || (tarStatus == 2 && unexpected.isEmpty) else { throw HostToolError("\(deb): tar failed (status \(tarStatus)): \(tarErr)") }
        if let found = find(in: dir) { return found }
        var hint = ""
        if let depends = try? control(deb: deb, field: "Depends"),
           let binary = depends.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? "" }).first(where: { $0.hasPrefix("linux-binary-") }) {
            hint = "; it depends on \(binary), which carries the image in the 7.x layout (take linux-binary-unsigned-… for the unsigned image)"
        }
        throw HostToolError("\(deb): no kernel image in the package (expected \(patterns.joined(separator: " or ")))\(hint)")
    }

    /// The image under an extraction directory, in either layout; the first by name when several.
    static func find(in dir: String) -> Extracted? {
        let fm = FileManager.default
        if let v = ((try? fm.contentsOfDirectory(atPath: dir + "/boot")) ?? []).filter({ $0.hasPrefix("vmlinuz-") }).sorted().first {
            return Extracted(member: "./boot/" + v, path: dir + "/boot/" + v, layout: .boot)
        }
        for release in ((try? fm.contentsOfDirectory(atPath: dir + "/usr/lib/modules")) ?? []).sorted() {
            let d = dir + "/usr/lib/modules/" + release
            if let v = ((try? fm.contentsOfDirectory(atPath: d)) ?? []).filter({ $0.hasPrefix("vmlinuz") }).sorted().first {
                return Extracted(member: "./usr/lib/modules/\(release)/\(v)", path: d + "/" + v, layout: .modules)
            }
        }
        return nil
    }

    /// A field of the package's control file (dpkg-deb -f).
    public static func control(deb: String, field: String) throws(HostToolError) -> String {
        try HostTools.output("dpkg-deb", package: "dpkg", ["-f", deb, field]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `first | second`; returns both exit statuses and stderr texts.
    static func pipe(_ first: [String], package p1: String, into second: [String], package p2: String) throws(HostToolError) -> (Int32, String, Int32, String) {
        guard let exe1 = HostTools.find(first[0]) else { throw HostToolError("\(first[0]) is not installed (apt-get install \(p1))") }
        guard let exe2 = HostTools.find(second[0]) else { throw HostToolError("\(second[0]) is not installed (apt-get install \(p2))") }
        let a = Process(), b = Process(), pipe = Pipe(), e1 = Pipe(), e2 = Pipe()
        a.executableURL = URL(fileURLWithPath: exe1); a.arguments = Array(first.dropFirst())
        b.executableURL = URL(fileURLWithPath: exe2); b.arguments = Array(second.dropFirst())
        a.standardOutput = pipe; b.standardInput = pipe
        a.standardError = e1; b.standardError = e2; b.standardOutput = FileHandle.nullDevice
        do { try b.run(); try a.run() } catch { throw HostToolError("cannot run \(first[0]) | \(second[0]): \(error.localizedDescription)") }
        // Close our copies of the pipe so the reader sees EOF when the writer ends.
        try? pipe.fileHandleForWriting.close(); try? pipe.fileHandleForReading.close()
        let m1 = e1.fileHandleForReading.readDataToEndOfFile(), m2 = e2.fileHandleForReading.readDataToEndOfFile()
        a.waitUntilExit(); b.waitUntilExit()
        func text(_ d: Data) -> String { String(decoding: d, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        return (a.terminationStatus, text(m1), b.terminationStatus, text(m2))
    }
}
