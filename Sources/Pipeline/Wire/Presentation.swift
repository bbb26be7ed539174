// Presentation: the text form of records (RFC 1035 §5.1): tokens, escapes, and what can be wrong with them.

/// Why presentation-form (zone file) text could not be read, and where.
///
/// `line` and `column` are 1-based positions in the text the lexer read (0 when the text had no position, as for a
/// name parsed on its own). Tests compare `reason`.
public struct PresentationError: Error, Equatable, Hashable, Sendable {
    public enum Reason: Equatable, Hashable, Sendable {
        case emptyLabel
        case labelTooLong
        case nameTooLong
        /// A `\` not followed by a character, or `\DDD` over 255.
        case badEscape
        case unterminatedQuote
        case unbalancedParentheses
        /// The record ended before this field.
        case missingField(String)
        /// Text left over after the last field of the record.
        case unexpectedText(String)
        /// A field that should be a number in range.
        case badNumber(field: String, text: String)
        case badIPv4Address(String)
        case badIPv6Address(String)
        case badBase64
        case badBase32Hex
        case badHex
        case badTime(String)
        case unknownType(String)
        case unknownClass(String)
        /// A character-string longer than 255 octets (RFC 1035 §3.3).
        case characterStringTooLong
        /// The `\# length hex` form with a length that does not match the data (RFC 3597 §5).
        case genericLengthMismatch(declared: Int, actual: Int)
        /// A field whose value is not valid for this record type; the string says which and why.
        case invalidValue(field: String, text: String)
    }

    public var reason: Reason
    public var line: Int
    public var column: Int

    public init(_ reason: Reason, line: Int = 0, column: Int = 0) {
        self.reason = reason
        self.line = line
        self.column = column
    }

    /// The same reason at a token's position, unless a position is already known.
    func at(_ token: PresentationToken) -> PresentationError {
        self.line != 0 ? self : PresentationError(self.reason, line: token.line, column: token.column)
    }
}

extension PresentationError: CustomStringConvertible {
    public var description: String {
        let position = self.line > 0 ? "\(self.line):\(self.column): " : ""
        return position + self.reason.description
    }
}

extension PresentationError.Reason: CustomStringConvertible {
    public var description: String {
        switch self {
        case .emptyLabel: return "empty label in name"
        case .labelTooLong: return "label longer than 63 octets"
        case .nameTooLong: return "name longer than 255 octets"
        case .badEscape: return "bad escape sequence"
        case .unterminatedQuote: return "unterminated quoted string"
        case .unbalancedParentheses: return "unbalanced parentheses"
        case .missingField(let field): return "expected \(field)"
        case .unexpectedText(let text): return "unexpected text '\(text)'"
        case .badNumber(let field, let text): return "bad \(field) '\(text)'"
        case .badIPv4Address(let text): return "bad IPv4 address '\(text)'"
        case .badIPv6Address(let text): return "bad IPv6 address '\(text)'"
        case .badBase64: return "bad base64 data"
        case .badBase32Hex: return "bad base32hex data"
        case .badHex: return "bad hex data"
        case .badTime(let text): return "bad time '\(text)' (YYYYMMDDHHmmSS or seconds)"
        case .unknownType(let text): return "unknown record type '\(text)'"
        case .unknownClass(let text): return "unknown class '\(text)'"
        case .characterStringTooLong: return "character-string longer than 255 octets"
        case .genericLengthMismatch(let declared, let actual):
            return "\\# length \(declared) does not match \(actual) octets of data"
        case .invalidValue(let field, let text): return "invalid \(field) '\(text)'"
        }
    }
}

/// One field of presentation text: a word or a quoted string, escapes still uninterpreted.
public struct PresentationToken: Hashable, Sendable {
    /// The octets between the delimiters (without the quotes of a quoted string), `\` escapes kept as written.
    public var text: [UInt8]
    public var isQuoted: Bool
    public var line: Int
    public var column: Int

    public init(text: [UInt8], isQuoted: Bool = false, line: Int = 0, column: Int = 0) {
        self.text = text
        self.isQuoted = isQuoted
        self.line = line
        self.column = column
    }

    /// The raw text as a String (for messages and simple fields).
    public var string: String { String(decoding: self.text, as: UTF8.self) }

    /// The octets with `\X` and `\DDD` escapes resolved.
    /// - Throws: `.badEscape`.
    public func unescaped() throws(PresentationError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(self.text.count)
        var index = 0
        while index < self.text.count {
            let byte = self.text[index]
            if byte == UInt8(ascii: "\\") {
                let (value, width) = try PresentationToken.escape(self.text, at: index)
                result.append(value)
                index += width
            } else {
                result.append(byte)
                index += 1
            }
        }
        return result
    }

    /// Decodes the escape starting at `index` (a backslash): its octet and how many octets of text it took.
    static func escape(_ text: [UInt8], at index: Int) throws(PresentationError) -> (UInt8, Int) {
        guard index + 1 < text.count else { throw PresentationError(.badEscape) }
        let next = text[index + 1]
        if next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9") {
            guard index + 3 < text.count else { throw PresentationError(.badEscape) }
            var value = 0
            for offset in 1...3 {
                let digit = text[index + offset]
                guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else {
                    throw PresentationError(.badEscape)
                }
                value = value * 10 + Int(digit - UInt8(ascii: "0"))
            }
            guard value <= 255 else { throw PresentationError(.badEscape) }
            return (UInt8(value), 4)
        }
        return (next, 2)
    }

    /// A <character-string> (RFC 1035 §3.3): unescaped, at most 255 octets.
    public func characterString() throws(PresentationError) -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try self.unescaped() } catch { throw error.at(self) }
        guard bytes.count <= 255 else { throw PresentationError(.characterStringTooLong).at(self) }
        return bytes
    }
}

/// One logical entry of presentation text: the tokens of one record or directive, joined across parentheses.
public struct PresentationEntry: Hashable, Sendable {
    public var tokens: [PresentationToken]
    /// True when the line began with a blank, which in a zone file means "same owner as before" (RFC 1035 §5.1).
    public var startsWithBlank: Bool
    public var line: Int
}

/// Splits presentation text into entries and tokens (RFC 1035 §5.1).
///
/// Handles `;` comments, `( … )` continuation across lines, quoted strings with escapes, and `\` escapes in
/// words (an escaped blank or quote does not end a word). Escapes are left for the field's own parser.
public struct PresentationLexer {
    private let text: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0

    public init(text: [UInt8]) { self.text = text }
    public init(_ text: String) { self.text = Array(text.utf8) }

    /// The current 1-based line.
    public var currentLine: Int { self.line }

    /// The next non-empty entry, or nil at the end of the text.
    /// - Throws: `.unterminatedQuote`, `.unbalancedParentheses`.
    public mutating func nextEntry() throws(PresentationError) -> PresentationEntry? {
        while self.index < self.text.count {
            let entryLine = self.line
            let startsWithBlank = self.index == self.lineStart && PresentationLexer.isBlank(self.text[self.index])
            var tokens: [PresentationToken] = []
            var depth = 0
            var openLine = 0
            var openColumn = 0
            scan: while self.index < self.text.count {
                let byte = self.text[self.index]
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                    self.index += 1
                case UInt8(ascii: "\n"):
                    self.index += 1
                    self.line += 1
                    self.lineStart = self.index
                    if depth == 0 { break scan }
                case UInt8(ascii: ";"):
                    while self.index < self.text.count && self.text[self.index] != UInt8(ascii: "\n") {
                        self.index += 1
                    }
                case UInt8(ascii: "("):
                    if depth == 0 {
                        openLine = self.line
                        openColumn = self.index - self.lineStart + 1
                    }
                    depth += 1
                    self.index += 1
                case UInt8(ascii: ")"):
                    guard depth > 0 else {
                        throw PresentationError(
                            .unbalancedParentheses,
                            line: self.line,
                            column: self.index - self.lineStart + 1
                        )
                    }
                    depth -= 1
                    self.index += 1
                case UInt8(ascii: "\""):
                    tokens.append(try self.quoted())
                default:
                    tokens.append(try self.word())
                }
            }
            if depth > 0 { throw PresentationError(.unbalancedParentheses, line: openLine, column: openColumn) }
            if !tokens.isEmpty {
                return PresentationEntry(tokens: tokens, startsWithBlank: startsWithBlank, line: entryLine)
            }
        }
        return nil
    }

    /// All entries of the text.
    public static func entries(_ text: String) throws(PresentationError) -> [PresentationEntry] {
        var lexer = PresentationLexer(text)
        var result: [PresentationEntry] = []
        while let entry = try lexer.nextEntry() { result.append(entry) }
        return result
    }

    static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    private mutating func word() throws(PresentationError) -> PresentationToken {
        let start = self.index
        let column = start - self.lineStart + 1
        while self.index < self.text.count {
            let byte = self.text[self.index]
            if byte == UInt8(ascii: "\\") {
                // Keep the escape and the octet it protects together; `\DDD` is read later.
                guard self.index + 1 < self.text.count, self.text[self.index + 1] != UInt8(ascii: "\n") else {
                    throw PresentationError(.badEscape, line: self.line, column: self.index - self.lineStart + 1)
                }
                self.index += 2
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: ";"),
                UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\""):
                return PresentationToken(
                    text: Array(self.text[start..<self.index]),
                    line: self.line,
                    column: column
                )
            default:
                self.index += 1
            }
        }
        return PresentationToken(text: Array(self.text[start..<self.index]), line: self.line, column: column)
    }

    private mutating func quoted() throws(PresentationError) -> PresentationToken {
        let line = self.line
        let column = self.index - self.lineStart + 1
        self.index += 1
        let start = self.index
        while self.index < self.text.count {
            let byte = self.text[self.index]
            if byte == UInt8(ascii: "\\") {
                // An escaped newline inside quotes is still a new line for positions.
                if self.index + 1 < self.text.count && self.text[self.index + 1] == UInt8(ascii: "\n") {
                    self.line += 1
                    self.lineStart = self.index + 2
                }
                self.index += 2
                continue
            }
            if byte == UInt8(ascii: "\n") {
                self.line += 1
                self.lineStart = self.index + 1
            }
            if byte == UInt8(ascii: "\"") {
                let token = PresentationToken(
                    text: Array(self.text[start..<self.index]),
                    isQuoted: true,
                    line: line,
                    column: column
                )
                self.index += 1
                return token
            }
            self.index += 1
        }
        throw PresentationError(.unterminatedQuote, line: line, column: column)
    }
}

/// A cursor over an entry's tokens for the field parsers of each RDATA type.
public struct PresentationFields {
    public let tokens: ArraySlice<PresentationToken>
    public private(set) var index: Int
    /// The origin for relative names (`$ORIGIN`, RFC 1035 §5.1); nil means relative names are taken as absolute.
    public let origin: DomainName?

    public init(_ tokens: ArraySlice<PresentationToken>, origin: DomainName? = nil) {
        self.tokens = tokens
        self.index = tokens.startIndex
        self.origin = origin
    }

    public var isAtEnd: Bool { self.index >= self.tokens.endIndex }

    /// The next token; throws `.missingField(field)` at the end.
    public mutating func next(_ field: String) throws(PresentationError) -> PresentationToken {
        guard self.index < self.tokens.endIndex else {
            let last = self.tokens.last
            // Just past the last token (its quotes included).
            throw PresentationError(
                .missingField(field),
                line: last?.line ?? 0,
                column: (last?.column ?? 0) + (last?.text.count ?? 0) + (last?.isQuoted == true ? 2 : 0)
            )
        }
        defer { self.index += 1 }
        return self.tokens[self.index]
    }

    /// The rest of the tokens, consumed.
    public mutating func rest() -> ArraySlice<PresentationToken> {
        defer { self.index = self.tokens.endIndex }
        return self.tokens[self.index...]
    }

    /// Throws `.unexpectedText` unless every token was consumed.
    public func finish() throws(PresentationError) {
        if self.index < self.tokens.endIndex {
            let token = self.tokens[self.index]
            throw PresentationError(.unexpectedText(token.string), line: token.line, column: token.column)
        }
    }

    public mutating func name(_ field: String) throws(PresentationError) -> DomainName {
        let token = try self.next(field)
        do { return try DomainName(token: token, origin: self.origin) } catch { throw error.at(token) }
    }

    public mutating func integer<T: FixedWidthInteger>(
        _ field: String,
        as: T.Type = T.self
    ) throws(PresentationError)
        -> T
    {
        let token = try self.next(field)
        guard !token.isQuoted, let value = T(token.string) else {
            throw PresentationError(.badNumber(field: field, text: token.string)).at(token)
        }
        return value
    }

    public mutating func characterString(_ field: String) throws(PresentationError) -> [UInt8] {
        try self.next(field).characterString()
    }

    /// The remaining tokens joined, for base64 and hex fields that may be split by blanks.
    public mutating func joinedRest(_ field: String) throws(PresentationError) -> (String, PresentationToken) {
        let first = try self.next(field)
        var text = first.string
        for token in self.rest() { text += token.string }
        return (text, first)
    }
}
