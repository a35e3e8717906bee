/// The framing every probe's report uses (the x86 probe's "BOOTPROBE 1", the Image probes'
/// "IMAGEPROBE 1"): a header line, one fact per line, then `end lines=N hash64=H`, where N counts
/// the lines from the header to the end line (the header included, the end line not) and H is
/// `ProbeHash64` over those bytes. Anything before the header is ignored (firmware banners);
/// CRLF reads as LF, which is what the probe checksummed.
struct ProbeFrame {
    /// The report's lines from the header on (the header first, the end line not), each with
    /// the byte offset where it starts in the serial output as read (CRLF taken as LF).
    var lines: [(offset: Int, bytes: ArraySlice<UInt8>)] = []
    /// Where the end line starts.
    var endOffset = 0

    /// Finds one framed report in `raw`, checks its line count and checksum, and refuses a
    /// second header inside it or after its end line. Errors carry the 1-based line number of
    /// the report and the byte offset in the serial output.
    static func read(serial raw: [UInt8], header: String, maximumLines: Int) throws(ProbeFrameError) -> ProbeFrame {
        let serial = ProbeReport.withoutCarriageReturns(raw)
        let head = Array(header.utf8) + [0x0A]
        guard let start = ProbeReport.find(head, in: serial) else {
            throw ProbeFrameError(line: 0, offset: serial.count, message: "no '\(header)' line in \(serial.count) bytes of serial output")
        }
        var frame = ProbeFrame()
        var i = start, lineStart = start
        var endLine: ArraySlice<UInt8>? = nil
        while i < serial.count {
            if serial[i] == 0x0A {
                let l = serial[lineStart..<i]
                if l.starts(with: Array("end ".utf8)) { endLine = l; frame.endOffset = lineStart; break }
                if !frame.lines.isEmpty, l.elementsEqual(head.dropLast()) {
                    throw ProbeFrameError(line: frame.lines.count + 1, offset: lineStart, message: "a second '\(header)' header before this report's 'end' line: two reports, the first cut short")
                }
                frame.lines.append((lineStart, l))
                guard frame.lines.count <= maximumLines else { throw ProbeFrameError(line: frame.lines.count, offset: lineStart, message: "more than \(maximumLines) lines") }
                lineStart = i + 1
            }
            i += 1
        }
        let n = frame.lines.count
        guard let endLine else { throw ProbeFrameError(line: n + 1, offset: serial.count, message: "report ends without its 'end' line after \(n) lines (cut short?)") }
        let endFields = ProbeReport.keyValues(String(decoding: endLine, as: UTF8.self))
        guard let count = endFields["lines"], let sum = endFields["hash64"] else {
            throw ProbeFrameError(line: n + 1, offset: frame.endOffset, message: "end line lacks lines= or hash64=: '\(String(decoding: endLine, as: UTF8.self))'")
        }
        guard count == UInt64(n) else { throw ProbeFrameError(line: n + 1, offset: frame.endOffset, message: "end line says \(count) lines, received \(n)") }
        let got = ProbeHash64.of(serial[start..<frame.endOffset])
        guard got == sum else {
            throw ProbeFrameError(line: n + 1, offset: frame.endOffset, message: "hash64 of the report is \(hex(got)), end line says \(hex(sum)): the report was corrupted in transit")
        }
        if let second = ProbeReport.find(head, in: serial, from: i + 1) {
            let between = serial[(i + 1)..<second].reduce(0) { $1 == 0x0A ? $0 + 1 : $0 }
            throw ProbeFrameError(line: n + 2 + between, offset: second, message: "a second report starts here (the first ended at line \(n + 1)): judge one report per file")
        }
        return frame
    }
}

/// A report whose framing is broken: where (report line, byte offset) and what.
struct ProbeFrameError: Error {
    let line: Int, offset: Int
    let message: String
}
