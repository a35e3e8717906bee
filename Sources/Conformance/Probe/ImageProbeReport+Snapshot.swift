/// An Image probe's report as the `ImageBootSnapshot` the A64/RV rules judge (issue 16's
/// contract): what the probe found, plus what only the host knows, the files the loader was
/// given, what the user asked for, and the platform's RAM and firmware ranges (the runner's
/// `ImagePlatform`, never taken from the device tree).
extension ImageProbeReport {
    /// The digest a snapshot records for bytes the probe checksummed. The probe checksums with
    /// ProbeHash64 (cheap under TCG), not SHA-256: where its length and checksum equal the
    /// expected file's, the bytes found are that file's and their SHA-256 is the file's; where
    /// they differ, the SHA-256 of what was found is unknown and the field says so in words
    /// ("not the file: …"), which no SHA-256 equals, so a rule comparing digests fails with the
    /// probe's figures as its evidence instead of passing or going n/a.
    /// `sha256` is the file's, which the caller has already computed.
    static func digest(_ h: Hash, expected file: [UInt8], sha256: String) -> String {
        if h.matches(file) { return sha256 }
        return "not the file: hash64 \(hash64Text(h.hash64)) over \(hex(h.length)) bytes at \(hex(h.address)), the file's is \(hash64Text(ProbeHash64.of(file))) over \(hex(UInt64(file.count)))"
    }

    /// The snapshot. `image` and `initrd` are the files the loader was given (the initrd nil
    /// when none was), `commandLine` what it was asked to pass, `producer` the run ("u-boot-arm64
    /// × arm64-t0-anywhere"). Fields the probe could not read stay nil (the DTB when the FDT
    /// header was not valid, the initrd's digest when it lay outside /memory).
    public func snapshot(image: [UInt8], initrd: [UInt8]?, commandLine: String, platform: ImagePlatform, producer: String) -> ImageBootSnapshot {
        let arch = architecture
        let imageSHA = sha256Hex(image), initrdSHA = initrd.map(sha256Hex)
        let file = ImageBootSnapshot.ImageFile(header: Array(image.prefix(ImageHeader.size)), fileSize: UInt64(image.count), sha256: imageSHA)
        var arm64: ImageBootSnapshot.Arm64State? = nil, riscv64: ImageBootSnapshot.RISCVState? = nil
        let tree = dtb.flatMap { try? DeviceTree(blob: $0.bytes) }
        switch cpu {
        case .arm64(let s):
            var icc: UInt64? = nil
            if case .value(let v)? = s.iccSreEL2 { icc = v }
            let gicV3 = tree.map { t in Self.nodes(t.root).contains { $0.property("compatible")?.strings?.contains("arm,gic-v3") == true } }
            arm64 = .init(exceptionLevel: s.exceptionLevel, daif: s.daif, sctlr: s.sctlr, cntfrq: s.cntfrq, iccSreEL2: icc, hcrEL2: s.hcrEL2, gicV3: gicV3)
        case .riscv64(let s):
            // The hart the probe runs on, when the tree names exactly one CPU.
            riscv64 = .init(satp: s.satp, sstatus: s.sstatus, sbiImplementation: s.sbiSpecError == 0 ? s.sbiImplementationID : nil,
                            sbiSpecVersion: s.sbiSpecError == 0 ? s.sbiSpecVersion : nil, hartIDFromDeviceTree: cpuNodes.count == 1 ? cpuNodes[0].address : nil)
        }
        var found: ImageBootSnapshot.InitrdFound? = nil
        if let start = initrdStart, let end = initrdEnd {
            found = .init(start: start, end: end, sha256: self.initrd.map { Self.digest($0, expected: initrd ?? [], sha256: initrdSHA ?? sha256Hex([])) })
        }
        let inputs = ImageBootSnapshot.Inputs(commandLine: commandLine, initrdSize: initrd.map { UInt64($0.count) }, initrdSHA256: initrdSHA)
        return ImageBootSnapshot(architecture: arch, producer: producer, image: file, loadAddress: loadAddress,
                                 loadedSHA256: self.image.map { Self.digest($0, expected: image, sha256: imageSHA) }, ram: platform.ram, firmware: platform.firmware,
                                 registers: entryRegisters, arm64: arm64, riscv64: riscv64, dtbAddress: fdt?.address ?? 0,
                                 dtb: fdt?.valid == true ? dtb?.bytes : nil, initrd: found, inputs: inputs)
    }

    /// Every node of the tree, depth first (bounded by the tree the reader built).
    static func nodes(_ n: DeviceTree.Node) -> [DeviceTree.Node] { [n] + n.children.flatMap { nodes($0) } }
}
