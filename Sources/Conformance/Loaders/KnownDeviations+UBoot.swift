extension KnownDeviations {
    public static let uboot: [KnownDeviation] = []
    public static let systemdBoot: [KnownDeviation] = []
}
