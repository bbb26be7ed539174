// Encoder: writes a Message with name compression, holding it to a size limit by dropping whole RRsets.

extension Message {
    /// The result of encoding under a size limit.
    public struct Encoded: Sendable {
        public var bytes: [UInt8]
        /// True when an answer or authority RRset was dropped and TC was set.
        public var truncated: Bool
        /// The offset of every record's TTL field (OPT's excluded), for the message cache's TTL patching.
        public var ttlOffsets: [Int]
        /// The smallest TTL of the records written; nil when there were none.
        public var minimumTTL: UInt32?
    }

    /// The largest message: what TCP's 2-octet length can frame (RFC 1035 §4.2.2).
    public static let maximumSize = 65535

    /// Encodes the message in at most `maxSize` octets.
    ///
    /// Names are compressed (RFC 1035 §4.1.4; inside RDATA only for the RFC 1035 types, RFC 3597 §4). When a record
    /// does not fit, its whole RRset and everything after it is left out, OPT excepted, which is always kept (RFC
    /// 6891 §7). Leaving out answer or authority data sets TC (RFC 2181 §9: that data is required); additional data is
    /// dropped silently. Header, question and OPT are always written, even past `maxSize` (which is held to
    /// `maximumSize`).
    ///
    /// - Throws: `EncodingError` when the message has something the wire format cannot carry (RDATA or an EDNS option
    ///   over 65,535 octets, more than 65,535 questions): never a trap, whatever the message holds.
    public func encode(maxSize: Int = Message.maximumSize) throws(EncodingError) -> Encoded {
        let maxSize = min(maxSize, Message.maximumSize)
        guard self.questions.count <= Int(UInt16.max) else { throw .tooManyQuestions(self.questions.count) }
        var writer = WireWriter(capacity: min(maxSize, 4096))
        writer.writeUInt16(self.header.id)
        writer.writeUInt16(self.header.flags)
        writer.writeUInt16(UInt16(self.questions.count))
        // ANCOUNT, NSCOUNT and ARCOUNT, set once the records are written.
        writer.writeUInt16(0)
        writer.writeUInt16(0)
        writer.writeUInt16(0)
        for question in self.questions {
            writer.writeName(question.name, compress: true)
            writer.writeUInt16(question.type.rawValue)
            writer.writeUInt16(question.recordClass.rawValue)
        }
        if let edns = self.edns { try edns.checkEncodable() }
        let budget = maxSize - (self.edns?.wireSize ?? 0)
        var truncated = false
        var full = false
        // No array per call for the counts or the sections: this runs for every answer the chain builds.
        var counts = InlineArray<3, UInt16>(repeating: 0)
        var ttlOffsets: [Int] = []
        ttlOffsets.reserveCapacity(self.answers.count + self.authorities.count + self.additionals.count)
        var minimumTTL: UInt32? = nil
        for index in 0..<3 where !full {
            let records = index == 0 ? self.answers : index == 1 ? self.authorities : self.additionals
            var start = 0
            while start < records.count {
                var end = start + 1
                while end < records.count && records[end].isSameRRset(as: records[start]) { end += 1 }
                let mark = writer.mark()
                let offsetsBefore = ttlOffsets.count
                for record in records[start..<end] { ttlOffsets.append(try Message.write(record, to: &writer)) }
                if writer.count > budget {
                    writer.rollback(to: mark)
                    ttlOffsets.removeSubrange(offsetsBefore...)
                    full = true
                    if index < 2 { truncated = true }
                    break
                }
                counts[index] += UInt16(end - start)
                for record in records[start..<end] { minimumTTL = min(minimumTTL ?? record.ttl, record.ttl) }
                start = end
            }
        }
        var arcount = counts[2]
        if let edns = self.edns {
            edns.encode(to: &writer)
            arcount += 1
        }
        writer.setUInt16(counts[0], at: 6)
        writer.setUInt16(counts[1], at: 8)
        writer.setUInt16(arcount, at: 10)
        if truncated { writer.setUInt16(self.header.flags | 0x0200, at: 2) }
        return Encoded(bytes: writer.bytes, truncated: truncated, ttlOffsets: ttlOffsets, minimumTTL: minimumTTL)
    }

    /// Encodes a response for sending: the message itself or, when it cannot be encoded, a SERVFAIL with its header,
    /// its first question and its OPT (no options) and no records, so a server always has a true reply to send.
    /// The error says what could not be encoded (for a log line and a counter).
    public func encodeReply(maxSize: Int = Message.maximumSize) -> (encoded: Encoded, failure: EncodingError?) {
        do {
            return (try self.encode(maxSize: maxSize), nil)
        } catch {
            var failure = Message(header: self.header, questions: Array(self.questions.prefix(1)))
            failure.header.isTruncated = false
            if let edns = self.edns {
                var plain = EDNS(udpPayloadSize: edns.udpPayloadSize)
                plain.dnssecOK = edns.dnssecOK
                failure.edns = plain
            }
            failure.responseCode = .servFail
            // Header, one question of at most 255 octets and an OPT without options always fit.
            return ((try? failure.encode(maxSize: maxSize)) ?? Encoded(bytes: [], truncated: false, ttlOffsets: []), error)
        }
    }

    /// The message's wire form with no size limit.
    public var wire: [UInt8] { get throws(EncodingError) { try self.encode().bytes } }

    /// Writes one record; returns the offset of its TTL field.
    /// - Throws: `.rdataTooLong` when its RDATA takes more than RDLENGTH can say (65,535 octets).
    static func write(_ record: Record, to writer: inout WireWriter) throws(EncodingError) -> Int {
        writer.writeName(record.name, compress: true)
        writer.writeUInt16(record.type.rawValue)
        writer.writeUInt16(record.recordClass.rawValue)
        let ttlOffset = writer.count
        writer.writeUInt32(record.ttl)
        let lengthAt = writer.mark()
        writer.writeUInt16(0)
        record.rdata.encode(to: &writer, compress: true)
        let length = writer.count - lengthAt - 2
        guard length <= Int(UInt16.max) else {
            writer.rollback(to: lengthAt)
            throw .rdataTooLong(owner: record.name, type: record.type, length: length)
        }
        writer.setUInt16(UInt16(length), at: lengthAt)
        return ttlOffset
    }
}

/// Why a message cannot be put on the wire: something in it is larger than a field of the format can say. Encoding
/// reports it instead of trapping; a server answers SERVFAIL instead of the message.
public enum EncodingError: Error, Equatable, Sendable {
    /// A record's RDATA is longer than RDLENGTH's 65,535 octets (RFC 1035 §3.2.1).
    case rdataTooLong(owner: DomainName, type: RecordType, length: Int)
    /// An EDNS option's data, or the OPT record's RDATA, is longer than 65,535 octets (RFC 6891 §6.1.2).
    case optionTooLong(code: UInt16, length: Int)
    /// More questions than QDCOUNT can say.
    case tooManyQuestions(Int)
}
