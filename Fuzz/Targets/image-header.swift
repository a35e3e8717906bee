// Fuzz target: the arm64 and riscv64 Image header parsers, the reference Image loader on
// whatever header they accept, and the A64/RV rules on the result and on a snapshot that
// carries the input's first 64 bytes as its header.
import Conformance

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = ImageHeader.architecture(of: bytes)
    for arch in ImageBootSnapshot.Architecture.allCases {
        guard (try? ImageHeader(bytes, architecture: arch)) != nil else { continue }
        // 512 MiB of RAM bounds the placement search (2 MiB steps); an initrd of a few bytes.
        if let r = try? ReferenceImageLoader.load(bytes, ImageLoadOptions(platform: .qemuVirt(arch), commandLine: "console=ttyS0 quiet", initrd: [1, 2, 3])) {
            var s = r.snapshot
            _ = judge(s)
            // The same hand-over with the header replaced by the input's (a loader that took it).
            s.image.header = Array(bytes.prefix(64))
            s.image.fileSize = UInt64(size)
            _ = judge(s)
        }
    }
    return 0
}
