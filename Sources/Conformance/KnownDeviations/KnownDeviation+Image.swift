/// Known deviations of the loaders that boot arm64 and riscv64 Images (the matrix's Image rows,
/// issue 16): the same `KnownDeviation`, matched on what an Image and its inputs carry instead
/// of an x86 `ImageRecord`, with its evidence in parts.
extension KnownDeviation {
    /// Where a deviation comes from and what shows it: the loader's source file and function,
    /// the clause of the boot document it departs from, and what the probe saw.
    public struct Citation: Sendable, Equatable {
        /// The loader's source file, with its version ("u-boot 2023.01 arch/arm/lib/bootm.c").
        public let source: String
        /// The function in it.
        public let function: String
        /// The document and clause ("booting.rst §4 CPU mode: …").
        public let clause: String
        /// What the runs showed, with the variants.
        public let observed: String
        public init(source: String, function: String, clause: String, observed: String) {
            self.source = source; self.function = function; self.clause = clause; self.observed = observed
        }
        /// The one-line form `KnownDeviation.evidence` carries.
        public var line: String { "\(source) \(function); \(clause); observed: \(observed)" }
    }

    /// An Image record: `applies` sees the Image's header and the inputs, for `architecture` only.
    public init(loader: String, rule: RuleID, architecture: ImageBootSnapshot.Architecture, what: String, citation: Citation,
                preventsReport: Bool = false, certain: Bool = true, harmless: Bool? = nil,
                applies: @escaping @Sendable (ImageDeviationSubject) -> Bool) {
        self.loader = loader; self.rule = rule; self.what = what; self.evidence = citation.line
        self.preventsReport = preventsReport; self.certain = certain; self.harmless = harmless
        self.match = .image(architecture, applies); self.citation = citation
    }

    /// Whether it shows for this Image and these inputs; false for an x86 record and for an
    /// Image of the other architecture.
    public func applies(to subject: ImageDeviationSubject) -> Bool {
        guard case .image(let arch, let f) = match, arch == subject.architecture else { return false }
        return f(subject)
    }
}

/// What decides whether an Image record shows: the header fields a loader reads (booting.rst
/// §4; boot-image-header.rst) and what the loader was given.
public struct ImageDeviationSubject: Sendable, Equatable {
    public let architecture: ImageBootSnapshot.Architecture
    /// The first 64 bytes of the Image (fewer for a short file).
    public let header: [UInt8]
    public let fileSize: UInt64
    /// The initrd's size, nil without one.
    public let initrdSize: UInt64?
    public let commandLine: String

    public init(architecture: ImageBootSnapshot.Architecture, header: [UInt8], fileSize: UInt64, initrdSize: UInt64?, commandLine: String) {
        self.architecture = architecture; self.header = Array(header.prefix(ImageHeader.size)); self.fileSize = fileSize
        self.initrdSize = initrdSize; self.commandLine = commandLine
    }
    /// From an Image file's bytes.
    public init(architecture: ImageBootSnapshot.Architecture, image: [UInt8], initrdSize: UInt64?, commandLine: String) {
        self.init(architecture: architecture, header: image, fileSize: UInt64(image.count), initrdSize: initrdSize, commandLine: commandLine)
    }
    /// From a snapshot: its Image header and inputs.
    public init(_ s: ImageBootSnapshot) {
        self.init(architecture: s.architecture, header: s.image.header, fileSize: s.image.fileSize, initrdSize: s.inputs.initrdSize, commandLine: s.inputs.commandLine)
    }

    /// text_offset (0x08), image_size (0x10), flags (0x18); nil past a short header.
    public var textOffset: UInt64? { header.u64(0x08) }
    public var imageSize: UInt64? { header.u64(0x10) }
    public var flags: UInt64? { header.u64(0x18) }
}

extension KnownDeviations {
    /// The Image rows' deviations that show with `subject`.
    public static func of(loader: String, subject: ImageDeviationSubject) -> [KnownDeviation] {
        all.filter { $0.loader == loader && $0.applies(to: subject) }
    }
}
