import Conformance
import Foundation
import Testing

/// The Image snapshot's JSON form (`image-boot-snapshot/1`).
@Suite("ImageSnapshotJSON")
struct ImageSnapshotJSONTests {
    static let snapshot = ImageBootSnapshot(
        architecture: .riscv64, producer: "test", image: .init(header: [UInt8](repeating: 0xAB, count: 64), fileSize: 0x1234, sha256: String(repeating: "0", count: 64)),
        loadAddress: 0x8020_0000, loadedSHA256: nil, ram: [.init(address: 0x8000_0000, size: 0x4000_0000)], firmware: [.init(address: 0x8000_0000, size: 0x4_0000)],
        registers: [0, 0x8220_0000, 0, 0], riscv64: .init(satp: 0, sstatus: 0x8000_0000_0000_0000, sbiImplementation: 1),
        dtbAddress: 0x8220_0000, dtb: [0xD0, 0x0D], initrd: nil, inputs: .init(commandLine: "console=ttyS0"), warnings: [])

    @Test("numbers are hex strings, nil fields are left out, and the file reads back equal")
    func roundTrip() throws {
        let text = ImageSnapshotJSON.string(Self.snapshot, verdicts: [])
        #expect(text.contains("\"loadAddress\" : \"0x80200000\"") && text.contains("\"registers\" : [\n    \"0x0\",\n    \"0x82200000\""))
        #expect(text.contains("\"dtb\" : \"d00d\"") && text.contains("\"format\" : \"image-boot-snapshot/1\""))
        #expect(!text.contains("loadedSHA256") && !text.contains("sbiSpecVersion") && !text.contains("null"))
        #expect(try ImageSnapshotJSON.decode(Data(text.utf8)) == Self.snapshot)
    }

    @Test("a bad value is refused with its path")
    func refusals() throws {
        let text = ImageSnapshotJSON.string(Self.snapshot)
        #expect(throws: SnapshotDecodeError.self) { try ImageSnapshotJSON.decode(Data(text.replacingOccurrences(of: "image-boot-snapshot/1", with: "boot-snapshot/1").utf8)) }
        do {
            _ = try ImageSnapshotJSON.decode(Data(text.replacingOccurrences(of: "\"0x80200000\"", with: "\"0x1234567890ABCDEF0\"").utf8))
            Issue.record("a 17-digit value decoded")
        } catch { #expect(error.path == "loadAddress", "\(error)") }
        do {
            _ = try ImageSnapshotJSON.decode(Data(text.replacingOccurrences(of: "\"satp\" : \"0x0\",", with: "").utf8))
            Issue.record("a missing satp decoded")
        } catch { #expect(error.path == "riscv64.satp", "\(error)") }
    }
}
