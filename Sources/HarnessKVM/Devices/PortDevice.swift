/// What a device asks the run loop to do after an access.
public enum DeviceAction: Sendable, Equatable {
    case none
    /// The guest asked to end the run with this status (debug-exit port).
    case exit(code: UInt32)
    /// The guest asked for a reset (i8042 pulse, 0xFE to port 0x64).
    case reset
    /// Pulse this interrupt line (edge) on the in-kernel PIC/IOAPIC.
    case pulseIRQ(UInt32)
}

/// A device on the I/O port bus. Devices are plain Swift objects: tests drive them without KVM.
public protocol PortDevice: AnyObject {
    var ports: ClosedRange<UInt16> { get }
    func read(port: UInt16, size: Int) -> UInt32
    func write(port: UInt16, size: Int, value: UInt32) -> DeviceAction
}

/// The port bus: routes each access to the device that claims the port. Unclaimed reads
/// return all ones (an empty ISA bus), unclaimed writes are dropped; both are counted.
public final class PortBus {
    public private(set) var devices: [PortDevice] = []
    public private(set) var unclaimedReads = 0, unclaimedWrites = 0
    public init() {}
    public func attach(_ d: PortDevice) { devices.append(d) }
    func device(for port: UInt16) -> PortDevice? { devices.first { $0.ports.contains(port) } }

    public func read(port: UInt16, size: Int) -> UInt32 {
        guard let d = device(for: port) else { unclaimedReads += 1; return size >= 4 ? 0xFFFF_FFFF : (1 << (8 * UInt32(size))) - 1 }
        return d.read(port: port, size: size)
    }
    public func write(port: UInt16, size: Int, value: UInt32) -> DeviceAction {
        guard let d = device(for: port) else { unclaimedWrites += 1; return .none }
        return d.write(port: port, size: size, value: value)
    }
}

/// QEMU's `isa-debug-exit` at port 0x501: a write of v ends the run with status v. (QEMU
/// exits with (v << 1) | 1; we report v itself.)
public final class DebugExitPort: PortDevice {
    public static let defaultPort: UInt16 = 0x501
    public let ports: ClosedRange<UInt16>
    public init(port: UInt16 = DebugExitPort.defaultPort) { ports = port...port + 1 }
    public func read(port: UInt16, size: Int) -> UInt32 { 0xFFFF_FFFF >> (32 - 8 * UInt32(size)) }
    public func write(port: UInt16, size: Int, value: UInt32) -> DeviceAction { .exit(code: value) }
}

/// The part of the i8042 keyboard controller guests use to reboot: command 0xFE on port 0x64
/// pulses the reset line. Status reads say "nothing to read, ready for input".
public final class I8042: PortDevice {
    public let ports: ClosedRange<UInt16> = 0x60...0x64
    public init() {}
    public func read(port: UInt16, size: Int) -> UInt32 { 0 }
    public func write(port: UInt16, size: Int, value: UInt32) -> DeviceAction {
        port == 0x64 && value & 0xFF == 0xFE ? .reset : .none
    }
}
