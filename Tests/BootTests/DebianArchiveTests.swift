import Conformance
import ConformanceFixtures
import Foundation
import Reports
import Runners
import TestSupport
import Testing

/// Debian kernels from any suite (issue 15, item 1), without the network: version order,
/// package names of both layouts, apt's records, and the gate and diff on packages of both
/// layouts built here with dpkg-deb.
@Suite("DebianArchive")
struct DebianArchiveTests {
    @Test(arguments: [("6.12.117-1~deb12u1", "7.2.13-1"), ("7.3~rc7-1~exp1", "7.3-1"), ("7.2.9-1~bpo13+1", "7.2.11-1~bpo13+1"),
                      ("6.1.192-3", "6.1.192-3+b1"), ("1:1.0-1", "2:0.1-1"), ("1.0~", "1.0"), ("1.0a", "1.0+")])
    func versionsOrderAsDpkgDoes(_ pair: (String, String)) throws {
        let a = try #require(DebianVersion(pair.0)), b = try #require(DebianVersion(pair.1))
        #expect(a < b && !(b < a) && a != b)
        #expect(a == DebianVersion(pair.0)!)
    }

    @Test func versionsThatAreNot() {
        #expect(DebianVersion("") == nil && DebianVersion("x:1.0") == nil && DebianVersion("-1") == nil && DebianVersion("abc-1") == nil)
        #expect(DebianVersion("7.3~rc7-1~exp1")?.release == "7.3-rc7" && DebianVersion("6.12.117-1~deb12u1")?.release == "6.12.117")
    }

    @Test func packageNamesOfBothLayouts() {
        #expect(DebianKernel.parse(name: "linux-image-6.12.117+deb12-cloud-amd64-unsigned", flavour: .cloud)! == (.boot, "6.12.117+deb12-cloud-amd64"))
        #expect(DebianKernel.parse(name: "linux-binary-unsigned-7.2.13+deb14-cloud-amd64", flavour: .cloud)! == (.modules, "7.2.13+deb14-cloud-amd64"))
        #expect(DebianKernel.parse(name: "linux-image-6.1.0-57-amd64-unsigned", flavour: .generic)! == (.boot, "6.1.0-57-amd64"))
        // Another flavour's package, the signed image, the dependency package, debug symbols.
        for n in ["linux-image-6.12.117+deb12-cloud-amd64-unsigned", "linux-binary-7.2.13+deb14-amd64", "linux-image-7.2.13+deb14-amd64", "linux-image-7.2.13+deb14-amd64-dbg"] {
            #expect(DebianKernel.parse(name: n, flavour: .generic) == nil, "\(n)")
        }
        #expect(DebianKernel.parse(name: "linux-binary-unsigned-7.3-rt-amd64", flavour: .rt)! == (.modules, "7.3-rt-amd64"))
    }

    /// arm64 names its unsigned images as amd64 does; riscv64, which has no signed images,
    /// under the plain names (apt-cache search in bookworm arm64 and unstable riscv64, 2026-12-01).
    @Test func packageNamesOfOtherArchitectures() {
        #expect(DebianKernel.parse(name: "linux-image-6.12.117+deb12-cloud-arm64-unsigned", flavour: .cloud, architecture: .arm64)! == (.boot, "6.12.117+deb12-cloud-arm64"))
        #expect(DebianKernel.parse(name: "linux-image-6.12.117+deb12-arm64-unsigned", flavour: .generic, architecture: .arm64)! == (.boot, "6.12.117+deb12-arm64"))
        #expect(DebianKernel.parse(name: "linux-binary-7.2.13+deb14-riscv64", flavour: .generic, architecture: .riscv64)! == (.modules, "7.2.13+deb14-riscv64"))
        #expect(DebianKernel.parse(name: "linux-image-6.12.57+deb13-riscv64", flavour: .generic, architecture: .riscv64)! == (.boot, "6.12.57+deb13-riscv64"))
        // The 16k-page flavour, the signed arm64 image, another flavour's, an amd64 name, debug symbols, the meta-package.
        for (n, f, a) in [("linux-image-6.12.117+deb12-arm64-16k-unsigned", KernelFlavour.generic, DebianArchitecture.arm64), ("linux-image-6.12.117+deb12-arm64", .generic, .arm64),
                          ("linux-image-6.12.117+deb12-cloud-arm64-unsigned", .generic, .arm64), ("linux-image-6.12.117+deb12-cloud-amd64-unsigned", .cloud, .arm64),
                          ("linux-image-7.2.13+deb14-riscv64-dbg", .generic, .riscv64), ("linux-image-riscv64", .generic, .riscv64)] {
            #expect(DebianKernel.parse(name: n, flavour: f, architecture: a) == nil, "\(n)")
        }
        #expect(KernelFlavour.cloud.suffix(.arm64) == "cloud-arm64" && KernelFlavour.generic.suffix(.riscv64) == "riscv64" && DebianArchitecture.riscv64.flavours == [.generic])
    }

    /// riscv64 in unstable: the image is in linux-binary-…; linux-image-… of the same name form
    /// as the old layout's image depends on it and is dropped.
    @Test func riscv64DependencyPackageIsNoImage() throws {
        let stanzas = """
            Package: linux-image-7.2.13+deb14-riscv64
            Version: 7.2.13-1
            Depends: dracut | initramfs-tools (>= 0.120+deb8u2), linux-base-7.2.13+deb14-riscv64 (= 7.2.13-1), linux-binary-7.2.13+deb14-riscv64 (= 7.2.13-1)
            Size: 1876
            SHA256: 2c10d3c335ee8dfdd88d7303fb663dcdb337246ab126ad5cab156403bceda04e

            Package: linux-binary-7.2.13+deb14-riscv64
            Version: 7.2.13-1
            Depends: linux-base-7.2.13+deb14-riscv64 (= 7.2.13-1)
            Size: 9937196
            SHA256: de8e75884c95b246b4bf72b9dc1c004c535f786da8743006bd341e058e948e99
            """
        let ks = DebianArchive.kernels(stanzas: stanzas, suite: .unstable, flavour: .generic, architecture: .riscv64)
        #expect(ks.map(\.package) == ["linux-binary-7.2.13+deb14-riscv64"])
        #expect(ks.first?.debFileName == "linux-binary-7.2.13+deb14-riscv64_7.2.13-1_riscv64.deb" && ks.first?.layout == .modules)
    }

    /// `apt-cache show` stanzas as unstable and experimental print them (fields trimmed).
    static let stanzas = """
        Package: linux-binary-unsigned-7.2.13+deb14-cloud-amd64
        Source: linux
        Version: 7.2.13-1
        Description: Linux 7.2.13 for x86-64 cloud (unsigned kernel image)
         continuation line: Version: 9.9-1
        Size: 13716124
        SHA256: 36dc6832b33066139d31070c8380d1de4daba834a437fbc16521226c34ac8aef

        Package: linux-binary-unsigned-7.3-cloud-amd64
        Version: 7.3~rc7-1~exp1
        Size: 13884228
        SHA256: 6e092bbc8bcbea451d7268f158131abfa7b0b3591cbdaa8f6d7feb0dbdccaefa

        Package: linux-binary-unsigned-7.2.12+deb14-cloud-amd64
        Version: 7.2.12-1
        SHA256: not-a-hash

        Package: linux-image-6.12.117+deb12-cloud-amd64-unsigned
        Version: 6.12.117-1~deb12u1
        Size: 35000000
        SHA256: 670b2688bcf94c24693f7c7e1fc9776ff2e202ff15553a2614f79415d48a6607
        """

    @Test func stanzasAndSelection() throws {
        let ks = DebianArchive.kernels(stanzas: Self.stanzas, suite: .unstable, flavour: .cloud)
        #expect(ks.map(\.package) == ["linux-binary-unsigned-7.2.13+deb14-cloud-amd64", "linux-binary-unsigned-7.3-cloud-amd64", "linux-image-6.12.117+deb12-cloud-amd64-unsigned"])
        #expect(ks[0].sha256 == "36dc6832b33066139d31070c8380d1de4daba834a437fbc16521226c34ac8aef" && ks[0].size == 13716124 && ks[0].debFileName == "linux-binary-unsigned-7.2.13+deb14-cloud-amd64_7.2.13-1_amd64.deb")
        #expect(DebianArchive.select(ks, release: "newest")?.release == "7.3-rc7")
        #expect(DebianArchive.select(ks, release: "7.3~rc7")?.package == "linux-binary-unsigned-7.3-cloud-amd64")
        #expect(DebianArchive.select(ks, release: "7.2")?.release == "7.2.13")
        #expect(DebianArchive.select(ks, release: "6.12")?.layout == .boot)
        #expect(DebianArchive.select(ks, release: "7.2.1") == nil && DebianArchive.select(ks, release: "8") == nil)
        #expect(DebianSuite(archiveSuite: "bookworm-security") == .bookworm && DebianSuite(archiveSuite: "trixie-backports") == .trixieBackports && DebianSuite(archiveSuite: "sid") == nil)
    }

    /// A .deb built with dpkg-deb around a synthetic image at `member`.
    static func deb(_ dir: String, name: String, member: String?, image: [UInt8], depends: String? = nil) throws -> String {
        let root = dir + "/" + name
        try FileManager.default.createDirectory(atPath: root + "/DEBIAN", withIntermediateDirectories: true)
        var control = "Package: \(name)\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: test <t@example.org>\nDescription: test\n"
        if let depends { control += "Depends: \(depends)\n" }
        try Data(control.utf8).write(to: URL(fileURLWithPath: root + "/DEBIAN/control"))
        if let member {
            let path = root + "/" + member
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(image).write(to: URL(fileURLWithPath: path))
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg-deb")
        p.arguments = ["--root-owner-group", "-Zgzip", "--build", root, dir + "/\(name).deb"]
        p.standardOutput = FileHandle.nullDevice
        try p.run(); p.waitUntilExit()
        try #require(p.terminationStatus == 0)
        return dir + "/\(name).deb"
    }

    /// `conform gate` and `conform diff` take a package of either layout; the 7.x linux-image
    /// dependency package is refused, naming the package that carries the image.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb"), "needs dpkg-deb"))
    func bothLayoutsOpenInTheGate() throws {
        let ws = try GateWorkspace()
        defer { ws.cleanup() }
        let img = try syntheticImage("bz-2.15").image
        let old = try Self.deb(ws.directory, name: "linux-image-6.12.1+deb12-cloud-amd64-unsigned", member: "boot/vmlinuz-6.12.1+deb12-cloud-amd64", image: img)
        let new = try Self.deb(ws.directory, name: "linux-binary-unsigned-7.2.1+deb14-cloud-amd64", member: "usr/lib/modules/7.2.1+deb14-cloud-amd64/vmlinuz.unsigned", image: img)
        let a = try ws.kernel(old), b = try ws.kernel(new)
        #expect(a.label.hasSuffix("→ boot/vmlinuz-6.12.1+deb12-cloud-amd64"))
        #expect(b.label.hasSuffix("→ usr/lib/modules/7.2.1+deb14-cloud-amd64/vmlinuz.unsigned"))
        #expect(Surface.diff(old: a.surface, new: b.surface).isEmpty)
        var o = KernelGate.Options(); o.boot = false; o.initrd = nil
        #expect(try KernelGate.run(new: b, baseline: a, options: o).passed)

        let meta = try Self.deb(ws.directory, name: "linux-image-7.2.1+deb14-cloud-amd64", member: nil, image: [],
                                depends: "linux-base-7.2.1+deb14-cloud-amd64 (= 1.0-1), linux-binary-7.2.1+deb14-cloud-amd64 (= 1.0-1)")
        #expect {
            _ = try ws.kernel(meta)
        } throws: { e in
            let m = "\(e)"
            return m.contains("no kernel image in the package") && m.contains("linux-binary-7.2.1+deb14-cloud-amd64") && m.contains("linux-binary-unsigned-")
        }
    }

    /// Build noise is one collapsed line in the text and a <details> block in Markdown; the
    /// significant changes come first, most urgent first.
    @Test func buildNoiseIsCollapsed() throws {
        func surface(_ recipe: [String: Any]) throws -> [SurfaceItem] {
            guard case .bzImage(let b) = try KernelImage(source: MemorySource(name: "x", bytes: try SyntheticImage.build(recipe, id: "x"))) else { throw GateError("not a bzImage") }
            return Surface.of(bzImage: b)
        }
        let d = Surface.diff(old: try surface(["kind": "bzImage", "pmSize": "0x10000", "xloadflags": "0x03"]),
                             new: try surface(["kind": "bzImage", "pmSize": "0x12000", "xloadflags": "0x01", "initSize": "0x900000"]))
        #expect(d.significant.map(\.impact) == [.breaking, .needsAttention], "\(d.significant)")
        #expect(d.lines.last?.hasPrefix("· build noise (\(d.noise.count), collapsed): ") == true && d.noise.count >= 2)
        #expect(d.markdown.contains("<details><summary>Build noise: \(d.noise.count) changes"))
        #expect(d.impactCounts == "1 breaking, 1 needs-attention, 0 informational, \(d.noise.count) build noise")
    }
}
