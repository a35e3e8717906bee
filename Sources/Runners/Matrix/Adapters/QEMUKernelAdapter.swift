import Conformance
import HarnessKVM
import Foundation

/// QEMU's own loader, `-kernel`, on a machine of its choice:
/// - `qemu-pc`: the `pc` machine; SeaBIOS runs the linuxboot_dma option ROM, which enters a
///   bzImage's real-mode setup code (the 16-bit entry);
/// - `qemu-pvh`: an ELF vmlinux with a PVH note; QEMU's PVH option ROM enters at the note's
///   address in 32-bit protected mode with start_info in EBX;
/// - `qemu-microvm`: the `microvm` machine with its default firmware, qboot: bzImages through
///   qboot's Linux loader, ELF images with a PVH note through PVH.
public struct QEMUKernelAdapter: LoaderAdapter {
    public let id: String
    public let machine: String
    let bzImage: Bool, pvh: Bool
    public static let pc = QEMUKernelAdapter(id: "qemu-pc", machine: "pc", bzImage: true, pvh: false)
    public static let pvhELF = QEMUKernelAdapter(id: "qemu-pvh", machine: "pc", bzImage: false, pvh: true)
    public static let microvm = QEMUKernelAdapter(id: "qemu-microvm", machine: "microvm", bzImage: true, pvh: true)

    public var packages: [String] { ["qemu-system-x86"] }
    public var unavailable: String? { (try? QEMURunner.executable()) == nil ? "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)" : nil }
    public func accepts(_ v: MatrixVariant) -> Bool { v.isELF ? pvh && v.entries.contains(.pvh) : bzImage }
    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        var b = QEMUBoot(kernel: v.kernel, initrd: v.initrd, append: v.commandLine)
        b.machine = machine; b.timeout = timeout
        return LoaderRun(try QEMURunner.run(b), expectedCommandLine: v.commandLine)
    }
}
