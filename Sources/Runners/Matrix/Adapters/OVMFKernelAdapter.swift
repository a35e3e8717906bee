import Conformance
import HarnessKVM
import Foundation

/// OVMF's own `-kernel` (q35): a PE/COFF image through LoadImage/StartImage (the EFI stub
/// entry), anything else through its legacy loader (LoadLinuxLib), which needs the EFI
/// handover entry. OVMF adds " initrd=initrd" to LoadOptions when it has an initrd.
public struct OVMFKernelAdapter: LoaderAdapter {
    public init() {}
    public let id = "ovmf-kernel"
    public let packages = ["ovmf", "qemu-system-x86"]
    public var unavailable: String? { OVMFFirmware.unavailable ?? QEMUKernelAdapter.pc.unavailable }
    public func accepts(_ v: MatrixVariant) -> Bool { !v.isELF && (v.entries.contains(.efiStub) || v.entries.contains(.efiHandover64)) }
    public func boot(_ v: MatrixVariant, work: String, timeout: Duration) throws -> LoaderRun {
        var b = QEMUBoot(kernel: v.kernel, initrd: v.initrd, append: v.commandLine)
        try OVMFFirmware.configure(&b, work: work, timeout: timeout)
        // OVMF's LoadOptions for a PE image: the command line, then " initrd=initrd" when
        // there is an initrd (X86QemuLoadImageLib QemuLoadKernelImage); its legacy loader
        // passes the command line as given.
        let pe = v.entries.contains(.efiStub)
        return LoaderRun(try QEMURunner.run(b), expectedCommandLine: v.commandLine + (pe && v.initrd != nil ? " initrd=initrd" : ""))
    }
}
