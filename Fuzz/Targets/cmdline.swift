// Fuzz target: the command-line builder. The first 4 bytes are the limit (cmdline_size), the
// rest the text (any bytes, decoded as UTF-8 with replacement as a user's string would be).
import Conformance

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let b = Array(UnsafeBufferPointer(start: data, count: size))
    guard b.count >= 4 else { return 0 }
    let limit = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    if let c = try? KernelCommandLine(String(decoding: b[4...], as: UTF8.self), limit: limit) {
        // The builder's promises: NUL-free text within the limit, terminated copy one longer.
        precondition(!c.text.contains(0) && c.text.count <= Int(limit) && c.terminated.count == c.text.count + 1)
        precondition(c.text == Array(String(decoding: b[4...], as: UTF8.self).utf8), "the builder changed what the user gave")
    }
    return 0
}
