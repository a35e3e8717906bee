import Foundation
import Runners
import Testing

/// Progress on a terminal is one rewritten line; in a log, one line per step with its time.
@Suite("ProgressLine")
struct ProgressLineTests {
    final class Sink: @unchecked Sendable {
        let lock = NSLock()
        var text = ""
        func add(_ s: String) { lock.lock(); text += s; lock.unlock() }
    }

    @Test func plainLinesInALog() {
        let sink = Sink()
        let p = ProgressLine("conform gate", interactive: false, write: sink.add, elapsed: { .milliseconds(12_340) })
        p.step("boot 1/2")
        p.finished("cell", of: 3)
        p.finish()
        #expect(sink.text == "[ 12.3 s] conform gate: boot 1/2\n[ 12.3 s] conform gate: [1/3] cell\n")
    }

    @Test func oneRewrittenLineOnATerminal() {
        let sink = Sink()
        let p = ProgressLine("conform fetch", interactive: true, write: sink.add, elapsed: { .seconds(2) })
        p.step("lists")
        p.step("downloading 80 MB")
        p.note("kept")
        p.finish()
        let t = sink.text
        #expect(!t.hasPrefix("\n") && t.components(separatedBy: "\n").count == 2, "only the note ends a line: \(t.debugDescription)")
        #expect(t.hasPrefix("\r\u{1B}[K[  2.0 s] conform fetch: lists\r\u{1B}[K[  2.0 s] conform fetch: downloading 80 MB"))
        #expect(t.contains("\r\u{1B}[K[  2.0 s] conform fetch: kept\n"))
        #expect(t.hasSuffix("\r\u{1B}[K"), "finish erases the step line")
    }
}
