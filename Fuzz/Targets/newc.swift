// Fuzz target: the newc (cpio) reader that lists the files an initrd should unpack to.
import Conformance

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? Newc.entries(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
