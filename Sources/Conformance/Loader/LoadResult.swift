/// A named range of guest memory the loader wrote.
public struct Region: Hashable, Sendable {
    public let name: String
    public let range: AddressRange
    public init(name: String, range: AddressRange) { self.name = name; self.range = range }
}

/// What the reference loader produced: guest memory, the entry state, and where it put things.
public final class LoadResult: @unchecked Sendable {
    // @unchecked: immutable after the loader returns; GuestMemory is only read from then on.
    public let memory: GuestMemory
    public let layout: RAMLayout
    public let image: KernelImage
    public let entry: EntryState
    /// L: where the protected-mode image (bzImage) or the lowest PT_LOAD segment (ELF) sits.
    public let kernelAddress: UInt64
    /// W: the memory the kernel claims before it reads the memory map (BP-22).
    public let kernelWindow: AddressRange
    public let bootParams: UInt64?
    public let startInfo: UInt64?
    public let commandLine: (address: UInt64, bytes: [UInt8])
    public let initrd: AddressRange?
    public let e820: [E820Entry]
    public let regions: [Region]
    public let warnings: [Warning]

    init(memory: GuestMemory, layout: RAMLayout, image: KernelImage, entry: EntryState, kernelAddress: UInt64, kernelWindow: AddressRange, bootParams: UInt64?, startInfo: UInt64?, commandLine: (UInt64, [UInt8]), initrd: AddressRange?, e820: [E820Entry], regions: [Region], warnings: [Warning]) {
        self.memory = memory; self.layout = layout; self.image = image; self.entry = entry
        self.kernelAddress = kernelAddress; self.kernelWindow = kernelWindow; self.bootParams = bootParams
        self.startInfo = startInfo; self.commandLine = commandLine; self.initrd = initrd; self.e820 = e820
        self.regions = regions.sorted { $0.range.start < $1.range.start }; self.warnings = warnings
    }
}
