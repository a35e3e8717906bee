// Fuzz target: the initramfs init's report (what a real kernel observed), the checks against a
// loader's handoff, and the loader differential.
import Conformance

let handoff = Handoff(zeroPage: [UInt8](repeating: 0, count: 4096), commandLine: Array("console=ttyS0".utf8),
                      e820: [E820Entry(address: 0, size: 0x9FC00, type: .ram), E820Entry(address: 0x100000, size: 0x3FF0_0000, type: .ram)],
                      initrdRange: AddressRange(constantStart: 0x3FF0_0000, end: 0x3FF0_1000),
                      initrdFiles: [Newc.Entry(path: "/init", mode: 0o100755, size: 7, hash64: 1)], imageFormat: "bzImage", entry: .long64)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let serial = Array(UnsafeBufferPointer(start: data, count: size))
    guard let r = try? KernelReport.parse(serial: serial) else { return 0 }
    _ = KernelObservedChecks.compare(r, with: handoff)
    _ = LoaderDifferential.rows([.init(name: "a", report: r), .init(name: "b", report: r)], header: nil)
    return 0
}
