import Conformance
import ConformanceFixtures
import Foundation
import TestSupport
import PropertyBased
import Synchronization
import Testing

/// Properties over generated inputs (x-sheep/swift-property-based; a failure prints the seed
/// that reproduces it).
@Suite("Properties")
struct PropertyTests {
    static func put(_ b: inout [UInt8], _ off: Int, _ v: UInt64, _ n: Int) { for i in 0..<n { b[off + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }

    /// Setup header: random bytes in every field decode to values that, written back at the
    /// fields' offsets, give the same bytes (the field table has no gap, overlap or wrong size).
    @Test func setupHeaderDecodesAndEncodesBack() async throws {
        let base = try syntheticImage("bz-2.15").image
        let checked = Mutex(0)
        await propertyCheck(count: 200, input: Gen.uint8().array(of: 0x90)) { noise in
            var img = base
            for (i, x) in noise.enumerated() { img[0x1F1 + i] = x }
            // Keep what makes it a bzImage of this version (so every field is in the header).
            img[0x1F1] = base[0x1F1]; img[0x1FE] = 0x55; img[0x1FF] = 0xAA
            img.replaceSubrange(0x200..<0x208, with: base[0x200..<0x208])   // jump, "HdrS", version
            img.replaceSubrange(0x1F4..<0x1F8, with: base[0x1F4..<0x1F8])  // syssize
            // Random values the parser rightly refuses are drawn from their valid sets instead,
            // so every generated case parses and is checked (issue 14: this once skipped 200 of 200).
            img[0x211] |= 0x01                                                  // loadflags: LOADED_HIGH
            Self.put(&img, 0x230, 1 << UInt64(noise[0x230 - 0x1F1] % 31), 4)   // kernel_alignment: a power of two
            img[0x235] = 12 + noise[0x235 - 0x1F1] % 19                         // min_alignment: 12…30
            img.replaceSubrange(0x268..<0x26C, with: base[0x268..<0x26C])      // kernel_info_offset
            let bz: BzImage
            do {
                guard case .bzImage(let b) = try KernelImage(source: MemorySource(name: "p", bytes: img)) else { Issue.record("not a bzImage"); return }
                bz = b
            } catch { Issue.record("a generated header did not parse: \(error)"); return }
            checked.withLock { $0 += 1 }
            var back = [UInt8](repeating: 0, count: img.count)
            for (f, v) in bz.header.decodedFields { Self.put(&back, f.offset, v, f.size) }
            let covered = bz.header.decodedFields.map { $0.field.offset..<$0.field.end }
            for r in covered { #expect(Array(back[r]) == Array(img[r]), "field at \(hex(UInt64(r.lowerBound)))") }
        }
        #expect(checked.withLock { $0 } >= 200, "every generated header was decoded and compared")
    }

    /// Zero page: the kernel's copy equal to the loader's passes; one changed byte anywhere is
    /// named by exactly the field (or padding run) that holds it.
    /// (A plain seeded loop: 4 KiB inputs make the library's shrinker slow.)
    @Test func oneChangedZeroPageByteIsNamed() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
        for round in 0..<300 {
            let density = next() % 4   // from all-zero pages to fully random ones
            let zp = (0..<4096).map { _ in next() % 4 < density ? UInt8(truncatingIfNeeded: next()) : 0 }
            let at = Int(next() % 4096)
            let handoff = Handoff(zeroPage: zp, commandLine: [], e820: nil, initrdRange: nil, initrdFiles: nil, imageFormat: "ELF vmlinux", entry: .long64)
            var report = try KernelReport.parse(serial: kinitReport(["version 1", "bootparams 1000"] + Self.rows(zp) + ["cmdline "]))
            #expect(KernelObservedChecks.compare(report, with: handoff).allSatisfy { $0.outcome == .pass }, "round \(round)")
            var changed = zp; changed[at] ^= 0x5A
            report = try KernelReport.parse(serial: kinitReport(["version 1", "bootparams 1000"] + Self.rows(changed) + ["cmdline "]))
            let named = KernelObservedChecks.compare(report, with: handoff).filter { c in
                c.kind == .zeroPage && (c.outcome == .fail || c.note.hasPrefix("changed by the kernel"))
            }
            let holder = ZeroPage.fields(covering: 0..<ZeroPage.size).first { $0.offset <= at && at < $0.offset + $0.size }!
            #expect(named.count == 1 && named.first?.field == "\(hex(UInt64(holder.offset))) \(holder.name)", "round \(round), byte \(at): \(named.map(\.field))")
        }
    }

    static func rows(_ zp: [UInt8]) -> [String] {
        stride(from: 0, to: zp.count, by: 64).filter { zp[$0..<$0 + 64].contains { $0 != 0 } }.map { off in
            String(format: "bp %x ", off) + zp[off..<off + 64].map { String(format: "%02x", $0) }.joined()
        }
    }

    /// The init's report round-trips: what was printed is what is parsed.
    @Test func kernelReportRoundTrips() async throws {
        let entry = zip(Gen.uint64(in: 0...0xFFFF_FFFF_FFFF), Gen.uint32(in: 1...0x1000_0000))
        await propertyCheck(count: 100, input: Gen.uint8().array(of: 4096), Gen.uint8(in: 0x20...0x7E).array(of: 0...300), entry.array(of: 0...20)) { zp, cmd, map in
            let lines = ["version 1", "kernel 6.x", "bootparams 1000"] + Self.rows(zp) + ["cmdline " + cmd.map { String(format: "%02x", $0) }.joined()]
                + map.map { String(format: "memmap %llx %llx System RAM", $0.0, $0.0 + UInt64($0.1) - 1) }
            let r = try KernelReport.parse(serial: kinitReport(lines))
            #expect(r.bootParams == zp)
            #expect(r.commandLine == cmd)
            #expect(r.memoryMap.map(\.range) == map.map { AddressRange.make($0.0, length: UInt64($0.1)) })
            #expect(r.lineCount == lines.count)
        }
    }

    /// Placement: for any header fields, memory size, initrd size and entry, the reference
    /// loader either refuses with a LoadError or puts every region inside guest RAM, clear of
    /// each other, of the legacy hole, and (for boot data) of the kernel window.
    @Test func placementNeverOverlapsProtectedRanges() async throws {
        let base = try syntheticImage("bz-2.15").image
        let fields = zip(Gen.uint64(in: 0...0x2_0000_0000), Gen.uint32(in: 0...30), Gen.uint32(in: 0x1000...0x1000_0000), Gen.uint8(in: 0...1), Gen.uint16(in: 0...3))
        let setup = zip(Gen.uint64(in: 16...8192), Gen.uint32(in: 0...0x400_0000), Gen.bool(), Gen.bool())
        var loaded = 0
        await propertyCheck(count: 200, input: fields, setup) { f, s in
            var img = base
            Self.put(&img, 0x258, f.0 & ~0xFFF, 8)                // pref_address
            Self.put(&img, 0x230, UInt64(1) << (f.1 % 31), 4)     // kernel_alignment
            Self.put(&img, 0x260, UInt64(f.2), 4)                // init_size
            img[0x234] = f.3                                     // relocatable_kernel
            Self.put(&img, 0x236, UInt64(f.4), 2)                // xloadflags: KERNEL_64, ABOVE_4G
            var o = LoadOptions()
            o.memorySize = s.0 << 20; o.entry = s.2 ? .long64 : .protected32; o.highPlacement = s.3 && s.2
            let initrd = s.1 == 0 ? nil : MemorySource(name: "rd", bytes: [UInt8](repeating: 0xA5, count: Int(s.1)))
            let r: LoadResult
            do { r = try ReferenceLoader.load(kernel: MemorySource(name: "p", bytes: img), initrd: initrd, options: o) } catch { return }
            loaded += 1
            let ram = r.layout.slots
            for g in r.regions {
                #expect(ram.contains { $0.contains(g.range) }, "\(g.name) \(g.range) outside RAM \(ram)")
                if g.name != "rsdp" { #expect(!g.range.overlaps(RAMLayout.legacyHole), "\(g.name) \(g.range) in the legacy hole") }
                if !g.name.hasPrefix("kernel") { #expect(!g.range.overlaps(r.kernelWindow), "\(g.name) \(g.range) inside the kernel window \(r.kernelWindow)") }
            }
            for (i, a) in r.regions.enumerated() { for b in r.regions[(i + 1)...] { #expect(!a.range.overlaps(b.range), "\(a.name) \(a.range) overlaps \(b.name) \(b.range)") } }
        }
        // Not vacuous: a good share of the generated headers load.
        #expect(loaded >= 10, "only \(loaded) of 200 generated cases loaded")
    }

    /// newc: files written into an archive come back with their paths, sizes and checksums.
    @Test func newcRoundTrips() async throws {
        let file = zip(Gen.uint8(in: 0x61...0x7A).array(of: 1...12), Gen.uint8().array(of: 0...300))
        await propertyCheck(count: 100, input: file.array(of: 1...8)) { files in
            var archive: [UInt8] = [], want: [Newc.Entry] = []
            var seen = Set<String>()
            for (name, data) in files {
                let n = String(decoding: name, as: UTF8.self)
                guard seen.insert(n).inserted else { continue }
                archive += cpioEntry(n, mode: 0o100644, data: data)
                want.append(Newc.Entry(path: "/" + n, mode: 0o100644, size: UInt64(data.count), hash64: ProbeHash64.of(data)))
            }
            archive += cpioEntry("TRAILER!!!", mode: 0, data: [])
            let got = try Newc.entries(archive)
            #expect(got == want)
        }
    }
}

/// One newc header and its data, written field by field from the format (not by the reader).
func cpioEntry(_ name: String, mode: UInt32, data: [UInt8]) -> [UInt8] {
    let n = Array(name.utf8) + [0]
    var h = Array("070701".utf8)
    for f in [1, mode, 0, 0, 1, 0, UInt32(data.count), 0, 0, 0, 0, UInt32(n.count), 0] { h += Array(String(format: "%08X", f).utf8) }
    h += n; while h.count % 4 != 0 { h.append(0) }
    h += data; while h.count % 4 != 0 { h.append(0) }
    return h
}
