// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "BootConformance",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Conformance", targets: ["Conformance"]),
        .library(name: "HarnessKVM", targets: ["HarnessKVM"]),
        .library(name: "Runners", targets: ["Runners"]),
        .library(name: "Reports", targets: ["Reports"]),
        .executable(name: "conform", targets: ["conform"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    // The target graph (DESIGN.md opens with it):
    //   Conformance ← ConformanceFixtures
    //   Conformance, CKVM ← HarnessKVM
    //   Conformance, ConformanceFixtures, HarnessKVM ← Runners ← Reports ← conform
    targets: [
        // Pure Swift: parse, place, build bytes, judge. No /dev/kvm, no processes.
        .target(
            name: "Conformance",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Test fixtures, not public API: the synthetic corpus (recipes, faults, manifest),
        // the probe build and the real-kernel corpus manifest. Pure Swift.
        .target(name: "ConformanceFixtures", dependencies: ["Conformance"]),
        // Only what Swift cannot express about /dev/kvm: ioctl numbers and fixed-arity wrappers.
        .target(name: "CKVM"),
        // The KVM VMM and nothing else: system, VM, vCPU, the devices a kernel needs.
        .target(name: "HarnessKVM", dependencies: ["Conformance", "CKVM"]),
        // Everything that runs a process or a boot: QEMU, bundles, the real-loader matrix and
        // its adapters, real kernels to userspace, the release gate, soak, the suite run.
        .target(name: "Runners", dependencies: ["Conformance", "ConformanceFixtures", "HarnessKVM"]),
        // Every report format in one place: JSON, JUnit, Markdown, HTML.
        .target(name: "Reports", dependencies: ["Conformance", "Runners"]),
        // Parses arguments and calls the libraries.
        .executableTarget(
            name: "conform",
            dependencies: [
                "Conformance",
                "ConformanceFixtures",
                "HarnessKVM",
                "Runners",
                "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What both test targets share: repository paths, the corpora loaded once, time limits.
        .target(name: "TestSupport", dependencies: ["Conformance", "ConformanceFixtures"], path: "Tests/TestSupport"),
        // Pure tests: any OS, no /dev/kvm, no QEMU.
        .testTarget(
            name: "ProtocolTests",
            dependencies: ["Conformance", "ConformanceFixtures", "TestSupport",
                           .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        // Tests that boot: /dev/kvm (HarnessKVM), QEMU, the real loaders, real kernels.
        .testTarget(
            name: "BootTests",
            dependencies: ["Conformance", "ConformanceFixtures", "HarnessKVM", "Runners", "Reports", "TestSupport"]
        ),
    ]
)
