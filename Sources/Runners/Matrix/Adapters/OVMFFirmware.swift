import Conformance
import HarnessKVM
import Foundation

/// OVMF on q35: the read-only code image and a writable copy of the variables per boot.
public enum OVMFFirmware {
    public static let code = "/usr/share/OVMF/OVMF_CODE_4M.fd", vars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
    public static var unavailable: String? {
        FileManager.default.isReadableFile(atPath: code) && FileManager.default.isReadableFile(atPath: vars) ? nil : "OVMF is not installed (\(code), \(vars): apt-get install ovmf)"
    }
    /// q35, TCG, the two pflash drives (a fresh copy of the variables in `work`).
    public static func configure(_ b: inout QEMUBoot, work: String, timeout: Duration) throws {
        let copy = work + "/vars-\(UInt32.random(in: 0...UInt32.max)).fd"
        try FileManager.default.copyItem(atPath: vars, toPath: copy)
        b.machine = "q35"; b.accel = .tcg; b.timeout = timeout
        b.extraArguments += ["-drive", "if=pflash,format=raw,readonly=on,file=\(code)", "-drive", "if=pflash,format=raw,file=\(copy)"]
    }
}
