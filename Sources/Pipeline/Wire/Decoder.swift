// Decoder: turns any byte string into a Message or a WireError naming the offset (RFC 1035 §4.1).

extension Message {
    /// The smallest wire size of a question: the root name and type and class.
    static let minimumQuestionSize = 5
    /// The smallest wire size of a record: the root name, type, class, TTL and RDLENGTH.
    static let minimumRecordSize = 11

    /// Decodes a whole message.
    ///
    /// Total: any input gives a message or a `WireError`. Counts that could not fit in the remaining octets are
    /// rejected before any allocation, RDATA must end exactly at RDLENGTH, OPT may appear only once, owned by the
    /// root, in the additional section, and no octets may follow the last record.
    /// - Throws: `WireError`.
    public init(wire: [UInt8]) throws(WireError) {
        let result = wire.withUnsafeBytes { bytes in Result { () throws(WireError) in try Message(bytes: bytes) } }
        self = try result.get()
    }

    /// Decodes a whole message from borrowed storage (see `init(wire:)`).
    public init(bytes: UnsafeRawBufferPointer) throws(WireError) {
        var reader = WireReader(message: bytes)
        self = try Message.decode(from: &reader)
    }

    static func decode(from reader: inout WireReader) throws(WireError) -> Message {
        let id = try reader.readUInt16()
        let flags = try reader.readUInt16()
        // QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT (no array per message decoded).
        var counts = InlineArray<4, Int>(repeating: 0)
        for index in 0..<4 { counts[index] = Int(try reader.readUInt16()) }
        var message = Message(header: Header(id: id, flags: flags))
        guard counts[0] * Message.minimumQuestionSize <= reader.remaining else {
            throw .countBeyondPacket(section: .question, count: counts[0], offset: reader.offset)
        }
        message.questions.reserveCapacity(counts[0])
        for _ in 0..<counts[0] {
            let name = try reader.readName()
            let type = RecordType(try reader.readUInt16())
            let recordClass = RecordClass(try reader.readUInt16())
            message.questions.append(Question(name: name, type: type, recordClass: recordClass))
        }
        for index in 0..<3 {
            let section: MessageSection = index == 0 ? .answer : index == 1 ? .authority : .additional
            let count = counts[index + 1]
            guard count * Message.minimumRecordSize <= reader.remaining else {
                throw .countBeyondPacket(section: section, count: count, offset: reader.offset)
            }
            var records: [Record] = []
            records.reserveCapacity(count)
            for _ in 0..<count {
                let start = reader.offset
                let name = try reader.readName()
                let type = RecordType(try reader.readUInt16())
                let classField = try reader.readUInt16()
                let ttl = try reader.readUInt32()
                let rdlength = Int(try reader.readUInt16())
                var rdataReader = try reader.subReader(length: rdlength)
                if type == .opt {
                    guard section == .additional, name.isRoot, message.edns == nil else {
                        throw .badOPTPlacement(offset: start)
                    }
                    let options = try EDNSOption.decodeAll(from: &rdataReader)
                    message.edns = EDNS(payload: classField, ttl: ttl, options: options)
                    continue
                }
                let rdata = try RData.decode(type: type, from: &rdataReader)
                records.append(Record(name: name, recordClass: RecordClass(classField), ttl: ttl, rdata: rdata))
            }
            switch section {
            case .answer: message.answers = records
            case .authority: message.authorities = records
            default: message.additionals = records
            }
        }
        guard reader.remaining == 0 else { throw .trailingBytes(offset: reader.offset, count: reader.remaining) }
        return message
    }
}
