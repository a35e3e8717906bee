import CKVM
import Conformance
import Dispatch
import Foundation
import Glibc

/// How a run ended.
public enum BootOutcome: Sendable, Equatable, CustomStringConvertible {
    /// The serial marker appeared.
    case reachedMarker
    /// The guest wrote `code` to the debug-exit port.
    case exited(code: UInt32)
    /// The vCPU halted with nothing to wake it (seen as HLT, or halted at the time limit).
    case halted
    /// Triple fault: the CPU shut down.
    case shutdown
    /// The guest asked for a reset (i8042) or KVM reported a reset event.
    case reset
    case timedOut
    /// KVM could not enter the guest (invalid state); the hardware reason.
    case failedEntry(String)
    /// KVM reported an internal error or an exit this harness does not handle.
    case failed(String)

    public var description: String {
        switch self {
        case .reachedMarker: "reached the marker"
        case .exited(let c): "exited through the debug port with status \(c)"
        case .halted: "halted"
        case .shutdown: "shut down (triple fault)"
        case .reset: "reset"
        case .timedOut: "timed out"
        case .failedEntry(let r): "failed entry: \(r)"
        case .failed(let r): "failed: \(r)"
        }
    }
    /// A short word for tables and JSON.
    public var word: String {
        switch self {
        case .reachedMarker: "marker"; case .exited: "exited"; case .halted: "halted"; case .shutdown: "shutdown"
        case .reset: "reset"; case .timedOut: "timeout"; case .failedEntry: "failed-entry"; case .failed: "failed"
        }
    }
}

public struct BootOptions: Sendable {
    /// Wall-clock limit for the guest; the vCPU is pulled out of KVM_RUN when it passes.
    public var timeout: Duration = .seconds(10)
    /// Serial bytes kept; the rest is counted.
    public var serialLimit = 1 << 20
    /// Stop when this appears on COM1.
    public var marker: String? = nil
    /// Fill every byte of guest RAM the loader did not write (outside its regions) with this
    /// 8-byte pattern before the run, as a firmware or bootloader leaves its heap behind: a
    /// kernel that assumes unwritten memory is zero then shows it. nil leaves the fresh
    /// mapping's zeros. Costs the guest's RAM size in host memory.
    public var poison: UInt64? = nil
    /// A pattern whose every byte has bit 0 and bit 7 set: as a page-table entry it is present,
    /// with reserved and huge-page bits, so a table left unwritten faults instead of mapping
    /// nothing; as code it is not a NOP slide.
    public static let poisonPattern: UInt64 = 0xA5C3_E1F7_A5C3_E1F7
    public init(timeout: Duration = .seconds(10), serialLimit: Int = 1 << 20, marker: String? = nil, poison: UInt64? = nil) {
        self.timeout = timeout; self.serialLimit = serialLimit; self.marker = marker; self.poison = poison
    }
}

/// What one run produced.
public struct BootReport: Sendable {
    public let outcome: BootOutcome
    public let serial: [UInt8]
    public let serialDropped: UInt64
    public let exits: Int
    public let unclaimedPortAccesses: Int
    public let mmioAccesses: Int
    /// From VM creation to teardown.
    public let elapsed: Duration
    public let flavor: KVMFlavor
    /// Where the vCPU was when the run ended (RIP, and CR0/EFER to tell the mode).
    public let finalRIP: UInt64?
    public let finalMode: String?
    public var serialText: String { String(decoding: serial, as: UTF8.self) }
}

/// A minimal VMM: one vCPU over the reference loader's memory, the in-kernel PIC/IOAPIC/PIT,
/// COM1, the i8042 reset line and a debug-exit port.
public enum Harness {
    private static let kickSignal = SIGUSR2
    private static let installKick: Int32 = ckvm_install_kick_handler(SIGUSR2)
    /// CPUID is the same for every VM on a host; asked for once.
    private static let cpuidCache = CPUIDCache()

    /// Boots the guest `loaded` describes: its memory, entered in exactly its entry state.
    public static func boot(_ loaded: LoadResult, system: KVMSystem? = nil, options: BootOptions = BootOptions()) throws(KVMError) -> BootReport {
        if let p = options.poison { loaded.memory.poison(pattern: p, keep: loaded.regions.map(\.range)) }
        if loaded.entry.entryPoint == .setup16 {
            // The 16-bit entry expects firmware: the IVT and INT 15h's E820 (RealModeFirmware).
            do { try RealModeFirmware.install(in: loaded.memory, e820: loaded.e820) } catch { throw KVMError(call: "install real-mode firmware", errno: EFAULT, detail: "\(error)") }
        }
        return try boot(memory: loaded.memory, entry: loaded.entry, system: system, options: options)
    }

    public static func boot(memory: GuestMemory, entry: EntryState, system given: KVMSystem? = nil, options: BootOptions = BootOptions()) throws(KVMError) -> BootReport {
        try kvmCall("sigaction(SIGUSR2)", installKick)
        let clock = ContinuousClock()
        let started = clock.now
        let system: KVMSystem
        if let given { system = given } else { system = try KVMSystem() }
        let vm = try system.createVM()
        try vm.setArchitecturalPages()
        try vm.createInterruptControllers()
        try vm.register(memory)
        let vcpu = try vm.createVCPU()
        try vcpu.setCPUID(try cpuidCache.get(system))
        try vcpu.load(entry)

        let serial = Serial16550(limit: options.serialLimit, marker: options.marker)
        let bus = PortBus()
        bus.attach(serial); bus.attach(I8042()); bus.attach(DebugExitPort())

        // Watchdog: past the deadline, set immediate_exit and signal this thread, so KVM_RUN
        // returns even from a guest that never exits. `state` makes sure no signal is sent
        // after the run loop has left.
        // Dispatch and Swift-concurrency worker threads block signals; this thread must take
        // the kick while it runs the vCPU. The caller's mask is restored afterwards.
        var kick = sigset_t(), previous = sigset_t()
        sigemptyset(&kick); sigaddset(&kick, kickSignal)
        try kvmCall("pthread_sigmask", -pthread_sigmask(SIG_UNBLOCK, &kick, &previous))
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let watchdog = Watchdog(thread: pthread_self(), vcpu: vcpu, signal: kickSignal)
        watchdog.arm(after: options.timeout)
        defer { watchdog.disarm() }

        var exits = 0, mmio = 0
        var outcome: BootOutcome
        loop: while true {
            let exit = try vcpu.runOnce()
            exits += 1
            switch exit {
            case .interrupted:
                if watchdog.fired {
                    outcome = (try? vcpu.mpState()) == 3 ? .halted : .timedOut   // KVM_MP_STATE_HALTED
                    break loop
                }
            case let .io(out, port, size, count, off):
                let data = vcpu.run + off
                for i in 0..<count {
                    let p = data + i * size
                    if out {
                        var v: UInt32 = 0
                        for b in 0..<size { v |= UInt32(p.load(fromByteOffset: b, as: UInt8.self)) << (8 * UInt32(b)) }
                        switch bus.write(port: port, size: size, value: v) {
                        case .none: break
                        case .exit(let code): outcome = .exited(code: code); break loop
                        case .reset: outcome = .reset; break loop
                        case .pulseIRQ(let irq): try vm.setIRQLine(irq, level: true); try vm.setIRQLine(irq, level: false)
                        }
                    } else {
                        let v = bus.read(port: port, size: size)
                        for b in 0..<size { p.storeBytes(of: UInt8(truncatingIfNeeded: v >> (8 * UInt32(b))), toByteOffset: b, as: UInt8.self) }
                    }
                }
                if serial.markerSeen { outcome = .reachedMarker; break loop }
            case let .mmio(address, length, isWrite, _):
                mmio += 1
                if !isWrite {
                    // Nothing is mapped there: reads see all ones, like an empty bus.
                    for b in 0..<length { vcpu.run.storeBytes(of: 0xFF, toByteOffset: VMExit.unionOffset + 8 + b, as: UInt8.self) }
                }
                _ = address
            case .hlt: outcome = .halted; break loop
            case .shutdown: outcome = .shutdown; break loop
            case .systemEvent(let t): outcome = t == 2 ? .reset : .shutdown; break loop
            case .failEntry(let r): outcome = .failedEntry("hardware entry failure reason \(hex(r))"); break loop
            case .internalError(let s): outcome = .failed("KVM_EXIT_INTERNAL_ERROR, suberror \(s)"); break loop
            case let .exception(v, e): outcome = .failed("KVM_EXIT_EXCEPTION vector \(v) error code \(hex(UInt64(e)))"); break loop
            case .other(let r): outcome = .failed("unhandled KVM exit reason \(r)"); break loop
            }
        }
        watchdog.disarm()
        let regs = try? vcpu.getRegisters(), sregs = try? vcpu.getSpecialRegisters()
        let mode = sregs.map { s in s.efer & 0x400 != 0 ? (s.cs.l != 0 ? "64-bit" : "compatibility") : s.cr0 & 1 != 0 ? "protected" : "real" }
        let report = BootReport(outcome: outcome, serial: serial.output, serialDropped: serial.dropped, exits: exits,
                                unclaimedPortAccesses: bus.unclaimedReads + bus.unclaimedWrites, mmioAccesses: mmio,
                                elapsed: clock.now - started, flavor: system.flavor, finalRIP: regs?.rip, finalMode: mode)
        return report
    }
}

/// Sends the kick signal to the vCPU thread once the deadline passes, unless disarmed first.
final class Watchdog: @unchecked Sendable {
    // @unchecked: all mutable state is behind `condition`.
    private let condition = NSCondition()
    private var armed = false
    private var didFire = false
    private let thread: pthread_t
    private let vcpu: VCPU
    private let signal: Int32

    init(thread: pthread_t, vcpu: VCPU, signal: Int32) { self.thread = thread; self.vcpu = vcpu; self.signal = signal }

    var fired: Bool { condition.lock(); defer { condition.unlock() }; return didFire }

    /// Waits on a thread of its own. (It used Dispatch's global queue before: when every pool
    /// thread was blocked, by QEMU runs in other tests say, the kick came 25 s late for a
    /// 500 ms limit; and a cancelled queued item kept the vCPU alive until its deadline.)
    func arm(after d: Duration) {
        let deadline = Date().addingTimeInterval(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        condition.lock(); armed = true; condition.unlock()
        let t = Thread { [weak self] in
            guard let self else { return }
            condition.lock(); defer { condition.unlock() }
            while armed && Date() < deadline { _ = condition.wait(until: deadline) }
            guard armed else { return }
            didFire = true
            vcpu.requestImmediateExit(true)
            pthread_kill(thread, signal)
        }
        t.name = "harness-watchdog"
        t.start()
    }

    func disarm() {
        condition.lock(); armed = false; condition.broadcast(); condition.unlock()
    }
}

final class CPUIDCache: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var value: [UInt8]?
    func get(_ s: KVMSystem) throws(KVMError) -> [UInt8] {
        lock.lock(); defer { lock.unlock() }
        if let value { return value }
        let v = CPUIDPolicy.adjusted(try s.supportedCPUID(), for: s.flavor)
        value = v
        return v
    }
}

/// What the harness changes in KVM's supported CPUID before giving it to the guest.
enum CPUIDPolicy {
    /// On a software KVM (kvm_pvm), CMPXCHG16B is hidden (CPUID.1:ECX bit 13): Linux's SLUB
    /// uses it, and kvm_pvm ends the run with KVM_EXIT_INTERNAL_ERROR when it has to emulate
    /// it (seen with the Debian 6.12 ELF at `lock cmpxchg16b` after 67 s; hidden, the same boot
    /// gets to the FPU setup, 71 s of kernel time, and stops at `xrstor64`). Hiding XSAVE
    /// (bit 26) the same way made no difference there, so it is left alone. Hardware KVM gets
    /// KVM's set unchanged.
    static func adjusted(_ cpuid: [UInt8], for flavor: KVMFlavor) -> [UInt8] {
        guard flavor.kind == .software, cpuid.count >= 8 else { return cpuid }
        var b = cpuid
        let n = Int(b.u32(0) ?? 0), size = 40   // struct kvm_cpuid2 { u32 nent, padding; kvm_cpuid_entry2 entries[] }
        for i in 0..<n where 8 + (i + 1) * size <= b.count {
            let e = 8 + i * size
            guard b.u32(e) == 1 else { continue }      // function 1
            let ecx = (b.u32(e + 20) ?? 0) & ~UInt32(1 << 13)
            for k in 0..<4 { b[e + 20 + k] = UInt8(truncatingIfNeeded: ecx >> (8 * k)) }
        }
        return b
    }
}
