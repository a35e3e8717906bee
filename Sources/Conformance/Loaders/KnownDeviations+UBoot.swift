extension KnownDeviations {
    public static let uboot: [KnownDeviation] = []
}
