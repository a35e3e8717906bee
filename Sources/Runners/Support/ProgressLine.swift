import Foundation
import Glibc

/// Progress of a long command (downloads, boots, releases) on standard error, with the time
/// since it started. On a terminal it is one line that each step rewrites (`\r`, then
/// "erase to end of line") and a ticker redraws every second, so a three-minute boot still
/// shows its clock; elsewhere (a CI log) every step is a plain line of its own:
///
///     [ 12.3 s] conform gate: boot 1/2: QEMU's loader
///
/// `note` prints a line that stays on a terminal too (a failure worth keeping on screen).
/// Safe to call from several threads (the matrix reports from its workers).
public final class ProgressLine: @unchecked Sendable {
    // @unchecked: every mutable field is read and written under `lock`.
    private let lock = NSLock()
    private let prefix: String
    private let interactive: Bool
    private let write: @Sendable (String) -> Void
    private let elapsed: @Sendable () -> Duration
    private var current: String?
    private var ticker: DispatchSourceTimer?
    private var finished = 0

    /// - Parameters:
    ///   - prefix: the command's name, "conform gate".
    ///   - interactive: rewrite one line (a terminal) or print one line per step; by default
    ///     whether standard error is a terminal.
    ///   - write: where the text goes (standard error by default; tests capture it).
    ///   - elapsed: the time since the start (a clock started here by default; tests fix it).
    public init(_ prefix: String, interactive: Bool = isatty(STDERR_FILENO) == 1,
                write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) },
                elapsed: (@Sendable () -> Duration)? = nil) {
        self.prefix = prefix; self.interactive = interactive; self.write = write
        let start = ContinuousClock.now
        self.elapsed = elapsed ?? { ContinuousClock.now - start }
        if interactive {
            let t = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "progress-ticker"))
            t.schedule(deadline: .now() + 1, repeating: 1)
            t.setEventHandler { [weak self] in self?.redraw() }
            t.resume()
            ticker = t
        }
    }

    deinit { ticker?.cancel() }

    /// "[ 12.3 s] conform gate: TEXT".
    private func stamped(_ text: String) -> String {
        "[\(String(format: "%5.1f", elapsed().seconds)) s] \(prefix): \(text)"
    }

    /// The terminal's width, so the rewritten line never wraps (a wrapped line cannot be
    /// rewritten with `\r`); 80 when it cannot be asked.
    private static var columns: Int {
        var w = winsize()
        return ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &w) == 0 && w.ws_col > 0 ? Int(w.ws_col) : 80
    }

    private func draw(_ text: String) {
        let line = stamped(text)
        write("\r\u{1B}[K" + String(line.prefix(max(Self.columns - 1, 20))))
    }

    private func redraw() {
        lock.lock(); defer { lock.unlock() }
        if let current { draw(current) }
    }

    /// A step began (or finished): rewrites the line on a terminal, prints a line elsewhere.
    public func step(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        if interactive { current = text; draw(text) } else { write(stamped(text) + "\n") }
    }

    /// One of `total` pieces of work finished (from any thread): a step "[k/total] TEXT".
    public func finished(_ text: String, of total: Int) {
        lock.lock()
        finished += 1
        let k = finished
        lock.unlock()
        step("[\(k)/\(total)] \(text)")
    }

    /// A line that stays: on a terminal the step line is cleared, the note printed, and the
    /// step drawn again under it.
    public func note(_ text: String) {
        lock.lock(); defer { lock.unlock() }
        if interactive {
            write("\r\u{1B}[K" + stamped(text) + "\n")
            if let current { draw(current) }
        } else { write(stamped(text) + "\n") }
    }

    /// Ends the progress: on a terminal the step line is erased (the command's own output
    /// follows on a clean line) and the ticker stops.
    public func finish() {
        lock.lock(); defer { lock.unlock() }
        ticker?.cancel(); ticker = nil
        if interactive, current != nil { write("\r\u{1B}[K") }
        current = nil
    }
}
