/// A 16550A UART, enough for Linux's 8250 driver (probe, polled console, THRE interrupts) and
/// earlyprintk: registers with DLAB, a transmitter that is always empty, no receive data.
/// Output goes to a capture with a size bound; bytes past the bound are counted, not kept.
public final class Serial16550: PortDevice {
    public let ports: ClosedRange<UInt16>
    public let irq: UInt32
    /// Captured transmit bytes (at most `limit`).
    public private(set) var output: [UInt8] = []
    public private(set) var dropped: UInt64 = 0
    public let limit: Int
    /// Set once `marker` appears in the output.
    public private(set) var markerSeen = false
    let marker: [UInt8]
    var recent: [UInt8] = []

    var ier: UInt8 = 0, lcr: UInt8 = 0, mcr: UInt8 = 0, scr: UInt8 = 0, dll: UInt8 = 1, dlm: UInt8 = 0, fcr: UInt8 = 0
    var thrInterruptPending = false

    /// COM1: ports 0x3F8–0x3FF, IRQ 4.
    public init(base: UInt16 = 0x3F8, irq: UInt32 = 4, limit: Int = 1 << 20, marker: String? = nil) {
        ports = base...base + 7; self.irq = irq; self.limit = max(0, limit)
        self.marker = marker.map { Array($0.utf8) } ?? []
        output.reserveCapacity(min(self.limit, 64 << 10))
    }

    public func read(port: UInt16, size: Int) -> UInt32 {
        let dlab = lcr & 0x80 != 0
        switch port - ports.lowerBound {
        case 0: return dlab ? UInt32(dll) : 0                      // RBR: nothing received
        case 1: return dlab ? UInt32(dlm) : UInt32(ier)
        case 2:                                                     // IIR
            let fifo: UInt8 = fcr & 1 != 0 ? 0xC0 : 0
            if thrInterruptPending && ier & 0x02 != 0 { thrInterruptPending = false; return UInt32(fifo | 0x02) }
            return UInt32(fifo | 0x01)
        case 3: return UInt32(lcr)
        case 4: return UInt32(mcr)
        case 5: return 0x60                                         // LSR: THRE | TEMT
        case 6: return mcr & 0x10 != 0 ? UInt32((mcr & 0x0F) << 4) : 0xB0 // MSR: loopback, else DCD|DSR|CTS
        default: return UInt32(scr)
        }
    }

    public func write(port: UInt16, size: Int, value: UInt32) -> DeviceAction {
        let v = UInt8(truncatingIfNeeded: value)
        let dlab = lcr & 0x80 != 0
        switch port - ports.lowerBound {
        case 0:
            if dlab { dll = v; return .none }
            transmit(v)
            return ier & 0x02 != 0 ? thrEmpty() : .none
        case 1:
            if dlab { dlm = v; return .none }
            let was = ier; ier = v & 0x0F
            return ier & 0x02 != 0 && was & 0x02 == 0 ? thrEmpty() : .none
        case 2: fcr = v
        case 3: lcr = v
        case 4: mcr = v
        case 7: scr = v
        default: break
        }
        return .none
    }

    func thrEmpty() -> DeviceAction { thrInterruptPending = true; return .pulseIRQ(irq) }

    /// Appends transmitted bytes (also the batched bytes of a `rep outsb`).
    public func transmit(_ v: UInt8) {
        if output.count < limit { output.append(v) } else { dropped += 1 }
        guard !markerSeen, !marker.isEmpty else { return }
        // Matched on a short tail of its own, so a marker after the capture is full still counts.
        recent.append(v)
        if recent.count > 2 * marker.count { recent.removeFirst(recent.count - marker.count) }
        if v == marker.last, recent.count >= marker.count, recent[(recent.count - marker.count)...].elementsEqual(marker) { markerSeen = true }
    }

    public var text: String { String(decoding: output, as: UTF8.self) }
}
