import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import Testing

/// Rules that add an address to a size never pass on a sum that wraps past 2^64 (issue 14: BP-23
/// passed when the pref_address window wrapped; BP-65 compared a wrapping sum).
@Suite("WrappingInputs")
struct WrappingInputTests {
    static func judged(_ id: String, image edit: (inout [UInt8]) -> Void = { _ in }, memory: (LoadResult) throws -> Void = { _ in }) throws -> [Verdict] {
        let c = try syntheticImage(id)
        var image = c.image
        edit(&image)
        let initrd = c.initrd.map { MemorySource(name: c.id + ".initrd", bytes: $0) }
        // Loaded as built (the reference loader refuses a wrapping window itself: BP-22), judged
        // as the edited image, as for a foreign loader that took it.
        let r = try ReferenceLoader.load(kernel: MemorySource(name: c.id, bytes: c.image), initrd: initrd, options: c.options)
        try memory(r)
        return judge(try BootSnapshot.of(r, kernel: MemorySource(name: c.id, bytes: image), initrd: initrd, commandLine: c.options.commandLine))
    }
    static func verdict(_ id: RuleID, in v: [Verdict]) throws -> Verdict { try #require(v.first { $0.rule == id }) }

    /// BP-23: pref_address + init_size past 2^64 is no window to prefer: n/a, naming both values.
    /// The same image with its own pref_address is judged (and passes).
    @Test func prefAddressWindowThatWrapsIsNotAPass() throws {
        let plain = try Self.verdict("BP-23", in: Self.judged("bz-2.15"))
        #expect(plain.outcome == .pass, "\(plain)")
        let wrapped = try Self.verdict("BP-23", in: Self.judged("bz-2.15", image: { img in
            for i in 0..<8 { img[0x258 + i] = UInt8(truncatingIfNeeded: UInt64(0xFFFF_FFFF_FFFF_F000) >> (8 * UInt64(i))) }
        }))
        #expect(wrapped.outcome == .notApplicable, "\(wrapped)")
        #expect(wrapped.evidence.contains("0xFFFFFFFFFFFFF000") && wrapped.evidence.contains("wraps"), "\(wrapped.evidence)")
    }

    /// BP-65: module 0 at 2^64 - 4 KiB with a size of 8 KiB ends "below 4 GiB" only by wrapping.
    @Test func pvhModuleWhoseEndWrapsFails() throws {
        let plain = try Self.verdict("BP-65", in: Self.judged("pvh-desc8"))
        #expect(plain.outcome == .pass, "\(plain)")
        let v = try Self.judged("pvh-desc8", memory: { r in
            let si = try #require(r.startInfo)
            let list = try #require(r.memory.bytes(at: si + 16, count: 8)).u64(0)!
            var m = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 { m[i] = UInt8(truncatingIfNeeded: UInt64(0xFFFF_FFFF_FFFF_F000) >> (8 * UInt64(i))) }
            m[9] = 0x20   // size 0x2000
            try r.memory.write(m, at: list)
        })
        let wrapped = try Self.verdict("BP-65", in: v)
        #expect(wrapped.outcome == .fail, "\(wrapped)")
        #expect(wrapped.evidence.contains("wraps past 2^64"), "\(wrapped.evidence)")
    }
}
