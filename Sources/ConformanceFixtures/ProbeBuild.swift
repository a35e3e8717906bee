import Conformance
import Foundation

/// The probe kernel as `Corpus/probe/build.sh` leaves it: a position-independent image with
/// entries at 0 (32-bit), 0x200 (64-bit) and `pvhStart`, real-mode setup code, and the
/// offsets the packager patches.
public struct ProbeBuild: Sendable {
    public let image: [UInt8]
    public let setup16: [UInt8]
    public let pvhStart: UInt64
    /// The PE/COFF entry `efi_pe_entry` (ms_abi efi_main(handle, system table)), offset in the image.
    public let efiPEEntry: UInt64
    /// The 64-bit EFI handover entry; the header's handover_offset is this − 0x200.
    public let efiHandover64: UInt64
    public let pvhBaseImmediate: Int
    public let variantField: Int
    /// 256 bytes the packager fills with a bzImage's payload magic and kernel_info.
    public let tail: Int
    /// Scratch the probe uses after its file image (page tables, stack, report buffer): the
    /// image's memory size is `scratch.upperBound`.
    public let scratch: Range<UInt64>

    public static let defaultDirectory = "Corpus/probe/build"

    public enum LoadError: Error, CustomStringConvertible, Equatable {
        case missing(path: String)
        case bad(path: String, reason: String)
        public var description: String {
            switch self {
            case .missing(let p): "\(p) is missing: run tools/build-corpus.sh (or Corpus/probe/build.sh) to build the probe kernel"
            case .bad(let p, let r): "\(p): \(r)"
            }
        }
    }

    public static func load(directory: String = defaultDirectory) throws(LoadError) -> ProbeBuild {
        func read(_ name: String) throws(LoadError) -> [UInt8] {
            let p = directory + "/" + name
            guard let d = FileManager.default.contents(atPath: p) else { throw .missing(path: p) }
            return [UInt8](d)
        }
        var img = try read("probe.bin")
        let s16 = try read("setup16.bin")
        let jpath = directory + "/probe.json"
        guard let j = try? JSONSerialization.jsonObject(with: Data(try read("probe.json"))) as? [String: Any] else { throw .bad(path: jpath, reason: "not a JSON object") }
        func num(_ k: String) throws(LoadError) -> UInt64 {
            guard let s = j[k] as? String, let v = parseNumber(s) else { throw .bad(path: jpath, reason: "field \(k) missing or not a number") }
            return v
        }
        let pePE = try num("efi_pe_entry"), h64 = try num("efi_handover64")
        let pvh = try num("pvh_start"), imm = try num("pvh_base_imm"), variant = try num("variant")
        let ss = try num("scratch_start"), se = try num("scratch_end"), tail = try num("tail")
        // objcopy stops at the last initialised byte; the image runs to where scratch starts.
        guard ss >= UInt64(img.count), ss - UInt64(img.count) <= 0x10000 else { throw .bad(path: jpath, reason: "scratch_start \(hex(ss)) is not just past probe.bin's \(img.count) bytes") }
        img += [UInt8](repeating: 0, count: Int(ss) - img.count)
        guard imm + 4 <= UInt64(img.count), variant + 64 <= UInt64(img.count), tail + 256 <= UInt64(img.count), pvh < UInt64(img.count), pePE < UInt64(img.count), h64 >= 0x200, h64 < UInt64(img.count), ss <= se, se - ss <= 1 << 20 else {
            throw .bad(path: jpath, reason: "offsets outside the \(img.count)-byte probe.bin")
        }
        return ProbeBuild(image: img, setup16: s16, pvhStart: pvh, efiPEEntry: pePE, efiHandover64: h64, pvhBaseImmediate: Int(imm), variantField: Int(variant), tail: Int(tail), scratch: ss..<se)
    }

    /// The image with the variant name written in (at most 63 bytes of printable ASCII).
    func image(variant: String) -> [UInt8] {
        var b = image
        let name = Array(variant.utf8.filter { $0 > 0x20 && $0 < 0x7F }.prefix(63))
        b.put(bytes: name + [UInt8](repeating: 0, count: 64 - name.count), at: variantField)
        return b
    }
}
