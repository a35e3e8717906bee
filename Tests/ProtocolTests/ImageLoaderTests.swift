import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// Runs a host tool found on PATH; nil when it is not installed (the caller skips, naming it).
private func hostTool(_ name: String, _ args: [String], stdin: Data? = nil) throws -> (status: Int32, out: Data, err: String)? {
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    guard let path = dirs.map({ "\($0)/\(name)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
    let p = Process(), out = Pipe(), err = Pipe(), input = Pipe()
    p.executableURL = URL(fileURLWithPath: path); p.arguments = args
    p.standardOutput = out; p.standardError = err; p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, o, String(decoding: e, as: UTF8.self))
}

/// The reference Image loader's pieces: the trampolines against the cross assemblers, the
/// device tree against dtc, the files and QEMU arguments.
@Suite("ImageLoader")
struct ImageLoaderTests {
    static func load(_ arch: ImageBootSnapshot.Architecture, initrd: Int? = 0x1000) throws -> ImageLoadResult {
        let image = ImageCorpus.synthesize(id: "loader-test", arch, fields: [:], fileSize: 0x1_0000)
        return try ReferenceImageLoader.load(image, ImageLoadOptions(platform: .qemuVirt(arch), commandLine: "console=ttyS0 quiet", initrd: initrd.map { [UInt8](repeating: 0x5A, count: $0) }))
    }

    /// The hand-encoded trampolines are what the GNU assemblers make of their sources
    /// (`ImageTrampoline.arm64Source`, `riscv64Source`).
    @Test("the trampolines match the cross assemblers' encoding", arguments: [ImageBootSnapshot.Architecture.arm64, .riscv64])
    func trampolineMatchesAssembler(_ arch: ImageBootSnapshot.Architecture) throws {
        let prefix = arch == .arm64 ? "aarch64-linux-gnu-" : "riscv64-linux-gnu-"
        let dtb: UInt64 = 0x5FFF_E000, kernel: UInt64 = 0x4020_0000
        let source = (arch == .arm64 ? ImageTrampoline.arm64Source : ImageTrampoline.riscv64Source)
            .replacingOccurrences(of: "DTB", with: hex(dtb)).replacingOccurrences(of: "KERNEL", with: hex(kernel)) + "\n"
        let dir = try Scratch.directory("trampoline")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let asm = try hostTool(prefix + "as", ["-o", dir + "/t.o", "-"], stdin: Data(source.utf8)) else {
            try Test.cancel("\(prefix)as is not installed (binutils-\(prefix.dropLast()) ; .ci/run installs it)")
        }
        #expect(asm.status == 0, "\(asm.err)")
        let copy = try #require(try hostTool(prefix + "objcopy", ["-O", "binary", "-j", ".text", dir + "/t.o", dir + "/t.bin"]))
        #expect(copy.status == 0, "\(copy.err)")
        let assembled = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/t.bin")))
        let ours = arch == .arm64 ? ImageTrampoline.arm64(dtb: dtb, kernel: kernel) : ImageTrampoline.riscv64(dtb: dtb, kernel: kernel)
        #expect(assembled == ours, "assembler \(assembled.hexString)\nours      \(ours.hexString)")
    }

    /// dtc reads the written device tree and finds the nodes QEMU virt needs; the blob reads
    /// back as the tree it was written from.
    @Test("dtc decompiles the loader's device tree", arguments: [ImageBootSnapshot.Architecture.arm64, .riscv64])
    func dtcReadsTree(_ arch: ImageBootSnapshot.Architecture) throws {
        let r = try Self.load(arch)
        let blob = try #require(r.snapshot.dtb)
        #expect(try DeviceTree(blob: blob) == r.deviceTree)
        guard let dtc = try hostTool("dtc", ["-I", "dtb", "-O", "dts", "-q", "-"], stdin: Data(blob)) else {
            try Test.cancel("dtc is not installed (device-tree-compiler; .ci/run installs it)")
        }
        #expect(dtc.status == 0, "\(dtc.err)")
        let dts = String(decoding: dtc.out, as: UTF8.self)
        var needs = ["bootargs = \"console=ttyS0 quiet\";", "linux,initrd-start = <", "linux,initrd-end = <", "stdout-path = ", "device_type = \"memory\";", "cpus {", "device_type = \"cpu\";"]
        needs += arch == .arm64
            ? ["memory@40000000 {", "enable-method = \"psci\";", "psci {", "compatible = \"arm,pl011\\0arm,primecell\";", "pl011@9000000 {", "compatible = \"arm,armv8-timer\";", "compatible = \"arm,gic-v3\";"]
            : ["memory@80000000 {", "riscv,isa = \"rv64imafdc\";", "mmu-type = \"riscv,sv39\";", "reg = <0x00>;", "compatible = \"riscv,cpu-intc\";", "serial@10000000 {", "compatible = \"ns16550a\";", "reserved-memory {", "no-map;"]
        for n in needs { #expect(dts.contains(n), "dtc output lacks \(n):\n\(dts)") }
    }

    @Test("the blocks are written as files, with the -device loader arguments")
    func filesAndArguments() throws {
        let dir = try Scratch.directory("image-loader")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Self.load(.arm64)
        let args = try a.writeFiles(to: dir)
        #expect(args == ["-device", "loader,file=\(dir)/kernel.bin,addr=0x40200000", "-device", "loader,file=\(dir)/initrd.bin,addr=0x5FFFD000",
                         "-device", "loader,file=\(dir)/dtb.bin,addr=0x5FFFE000", "-device", "loader,file=\(dir)/trampoline.bin,addr=0x5FFFF000",
                         "-device", "loader,addr=0x5FFFF000,cpu-num=0"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/kernel.bin")).count == 0x1_0000)
        let r = try Self.load(.riscv64)
        let rargs = try r.writeFiles(to: dir)
        #expect(rargs.suffix(2) == ["-kernel", "\(dir)/trampoline.elf"] || rargs.contains("\(dir)/trampoline.elf"))
        let elf = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/trampoline.elf")))
        #expect(elf.prefix(4) == [0x7F, 0x45, 0x4C, 0x46] && elf.u16(18) == 243 && elf.u64(24) == r.trampoline && elf.u64(80) == r.trampoline)
        #expect(Array(elf[0x1000...]) == ImageTrampoline.riscv64(dtb: r.snapshot.dtbAddress, kernel: r.snapshot.loadAddress))
        if let readelf = try hostTool("riscv64-linux-gnu-readelf", ["-lh", dir + "/trampoline.elf"]) {
            let text = String(decoding: readelf.out, as: UTF8.self)
            #expect(readelf.status == 0 && text.contains("RISC-V") && text.contains("LOAD"), "\(text)\(readelf.err)")
        }
    }

    /// The snapshot says what the trampoline sets: x0 = DTB, x1–x3 = 0; a0 = hart, a1 = DTB.
    @Test("entry registers and the trampoline's literals agree")
    func registersMatchTrampoline() throws {
        let a = try Self.load(.arm64)
        let code = try #require(a.blocks.first { $0.name == "trampoline" }).bytes
        #expect(code.u64(0x18) == a.snapshot.registers[0] && code.u64(0x20) == a.snapshot.loadAddress && a.snapshot.registers == [a.snapshot.dtbAddress, 0, 0, 0])
        let r = try Self.load(.riscv64, initrd: nil)
        let rc = try #require(r.blocks.first { $0.name == "trampoline" }).bytes
        #expect(rc.u64(0x18) == r.snapshot.registers[1] && rc.u64(0x20) == r.snapshot.loadAddress && r.snapshot.registers == [0, r.snapshot.dtbAddress, 0, 0])
        #expect(r.snapshot.initrd == nil && r.deviceTree.node("/chosen")?.property("linux,initrd-start") == nil)
    }

    /// Header refusals never trap, whatever the bytes: every prefix of a valid header and a
    /// sweep of single-byte corruptions give a header or a typed error.
    @Test("the header parser never traps on truncation or corruption")
    func headerNeverTraps() {
        for arch in ImageBootSnapshot.Architecture.allCases {
            let good = ImageCorpus.synthesize(id: "sweep", arch, fields: [:], fileSize: 0x100)
            for n in 0...good.count {
                do { _ = try ImageHeader(Array(good.prefix(n)), architecture: arch) } catch { #expect(n < 64 && error.field == "header" && error.offset == 0) }
            }
            for o in 0..<64 {
                var b = good; b[o] ^= 0xFF
                do { _ = try ImageHeader(b, architecture: arch) } catch { #expect(ImageRuleCatalogue.rule(error.rule) != nil && error.offset == (o & ~3) || error.offset == (o & ~7), "\(arch) byte \(o): \(error)") }
            }
        }
    }
}
