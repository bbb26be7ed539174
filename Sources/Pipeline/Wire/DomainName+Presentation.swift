// DomainName+Presentation: names as text, with `\.` and `\DDD` escapes both ways (RFC 1035 §5.1, RFC 4343 §2.1).

extension DomainName {
    /// Parses a name in presentation form.
    ///
    /// `.` is the root, `@` is `origin`, a name without a final unescaped dot is relative to `origin` (or taken as
    /// absolute when there is no origin, as dig does). `\.` is a dot inside a label; `\DDD` is a decimal octet.
    /// - Throws: `PresentationError` with `.emptyLabel`, `.labelTooLong`, `.nameTooLong` or `.badEscape`.
    public init(_ text: String, origin: DomainName? = nil) throws(PresentationError) {
        try self.init(token: PresentationToken(text: Array(text.utf8)), origin: origin)
    }

    /// Parses a name from a presentation token (see `init(_:origin:)`).
    public init(token: PresentationToken, origin: DomainName?) throws(PresentationError) {
        let text = token.text
        if text == [UInt8(ascii: "@")], !token.isQuoted {
            self = origin ?? .root
            return
        }
        if text == [UInt8(ascii: ".")], !token.isQuoted {
            self = .root
            return
        }
        guard !text.isEmpty else { throw PresentationError(.emptyLabel).at(token) }
        var wire: [UInt8] = []
        wire.reserveCapacity(text.count + 2)
        var label: [UInt8] = []
        var absolute = false
        var index = 0
        func closeLabel() throws(PresentationError) {
            guard !label.isEmpty else { throw PresentationError(.emptyLabel).at(token) }
            guard label.count <= DomainName.maxLabelLength else { throw PresentationError(.labelTooLong).at(token) }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
            label.removeAll(keepingCapacity: true)
        }
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\\") {
                let (value, width): (UInt8, Int)
                do { (value, width) = try PresentationToken.escape(text, at: index) } catch { throw error.at(token) }
                label.append(value)
                index += width
            } else if byte == UInt8(ascii: ".") {
                try closeLabel()
                index += 1
                if index == text.count { absolute = true }
            } else {
                label.append(byte)
                index += 1
            }
        }
        if !label.isEmpty { try closeLabel() }
        wire.append(0)
        var name = DomainName(uncheckedWire: wire)
        if !absolute, let origin {
            do { name = try name.appending(origin) } catch { throw error.at(token) }
        }
        guard name.wire.count <= DomainName.maxWireLength else { throw PresentationError(.nameTooLong).at(token) }
        self = name
    }

    /// Appends one label's octets in presentation form: printable ASCII as is, the special characters
    /// `. ; ( ) " \ @ $` and blanks escaped with `\`, everything else as `\DDD`.
    static func appendEscapedLabel(_ label: ArraySlice<UInt8>, to text: inout String) {
        for byte in label {
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: ";"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\""),
                UInt8(ascii: "\\"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                text.append("\\")
                text.append(Character(Unicode.Scalar(byte)))
            case 0x21...0x7E:
                text.append(Character(Unicode.Scalar(byte)))
            default:
                text.append("\\")
                let digits = String(byte)
                text.append(String(repeating: "0", count: 3 - digits.count) + digits)
            }
        }
    }
}

extension DomainName: CustomStringConvertible {
    /// The absolute presentation form, with a final dot (`www.example.org.`; the root is `.`).
    public var description: String {
        if self.isRoot { return "." }
        var text = ""
        text.reserveCapacity(self.wire.count + 4)
        for label in self.labels {
            DomainName.appendEscapedLabel(label, to: &text)
            text.append(".")
        }
        return text
    }
}

extension DomainName: ExpressibleByStringLiteral {
    /// A name from a literal in source code; the literal must be a valid name (programmer error otherwise).
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("invalid domain name literal '\(value)': \(error)") }
    }
}
