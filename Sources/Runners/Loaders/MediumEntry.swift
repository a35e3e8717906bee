import Conformance
import HarnessKVM
import Foundation
import Glibc

/// One kernel a boot medium offers: the files it needs and the loader command that boots it.
public struct MediumEntry: Sendable {
    /// Menu id, chosen at boot from QEMU's command line (`-smbios type=11,value=ID`).
    public let id: String
    public let kernel: String
    public let initrd: String?
    public let commandLine: String
    /// GRUB's command: `linux` (its 32-bit boot), `linux16` (the 16-bit entry), `linuxefi`
    /// (Debian's EFI handover command).
    public let command: String
    public init(id: String, kernel: String, initrd: String?, commandLine: String, command: String) {
        self.id = id; self.kernel = kernel; self.initrd = initrd; self.commandLine = commandLine; self.command = command
    }
    /// The command line the kernel gets: GRUB puts `BOOT_IMAGE=PATH ` before the user's.
    public var grubCommandLine: String { "BOOT_IMAGE=/boot/\((kernel as NSString).lastPathComponent) " + commandLine }
}
