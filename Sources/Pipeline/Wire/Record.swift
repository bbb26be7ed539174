// Record: a resource record (RFC 1035 §3.2.1, §4.1.3) and its presentation line.

/// A resource record: owner name, class, TTL and typed RDATA (the type is the RDATA's).
public struct Record: Hashable, Sendable {
    public var name: DomainName
    public var recordClass: RecordClass
    /// Seconds; RFC 2181 §8 caps meaningful values at 2^31-1, which caches enforce, not the codec.
    public var ttl: UInt32
    public var rdata: RData

    public init(name: DomainName, recordClass: RecordClass = .in, ttl: UInt32, rdata: RData) {
        self.name = name
        self.recordClass = recordClass
        self.ttl = ttl
        self.rdata = rdata
    }

    @inlinable public var type: RecordType { self.rdata.type }

    /// True when two records belong to the same RRset: same owner (ignoring case), type and class (RFC 2181 §5).
    public func isSameRRset(as other: Record) -> Bool {
        self.type == other.type && self.recordClass == other.recordClass && self.name == other.name
    }
}

extension Record: CustomStringConvertible {
    /// The presentation line, tab-separated as dig prints it: `example.org.\t300\tIN\tA\t192.0.2.1`.
    public var description: String {
        "\(self.name)\t\(self.ttl)\t\(self.recordClass)\t\(self.type)\t\(self.rdata.presentation)"
    }
}

extension Record {
    /// Parses one presentation line: `owner [ttl] [class] type rdata…` with TTL and class in either order.
    ///
    /// - Parameters:
    ///   - text: the line (parentheses may continue it; comments are ignored).
    ///   - origin: for relative names and `@`; nil takes relative names as absolute.
    ///   - defaultTTL: the TTL when the line has none.
    /// - Throws: `PresentationError` with the column of the field that is wrong.
    public init(_ text: String, origin: DomainName? = nil, defaultTTL: UInt32 = 3600) throws(PresentationError) {
        var lexer = PresentationLexer(text)
        guard let entry = try lexer.nextEntry() else { throw PresentationError(.missingField("owner name")) }
        if let extra = try lexer.nextEntry() {
            throw PresentationError(.unexpectedText(extra.tokens[0].string), line: extra.line, column: 1)
        }
        var fields = PresentationFields(entry.tokens[...], origin: origin)
        let owner = try fields.name("owner name")
        try self.init(owner: owner, fields: &fields, defaultTTL: defaultTTL, defaultClass: .in)
    }

    /// Parses `[ttl] [class] type rdata…` after an owner name already read (the zone-file parser's entry point).
    public init(
        owner: DomainName,
        fields: inout PresentationFields,
        defaultTTL: UInt32,
        defaultClass: RecordClass
    ) throws(PresentationError) {
        var ttl: UInt32? = nil
        var recordClass: RecordClass? = nil
        var type: RecordType? = nil
        while type == nil {
            let token = try fields.next("record type")
            let text = token.string
            if ttl == nil, let value = TTLText.parse(text), text.first?.isNumber == true {
                ttl = value
            } else if recordClass == nil, let value = RecordClass(mnemonic: text) {
                recordClass = value
            } else if let value = RecordType(mnemonic: text) {
                type = value
            } else {
                throw PresentationError(.unknownType(text)).at(token)
            }
        }
        var rest = PresentationFields(fields.rest(), origin: fields.origin)
        let rdata = try RData(type: type!, fields: &rest)
        self.init(name: owner, recordClass: recordClass ?? defaultClass, ttl: ttl ?? defaultTTL, rdata: rdata)
    }
}
