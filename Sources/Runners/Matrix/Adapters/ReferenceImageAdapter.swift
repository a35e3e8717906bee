import Conformance
import Foundation

/// The reference Image loader (`ReferenceImageLoader`) as the Image rows' control, one row per
/// architecture (issue 16: "the reference loader's arm64 and riscv64 images pass every rule"):
/// - `reference-image-arm64`: each block it writes goes in with `-device loader,file=…,addr=…`
///   on `-M virt,gic-version=3 -cpu cortex-a57` (no firmware, entered at EL1; QEMU's own DTB
///   copy sits in the first MiB of RAM, which the loader's platform keeps clear), and
///   `-device loader,addr=TRAMPOLINE,cpu-num=0` starts the CPU at its trampoline;
/// - `reference-image-riscv64`: the blocks the same way, and the trampoline as `-kernel` (a
///   one-segment ELF) that OpenSBI fw_dynamic, QEMU's default `-bios`, enters in S-mode.
/// The platform is `ImagePlatform.qemuVirt` with the run's 1 GiB, so the probe's report is
/// judged against the RAM and firmware ranges the loader placed around. A refusal by the
/// loader ends the cell as a refusal naming its rule, with no QEMU run.
public struct ReferenceImageAdapter: LoaderAdapter {
    public let architecture: String
    public static let arm64 = ReferenceImageAdapter(architecture: "arm64")
    public static let riscv64 = ReferenceImageAdapter(architecture: "riscv64")
    public static let all = [arm64, riscv64]

    public var id: String { "reference-image-\(architecture)" }
    public var packages: [String] { architecture == "arm64" ? ["qemu-system-arm"] : ["qemu-system-misc"] }
    public var version: String { "this build" }
    public var executable: String { architecture == "arm64" ? "qemu-system-aarch64" : "qemu-system-riscv64" }
    public var unavailable: String? { ImageQEMUKernelAdapter.unavailable(executable: executable, packages: packages, needs: nil, architecture: architecture) }
    public func accepts(_ v: MatrixVariant) -> Bool { true }

    /// The `virt` machine the loader places for: the matrix's `-m 1024`.
    public var platform: ImagePlatform { .qemuVirt(ImageBootSnapshot.Architecture(rawValue: architecture) ?? .riscv64, ramSize: 1 << 30) }

    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        guard let exe = HostTools.find(executable) else { throw HostToolError("\(executable) not installed (apt-get install \(packages[0]))") }
        guard let image = FileManager.default.contents(atPath: v.kernel) else { throw HostToolError("\(v.kernel): cannot read") }
        let initrd = try v.initrd.map { p -> [UInt8] in
            guard let d = FileManager.default.contents(atPath: p) else { throw HostToolError("\(p): cannot read") }
            return [UInt8](d)
        }
        let p = platform
        let loaded: ImageLoadResult
        do { loaded = try ReferenceImageLoader.load([UInt8](image), ImageLoadOptions(platform: p, commandLine: v.commandLine, initrd: initrd)) } catch {
            var run = LoaderRun(serial: [], outcome: "not run: the reference loader refused", seconds: 0, expectedCommandLine: v.commandLine, refused: "reference Image loader: \(error)")
            run.imagePlatform = p
            return run
        }
        let dir = work + "/" + v.id
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let files = try loaded.writeFiles(to: dir)
        var b = QEMUBoot(bios: nil)
        let machine = architecture == "arm64" ? "virt,gic-version=3" : "virt"
        b.command = [exe] + ImageQEMUKernelAdapter.machineArguments(machine, cpu: architecture == "arm64" ? "cortex-a57" : nil) + files
        b.timeout = timeout
        b.marker = "\nend lines="
        b.grace = .seconds(2)
        var run = LoaderRun(try QEMURunner.run(b), expectedCommandLine: v.commandLine,
                            notes: ["reference loader: " + loaded.blocks.map { "\($0.name) \($0.range)" }.joined(separator: ", ")])
        run.imagePlatform = p
        return run
    }
}
