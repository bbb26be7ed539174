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
    /// dropped silently. Header, question and OPT are always written, even past `maxSize`.
    public func encode(maxSize: Int = Message.maximumSize) -> Encoded {
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
                for record in records[start..<end] { ttlOffsets.append(Message.write(record, to: &writer)) }
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

    /// The message's wire form with no size limit.
    public var wire: [UInt8] { self.encode().bytes }

    /// Writes one record; returns the offset of its TTL field.
    static func write(_ record: Record, to writer: inout WireWriter) -> Int {
        writer.writeName(record.name, compress: true)
        writer.writeUInt16(record.type.rawValue)
        writer.writeUInt16(record.recordClass.rawValue)
        let ttlOffset = writer.count
        writer.writeUInt32(record.ttl)
        let lengthAt = writer.mark()
        writer.writeUInt16(0)
        record.rdata.encode(to: &writer, compress: true)
        writer.setUInt16(UInt16(writer.count - lengthAt - 2), at: lengthAt)
        return ttlOffset
    }
}
