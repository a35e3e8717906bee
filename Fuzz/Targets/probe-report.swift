// Fuzz target: the probe-report parser and the snapshot built from a report, judged by every rule.
import Conformance

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let serial = Array(UnsafeBufferPointer(start: data, count: size))
    guard let report = try? ProbeReport.parse(serial: serial) else { return 0 }
    let format: ImageRecord.Format = report.variant.hasPrefix("bz") ? .bzImage : .elf
    let snap = report.snapshot(image: ImageRecord(format: format, fileSize: report.imageLength, sha256: ""), inputs: InputRecord(commandLine: Array("console=ttyS0".utf8)),
                               known: [], producer: "fuzz")
    _ = judge(snap)
    return 0
}
