// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "BootConformance",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Conformance", targets: ["Conformance"]),
        .library(name: "HarnessKVM", targets: ["HarnessKVM"]),
        .executable(name: "conform", targets: ["conform"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // Pure Swift: parse, place, build bytes, judge. No /dev/kvm, no processes.
        .target(
            name: "Conformance",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Only what Swift cannot express about /dev/kvm: ioctl numbers and fixed-arity wrappers.
        .target(name: "CKVM"),
        // Runs guests: KVM (system, VM, vCPU), the devices a kernel needs, QEMU.
        .target(name: "HarnessKVM", dependencies: ["Conformance", "CKVM"]),
        .executableTarget(
            name: "conform",
            dependencies: [
                "Conformance",
                "HarnessKVM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ProtocolTests",
            dependencies: ["Conformance", "HarnessKVM", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
    ]
)
