import Conformance
import HarnessKVM
import Foundation
import Glibc

/// One probe variant as files a loader can read (from `conform corpus --probe`'s index.json).
public struct MatrixVariant: Sendable, CustomStringConvertible {
    public let id: String
    public let kernel: String
    public let initrd: String?
    /// The command line the variant is meant to get.
    public let commandLine: String
    /// Every entry the image's header offers ("entries" in index.json).
    public let entries: [EntryPoint]
    /// "bzImage" or "elf".
    public var isELF: Bool { kernel.hasSuffix(".elf") }
    /// The architecture the image is for: "x86_64", or "arm64" and "riscv64" for the Image
    /// probes (`ImageProbeVariants`). An adapter is given only the variants of its own.
    public var architecture = "x86_64"
    public var description: String { id }
    public init(id: String, kernel: String, initrd: String?, commandLine: String, entries: [EntryPoint]) {
        self.id = id; self.kernel = kernel; self.initrd = initrd; self.commandLine = commandLine; self.entries = entries
    }
}

/// What one boot by a loader produced.
public struct LoaderRun: Sendable {
    /// COM1 as received.
    public var serial: [UInt8]
    /// How the run ended, in words ("QEMU exited with status 1", "timed out", "GRUB refused: …").
    public var outcome: String
    public var seconds: Double
    /// The command line the kernel should see: what was asked for plus what the loader adds by
    /// design (GRUB's "BOOT_IMAGE=PATH ", ISOLINUX's "initrd=…", OVMF's " initrd=initrd").
    public var expectedCommandLine: String
    /// The loader refused the image on purpose (a protocol it does not support), with its words.
    public var refused: String? = nil
    public var notes: [String] = []
    /// An Image row's platform as its adapter knows it: the RAM QEMU was given and the memory
    /// its firmware keeps (nil: `ImageProbeVariants.virtPlatform`). The rules judge the probe's
    /// report against it.
    public var imagePlatform: ImagePlatform? = nil
    /// QEMU exited on its own: the guest powered off or, under `-no-reboot`, reset. Without a
    /// probe report that is a reset (or power-off) before the kernel reported, a named outcome,
    /// not a time-out.
    public var guestStopped = false
    public init(serial: [UInt8], outcome: String, seconds: Double, expectedCommandLine: String, refused: String? = nil, notes: [String] = []) {
        self.serial = serial; self.outcome = outcome; self.seconds = seconds; self.expectedCommandLine = expectedCommandLine; self.refused = refused; self.notes = notes
    }
}

/// A real loader driven headless under QEMU (or the reference loader itself), for the
/// loader matrix. Stateless: what `prepare` builds lives under `work` and `boot` finds it there.
public protocol LoaderAdapter: Sendable {
    /// The matrix id (`qemu-pc`, `grub-bios-linux16`, …), also the `--loader` id of
    /// `conform judge` and of KnownDeviations.
    var id: String { get }
    /// The Debian packages it needs.
    var packages: [String] { get }
    /// nil when the loader can run here; else why not, naming what to install.
    var unavailable: String? { get }
    /// The architecture of the images it boots (default "x86_64"); see `MatrixVariant.architecture`.
    var architecture: String { get }
    /// The loader's version for the report (default: the first package's Debian version).
    var version: String { get }
    /// Whether this loader boots `variant` at all (an ELF for a PVH loader, a bzImage for a
    /// BIOS bootloader). A variant it is given but refuses is a result, not a skip.
    func accepts(_ variant: MatrixVariant) -> Bool
    /// Once per run, before any boot: build what every boot shares (one medium holding every
    /// variant). `work` is this adapter's own directory.
    func prepare(_ variants: [MatrixVariant], work: String) throws
    /// One boot, ended within `timeout` whatever the loader does.
    func boot(_ variant: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun
}

extension LoaderAdapter {
    public var architecture: String { "x86_64" }
    /// Whether this adapter boots `v`: its architecture, then `accepts`.
    public func takes(_ v: MatrixVariant) -> Bool { v.architecture == architecture && accepts(v) }
    public func prepare(_ variants: [MatrixVariant], work: String) throws {}
    /// The installed version of the first package (dpkg-query), or "not installed".
    public var version: String { DebianPackage.version(packages.first ?? "") ?? "not installed" }
}

public enum DebianPackage {
    /// `dpkg-query -W -f '${Version}' NAME`, or nil.
    public static func version(_ name: String) -> String? {
        guard !name.isEmpty, let exe = HostTools.find("dpkg-query") else { return nil }
        let p = Process(), out = Pipe()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-W", "-f", "${Status} ${Version}", name]
        p.standardOutput = out; p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let d = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let s = String(decoding: d, as: UTF8.self)
        guard p.terminationStatus == 0, s.contains("ok installed") else { return nil }
        return s.split(separator: " ").last.map(String.init)
    }
}

/// A QEMU run as a `LoaderRun`: the serial, how it ended, how long it took.
extension LoaderRun {
    public init(_ r: QEMUReport, expectedCommandLine: String, refused: String? = nil, notes: [String] = []) {
        self.init(serial: r.serial, outcome: r.summary, seconds: r.elapsed.seconds, expectedCommandLine: expectedCommandLine, refused: refused, notes: notes)
        if case .exited = r.outcome { guestStopped = true }
    }
}
