/// What a probe entered through an EFI entry learned from the firmware before it reported
/// (the `efi` report lines): the handover arguments and the results of the boot-service calls
/// the kernel's EFI stub makes (LOADED_IMAGE, the LINUX_EFI_INITRD_MEDIA_GUID LoadFile2
/// initrd, GetMemoryMap). The bytes behind the pointers (system table, loaded image, load
/// options, memory map) are in the snapshot's memory; the EFI rules (BP-80…) read them there.
public struct EFIFacts: Sendable, Equatable {
    /// EFI_STATUS values (UEFI Appendix D); the high bit marks an error.
    public struct Status: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        public static let success = Status(rawValue: 0)
        public static let bufferTooSmall = Status(rawValue: 0x8000_0000_0000_0005)
        public static let notFound = Status(rawValue: 0x8000_0000_0000_000E)
        /// The probe's marker for a call it did not make (EFI_NOT_STARTED).
        public static let notMade = Status(rawValue: 0x8000_0000_0000_0013)
        public var description: String {
            switch self {
            case .success: "EFI_SUCCESS"
            case .bufferTooSmall: "EFI_BUFFER_TOO_SMALL"
            case .notFound: "EFI_NOT_FOUND"
            case .notMade: "not called"
            default: hex(rawValue)
            }
        }
    }

    /// The image handle and the system table as the entry received them.
    public var handle: UInt64 = 0, systemTable: UInt64 = 0
    /// The probe found "IBI SYST" at systemTable and called boot services.
    public var systemTableValid = false
    public var bootServices: UInt64 = 0
    /// HandleProtocol(handle, EFI_LOADED_IMAGE_PROTOCOL).
    public var loadedImageStatus = Status.notMade, loadedImage: UInt64 = 0
    /// LocateDevicePath(LoadFile2, LINUX_EFI_INITRD_MEDIA_GUID vendor media path).
    public var initrdLocateStatus = Status.notMade
    /// LoadFile(BufferSize = 0, Buffer = NULL): status and the size it returned.
    public var initrdProbeStatus = Status.notMade, initrdProbeSize: UInt64 = 0
    /// LoadFile into the probe's pages: status, address, size returned.
    public var initrdLoadStatus = Status.notMade, initrdAddress: UInt64 = 0, initrdSize: UInt64 = 0
    /// GetMemoryMap into the probe's pages.
    public var memoryMapStatus = Status.notMade, memoryMap: UInt64 = 0, memoryMapSize: UInt64 = 0
    public var descriptorSize: UInt64 = 0, descriptorVersion: UInt64 = 0

    public init() {}

    /// From the merged key=value pairs of the report's `efi` lines (missing keys keep their
    /// "not reported" defaults).
    public init(reported k: [String: UInt64]) {
        func st(_ key: String) -> Status { k[key].map(Status.init(rawValue:)) ?? .notMade }
        handle = k["handle"] ?? 0; systemTable = k["systab"] ?? 0
        systemTableValid = (k["systab_ok"] ?? 0) == 1; bootServices = k["boot_services"] ?? 0
        loadedImageStatus = st("loaded_image_status"); loadedImage = k["loaded_image"] ?? 0
        initrdLocateStatus = st("lf2_locate_status")
        initrdProbeStatus = st("lf2_probe_status"); initrdProbeSize = k["lf2_probe_size"] ?? 0
        initrdLoadStatus = st("lf2_load_status"); initrdAddress = k["lf2_addr"] ?? 0; initrdSize = k["lf2_size"] ?? 0
        memoryMapStatus = st("memmap_status"); memoryMap = k["memmap_addr"] ?? 0; memoryMapSize = k["memmap_size"] ?? 0
        descriptorSize = k["desc_size"] ?? 0; descriptorVersion = k["desc_version"] ?? 0
    }

    /// One EFI_MEMORY_DESCRIPTOR (UEFI 2.10 §7.2.3): Type u32 at 0, PhysicalStart at 8,
    /// VirtualStart at 16, NumberOfPages at 24, Attribute at 32.
    public struct MemoryDescriptor: Sendable, Equatable {
        public let type: UInt32, physicalStart: UInt64, pages: UInt64, attribute: UInt64
        /// EfiLoaderCode 1, EfiLoaderData 2, EfiBootServicesCode 3, EfiBootServicesData 4, EfiConventionalMemory 7.
        public static let loaderCode: UInt32 = 1, loaderData: UInt32 = 2, conventional: UInt32 = 7
        public var range: AddressRange? { pages <= (UInt64.max >> 12) ? AddressRange.make(physicalStart, length: pages << 12) : nil }
    }

    /// Decodes a memory map's bytes with the reported descriptor size (nil when that size cannot
    /// hold a descriptor).
    public static func descriptors(_ bytes: [UInt8], descriptorSize: UInt64) -> [MemoryDescriptor]? {
        guard descriptorSize >= 40, descriptorSize <= 4096 else { return nil }
        let d = Int(descriptorSize)
        return stride(from: 0, to: bytes.count - d + 1, by: d).map { o in
            MemoryDescriptor(type: bytes.u32(o)!, physicalStart: bytes.u64(o + 8)!, pages: bytes.u64(o + 24)!, attribute: bytes.u64(o + 32)!)
        }
    }
}
