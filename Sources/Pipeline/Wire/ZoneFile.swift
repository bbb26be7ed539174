// ZoneFile: master files (RFC 1035 §5) read into records: directives, inherited fields, $INCLUDE and $GENERATE.


/// Why a zone file could not be loaded: file, line, column and what was expected.
///
/// `file` names the file holding the offending text (the included file's path for text inside an `$INCLUDE`);
/// `line` and `column` are 1-based, the column counted in octets of that line, as the lexer counts them.
public struct ZoneFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, the form editors and compilers use.
    public var description: String { "\(self.file):\(self.line):\(self.column): \(self.message)" }
}

/// A zone's master file (RFC 1035 §5.1) read into records, in file order.
///
/// Entries are `owner [ttl] [class] type rdata`, TTL and class in either order. `@` is the current origin and a
/// name without a final dot is relative to it; an entry that starts with a blank has the previous entry's owner.
///
/// - TTL: the entry's own, else `$TTL` (RFC 2308 §4), else the last TTL written on an entry (RFC 1035 §5.1), else
///   `parse`'s `defaultTTL`, else an error (Knot requires one too).
/// - Class: only IN is served, so an explicit class must be IN; an omitted one is IN.
/// - `$ORIGIN name`, `$TTL ttl` (units as in `1h30m`), `$INCLUDE file [origin]` (relative to the including
///   file's directory, read with a copy of the includer's state, so `$ORIGIN`, `$TTL` and the owner it changes do
///   not leak back; nesting is limited to `maxIncludeDepth`), and BIND's
///   `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs`.
/// - Records outside the zone are returned too: the `zone` plugin's checks reject them.
public struct ZoneFile {
    /// How many `$INCLUDE`s may be open inside one another below the top file.
    public static let maxIncludeDepth = 10
    /// The most records one `$GENERATE` may make.
    public static let maxGeneratedRecords = 65536
    /// The widest `${offset,width,base}` field; a name is at most 255 octets (RFC 1035 §2.3.4) anyway.
    static let maxGenerateWidth = 255

    /// Parses `text` (the contents of `path`) as a zone with `origin`.
    ///
    /// - Parameters:
    ///   - text: the master file.
    ///   - path: its path, for errors and as the base of relative `$INCLUDE` paths.
    ///   - origin: the initial `$ORIGIN`, normally the zone's name.
    ///   - defaultTTL: the TTL of entries when neither they, `$TTL` nor an earlier entry give one.
    ///   - readFile: reads an included file; includes are read with `readFile(path)` relative to the directory of
    ///     the including file.
    /// - Returns: every record in file order, included and generated ones where their directive stands.
    /// - Throws: `ZoneFileError` at the first problem, with the file, line and column of the offending token.
    public static func parse(
        text: String,
        path: String,
        origin: DomainName,
        defaultTTL: UInt32? = nil,
        readFile: (String) throws -> String
    ) throws(ZoneFileError) -> [Record] {
        var context = Context(path: path, openFiles: [ZoneFile.tidy(path)], origin: origin, fallbackTTL: defaultTTL)
        var records: [Record] = []
        try ZoneFile.load(text: text, context: &context, into: &records, readFile: readFile)
        return records
    }
}

// MARK: Entries

extension ZoneFile {
    /// What an entry inherits from those before it (RFC 1035 §5.1); an `$INCLUDE` reads its file with a copy.
    private struct Context {
        /// The file being read, as errors name it.
        var path: String
        /// The files being read, outermost first, for loop detection.
        var openFiles: [String]
        var origin: DomainName
        /// The value of the last `$TTL` (RFC 2308 §4).
        var ttlDirective: UInt32? = nil
        /// The TTL last written on an entry, RFC 1035 §5.1's default before `$TTL` existed.
        var lastTTL: UInt32? = nil
        /// `parse`'s `defaultTTL`.
        let fallbackTTL: UInt32?
        /// The last owner written, for entries that start with a blank.
        var previousOwner: DomainName? = nil

        func error(_ message: String, at token: PresentationToken) -> ZoneFileError {
            ZoneFileError(file: self.path, line: token.line, column: token.column, message: message)
        }

        /// An error just past `token`, where something was expected.
        func error(_ message: String, after token: PresentationToken) -> ZoneFileError {
            let width = token.text.count + (token.isQuoted ? 2 : 0)
            return ZoneFileError(file: self.path, line: token.line, column: token.column + width, message: message)
        }

        /// A codec error at its own position, or just past `token` when it has none (a field missing at the end).
        func error(_ error: PresentationError, after token: PresentationToken) -> ZoneFileError {
            guard error.line > 0 else { return self.error(error.reason.description, after: token) }
            return ZoneFileError(
                file: self.path,
                line: error.line,
                column: error.column,
                message: error.reason.description
            )
        }
    }

    /// `[ttl] [class] type` read from the front of an entry, and the RDATA tokens after it.
    private struct Header {
        var ttl: UInt32
        var type: RecordType
        var typeToken: PresentationToken
        var rdata: ArraySlice<PresentationToken>
    }

    /// Reads every entry of one file, appending its records (and those of its includes) to `records`.
    private static func load(
        text: String,
        context: inout Context,
        into records: inout [Record],
        readFile: (String) throws -> String
    ) throws(ZoneFileError) {
        var lexer = PresentationLexer(text)
        while true {
            let next: PresentationEntry?
            do { next = try lexer.nextEntry() } catch {
                throw ZoneFileError(
                    file: context.path,
                    line: error.line > 0 ? error.line : lexer.currentLine,
                    column: max(error.column, 1),
                    message: error.reason.description
                )
            }
            guard let entry = next else { return }
            let first = entry.tokens[0]
            if !entry.startsWithBlank, !first.isQuoted, first.text.first == UInt8(ascii: "$") {
                try ZoneFile.directive(entry, context: &context, into: &records, readFile: readFile)
            } else {
                records.append(try ZoneFile.record(entry, context: &context))
            }
        }
    }

    /// `owner [ttl] [class] type rdata`, or the same without the owner after a blank.
    private static func record(_ entry: PresentationEntry, context: inout Context) throws(ZoneFileError) -> Record {
        let owner: DomainName
        let rest: ArraySlice<PresentationToken>
        if entry.startsWithBlank {
            guard let previous = context.previousOwner else {
                throw ZoneFileError(
                    file: context.path,
                    line: entry.line,
                    column: 1,
                    message: "line starts with a blank but no owner name came before it"
                )
            }
            owner = previous
            rest = entry.tokens[...]
        } else {
            owner = try ZoneFile.name(entry.tokens[0], context: context)
            context.previousOwner = owner
            rest = entry.tokens.dropFirst()
        }
        let header = try ZoneFile.header(rest, after: entry.tokens[0], context: &context)
        let rdata = try ZoneFile.rdata(header.type, header.rdata, after: header.typeToken, context: context)
        return Record(name: owner, recordClass: .in, ttl: header.ttl, rdata: rdata)
    }

    /// Reads `[ttl] [class] type` in either order and picks the TTL (see `ZoneFile`).
    ///
    /// A token starting with a digit is a TTL (`300`, `1h30m`); a type mnemonic never is.
    /// - Parameter previous: the token before `tokens`, for the position of a missing type.
    private static func header(
        _ tokens: ArraySlice<PresentationToken>,
        after previous: PresentationToken,
        context: inout Context
    ) throws(ZoneFileError) -> Header {
        var explicitTTL: UInt32? = nil
        var sawClass = false
        var index = tokens.startIndex
        while index < tokens.endIndex {
            let token = tokens[index]
            let text = token.string
            index += 1
            if token.isQuoted {
                throw context.error(PresentationError.Reason.unknownType(text).description, at: token)
            }
            if let first = token.text.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") {
                guard explicitTTL == nil else {
                    throw context.error(PresentationError.Reason.unexpectedText(text).description, at: token)
                }
                guard let ttl = TTLText.parse(text) else {
                    throw context.error(
                        PresentationError.Reason.badNumber(field: "TTL", text: text).description,
                        at: token
                    )
                }
                explicitTTL = ttl
            } else if !sawClass, let recordClass = RecordClass(mnemonic: text) {
                guard recordClass == .in else {
                    throw context.error("class \(recordClass) is not supported (only IN is served)", at: token)
                }
                sawClass = true
            } else if let type = RecordType(mnemonic: text) {
                // RFC 6895 §3.1: meta types (OPT, TSIG, ANY, AXFR, …) live only in messages.
                guard !type.isMetaType else {
                    throw context.error("type \(type) is a meta type and cannot be in a zone file", at: token)
                }
                let ttl: UInt32
                if let explicitTTL {
                    ttl = explicitTTL
                    context.lastTTL = explicitTTL
                } else if let inherited = context.ttlDirective ?? context.lastTTL ?? context.fallbackTTL {
                    ttl = inherited
                } else {
                    throw context.error("no TTL given and no $TTL", at: tokens[tokens.startIndex])
                }
                return Header(ttl: ttl, type: type, typeToken: token, rdata: tokens[index...])
            } else {
                throw context.error(PresentationError.Reason.unknownType(text).description, at: token)
            }
        }
        let last = tokens.last ?? previous
        throw context.error(PresentationError.Reason.missingField("record type").description, after: last)
    }

    private static func name(_ token: PresentationToken, context: Context) throws(ZoneFileError) -> DomainName {
        do { return try DomainName(token: token, origin: context.origin) } catch {
            throw context.error(error, after: token)
        }
    }

    private static func rdata(
        _ type: RecordType,
        _ tokens: ArraySlice<PresentationToken>,
        after typeToken: PresentationToken,
        context: Context
    ) throws(ZoneFileError) -> RData {
        var fields = PresentationFields(tokens, origin: context.origin)
        let rdata: RData
        do { rdata = try RData(type: type, fields: &fields) } catch {
            throw context.error(error, after: tokens.last ?? typeToken)
        }
        // RDLENGTH is 16 bits (RFC 1035 §3.2.1): a record whose RDATA is longer could never be sent. Its wire form is
        // at most twice its text (a one-letter TXT word takes two octets) plus its names' origins, so only long
        // records are measured.
        let text = tokens.reduce(0) { $0 + $1.text.count + 1 }
        if text * 2 + 1024 > Int(UInt16.max) {
            let length = rdata.wireBytes.count
            guard length <= Int(UInt16.max) else {
                throw context.error(
                    "\(type) RDATA of \(length) octets is longer than a record can carry (65535)",
                    at: typeToken
                )
            }
        }
        return rdata
    }
}

// MARK: Directives

extension ZoneFile {
    private static func directive(
        _ entry: PresentationEntry,
        context: inout Context,
        into records: inout [Record],
        readFile: (String) throws -> String
    ) throws(ZoneFileError) {
        let keyword = entry.tokens[0]
        switch keyword.string.uppercased() {
        case "$ORIGIN":
            let target = try ZoneFile.argument(entry, 1, "domain name after $ORIGIN", context: context)
            try ZoneFile.expectEnd(entry, 2, context: context)
            context.origin = try ZoneFile.name(target, context: context)
        case "$TTL":
            let token = try ZoneFile.argument(entry, 1, "TTL after $TTL", context: context)
            try ZoneFile.expectEnd(entry, 2, context: context)
            guard !token.isQuoted, let ttl = TTLText.parse(token.string) else {
                throw context.error(
                    PresentationError.Reason.badNumber(field: "TTL", text: token.string).description,
                    at: token
                )
            }
            context.ttlDirective = ttl
        case "$INCLUDE":
            try ZoneFile.include(entry, context: context, into: &records, readFile: readFile)
        case "$GENERATE":
            try ZoneFile.generate(entry, context: &context, into: &records)
        default:
            throw context.error("unknown directive '\(keyword.string)'", at: keyword)
        }
    }

    /// The directive's argument at `index`, or an error naming `expected` just past the last token.
    private static func argument(
        _ entry: PresentationEntry,
        _ index: Int,
        _ expected: String,
        context: Context
    ) throws(ZoneFileError) -> PresentationToken {
        guard index < entry.tokens.count else {
            throw context.error(
                PresentationError.Reason.missingField(expected).description,
                after: entry.tokens[index - 1]
            )
        }
        return entry.tokens[index]
    }

    private static func expectEnd(_ entry: PresentationEntry, _ count: Int, context: Context) throws(ZoneFileError) {
        guard entry.tokens.count <= count else {
            let extra = entry.tokens[count]
            throw context.error(PresentationError.Reason.unexpectedText(extra.string).description, at: extra)
        }
    }

    /// `$INCLUDE file [origin]` (RFC 1035 §5.1): the file is read with a copy of the state, so nothing leaks back.
    private static func include(
        _ entry: PresentationEntry,
        context: Context,
        into records: inout [Record],
        readFile: (String) throws -> String
    ) throws(ZoneFileError) {
        let fileToken = try ZoneFile.argument(entry, 1, "file name after $INCLUDE", context: context)
        var origin = context.origin
        if entry.tokens.count > 2 { origin = try ZoneFile.name(entry.tokens[2], context: context) }
        try ZoneFile.expectEnd(entry, 3, context: context)
        let fileName: String
        do { fileName = String(decoding: try fileToken.unescaped(), as: UTF8.self) } catch {
            throw context.error(error, after: fileToken)
        }
        let path = ZoneFile.resolve(fileName, relativeTo: context.path)
        if let start = context.openFiles.firstIndex(of: path) {
            let chain = (context.openFiles[start...] + [path]).joined(separator: " -> ")
            throw context.error("$INCLUDE loop: \(chain)", at: fileToken)
        }
        guard context.openFiles.count <= ZoneFile.maxIncludeDepth else {
            throw context.error("$INCLUDE nested more than \(ZoneFile.maxIncludeDepth) files deep", at: fileToken)
        }
        let text: String
        do { text = try readFile(path) } catch {
            throw context.error("cannot read '\(path)': \(error)", at: fileToken)
        }
        var inner = context
        inner.path = path
        inner.openFiles.append(path)
        inner.origin = origin
        inner.previousOwner = nil
        try ZoneFile.load(text: text, context: &inner, into: &records, readFile: readFile)
    }

    /// `name` relative to the directory of the file `including`, unless it is absolute; `.` segments and
    /// doubled slashes are dropped (`..` is kept: folding it would be wrong across symbolic links).
    static func resolve(_ name: String, relativeTo including: String) -> String {
        guard !name.hasPrefix("/"), let slash = including.lastIndex(of: "/") else { return ZoneFile.tidy(name) }
        return ZoneFile.tidy(String(including[...slash]) + name)
    }

    static func tidy(_ path: String) -> String {
        let parts = path.split(separator: "/").filter { $0 != "." }
        let joined = parts.joined(separator: "/")
        if path.hasPrefix("/") { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}

// MARK: $GENERATE

extension ZoneFile {
    /// BIND's `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs`: one record per value of the iterator.
    ///
    /// In `lhs` and `rhs`, `$` is the iterator, `${offset[,width[,base]]}` adds `offset` and prints it zero-padded
    /// to `width` in base `d`, `o`, `x`, `X` or as reversed nibble labels (`n`, `N`), and `\$` or `$$` is a dollar.
    /// A single quoted `rhs` is split into fields after substitution, as BIND does; several `rhs` tokens are also
    /// accepted. The owner of later blank-led entries is not changed; an explicit TTL counts as written.
    private static func generate(
        _ entry: PresentationEntry,
        context: inout Context,
        into records: inout [Record]
    ) throws(ZoneFileError) {
        let rangeToken = try ZoneFile.argument(entry, 1, "range after $GENERATE", context: context)
        let ownerToken = try ZoneFile.argument(entry, 2, "owner name after $GENERATE range", context: context)
        guard let range = GenerateRange(rangeToken.string), !rangeToken.isQuoted else {
            throw context.error(
                "bad $GENERATE range '\(rangeToken.string)' (expected start-stop[/step])",
                at: rangeToken
            )
        }
        guard range.count <= ZoneFile.maxGeneratedRecords else {
            let limit = ZoneFile.maxGeneratedRecords
            throw context.error(
                "$GENERATE range '\(rangeToken.string)' makes \(range.count) records (at most \(limit))",
                at: rangeToken
            )
        }
        let header = try ZoneFile.header(entry.tokens[3...], after: ownerToken, context: &context)
        let ownerTemplate = try ZoneFile.template(ownerToken, context: context)
        var rdataTemplates: [GenerateTemplate] = []
        for token in header.rdata { rdataTemplates.append(try ZoneFile.template(token, context: context)) }
        let splitsRhs = header.rdata.count == 1 && header.rdata[header.rdata.startIndex].isQuoted

        for value in stride(from: range.start, through: range.stop, by: range.step) {
            let ownerText = try ZoneFile.render(ownerTemplate, value, context: context)
            let owner = try ZoneFile.name(ZoneFile.field(ownerText, isQuoted: false, at: ownerToken), context: context)
            var tokens: [PresentationToken] = []
            for template in rdataTemplates {
                let text = try ZoneFile.render(template, value, context: context)
                if splitsRhs {
                    tokens = try ZoneFile.split(text, from: template.token, context: context)
                } else {
                    tokens.append(ZoneFile.field(text, isQuoted: template.token.isQuoted, at: template.token))
                }
            }
            let rdata = try ZoneFile.rdata(header.type, tokens[...], after: header.typeToken, context: context)
            records.append(Record(name: owner, recordClass: .in, ttl: header.ttl, rdata: rdata))
        }
    }

    /// Text made by `$GENERATE`, at the position of the token it came from.
    private static func field(_ text: [UInt8], isQuoted: Bool, at token: PresentationToken) -> PresentationToken {
        PresentationToken(text: text, isQuoted: isQuoted, line: token.line, column: token.column)
    }

    private static func template(_ token: PresentationToken, context: Context) throws(ZoneFileError) -> GenerateTemplate
    {
        guard let template = GenerateTemplate(token) else {
            throw context.error(
                "bad $GENERATE modifier in '\(token.string)' (expected ${offset[,width[,base]]}, base one of doxXnN)",
                at: token
            )
        }
        return template
    }

    private static func render(
        _ template: GenerateTemplate,
        _ value: Int,
        context: Context
    ) throws(ZoneFileError) -> [UInt8] {
        guard let text = template.render(value) else {
            throw context.error(
                "$GENERATE offset makes a negative value from \(value) in '\(template.token.string)'",
                at: template.token
            )
        }
        return text
    }

    /// A quoted `rhs` after substitution, split into fields at the quoted token's position.
    private static func split(
        _ text: [UInt8],
        from token: PresentationToken,
        context: Context
    ) throws(ZoneFileError) -> [PresentationToken] {
        var lexer = PresentationLexer(text: text)
        var tokens: [PresentationToken] = []
        do {
            while let entry = try lexer.nextEntry() {
                for field in entry.tokens {
                    tokens.append(ZoneFile.field(field.text, isQuoted: field.isQuoted, at: token))
                }
            }
        } catch {
            throw context.error(error.reason.description, at: token)
        }
        return tokens
    }

    /// `start-stop[/step]`: decimal, start ≤ stop, step ≥ 1 (BIND's rules).
    private struct GenerateRange {
        var start: Int
        var stop: Int
        var step: Int

        var count: Int { (self.stop - self.start) / self.step + 1 }

        init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let bounds = parts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard bounds.count == 2, let start = GenerateRange.number(bounds[0]),
                let stop = GenerateRange.number(bounds[1]),
                start <= stop
            else { return nil }
            var step = 1
            if parts.count == 2 {
                guard let value = GenerateRange.number(parts[1]), value >= 1 else { return nil }
                step = value
            }
            self.start = start
            self.stop = stop
            self.step = step
        }

        /// Decimal digits only, at most 2^31-1 as in BIND.
        static func number(_ text: Substring) -> Int? {
            guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int32(text) else {
                return nil
            }
            return Int(value)
        }
    }

    /// One `lhs` or `rhs` token split into literal octets and `$` substitutions.
    struct GenerateTemplate {
        enum Piece {
            case literal([UInt8])
            case value(offset: Int, width: Int, base: UInt8)
        }

        let token: PresentationToken
        var pieces: [Piece] = []

        /// Nil when a `${…}` modifier is malformed.
        init?(_ token: PresentationToken) {
            self.token = token
            let text = token.text
            var literal: [UInt8] = []
            var index = 0
            while index < text.count {
                let byte = text[index]
                if byte == UInt8(ascii: "\\") {
                    // Escapes stay as written for the field's own parser; `\$` thus reaches it as a dollar.
                    literal.append(contentsOf: text[index..<min(index + 2, text.count)])
                    index += 2
                } else if byte != UInt8(ascii: "$") {
                    literal.append(byte)
                    index += 1
                } else if index + 1 < text.count, text[index + 1] == UInt8(ascii: "$") {
                    literal.append(byte)
                    index += 2
                } else {
                    if !literal.isEmpty { self.pieces.append(.literal(literal)) }
                    literal = []
                    index += 1
                    guard index < text.count, text[index] == UInt8(ascii: "{") else {
                        self.pieces.append(.value(offset: 0, width: 0, base: UInt8(ascii: "d")))
                        continue
                    }
                    guard let close = text[index...].firstIndex(of: UInt8(ascii: "}")),
                        let piece = GenerateTemplate.modifier(text[(index + 1)..<close])
                    else { return nil }
                    self.pieces.append(piece)
                    index = close + 1
                }
            }
            if !literal.isEmpty { self.pieces.append(.literal(literal)) }
        }

        /// `offset[,width[,base]]`.
        static func modifier(_ text: ArraySlice<UInt8>) -> Piece? {
            let parts = text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
                .map { String(decoding: $0, as: UTF8.self) }
            guard (1...3).contains(parts.count), let offset = Int32(parts[0]) else { return nil }
            var width = 0
            var base = UInt8(ascii: "d")
            if parts.count >= 2 {
                guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(parts[1]),
                    value <= ZoneFile.maxGenerateWidth
                else { return nil }
                width = value
            }
            if parts.count == 3 {
                guard parts[2].utf8.count == 1, let letter = parts[2].utf8.first, Array("doxXnN".utf8).contains(letter)
                else { return nil }
                base = letter
            }
            return .value(offset: Int(offset), width: width, base: base)
        }

        /// The text for one iterator value; nil when an offset makes it negative.
        func render(_ iterator: Int) -> [UInt8]? {
            var result: [UInt8] = []
            for piece in self.pieces {
                switch piece {
                case .literal(let bytes):
                    result.append(contentsOf: bytes)
                case .value(let offset, let width, let base):
                    let value = iterator + offset
                    guard value >= 0 else { return nil }
                    result.append(contentsOf: GenerateTemplate.format(value, width: width, base: base))
                }
            }
            return result
        }

        static func format(_ value: Int, width: Int, base: UInt8) -> [UInt8] {
            let digits: String
            switch base {
            case UInt8(ascii: "o"): digits = String(value, radix: 8)
            case UInt8(ascii: "x"): digits = String(value, radix: 16)
            case UInt8(ascii: "X"): digits = String(value, radix: 16, uppercase: true)
            case UInt8(ascii: "n"), UInt8(ascii: "N"):
                return GenerateTemplate.nibbles(value, width: width, uppercase: base == UInt8(ascii: "N"))
            default: digits = String(value)
            }
            return Array((String(repeating: "0", count: max(0, width - digits.count)) + digits).utf8)
        }

        /// Reversed nibbles as labels (`0x4a1` → `1.a.4`), zero-filled until `width` characters, dots included, are
        /// written, as BIND's `nibbles()` does (so an even width ends in a dot).
        static func nibbles(_ value: Int, width: Int, uppercase: Bool) -> [UInt8] {
            let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
            var value = value
            var width = width
            var result: [UInt8] = []
            repeat {
                result.append(digits[value & 0x0F])
                value >>= 4
                if width > 0 { width -= 1 }
                if width > 0 || value != 0 {
                    result.append(UInt8(ascii: "."))
                    if width > 0 { width -= 1 }
                }
            } while value != 0 || width > 0
            return result
        }
    }
}
