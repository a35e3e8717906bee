// Deviations of ISOLINUX 6.04 (Debian 12 isolinux/syslinux-common) and iPXE 1.0.0+git-20190125
// (Debian 12 ipxe-qemu), read in their source and seen in the MatrixISOLINUX and MatrixIPXE
// suites. To be added to `KnownDeviations.all` (KnownDeviation.swift).
extension KnownDeviations {
    public static let syslinux: [KnownDeviation] = []
    public static let ipxe: [KnownDeviation] = []
}
