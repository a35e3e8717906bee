import Dispatch
import Foundation
import Glibc
import Conformance
import HarnessKVM

/// Which accelerator QEMU uses. `.automatic` picks KVM where /dev/kvm is hardware
/// virtualization and TCG otherwise (a software KVM such as kvm_pvm makes QEMU slower than TCG).
public enum QEMUAccel: String, Sendable, CaseIterable {
    case automatic = "auto", kvm, tcg

    public func resolved(flavor: KVMFlavor = .detect(), availability: KVMAvailability = .check()) -> QEMUAccel {
        guard self == .automatic else { return self }
        return availability.isUsable && flavor.kind == .hardware ? .kvm : .tcg
    }
}

/// One QEMU boot: a machine, a kernel and how long to wait.
public struct QEMUBoot: Sendable {
    /// QEMU's own loader (`-kernel`); nil when firmware boots from a medium (`cdrom`).
    public var kernel: String?
    /// A boot medium (`-cdrom`, booted with `-boot d`), for loaders that are firmware or
    /// bootloaders: GRUB, ISOLINUX.
    public var cdrom: String? = nil
    /// Files QEMU writes into guest RAM before the firmware runs (`-device loader,…,force-raw=on`),
    /// e.g. a poison pattern over memory a loader should not assume is zero.
    public var preload: [(file: String, address: UInt64)] = []
    public var initrd: String? = nil
    public var append: String? = nil
    /// A firmware image for -bios (nil: QEMU's default, SeaBIOS on `pc`).
    public var bios: String? = nil
    public var machine = "pc"
    public var memoryMiB = 1024
    public var accel: QEMUAccel = .automatic
    public var timeout: Duration = .seconds(120)
    /// Text whose appearance on COM1 ends the wait; QEMU is then given `grace` to exit by itself.
    public var marker: String? = nil
    public var grace: Duration = .seconds(3)
    /// Serial bytes kept; the rest is counted in `serialDropped`.
    public var serialLimit = 16 << 20
    /// Stop the run once this many serial bytes (kept and dropped) have arrived.
    public var serialBudget: Int? = nil
    public var extraArguments: [String] = []
    public var executable: String? = nil
    /// Another program in QEMU's place (a loader's own VMM, run by `CommandAdapter`): this
    /// argument vector is run instead of QEMU's, with the same time limit, marker, bounded
    /// capture of its stdout, and kill on every way out.
    public var command: [String]? = nil
    /// Text typed into COM1 (QEMU's stdin), for loaders driven over their serial console
    /// (U-Boot): each `send` is written once its `after` has appeared on COM1 after the previous
    /// step's text, in order. Empty: stdin is /dev/null, as before.
    public var serialInput: [(after: String, send: String)] = []

    public init(kernel: String, initrd: String? = nil, append: String? = nil) {
        self.kernel = kernel; self.initrd = initrd; self.append = append
    }

    /// Firmware boots `cdrom` (no `-kernel`).
    public init(cdrom: String) { self.cdrom = cdrom }

    /// Firmware alone, no `-kernel` and no CD: `bios` (nil: the machine's default, or pflash
    /// drives in `extraArguments`); what it boots comes from a disk in `extraArguments` or from
    /// what is typed at its console (`serialInput`).
    public init(bios: String?) { self.bios = bios }

    /// The argument vector (after the executable): COM1 on stdout, isa-debug-exit at 0x501,
    /// no default devices, no display, no reboot.
    public func arguments(accel resolved: QEMUAccel) -> [String] {
        var a = ["-accel", resolved.rawValue, "-M", machine, "-m", String(memoryMiB), "-smp", "1", "-nodefaults", "-display", "none",
                 "-no-reboot", "-monitor", "none", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0x501,iosize=2"]
        if let kernel { a += ["-kernel", kernel] }
        if let cdrom { a += ["-cdrom", cdrom, "-boot", "d"] }
        for p in preload { a += ["-device", "loader,file=\(p.file),addr=\(hex(p.address)),force-raw=on"] }
        if let initrd { a += ["-initrd", initrd] }
        if let append { a += ["-append", append] }
        if let bios { a += ["-bios", bios] }
        return a + extraArguments
    }
}

public enum QEMUOutcome: Sendable, Equatable, CustomStringConvertible {
    /// QEMU exited by itself; with isa-debug-exit, a guest value v gives status (v << 1) | 1.
    case exited(status: Int32)
    /// The marker appeared and QEMU did not exit within the grace time, so it was killed.
    case markerThenKilled
    case timedOut
    /// `serialBudget` bytes arrived; QEMU was killed.
    case serialBudgetReached
    case killedBySignal(Int32)
    case cancelled

    public var description: String {
        switch self {
        case .exited(let s): "QEMU exited with status \(s)"
        case .markerThenKilled: "reached the marker; QEMU did not exit and was killed"
        case .timedOut: "timed out; QEMU was killed"
        case .serialBudgetReached: "its serial output reached the byte budget; QEMU was killed"
        case .killedBySignal(let s): "QEMU died from signal \(s)"
        case .cancelled: "cancelled; QEMU was killed"
        }
    }
}

public struct QEMUReport: Sendable {
    public let outcome: QEMUOutcome
    public let markerSeen: Bool
    public let serial: [UInt8]
    public let serialDropped: Int
    /// From spawn to the marker (nil if it never appeared), and to the end of the process.
    public let toMarker: Duration?
    public let elapsed: Duration
    public let accel: QEMUAccel
    public let command: [String]
    /// QEMU's own messages (its errors name the cause, e.g. a kernel it cannot load).
    public let stderr: String
    /// How many `QEMUBoot.serialInput` steps were typed (their `after` text appeared).
    public var serialInputSent: Int = 0
    public var serialText: String { String(decoding: serial, as: UTF8.self) }
    /// A one-line account for error messages.
    public var summary: String {
        var s = "\(outcome) after \(String(format: "%.2f", elapsed.seconds)) s under -accel \(accel.rawValue); \(serial.count) serial bytes"
        if !stderr.isEmpty { s += "; QEMU said: " + stderr.split(separator: "\n").prefix(3).joined(separator: " | ") }
        return s
    }
}

public enum QEMUError: Error, CustomStringConvertible, Equatable {
    case notInstalled(searched: [String])
    /// A loader command's program (`QEMUBoot.command`) is not on PATH.
    case programNotFound(String, searched: [String])
    case cannotStart(String, errno: Int32)
    case unreadableInput(String)

    public var description: String {
        switch self {
        case let .programNotFound(p, s): "\(p) not found (looked in \(s.joined(separator: ", ")))"
        case .notInstalled(let s): "qemu-system-x86_64 not found (looked in \(s.joined(separator: ", "))); install it with: apt-get install qemu-system-x86"
        case let .cannotStart(exe, e): "cannot start \(exe): \(String(cString: strerror(e)))"
        case .unreadableInput(let p): "\(p): not a readable file"
        }
    }
}

extension Duration {
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The serial-console typing of `QEMUBoot.serialInput`, apart from any process so it can be
/// tested alone: fed COM1's bytes as they arrive, it returns the bytes to type. Each step's
/// `after` is looked for only in what arrived after the previous step's match; memory stays
/// bounded by the longest `after` (what cannot be part of a match is dropped).
public struct SerialInputScript: Sendable {
    private let steps: [(after: [UInt8], send: [UInt8])]
    /// Steps typed so far.
    public private(set) var sent = 0
    private var pending: [UInt8] = []

    public init(_ steps: [(after: String, send: String)]) { self.steps = steps.map { (Array($0.after.utf8), Array($0.send.utf8)) } }

    public var finished: Bool { sent == steps.count }
    /// Bytes kept while waiting for the next step's text (fewer than its length).
    public var pendingCount: Int { pending.count }

    /// Takes the next bytes of COM1; returns what to type now (possibly several steps' worth).
    public mutating func feed<C: Collection>(_ chunk: C) -> [UInt8] where C.Element == UInt8 {
        guard !finished else { return [] }
        pending += chunk
        var out: [UInt8] = []
        while sent < steps.count {
            let needle = steps[sent].after
            guard let end = Self.end(of: needle, in: pending) else {
                if pending.count >= needle.count, needle.count > 0 { pending.removeFirst(pending.count - needle.count + 1) }
                break
            }
            out += steps[sent].send
            pending.removeFirst(end)
            sent += 1
        }
        if finished { pending = [] }
        return out
    }

    /// The index just past the first occurrence of `needle` in `hay` (0 for an empty needle).
    static func end(of needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard !needle.isEmpty else { return 0 }
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && hay[i..<i + needle.count].elementsEqual(needle) { return i + needle.count }
        return nil
    }
}

/// Starts qemu-system-x86_64, reads COM1 from its stdout, enforces the time limit and always
/// kills and reaps the process: on return, on a thrown error, and when the calling task is
/// cancelled.
public enum QEMURunner {
    public static func executable(_ explicit: String? = nil) throws(QEMUError) -> String {
        if let explicit {
            guard access(explicit, X_OK) == 0 else { throw .notInstalled(searched: [explicit]) }
            return explicit
        }
        guard let exe = HostTools.find("qemu-system-x86_64") else { throw .notInstalled(searched: HostTools.searched("qemu-system-x86_64") + ["/usr/bin/qemu-system-x86_64"]) }
        return exe
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    public static func run(_ boot: QEMUBoot) throws(QEMUError) -> QEMUReport {
        for f in [boot.kernel, boot.initrd, boot.bios, boot.cdrom].compactMap({ $0 }) + boot.preload.map(\.file) where access(f, R_OK) != 0 { throw .unreadableInput(f) }
        let accel = boot.accel.resolved()
        let argv: [String]
        if let command = boot.command, let first = command.first {
            guard let exe = first.contains("/") ? first : HostTools.find(first) else { throw .programNotFound(first, searched: HostTools.searched(first)) }
            argv = [exe] + command.dropFirst()
        } else {
            argv = [try executable(boot.executable)] + boot.arguments(accel: accel)
        }
        let exe = argv[0]

        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard pipe(&out) == 0 else { throw .cannotStart(exe, errno: errno) }
        guard pipe(&err) == 0 else { close(out[0]); close(out[1]); throw .cannotStart(exe, errno: errno) }
        // Close-on-exec everywhere; the dup2 onto 1 and 2 in the child clears it there.
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Typed input goes through a socket pair rather than a pipe: `send` with MSG_NOSIGNAL
        // cannot raise SIGPIPE in this process when QEMU has already exited.
        var input: [Int32] = [-1, -1]
        if !boot.serialInput.isEmpty {
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &input) == 0 else {
                let e = errno; for fd in out + err { close(fd) }; throw .cannotStart(exe, errno: e)
            }
            _ = fcntl(input[0], F_SETFL, fcntl(input[0], F_GETFL) | O_NONBLOCK)
            posix_spawn_file_actions_adddup2(&actions, input[1], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        // QEMU gets 0, 1 and 2 and nothing else: no descriptor the caller opened without
        // close-on-exec (another run's pipes, Foundation's process-watch sockets) outlives it.
        // glibc ≥ 2.34 has posix_spawn_file_actions_addclosefrom_np, but its header hides it
        // from Swift's importer: look it up by name.
        if let closeFrom = Self.addCloseFrom { _ = closeFrom(&actions, 3) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // QEMU stays in the caller's process group: Ctrl-C at a terminal reaches it too, so an
        // interrupted `conform` or `swift test` does not leave a guest running. For a kill
        // nothing can catch (SIGKILL, the OOM killer), util-linux's setpriv gives QEMU a
        // parent-death signal and execs it in place (same pid). The signal follows the thread
        // that spawned QEMU, and this function spawns and reaps on one thread, so it cannot
        // fire while the run is still wanted.
        let spawnArgv = HostTools.find("setpriv").map { [$0, "--pdeathsig", "KILL", "--"] + argv } ?? argv

        var pid: pid_t = 0
        let cargs = spawnArgv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        let start = ContinuousClock.now
        let rc = posix_spawn(&pid, spawnArgv[0], &actions, &attr, cargs, environ)
        close(out[1]); close(err[1])
        if input[1] >= 0 { close(input[1]) }
        guard rc == 0 else { close(out[0]); close(err[0]); if input[0] >= 0 { close(input[0]) }; throw .cannotStart(exe, errno: rc) }

        var reaped = false
        var waitStatus: Int32 = 0
        defer {
            if !reaped { kill(pid, SIGKILL); while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {} }
            close(out[0]); close(err[0])
            if input[0] >= 0 { close(input[0]) }
        }

        var serial: [UInt8] = [], dropped = 0, stderrBytes: [UInt8] = []
        var tail: [UInt8] = []
        let marker = boot.marker.map { Array($0.utf8) }
        var markerAt: Duration? = nil
        var openFDs = 2
        var fds = [pollfd(fd: out[0], events: Int16(POLLIN), revents: 0), pollfd(fd: err[0], events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var outcome: QEMUOutcome? = nil
        let deadline = start + boot.timeout
        var script = SerialInputScript(boot.serialInput)
        var typed: [UInt8] = []
        /// Writes what is due without blocking; what the socket does not take waits for the
        /// next turn of the loop. A write error (QEMU gone) drops the rest.
        func flushTyped() {
            while !typed.isEmpty {
                let n = typed.withUnsafeBytes { send(input[0], $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n > 0 { typed.removeFirst(n); continue }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
                typed.removeAll(); return
            }
        }

        func exitedNow() -> Bool {
            let r = waitpid(pid, &waitStatus, WNOHANG)
            if r == pid { reaped = true; return true }
            return false
        }

        while outcome == nil {
            if Task.isCancelled { outcome = .cancelled; break }
            let now = ContinuousClock.now
            if let m = markerAt, now - start > m + boot.grace { outcome = .markerThenKilled; break }
            if now >= deadline { outcome = markerAt != nil ? .markerThenKilled : .timedOut; break }
            if openFDs == 0 {
                if exitedNow() { break }
                usleep(2000); continue
            }
            if !typed.isEmpty { flushTyped() }
            let n = poll(&fds, nfds_t(fds.count), typed.isEmpty ? 50 : 10)
            if n < 0 && errno != EINTR { break }
            for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 {
                let got = buffer.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if got <= 0 { fds[i].fd = -1; openFDs -= 1; continue }
                let chunk = buffer[0..<got]
                if i == 1 {
                    if stderrBytes.count < 1 << 16 { stderrBytes += chunk.prefix((1 << 16) - stderrBytes.count) }
                    continue
                }
                if input[0] >= 0 { typed += script.feed(chunk); flushTyped() }
                let keep = min(got, max(0, boot.serialLimit - serial.count))
                serial += chunk.prefix(keep); dropped += got - keep
                if let budget = boot.serialBudget, serial.count + dropped >= budget { outcome = .serialBudgetReached }
                if let marker, markerAt == nil {
                    tail += chunk
                    if tail.count >= marker.count, contains(tail, marker) { markerAt = ContinuousClock.now - start }
                    if tail.count > marker.count { tail.removeFirst(tail.count - marker.count + 1) }
                }
            }
        }
        if outcome == nil || reaped {
            if !reaped { while waitpid(pid, &waitStatus, 0) < 0 && errno == EINTR {}; reaped = true }
            let signaled = (waitStatus & 0x7F) != 0
            outcome = signaled ? .killedBySignal(waitStatus & 0x7F) : .exited(status: (waitStatus >> 8) & 0xFF)
        }
        let elapsed = ContinuousClock.now - start
        return QEMUReport(outcome: outcome!, markerSeen: markerAt != nil, serial: serial, serialDropped: dropped, toMarker: markerAt, elapsed: elapsed,
                          accel: accel, command: argv, stderr: String(decoding: stderrBytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
                          serialInputSent: script.sent)
    }

    /// Boots a reference-loader bundle on QEMU's pc machine through its -bios stub (no
    /// firmware), with low RAM ending where the reference layout ends it; the ELF and the
    /// firmware live in a temporary directory for the length of the run.
    public static func run(bundle: PVHBundle, accel: QEMUAccel, timeout: Duration, marker: String? = nil) throws -> QEMUReport {
        let dir: String
        do { dir = try Scratch.directory("bundle") } catch { throw QEMUError.cannotStart("a bundle run (no temporary directory: \(error.localizedDescription))", errno: EACCES) }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let elf = dir + "/bundle.elf", bios = dir + "/bundle.bios"
        try bundle.write(to: elf)
        guard FileManager.default.createFile(atPath: bios, contents: Data(bundle.firmware())) else { throw QEMUError.unreadableInput(bios) }
        var b = QEMUBoot(kernel: elf)
        // The reference loader's RAM layout ends low RAM at 3 GiB (RAMLayout.holeStart); QEMU's
        // pc machine keeps up to 3.5 GiB low unless told otherwise.
        b.machine = "pc,max-ram-below-4g=\(RAMLayout.holeStart)"
        b.bios = bios; b.accel = accel; b.timeout = timeout; b.marker = marker
        b.memoryMiB = Int((bundle.result.layout.size + (1 << 20) - 1) >> 20)
        return try run(b)
    }

    static func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
        guard hay.count >= needle.count else { return false }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<i + needle.count]) == needle { return true }
        return false
    }
}
