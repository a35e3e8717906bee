/// What a user asks the reference loader to do.
public struct LoadOptions: Sendable {
    /// Guest RAM in bytes (laid out by `RAMLayout`).
    public var memorySize: UInt64 = 1 << 30
    /// The entry to use; nil picks 64-bit where the image allows it (BP-06), else 32-bit.
    public var entry: EntryPoint? = nil
    public var commandLine: String = "console=ttyS0"
    /// Put the zero page, command line, setup_data and initrd above 4 GiB (BP-07 requires the
    /// 64-bit entry and XLF_CAN_BE_LOADED_ABOVE_4G).
    public var highPlacement: Bool = false
    /// Place the kernel here instead of the protocol's default (validated by BP-20/21, BP-68, BP-71).
    public var kernelAddress: UInt64? = nil
    /// RNG seed bytes for a SETUP_RNG_SEED node (BP-41); nil for none.
    public var rngSeed: [UInt8]? = nil
    /// Carry the seed through a SETUP_INDIRECT node (protocol 2.15+, BP-42).
    public var indirectSetupData: Bool = false
    /// Write a minimal ACPI RSDP in the reserved BIOS area and point acpi_rsdp_addr at it (BP-16, BP-24).
    public var acpiRSDP: Bool = false
    /// type_of_loader: 0xFF, "undefined", for a loader without an assigned ID (BP-13).
    public var typeOfLoader: UInt8 = 0xFF
    public init() {}

    /// A fixed seed, used by the corpus so snapshots are reproducible.
    public static let corpusSeed: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
}
