/// Text for XML character data and attribute values (JUnit, SVG): the five special characters
/// escaped, control characters XML 1.0 cannot carry replaced by "?".
func xmlEscape(_ s: String) -> String {
    var o = ""
    for u in s.unicodeScalars {
        switch u {
        case "&": o += "&amp;"
        case "<": o += "&lt;"
        case ">": o += "&gt;"
        case "\"": o += "&quot;"
        case "\n", "\t", "\r": o.unicodeScalars.append(u)
        default:
            // XML 1.0 has no other control characters.
            if u.value < 0x20 || (0xFFFE...0xFFFF).contains(u.value) { o += "?" } else { o.unicodeScalars.append(u) }
        }
    }
    return o
}
