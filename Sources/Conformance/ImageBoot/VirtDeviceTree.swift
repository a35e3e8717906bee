/// The device tree the reference Image loader hands a kernel on QEMU `virt`: what a boot needs
/// and no more. /chosen (bootargs, linux,initrd-start/-end, stdout-path), one /memory node per
/// RAM range, /cpus with one cpu node, the console UART, and per architecture:
/// arm64 /psci (the cpu's enable-method), the GICv3 and the architected timer;
/// riscv64 the cpu's isa, MMU type and interrupt controller, and /reserved-memory for the
/// platform's firmware (boot.rst "Reserved memory for resident firmware").
public enum VirtDeviceTree {
    public struct Chosen: Sendable, Equatable {
        public var bootargs: String
        public var initrd: AddressRange?
        public init(bootargs: String, initrd: AddressRange?) { self.bootargs = bootargs; self.initrd = initrd }
    }
    typealias P = DeviceTree.Property
    typealias N = DeviceTree.Node

    static func reg(_ address: UInt64, _ size: UInt64) -> [UInt32] {
        [UInt32(address >> 32), UInt32(truncatingIfNeeded: address), UInt32(size >> 32), UInt32(truncatingIfNeeded: size)]
    }

    public static func build(_ p: ImagePlatform, chosen: Chosen) -> DeviceTree {
        let uartPath = p.architecture == .arm64 ? "/pl011@9000000" : "/soc/serial@10000000"
        var chosenProps: [P] = [P("bootargs", string: chosen.bootargs), P("stdout-path", string: uartPath)]
        if let r = chosen.initrd { chosenProps += [P("linux,initrd-start", u64: r.start), P("linux,initrd-end", u64: r.end)] }
        var children: [N] = [N("chosen", chosenProps)]
        children += p.ram.map { N("memory@\(String($0.address, radix: 16))", [P("device_type", string: "memory"), P("reg", cells: reg($0.address, $0.size))]) }
        switch p.architecture {
        case .arm64:
            let gic: UInt32 = 1, clock: UInt32 = 2
            children += [
                N("cpus", [P("#address-cells", cells: [1]), P("#size-cells", cells: [0])], children: [
                    N("cpu@0", [P("device_type", string: "cpu"), P("compatible", string: "arm,cortex-a57"), P("reg", cells: [0]), P("enable-method", string: "psci")]),
                ]),
                N("psci", [P("compatible", strings: ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]), P("method", string: p.exceptionLevel >= 2 ? "smc" : "hvc")]),
                N("intc@8000000", [P("compatible", string: "arm,gic-v3"), P("#interrupt-cells", cells: [3]), P(flag: "interrupt-controller"),
                                   P("reg", cells: reg(ImagePlatform.arm64GICD, 0x1_0000) + reg(ImagePlatform.arm64GICR, 0xF6_0000)), P("phandle", cells: [gic])]),
                // PPIs 13, 14, 11, 10 (secure, non-secure, virtual, hypervisor), level-high, to every CPU.
                N("timer", [P("compatible", string: "arm,armv8-timer"), P("interrupts", cells: [1, 13, 0x104, 1, 14, 0x104, 1, 11, 0x104, 1, 10, 0x104]), P(flag: "always-on")]),
                N("apb-pclk", [P("compatible", string: "fixed-clock"), P("#clock-cells", cells: [0]), P("clock-frequency", cells: [24_000_000]), P("phandle", cells: [clock])]),
                N("pl011@9000000", [P("compatible", strings: ["arm,pl011", "arm,primecell"]), P("reg", cells: reg(ImagePlatform.arm64UART, 0x1000)),
                                    P("interrupts", cells: [0, 1, 4]), P("clock-names", strings: ["uartclk", "apb_pclk"]), P("clocks", cells: [clock, clock])]),
            ]
            return DeviceTree(root: N("", [P("#address-cells", cells: [2]), P("#size-cells", cells: [2]), P("compatible", string: "linux,dummy-virt"), P("interrupt-parent", cells: [gic])], children: children))
        case .riscv64:
            let hart = UInt32(truncatingIfNeeded: p.bootHart)
            children += [
                N("reserved-memory", [P("#address-cells", cells: [2]), P("#size-cells", cells: [2]), P(flag: "ranges")],
                  children: p.firmware.enumerated().map { N("firmware\($0.offset)@\(String($0.element.address, radix: 16))", [P("reg", cells: reg($0.element.address, $0.element.size)), P(flag: "no-map")]) }),
                N("cpus", [P("#address-cells", cells: [1]), P("#size-cells", cells: [0]), P("timebase-frequency", cells: [ImagePlatform.riscvTimebaseHz])], children: [
                    N("cpu@\(String(hart, radix: 16))", [P("device_type", string: "cpu"), P("reg", cells: [hart]), P("status", string: "okay"), P("compatible", string: "riscv"),
                                                         P("riscv,isa", string: "rv64imafdc"), P("mmu-type", string: "riscv,sv39")], children: [
                        N("interrupt-controller", [P("#interrupt-cells", cells: [1]), P(flag: "interrupt-controller"), P("compatible", string: "riscv,cpu-intc"), P("phandle", cells: [1])]),
                    ]),
                ]),
                N("soc", [P("#address-cells", cells: [2]), P("#size-cells", cells: [2]), P("compatible", string: "simple-bus"), P(flag: "ranges")], children: [
                    N("serial@10000000", [P("compatible", string: "ns16550a"), P("reg", cells: reg(ImagePlatform.riscvUART, 0x100)), P("clock-frequency", cells: [3_686_400])]),
                ]),
            ]
            return DeviceTree(root: N("", [P("#address-cells", cells: [2]), P("#size-cells", cells: [2]), P("compatible", string: "riscv-virtio")], children: children), bootCPU: hart)
        }
    }
}
