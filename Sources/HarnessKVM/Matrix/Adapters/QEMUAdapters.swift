import Conformance
import Foundation

/// QEMU's own loader, `-kernel` on the `pc` machine: SeaBIOS runs the linuxboot_dma option
/// ROM, which enters a bzImage's real-mode setup code (the 16-bit entry).
public struct QEMUPCAdapter: LoaderAdapter {
    public init() {}
    public let id = "qemu-pc"
    public let packages = ["qemu-system-x86"]
    public var unavailable: String? { (try? QEMURunner.executable()) == nil ? "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)" : nil }
    public func accepts(_ v: MatrixVariant) -> Bool { !v.isELF }
    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        var b = QEMUBoot(kernel: v.kernel, initrd: v.initrd, append: v.commandLine)
        b.machine = "pc"; b.timeout = timeout
        return LoaderRun(try QEMURunner.run(b), expectedCommandLine: v.commandLine)
    }
}
