// Fuzz target: the snapshot-file decoder (boot-snapshot/1), then every rule on what it decoded.
import Conformance

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let d = try? SnapshotJSON.decode(Array(UnsafeBufferPointer(start: data, count: size))) else { return 0 }
    _ = judge(d.snapshot)
    return 0
}
