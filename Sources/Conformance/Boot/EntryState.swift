/// Which entry point of the kernel the loader jumps to.
public enum EntryPoint: String, Sendable, CaseIterable, Codable {
    /// 16-bit real-mode setup entry (needs BIOS services; not used by a VMM loader).
    case setup16 = "16"
    /// 32-bit protected-mode entry at L (BP-47…BP-52).
    case protected32 = "32"
    /// 64-bit entry: L + 0x200 for a bzImage (BP-53…BP-58), e_entry for an ELF vmlinux (BP-70).
    case long64 = "64"
    /// PVH 32-bit entry from the ELF note (BP-60…BP-69).
    case pvh
    /// EFI handover, 32-bit: pm start + handover_offset, cdecl (handle, system table,
    /// boot_params) on the stack (boot.rst "EFI Handover Protocol"; BP-80…).
    case efiHandover32 = "efi-handover-32"
    /// EFI handover, 64-bit: pm start + handover_offset + 0x200, RDI = handle, RSI = system
    /// table, RDX = boot_params (BP-80…).
    case efiHandover64 = "efi-handover-64"
    /// The PE/COFF entry the firmware (or an EFI loader) calls: AddressOfEntryPoint with the
    /// Microsoft x64 convention, RCX = image handle, RDX = system table; no boot_params (BP-80…).
    case efiStub = "efi-stub"

    /// Entered by UEFI firmware or an EFI loader with boot services running.
    public var isEFI: Bool { self == .efiHandover32 || self == .efiHandover64 || self == .efiStub }
}

/// A segment register as the CPU caches it (what KVM's `kvm_segment` holds).
public struct SegmentRegister: Hashable, Sendable {
    public var selector: UInt16
    public var base: UInt64
    /// Limit in bytes - 1, with granularity already applied.
    public var limit: UInt32
    /// Descriptor type nibble (e.g. 0xB = code execute/read accessed, 0x3 = data read/write accessed).
    public var type: UInt8
    public var present: Bool
    public var dpl: UInt8
    /// D/B: 32-bit default operand size.
    public var db: Bool
    /// S: code/data (not system).
    public var s: Bool
    /// L: 64-bit code.
    public var l: Bool
    public var g: Bool

    public init(selector: UInt16, base: UInt64, limit: UInt32, type: UInt8, present: Bool, dpl: UInt8, db: Bool, s: Bool, l: Bool, g: Bool) {
        self.selector = selector; self.base = base; self.limit = limit; self.type = type; self.present = present
        self.dpl = dpl; self.db = db; self.s = s; self.l = l; self.g = g
    }

    /// The cached state loading `selector` from an 8-byte GDT `descriptor` gives.
    public init(selector: UInt16, descriptor d: UInt64) {
        let rawLimit = UInt32(d & 0xFFFF) | UInt32((d >> 48) & 0xF) << 16
        let g = (d >> 55) & 1 == 1
        self.init(
            selector: selector,
            base: (d >> 16) & 0xFF_FFFF | ((d >> 56) & 0xFF) << 24,
            limit: g ? rawLimit << 12 | 0xFFF : rawLimit,
            type: UInt8((d >> 40) & 0xF), present: (d >> 47) & 1 == 1, dpl: UInt8((d >> 45) & 3),
            db: (d >> 54) & 1 == 1, s: (d >> 44) & 1 == 1, l: (d >> 53) & 1 == 1, g: g)
    }

    /// A null selector with nothing loaded.
    public static let unusable = SegmentRegister(selector: 0, base: 0, limit: 0, type: 0, present: false, dpl: 0, db: false, s: false, l: false, g: false)
}

/// Descriptor-table register (GDTR/IDTR).
public struct TableRegister: Hashable, Sendable {
    public var base: UInt64
    public var limit: UInt16
    public init(base: UInt64, limit: UInt16) { self.base = base; self.limit = limit }
}

/// The CPU state at the moment the loader hands over: data, not code. HarnessKVM loads exactly
/// this into a vCPU; a probe kernel reports the same fields from inside the guest.
public struct EntryState: Hashable, Sendable {
    public var entryPoint: EntryPoint
    public var rip: UInt64 = 0, rsp: UInt64 = 0, rflags: UInt64 = 0x2
    public var rax: UInt64 = 0, rbx: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0
    public var rsi: UInt64 = 0, rdi: UInt64 = 0, rbp: UInt64 = 0
    public var r8: UInt64 = 0, r9: UInt64 = 0, r10: UInt64 = 0, r11: UInt64 = 0
    public var r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0, r15: UInt64 = 0
    public var cr0: UInt64 = 0, cr3: UInt64 = 0, cr4: UInt64 = 0, efer: UInt64 = 0
    public var gdtr = TableRegister(base: 0, limit: 0)
    public var idtr = TableRegister(base: 0, limit: 0)
    public var cs = SegmentRegister.unusable, ds = SegmentRegister.unusable, es = SegmentRegister.unusable
    public var ss = SegmentRegister.unusable, fs = SegmentRegister.unusable, gs = SegmentRegister.unusable
    public var tr = SegmentRegister.unusable

    public init(entryPoint: EntryPoint) { self.entryPoint = entryPoint }

    public static let cr0PE: UInt64 = 1 << 0, cr0ET: UInt64 = 1 << 4, cr0PG: UInt64 = 1 << 31
    public static let cr4PAE: UInt64 = 1 << 5, cr4LA57: UInt64 = 1 << 12
    public static let eferLME: UInt64 = 1 << 8, eferLMA: UInt64 = 1 << 10
    public static let rflagsIF: UInt64 = 1 << 9, rflagsTF: UInt64 = 1 << 8, rflagsVM: UInt64 = 1 << 17

    /// General registers by name, in a fixed order (snapshot JSON, probe reports).
    public var generalRegisters: [(String, UInt64)] {
        [("rax", rax), ("rbx", rbx), ("rcx", rcx), ("rdx", rdx), ("rsi", rsi), ("rdi", rdi), ("rbp", rbp), ("rsp", rsp),
         ("r8", r8), ("r9", r9), ("r10", r10), ("r11", r11), ("r12", r12), ("r13", r13), ("r14", r14), ("r15", r15),
         ("rip", rip), ("rflags", rflags)]
    }
    public mutating func setGeneralRegister(_ name: String, _ v: UInt64) -> Bool {
        switch name {
        case "rax": rax = v; case "rbx": rbx = v; case "rcx": rcx = v; case "rdx": rdx = v
        case "rsi": rsi = v; case "rdi": rdi = v; case "rbp": rbp = v; case "rsp": rsp = v
        case "r8": r8 = v; case "r9": r9 = v; case "r10": r10 = v; case "r11": r11 = v
        case "r12": r12 = v; case "r13": r13 = v; case "r14": r14 = v; case "r15": r15 = v
        case "rip": rip = v; case "rflags": rflags = v
        default: return false
        }
        return true
    }
    public var segments: [(String, SegmentRegister)] { [("cs", cs), ("ds", ds), ("es", es), ("ss", ss), ("fs", fs), ("gs", gs), ("tr", tr)] }
}

/// The boot GDT the loader writes (spec Appendix A): null, null, __BOOT_CS 0x10, __BOOT_DS 0x18,
/// and a TSS at 0x20 (needed by VMX for a valid TR).
public enum BootGDT {
    public static let code32: UInt64 = 0x00CF_9B00_0000_FFFF
    public static let data32: UInt64 = 0x00CF_9300_0000_FFFF
    public static let code64: UInt64 = 0x00AF_9B00_0000_FFFF
    /// 32-bit TSS, busy (type 0xB), base 0, limit 0x67 (BP-61).
    public static let tss32Busy: UInt64 = 0x0000_8B00_0000_0067
    public static let codeSelector: UInt16 = 0x10, dataSelector: UInt16 = 0x18, tssSelector: UInt16 = 0x20

    public static func table(longMode: Bool) -> [UInt64] { [0, 0, longMode ? code64 : code32, data32, tss32Busy] }
    public static func bytes(_ entries: [UInt64]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: entries.count * 8)
        for (i, e) in entries.enumerated() { b.put64(e, at: i * 8) }
        return b
    }
}

/// Identity page tables (VA == PA) with 2 MiB pages, 4-level paging.
public enum IdentityPageTables {
    public static let present: UInt64 = 1, writable: UInt64 = 2, pageSize: UInt64 = 0x80
    /// Bytes of tables at `base` that identity-map [0, top): PML4, one PDPT, one PD per GiB.
    public static func build(base: UInt64, top: UInt64) -> [UInt8] {
        let gib = Int((top + (1 << 30) - 1) >> 30)
        var b = [UInt8](repeating: 0, count: (2 + gib) * 4096)
        b.put64((base + 0x1000) | present | writable, at: 0)           // PML4[0] → PDPT
        for g in 0..<gib {
            b.put64((base + 0x2000 + UInt64(g) * 0x1000) | present | writable, at: 0x1000 + g * 8) // PDPT[g] → PD
            for e in 0..<512 {
                let pa = UInt64(g) << 30 | UInt64(e) << 21
                b.put64(pa | present | writable | pageSize, at: 0x2000 + g * 4096 + e * 8)
            }
        }
        return b
    }
    public static func size(top: UInt64) -> UInt64 { UInt64(2 + Int((top + (1 << 30) - 1) >> 30)) * 4096 }
}
