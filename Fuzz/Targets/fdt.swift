// Fuzz target: the flattened device tree reader (Devicetree Specification v0.4, §5), its
// writer (a tree that reads must write and read back equal), and the A64/RV rules that read a
// DTB (a snapshot of the reference Image loader carrying the input as its DTB).
import Conformance

/// One reference snapshot per architecture, made once; each input replaces its DTB.
let bases: [ImageBootSnapshot] = ImageBootSnapshot.Architecture.allCases.compactMap { arch in
    var h = [UInt8](repeating: 0, count: 0x1000)
    h.put64(arch == .arm64 ? 0 : 0x20_0000, at: 0x08); h.put64(0x20_0000, at: 0x10)
    h.put32(arch == .arm64 ? ImageHeader.arm64Magic : ImageHeader.riscvMagic2, at: 0x38)
    return try? ReferenceImageLoader.load(h, ImageLoadOptions(platform: .qemuVirt(arch), commandLine: "console=ttyS0", initrd: [1, 2, 3])).snapshot
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let blob = Array(UnsafeBufferPointer(start: data, count: size))
    if let tree = try? DeviceTree(blob: blob) {
        // A tree that reads writes a blob that reads back as the same tree.
        guard let again = try? DeviceTree(blob: tree.blob()), again.root == tree.root, again.reservations == tree.reservations, again.bootCPU == tree.bootCPU else {
            fatalError("the written blob does not read back as the tree it was written from")
        }
        _ = (tree.memory, tree.reservedMemory, tree.node("/chosen")?.property("bootargs")?.string, tree.node("/cpus"))
    }
    for var s in bases {
        s.dtb = blob
        _ = judge(s)
    }
    return 0
}
