import Conformance
import TestSupport
import Reports
import Runners
import ConformanceFixtures
import Foundation
import HarnessKVM
import Testing

/// Guests that misbehave under QEMU: each run ends with a clear outcome within its time limit,
/// the serial capture stays bounded, and no QEMU process or temporary file is left behind.
/// The guests are 32-bit code in a 64 KiB -bios image: the bundle's reset stub enters
/// protected mode and jumps to the code at 0xFFFF0000.
@Suite("QEMUHostileGuests", .serialized)
struct QEMUHostileTests {
    struct Guest {
        let dir: String, bios: String, kernel: String
        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
    }
    static func guest(_ code: [UInt8]) throws -> Guest {
        _ = try Probe.require()
        let dir = try Scratch.directory("qemu-hostile")
        var rom = PVHBundle.firmware(jumpingTo: 0xFFFF_0000)
        rom.replaceSubrange(0..<code.count, with: code)
        let bios = dir + "/guest.bios", kernel = dir + "/probe.elf"
        FileManager.default.createFile(atPath: bios, contents: Data(rom))
        // QEMU's pc machine wants a -kernel for the runner's command line; the probe is loaded
        // into RAM and never entered.
        FileManager.default.createFile(atPath: kernel, contents: Data(try #require(Probe.variants.first { $0.id == "pvh-desc8" }).image))
        return Guest(dir: dir, bios: bios, kernel: kernel)
    }
    static func boot(_ g: Guest, timeout: Duration, serialLimit: Int = 1 << 20) throws -> QEMUReport {
        var b = QEMUBoot(kernel: g.kernel); b.bios = g.bios; b.accel = .tcg; b.memoryMiB = 64; b.timeout = timeout; b.serialLimit = serialLimit
        let r = try QEMURunner.run(b)
        #expect(HostProcesses.mentioning(g.bios).isEmpty, "a QEMU process outlived the run")
        return r
    }

    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed"), .hangGuard)
    func endlessLoopTimesOut() throws {
        let g = try Self.guest([0xEB, 0xFE])   // jmp $
        defer { g.cleanup() }
        let r = try Self.boot(g, timeout: .seconds(2))
        #expect(r.outcome == .timedOut && r.serial.isEmpty, "\(r.summary)")
        #expect(r.elapsed < .seconds(60))  // the limit is enforced; generous for a busy host
    }

    /// Reads from every I/O port in turn, and from unassigned physical memory above 3.5 GiB:
    /// QEMU answers (all ones) and the run ends at its limit with nothing printed.
    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed"), .hangGuard)
    func portAndMMIOStormsTimeOut() throws {
        let portStorm: [UInt8] = [0x31, 0xD2, 0xEC, 0x42, 0xEB, 0xFC]                                      // xor edx,edx; l: in al,dx; inc edx; jmp l
        let mmioStorm: [UInt8] = [0xBF, 0x00, 0x00, 0x00, 0xE0, 0x8B, 0x07, 0x83, 0xC7, 0x04, 0xEB, 0xF9]  // mov edi,0xE0000000; l: mov eax,[edi]; add edi,4; jmp l
        for code in [portStorm, mmioStorm] {
            let g = try Self.guest(code)
            defer { g.cleanup() }
            let r = try Self.boot(g, timeout: .seconds(2))
            #expect(r.outcome == .timedOut && r.serial.isEmpty, "\(r.summary)")
            #expect(r.elapsed < .seconds(60))  // the limit is enforced; generous for a busy host
        }
    }

    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed"), .hangGuard)
    func tripleFaultEndsTheRun() throws {
        // lidt [an all-zero 6-byte descriptor in the ROM]; int3 → #BP with no IDT → #DF → shutdown.
        var code: [UInt8] = [0x0F, 0x01, 0x1D] + [0x20, 0x00, 0xFF, 0xFF] + [0xCC, 0xEB, 0xFE]
        code += [UInt8](repeating: 0x90, count: 0x20 - code.count) + [0, 0, 0, 0, 0, 0]
        let g = try Self.guest(code)
        defer { g.cleanup() }
        let r = try Self.boot(g, timeout: .seconds(20))
        // -no-reboot turns the triple fault's reset into an exit, status 0.
        #expect(r.outcome == .exited(status: 0), "\(r.summary)")
    }

    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed"), .hangGuard)
    func serialFloodStaysBounded() async throws {
        // mov dx, 0x3F8; loop: mov esi, 0xFFFF0000; mov ecx, 0x8000; rep outsb; jmp loop
        let code: [UInt8] = [0x66, 0xBA, 0xF8, 0x03, 0xBE, 0x00, 0x00, 0xFF, 0xFF, 0xB9, 0x00, 0x80, 0x00, 0x00, 0xF3, 0x6E, 0xEB, 0xF2]
        let g = try Self.guest(code)
        defer { g.cleanup() }
        // A small limit, so it is passed even when the machine is busy (0.07–0.4 MB/s seen).
        let r = try await offPool { try Self.boot(g, timeout: .seconds(10), serialLimit: 64 << 10) }
        let total = r.serial.count + r.serialDropped
        #expect(r.outcome == .timedOut, "\(r.summary)")
        #expect(r.serial.count == 64 << 10, "the capture keeps exactly its limit")
        #expect(total > 64 << 10, "\(total) bytes arrived")
        print("serial flood under QEMU TCG: \(total) bytes in \(r.elapsed)")
    }

    /// The runner's side of a flood past 100 MB: QEMU's 16550 writes one byte per syscall
    /// (about 0.4 MB/s here under TCG, measured above), so the volume comes from a stand-in
    /// that writes as fast as a pipe takes it: a script that ignores QEMU's arguments and runs
    /// `yes`. The capture keeps its limit, counts the rest, and the process group is reaped.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/yes"), "no /usr/bin/yes"), .hangGuard)
    func hundredMegabytesOfSerialStayBounded() async throws {
        let dir = try Scratch.directory("flood")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/qemu-stand-in.sh"
        FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\nexec /usr/bin/yes \(String(repeating: "x", count: 4000))\n".utf8), attributes: [.posixPermissions: 0o755])
        var b = QEMUBoot(kernel: "/dev/null"); b.executable = script; b.timeout = .seconds(120); b.serialLimit = 1 << 20; b.serialBudget = 100_000_000
        b.marker = "never-printed-marker"
        let boot = b
        var r = try await offPool { try QEMURunner.run(boot) }
        #expect(r.outcome == .serialBudgetReached, "\(r.summary)")
        #expect(r.serial.count == 1 << 20 && r.serial.count + r.serialDropped >= 100_000_000, "kept \(r.serial.count), dropped \(r.serialDropped) in \(r.elapsed)")
        r = try QEMURunner.run(QEMUBoot(kernel: "/dev/null"))   // nothing: /dev/null is no kernel, QEMU says so
        #expect({ if case .exited(let s) = r.outcome { return s != 0 } else { return false } }(), "\(r.summary)")
        #expect(r.stderr.contains("kernel") || r.stderr.contains("/dev/null"), "QEMU's own message is kept: \(r.stderr)")
    }

    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed"), .hangGuard)
    func qemuKilledMidBootIsReported() throws {
        let g = try Self.guest([0xEB, 0xFE])
        defer { g.cleanup() }
        var b = QEMUBoot(kernel: g.kernel); b.bios = g.bios; b.accel = .tcg; b.memoryMiB = 64; b.timeout = .seconds(30)
        // The run on a thread of its own, so this test does not wait for a free task thread.
        final class Box: @unchecked Sendable { var result: Result<QEMUReport, Error>? }
        let box = Box(), done = DispatchSemaphore(value: 0), boot = b
        Thread { box.result = Result { try QEMURunner.run(boot) }; done.signal() }.start()
        // Find the QEMU process by its unique firmware path and kill it from outside.
        var killed = false
        for _ in 0..<200 where !killed {
            usleep(50_000)
            for p in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = Int32(p), let d = FileManager.default.contents(atPath: "/proc/\(p)/cmdline") else { continue }
                let cmd = String(decoding: d, as: UTF8.self)
                guard cmd.contains(g.bios), cmd.contains("qemu-system") else { continue }
                kill(pid, SIGKILL); killed = true
            }
        }
        done.wait()
        let r = try #require(box.result).get()
        #expect(killed)
        #expect(r.outcome == .killedBySignal(SIGKILL), "\(r.summary)")
        #expect(HostProcesses.mentioning(g.bios).isEmpty)
    }

    /// The process running QEMU is killed outright (SIGKILL: no handler runs, nothing is
    /// cleaned up), as when CI kills a hung `swift test`: QEMU goes with it. The process is this
    /// test binary run again for `qemuRunForAKillTest` alone, with the guest in its environment.
    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed"), .hangGuard)
    func runKilledOutrightTakesQEMUWithIt() throws {
        let g = try Self.guest([0xEB, 0xFE])
        defer { g.cleanup() }
        let child = try startTestChild(filter: "qemuRunForAKillTest", environment: ["CONFORM_KILL_TEST_BIOS": g.bios, "CONFORM_KILL_TEST_KERNEL": g.kernel])
        let qemu = HostProcesses.waitForQEMU(mentioning: g.bios, seconds: 20)
        kill(child.processIdentifier, SIGKILL)
        // Foundation's Process sees its child end only when every copy of a socket it handed
        // the child is closed, so a QEMU that kept one would hang waitUntilExit: look at QEMU
        // first, kill it if it survived, and only then wait.
        let gone = qemu.map { q in
            poll(seconds: 5) { () -> Bool? in let s = HostProcesses.state(q); return s == nil || s == "Z" ? true : nil } != nil
        } ?? true
        if !gone, let q = qemu { kill(q, SIGKILL) }
        child.waitUntilExit()
        let q = try #require(qemu, "the child never started QEMU")
        #expect(gone, "QEMU (pid \(q)) outlived the process that ran it")
    }

    /// A descriptor the caller holds open without close-on-exec (as Foundation's Process and
    /// plain open(2) leave them) does not reach QEMU: a QEMU holding it would keep the caller's
    /// pipes and sockets alive after the caller is gone.
    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed"), .hangGuard)
    func qemuInheritsNoDescriptorOfTheCaller() throws {
        let g = try Self.guest([0xEB, 0xFE])
        defer { g.cleanup() }
        let marker = g.dir + "/held-open"
        FileManager.default.createFile(atPath: marker, contents: Data())
        let fd = open(marker, O_RDONLY)   // no O_CLOEXEC
        try #require(fd >= 0)
        defer { close(fd) }
        let done = DispatchSemaphore(value: 0)
        let run = Thread {
            var b = QEMUBoot(kernel: g.kernel); b.bios = g.bios; b.accel = .tcg; b.memoryMiB = 64; b.timeout = .seconds(6)
            _ = try? QEMURunner.run(b)
            done.signal()
        }
        run.start()
        defer { done.wait() }
        let q = try #require(HostProcesses.waitFor(mentioning: g.bios, seconds: 5), "QEMU did not start")
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(q)/fd")) ?? []
        let targets = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(q)/fd/\($0)") }
        #expect(!targets.isEmpty, "could not read QEMU's descriptors")
        #expect(!targets.contains(marker), "QEMU holds the caller's descriptor for \(marker): \(targets)")
    }

    /// Only as the child of `runKilledOutrightTakesQEMUWithIt`: a 30 s QEMU run to be killed.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CONFORM_KILL_TEST_BIOS"] != nil, "runs only as the child of runKilledOutrightTakesQEMUWithIt"))
    func qemuRunForAKillTest() throws {
        let env = ProcessInfo.processInfo.environment
        var b = QEMUBoot(kernel: try #require(env["CONFORM_KILL_TEST_KERNEL"])); b.bios = env["CONFORM_KILL_TEST_BIOS"]
        b.accel = .tcg; b.memoryMiB = 64; b.timeout = .seconds(30)
        _ = try QEMURunner.run(b)
    }

    @Test(.enabled(if: QEMU.installed, "qemu-system-x86_64 not installed"), .hangGuard)
    func qemuThatCannotStartSaysWhy() throws {
        let g = try Self.guest([0xEB, 0xFE])
        defer { g.cleanup() }
        var b = QEMUBoot(kernel: g.kernel); b.bios = g.bios; b.machine = "no-such-machine"; b.timeout = .seconds(30)
        let r = try QEMURunner.run(b)
        #expect(r.outcome == .exited(status: 1), "\(r.summary)")
        #expect(r.stderr.contains("machine"), "\(r.stderr)")
        #expect(r.summary.contains("QEMU said"))
    }
}

/// A kernel file that changes or vanishes while it is being loaded ends in a clear error or a
/// correct load, never a trap.
@Suite("CorpusFilesUnderfoot")
struct CorpusFilesUnderfootTests {
    /// A copy of a corpus image in a scratch directory: (the copy's path, its bytes, the directory).
    static func copy(_ id: String) throws -> (String, [UInt8], String) {
        let c = try syntheticImage(id)
        let dir = try Scratch.directory("underfoot")
        let p = dir + "/\(id).img"
        FileManager.default.createFile(atPath: p, contents: Data(c.image))
        return (p, c.image, dir)
    }

    @Test func truncatedAfterOpening() throws {
        let (p, _, dir) = try Self.copy("bz-2.15")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = try FileSource(path: p)
        truncate(p, 600)   // inside the setup code, after the size was taken
        #expect { try ReferenceLoader.load(kernel: src, initrd: nil, options: LoadOptions()) } throws: { e in
            let t = "\(e)"; return t.contains(p) || t.contains("600") || t.contains("short") || t.contains("read")
        }
    }

    @Test func removedAfterOpening() throws {
        let (p, bytes, dir) = try Self.copy("bz-2.15")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = try FileSource(path: p)
        try FileManager.default.removeItem(atPath: p)   // the open file stays readable on Linux
        let r = try ReferenceLoader.load(kernel: src, initrd: nil, options: LoadOptions())
        #expect(r.memory.bytes(at: r.kernelAddress, count: 16) != nil)
        #expect(bytes.count > 0)
    }

    @Test func rewrittenAfterOpeningIsCaughtByTheRules() throws {
        let (p, _, dir) = try Self.copy("bz-2.15")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let src = try FileSource(path: p)
        let r = try ReferenceLoader.load(kernel: src, initrd: nil, options: LoadOptions())
        // The file changes after the load: the snapshot's image record (read now) no longer
        // matches what was copied, and BP-19 says so instead of passing silently.
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: p))
        try h.seek(toOffset: 0x1000); try h.write(contentsOf: Data([0xDE, 0xAD, 0xBE, 0xEF])); try h.close()
        let s = try BootSnapshot.of(r, kernel: src, initrd: nil, commandLine: "console=ttyS0")
        #expect(judge(s).contains { $0.rule == "BP-19" && $0.outcome == .fail })
    }
}

/// A run interrupted outright (SIGKILL: no cleanup runs) leaves its scratch directory behind;
/// the next process that makes one removes it, and nothing that belongs to a live process or
/// does not follow the naming scheme.
@Suite("InterruptedRuns")
struct InterruptedRunTests {
    static let env = ProcessInfo.processInfo.environment

    @Test(.hangGuard)
    func nextRunSweepsWhatAKilledRunLeft() throws {
        let tmp = FileManager.default.temporaryDirectory.path
        // A process sweeps once, at its first scratch directory: for this one, now rather than
        // between the kill and the look below. The directory, named for this live process, is
        // also the decoy the children's sweeps must leave alone.
        let live = try Scratch.directory("sweep-test")
        defer { try? FileManager.default.removeItem(atPath: live) }
        let note = live + "/workspace.txt"

        let first = try startTestChild(filter: "scratchForASweepTest", environment: ["CONFORM_SWEEP_TEST_NOTE": note, "CONFORM_SWEEP_TEST_HOLD": "1"])
        // Up to 20 s for the child to start and say where (a line ending in a newline).
        let left = poll(seconds: 20) { (try? String(contentsOfFile: note, encoding: .utf8)).flatMap { $0.hasSuffix("\n") ? String($0.dropLast()) : nil } }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let dir = try #require(left, "the child never made its workspace")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(first.terminationReason == .uncaughtSignal)
        #expect(FileManager.default.fileExists(atPath: dir), "the killed run's workspace \(dir) should still be there before the sweep")
        // A decoy named for the dead child but outside the scheme (no random number last).
        let other = tmp + "/conform-gate-\(first.processIdentifier)-notes"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: other) }

        try FileManager.default.removeItem(atPath: note)
        let second = try startTestChild(filter: "scratchForASweepTest", environment: ["CONFORM_SWEEP_TEST_NOTE": note])
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)
        #expect((try? String(contentsOfFile: note, encoding: .utf8)) != nil, "the second child did not run")
        #expect(!FileManager.default.fileExists(atPath: dir), "\(dir), left by a killed run, survived the next run")
        #expect(FileManager.default.fileExists(atPath: live), "the sweep removed \(live), which belongs to a live process")
        #expect(FileManager.default.fileExists(atPath: other), "the sweep removed \(other), which is not one of its names")
    }

    /// Only as a child of `nextRunSweepsWhatAKilledRunLeft`: makes a gate workspace, writes its
    /// path to the note, then either holds it until killed or cleans up.
    @Test(.enabled(if: env["CONFORM_SWEEP_TEST_NOTE"] != nil, "runs only as the child of nextRunSweepsWhatAKilledRunLeft"))
    func scratchForASweepTest() throws {
        let w = try GateWorkspace()
        try (w.directory + "\n").write(toFile: try #require(Self.env["CONFORM_SWEEP_TEST_NOTE"]), atomically: true, encoding: .utf8)
        if Self.env["CONFORM_SWEEP_TEST_HOLD"] != nil { sleep(60) }
        w.cleanup()
    }
}
