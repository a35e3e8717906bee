import Conformance
import Foundation
import Testing

/// What a real arm64 or riscv64 kernel reports from userspace (the corpus init's device-tree
/// lines) and the checks on it (`ImageKernelChecks`): each has a conforming report and
/// violating ones. The lines follow what Debian's riscv64 7.2.13 kernel printed under QEMU
/// `virt` with OpenSBI (-m 1024, 2026-12-01), with a shortened device tree.
@Suite("ImageKernelReport")
struct ImageKernelReportTests {
    static let initFile: [UInt8] = Array("#!init\n".utf8)
    static let cmdline = "console=ttyS0 panic=-1 quiet"
    static func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
    static func cells(_ v: [UInt64], _ n: Int = 2) -> String { hex(v.flatMap { x in (0..<4 * n).reversed().map { UInt8(truncatingIfNeeded: x >> (8 * UInt64($0))) } }) }

    /// A 0x88-byte stand-in for /sys/firmware/fdt: the header's magic and totalsize, a zero row
    /// (left out of the report, as the init does), and nonzero bytes after it.
    static let fdt: [UInt8] = {
        var b = [UInt8](repeating: 0, count: 0x88)
        b.replaceSubrange(0..<8, with: [0xD0, 0x0D, 0xFE, 0xED, 0x00, 0x00, 0x00, 0x88])
        for i in 0x80..<0x88 { b[i] = UInt8(i) }
        return b
    }()

    struct Variant {
        var bootargs = cmdline
        var initrdEnd: UInt64 = 0x8826_9200
        var memory: [UInt64] = [0x8000_0000, 0x4000_0000]
        var reserved: [UInt64]? = [0x8000_0000, 0x8_0000]
        var systemRAM = "80000000-bfffffff : System RAM"
        var fdtHash: UInt64? = nil
        var fdtSize = 0x88
    }

    static func lines(_ v: Variant = Variant()) -> [String] {
        var l = ["version 1", "kernel 7.2.13+deb14-riscv64", "unreadable /sys/kernel/boot_params/data 2", "cmdline " + hex(Array(cmdline.utf8)),
                 String(format: "file /init %x %016llx", initFile.count, ProbeHash64.of(initFile)), "dir /proc",
                 "iomem " + v.systemRAM, "iomem   80000000-8007ffff : Reserved", "iomem   80202000-8259fa8f : Kernel image",
                 String(format: "fdt %x %016llx", v.fdtSize, v.fdtHash ?? ProbeHash64.of(fdt)), "fdtrow 0 " + hex(Array(fdt[0..<64])), "fdtrow 80 " + hex(Array(fdt[0x80...])),
                 "dtprop /#address-cells 00000002", "dtprop /#size-cells 00000002",
                 "dtprop /chosen/bootargs " + hex(Array(v.bootargs.utf8) + [0]),
                 "dtprop /chosen/linux,initrd-end " + cells([v.initrdEnd], 1), "dtprop /chosen/linux,initrd-start 88200000",
                 "dtprop /memory@80000000/device_type 6d656d6f727900", "dtprop /memory@80000000/reg " + cells(v.memory),
                 "dtprop /reserved-memory/#address-cells 00000002", "dtprop /reserved-memory/#size-cells 00000002", "dtprop /reserved-memory/ranges "]
        if let r = v.reserved { l.append("dtprop /reserved-memory/mmode_resv0@80000000/reg " + cells(r)) }
        return l
    }

    static let handoff = ImageHandoff(architecture: .riscv64, commandLine: Array(cmdline.utf8), initrdSize: 0x6_9200,
                                      initrdFiles: [Newc.Entry(path: "/init", mode: 0o100755, size: UInt64(initFile.count), hash64: ProbeHash64.of(initFile))],
                                      ram: [AddressRange(constantStart: 0x8000_0000, end: 0xC000_0000)], firmwareAt: 0x8000_0000)

    static func checks(_ v: Variant) throws -> [ObservedCheck] { ImageKernelChecks.compare(try KernelReport.parse(serial: kinitReport(lines(v))), with: handoff) }

    @Test func parsesTheDeviceTreeLines() throws {
        let r = try KernelReport.parse(serial: kinitReport(Self.lines()))
        #expect(r.deviceTree == Self.fdt && r.deviceTreeHash64 == ProbeHash64.of(Self.fdt))
        #expect(r.deviceTreeProperties["/chosen/linux,initrd-start"] == [0x88, 0x20, 0x00, 0x00])
        #expect(r.deviceTreeProperties["/reserved-memory/ranges"] == [], "an empty property is a flag, present with no bytes")
        #expect(r.systemRAM == [AddressRange(constantStart: 0x8000_0000, end: 0xC000_0000)], "indented iomem lines are not System RAM")
        #expect(r.bootParams.isEmpty && r.unreadable == ["/sys/kernel/boot_params/data 2"])
    }

    @Test func aConformingBootPassesEveryCheck() throws {
        let cs = try Self.checks(Variant())
        #expect(cs.allSatisfy { $0.outcome == .pass }, "\(cs.filter { $0.outcome == .fail })")
        #expect(Set(cs.map(\.field)).isSuperset(of: ["/proc/cmdline", "/chosen/bootargs", "/chosen linux,initrd-start/end", "initrd inside RAM", "/init",
                                                    "/proc/iomem System RAM", "/sys/firmware/fdt", "/reserved-memory: firmware at 0x80000000"]))
        #expect(cs.contains { $0.field.hasPrefix("/memory reg") && $0.outcome == .pass })
    }

    /// One violation each, and the check that names it.
    @Test(arguments: [
        ("bootargs", "/chosen/bootargs"), ("initrd short", "/chosen linux,initrd-start/end"), ("memory", "/memory reg"),
        ("firmware unreserved", "/reserved-memory: firmware"), ("kernel RAM", "/proc/iomem System RAM"),
    ])
    func violations(_ c: (String, String)) throws {
        var v = Variant()
        switch c.0 {
        case "bootargs": v.bootargs = "console=ttyS0 panic=-1 quie"
        case "initrd short": v.initrdEnd = 0x8826_9000
        case "memory": v.memory = [0x8000_0000, 0x8000_0000]
        case "firmware unreserved": v.reserved = nil
        default: v.systemRAM = "80000000-9fffffff : System RAM"
        }
        let failed = try Self.checks(v).filter { $0.outcome == .fail }
        #expect(failed.count == 1 && failed[0].field.hasPrefix(c.1), "\(c.0): \(failed.map(\.field))")
    }

    @Test func anInitrdOutsideRAMFails() throws {
        var h = Self.handoff
        h.ram = [AddressRange(constantStart: 0x8000_0000, end: 0x8820_0000)]
        let failed = ImageKernelChecks.compare(try KernelReport.parse(serial: kinitReport(Self.lines())), with: h).filter { $0.outcome == .fail }
        #expect(failed.contains { $0.field == "initrd inside RAM" })
    }

    @Test func malformedDeviceTreeLinesAreErrors() {
        #expect(throws: KernelReportError.self) { try KernelReport.parse(serial: kinitReport(Self.lines(Variant(fdtHash: 1)))) }
        #expect(throws: KernelReportError(line: 10, message: "fdt size 0x200001 exceeds 0x200000 (the 2 MiB DTB limit)")) {
            try KernelReport.parse(serial: kinitReport(Self.lines(Variant(fdtSize: 0x20_0001))))
        }
        #expect(throws: KernelReportError(line: 12, message: "fdtrow at 0x80 of 8 bytes is outside the 132-byte device tree (or before the fdt line)")) {
            try KernelReport.parse(serial: kinitReport(Self.lines(Variant(fdtSize: 0x84))))
        }
        #expect(throws: KernelReportError.self) { try KernelReport.parse(serial: kinitReport(["version 1", "dtprop chosen/bootargs 00"])) }
    }

    @Test func regDecodesByCells() throws {
        #expect(try ImageKernelChecks.regRanges([0, 0, 0, 0x40, 0, 0, 0, 0x10], addressCells: 1, sizeCells: 1).get() == [AddressRange(constantStart: 0x40, end: 0x50)])
        #expect((try? ImageKernelChecks.regRanges([0, 0, 0, 0x40, 0, 0], addressCells: 1, sizeCells: 1).get()) == nil)
        #expect((try? ImageKernelChecks.regRanges([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 2], addressCells: 2, sizeCells: 1).get()) == nil, "wraps past 2^64")
    }
}
