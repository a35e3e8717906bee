import Foundation

/// Why the reference Image loader will not place an Image: the rule, the object or field, what
/// was needed and what was there.
public struct ImagePlacementError: Error, Equatable, Sendable, CustomStringConvertible {
    public let rule: RuleID
    public let field: String
    public let expected: String
    public let found: String
    public var description: String { "\(rule): \(field): expected \(expected), found \(found)" }
}

/// A refusal of the reference Image loader: the header does not read, or the Image, the DTB
/// or the initrd cannot be placed as the protocol requires. Each names its rule.
public enum ImageLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    case header(ImageHeaderError)
    case placement(ImagePlacementError)
    public var rule: RuleID { switch self { case .header(let e): e.rule; case .placement(let e): e.rule } }
    public var field: String { switch self { case .header(let e): e.field; case .placement(let e): e.field } }
    /// The header field's offset in the Image; nil for a placement refusal.
    public var offset: Int? { if case .header(let e) = self { e.offset } else { nil } }
    public var description: String { switch self { case .header(let e): e.description; case .placement(let e): e.description } }
}

public struct ImageLoadOptions: Sendable {
    public var platform: ImagePlatform
    public var commandLine: String
    public var initrd: [UInt8]?
    public init(platform: ImagePlatform, commandLine: String = "", initrd: [UInt8]? = nil) {
        self.platform = platform; self.commandLine = commandLine; self.initrd = initrd
    }
}

/// What the reference Image loader built: each block of guest memory with its bytes, the
/// device tree, where the trampoline starts, and the snapshot the rules judge.
public struct ImageLoadResult: Sendable {
    public struct Block: Sendable, Equatable {
        public let name: String
        public let address: UInt64
        public let bytes: [UInt8]
        public var range: AddressRange { AddressRange.make(address, length: UInt64(bytes.count))! }
    }
    public let header: ImageHeader
    public let deviceTree: DeviceTree
    /// In address order: kernel, dtb, initrd (when given), trampoline.
    public let blocks: [Block]
    public let trampoline: UInt64
    public let snapshot: ImageBootSnapshot

    /// Writes each block to `directory` and returns QEMU's arguments that put them in guest
    /// memory and start the trampoline: arm64 `-device loader,file=…,addr=…` per block and
    /// `-device loader,addr=TRAMPOLINE,cpu-num=0` (the PC); riscv64 the same per block
    /// except the trampoline, which is `-kernel` as a one-segment ELF so that OpenSBI (QEMU's
    /// default `-bios`) enters it in S-mode. The machine arguments (`-M virt`, `-m`, the CPU,
    /// `gic-version=3` on arm64) are the caller's.
    public func writeFiles(to directory: String) throws -> [String] {
        var args: [String] = []
        for b in blocks {
            let riscvTrampoline = b.name == "trampoline" && snapshot.architecture == .riscv64
            let path = directory + "/\(b.name)" + (riscvTrampoline ? ".elf" : ".bin")
            let bytes = riscvTrampoline ? ImageTrampoline.riscv64ELF(b.bytes, at: b.address) : b.bytes
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            args += riscvTrampoline ? ["-kernel", path] : ["-device", "loader,file=\(path),addr=\(hex(b.address))"]
        }
        if snapshot.architecture == .arm64 { args += ["-device", "loader,addr=\(hex(trampoline)),cpu-num=0"] }
        return args
    }
}

/// The reference loader for arm64 and riscv64 Images (booting.rst; boot.rst and
/// boot-image-header.rst): reads the header, places the Image, the DTB and the initrd, builds
/// the device tree and the trampoline, and describes the entry state.
///
/// Placement. arm64: at a 2 MiB-aligned base + text_offset (0x80000 for a pre-3.17 header),
/// the lowest base at which the Image's image_size bytes lie in RAM clear of firmware (flags
/// bit 3 clear asks for the base as close to the start of DRAM as possible; with bit 3 set the
/// same base is taken, checked below 2^48). riscv64: the lowest 2 MiB-aligned address at or
/// above RAM base + text_offset whose image_size bytes are clear of firmware (boot.rst "Kernel
/// location"). Then from the top of RAM down, clear of the kernel, firmware and what the
/// platform avoids: the trampoline (one page), the DTB (page-aligned, so 8-byte aligned) and
/// the initrd (page-aligned). arm64 keeps the initrd inside a 1 GiB-aligned window of at most
/// 32 GiB that covers the kernel, moving it to just after the kernel when the top of RAM is
/// out of that window.
public enum ReferenceImageLoader {
    public static let producer = "reference-image-loader"
    static let page: UInt64 = 0x1000, twoMiB: UInt64 = 2 << 20, oneGiB: UInt64 = 1 << 30

    public static func load(_ image: [UInt8], _ o: ImageLoadOptions) throws(ImageLoadError) -> ImageLoadResult {
        let p = o.platform, arch = p.architecture
        let h: ImageHeader
        do { h = try ImageHeader(image, architecture: arch) } catch { throw .header(error) }
        let ramRanges = p.ram.compactMap(\.range)
        let firmware = p.firmware.compactMap(\.range), fixed = (p.firmware + p.avoid).compactMap(\.range)
        func inRAM(_ r: AddressRange) -> Bool { ramRanges.contains { $0.contains(r) } }
        func free(_ r: AddressRange, _ taken: [AddressRange]) -> Bool { inRAM(r) && !taken.contains { $0.overlaps(r) } }
        func refuse(_ rule: RuleID, _ field: String, _ expected: String, _ found: String) -> ImageLoadError {
            .placement(ImagePlacementError(rule: rule, field: field, expected: expected, found: found))
        }

        // The kernel.
        let footprint = h.footprint
        let kernelRule: RuleID = arch == .arm64 ? "A64-04" : "RV-04"
        var kernel: AddressRange?
        for ram in ramRanges {
            var base = arch == .arm64 ? ram.start.alignedUp(twoMiB) : (ram.start &+ h.textOffset).alignedUp(twoMiB)
            while let b = base, b < ram.end {
                let at = arch == .arm64 ? b &+ h.textOffset : b
                if let r = AddressRange.make(at, length: footprint), free(r, firmware) { kernel = r; break }
                base = b.addingReportingOverflow(twoMiB).overflow ? nil : b + twoMiB
            }
            if kernel != nil { break }
        }
        guard let kernel else {
            throw refuse(kernelRule, "image_size", "RAM for \(hex(footprint)) bytes at a 2 MiB-aligned base\(arch == .arm64 ? " + text_offset \(hex(h.textOffset))" : ""), clear of firmware", "RAM \(p.ram.map(\.description).joined(separator: ", ")), firmware \(p.firmware.map(\.description).joined(separator: ", "))")
        }
        if h.placeAnywhere, kernel.end > 1 << 48 {
            throw refuse("A64-03", "flags bit 3", "image_size bytes within the 48-bit physical range", "kernel \(kernel)")
        }

        // Top-down allocation below the end of the RAM range that holds the kernel.
        var taken = fixed + [kernel]
        func highest(_ size: UInt64, align: UInt64, below limit: UInt64) -> AddressRange? {
            for ram in ramRanges.sorted(by: >) {
                var end = min(ram.end, limit)
                while end > ram.start, end - ram.start >= size {
                    let start = (end - size).alignedDown(align)
                    guard start >= ram.start, let r = AddressRange.make(start, length: size) else { break }
                    if let clash = taken.filter({ $0.overlaps(r) }).min(by: { $0.start < $1.start }) { end = clash.start; continue }
                    return r
                }
            }
            return nil
        }
        let top = ramRanges.first { $0.contains(kernel) }!.end
        guard let tramp = highest(page, align: page, below: top) else { throw refuse(kernelRule, "trampoline", "a free page in RAM", "none") }
        taken.append(tramp)

        guard !o.commandLine.utf8.contains(0) else {
            throw refuse(arch == .arm64 ? "A64-17" : "RV-12", "bootargs", "a command line without NUL bytes (it is a NUL-terminated string property)", "a NUL at byte \(Array(o.commandLine.utf8).firstIndex(of: 0)!)")
        }
        // The DTB's size does not depend on the values in it: build it once with a
        // placeholder initrd range to size it.
        let initrdSize = o.initrd.map { UInt64($0.count) }
        let placeholder = initrdSize.map { AddressRange.make(0, length: $0)! }
        let dtbSize = UInt64(VirtDeviceTree.build(p, chosen: .init(bootargs: o.commandLine, initrd: placeholder)).blob().count)
        if arch == .arm64, dtbSize > twoMiB { throw refuse("A64-05", "dtb", "at most 2 MiB", hex(dtbSize)) }
        guard let dtbRange = highest(dtbSize, align: page, below: tramp.start) else {
            throw refuse(arch == .arm64 ? "A64-06" : "RV-06", "dtb", "\(hex(dtbSize)) free bytes of RAM outside the kernel", "none")
        }
        taken.append(dtbRange)

        var initrdRange: AddressRange?
        if let size = initrdSize, size > 0 {
            let rule: RuleID = arch == .arm64 ? "A64-15" : "RV-11"
            guard var r = highest(size, align: page, below: dtbRange.start) else { throw refuse(rule, "initrd", "\(hex(size)) free bytes of RAM", "none") }
            if arch == .arm64, !Self.sharesWindow(kernel, r) {
                guard let after = kernel.end.alignedUp(page), let low = AddressRange.make(after, length: size), free(low, taken), Self.sharesWindow(kernel, low) else {
                    throw refuse("A64-16", "initrd", "room inside a 1 GiB-aligned window of at most 32 GiB covering the kernel \(kernel)", "none")
                }
                r = low
            }
            initrdRange = r; taken.append(r)
        }

        let tree = VirtDeviceTree.build(p, chosen: .init(bootargs: o.commandLine, initrd: initrdRange))
        let dtb = tree.blob()
        let code = arch == .arm64 ? ImageTrampoline.arm64(dtb: dtbRange.start, kernel: kernel.start) : ImageTrampoline.riscv64(dtb: dtbRange.start, kernel: kernel.start)
        var blocks = [ImageLoadResult.Block(name: "kernel", address: kernel.start, bytes: image),
                      ImageLoadResult.Block(name: "dtb", address: dtbRange.start, bytes: dtb),
                      ImageLoadResult.Block(name: "trampoline", address: tramp.start, bytes: code)]
        if let r = initrdRange, let bytes = o.initrd { blocks.append(.init(name: "initrd", address: r.start, bytes: bytes)) }
        blocks.sort { $0.address < $1.address }

        // Each block hashed once: the kernel block's bytes are the file's, the initrd's the input's.
        let digests = Dictionary(blocks.map { ($0.name, sha256Hex($0.bytes)) }, uniquingKeysWith: { a, _ in a })
        let fileSHA = digests["kernel"] ?? sha256Hex(image), initrdSHA = digests["initrd"] ?? o.initrd.map(sha256Hex)
        let snapshot = ImageBootSnapshot(
            architecture: arch, producer: producer,
            image: .init(header: Array(image.prefix(ImageHeader.size)), fileSize: UInt64(image.count), sha256: fileSHA),
            loadAddress: kernel.start, loadedSHA256: fileSHA, ram: p.ram, firmware: p.firmware,
            registers: arch == .arm64 ? [dtbRange.start, 0, 0, 0] : [p.bootHart, dtbRange.start, 0, 0],
            arm64: arch == .arm64 ? .init(exceptionLevel: p.exceptionLevel, daif: 0x3C0, sctlr: 0, cntfrq: ImagePlatform.arm64TimerHz, iccSreEL2: p.iccSreEL2, gicV3: true) : nil,
            riscv64: arch == .riscv64 ? .init(satp: 0, sstatus: 0) : nil,
            dtbAddress: dtbRange.start, dtb: dtb,
            initrd: initrdRange.map { .init(start: $0.start, end: $0.end, sha256: initrdSHA) },
            inputs: .init(commandLine: o.commandLine, initrdSize: initrdSize, initrdSHA256: initrdSHA),
            regions: blocks.map { .init(name: $0.name, address: $0.address, size: UInt64($0.bytes.count), sha256: digests[$0.name] ?? sha256Hex($0.bytes)) },
            warnings: h.warnings)
        return ImageLoadResult(header: h, deviceTree: tree, blocks: blocks, trampoline: tramp.start, snapshot: snapshot)
    }

    /// booting.rst: the initrd "must reside entirely within a 1 GB aligned physical memory
    /// window of up to 32 GB in size that fully covers the kernel Image as well".
    public static func sharesWindow(_ kernel: AddressRange, _ initrd: AddressRange) -> Bool {
        let start = min(kernel.start, initrd.start).alignedDown(oneGiB)
        return max(kernel.end, initrd.end) - start <= 32 * oneGiB
    }
}
