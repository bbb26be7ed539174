// RequestView: header, question and EDNS facts of a received query, read in place without allocating.

/// What the fast path and the guards need from a received packet, parsed in place.
///
/// Reads the header, the single question (its name must not be compressed, as no real client compresses the first
/// name of a message) and, when present, an OPT record as the only additional record. It allocates nothing, keeps no
/// reference to the packet, and is valid only for the packet it was made from.
///
/// A packet that parses here may still not be a plain query: `isPlainQuery` says whether the fast path may answer
/// it. Anything that fails here goes to the full decoder, which produces the precise error and the FORMERR.
public struct RequestView: Sendable {
    public let id: UInt16
    public let flags: UInt16
    public let questionCount: UInt16
    public let answerCount: UInt16
    public let authorityCount: UInt16
    public let additionalCount: UInt16
    /// The offset of the question name (always 12) and its wire length, root label included.
    public let nameOffset: Int
    public let nameLength: Int
    /// The offset just past QCLASS.
    public let questionEnd: Int
    public let type: RecordType
    public let recordClass: RecordClass
    /// FNV-1a over the lower-cased wire form of the question name: a shard and bucket selector, never an identity.
    public let nameHash: UInt64
    /// Whether the packet carried an OPT record, and its facts.
    public let hasEDNS: Bool
    public let udpPayloadSize: UInt16
    public let ednsVersion: UInt8
    public let dnssecOK: Bool
    /// EDNS options were present (cookies, client subnet, …); the fast path leaves such queries to the chain only when
    /// an option changes the answer (client subnet).
    public let hasClientSubnet: Bool
    /// The additional section held something besides one OPT record (TSIG, more records), or the OPT record was
    /// malformed (a COOKIE option of a length RFC 7873 §5.2.2 answers FORMERR to included).
    public let hasOtherAdditional: Bool
    /// The offset of the COOKIE option's data (RFC 7873 §4), 0 when there is none, and its length: 8 (a client
    /// cookie alone) or 16 to 40 (with a server cookie).
    public let cookieOffset: Int
    public let cookieLength: Int
    /// The query carried a Padding option (RFC 7830): over an encrypted transport its reply is padded too (RFC 8467).
    public let hasPadding: Bool

    /// Parses `packet` in place.
    /// - Throws: `WireError` when the header or question is malformed or the question name is compressed.
    public init(packet: UnsafeRawBufferPointer) throws(WireError) {
        let count = packet.count
        guard count >= Header.wireSize else {
            throw .truncated(offset: 0, needed: Header.wireSize, available: count)
        }
        func u16(_ at: Int) -> UInt16 { UInt16(packet[at]) << 8 | UInt16(packet[at + 1]) }
        self.id = u16(0)
        self.flags = u16(2)
        self.questionCount = u16(4)
        self.answerCount = u16(6)
        self.authorityCount = u16(8)
        self.additionalCount = u16(10)
        guard self.questionCount >= 1 else {
            throw .countBeyondPacket(section: .question, count: 0, offset: Header.wireSize)
        }
        // The question name, uncompressed, hashed folded to lower case as we go.
        var position = Header.wireSize
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        while true {
            guard position < count else { throw .truncated(offset: position, needed: 1, available: 0) }
            let length = Int(packet[position])
            if length == 0 {
                hash = (hash ^ 0) &* 0x100_0000_01b3
                position += 1
                break
            }
            guard length & 0xC0 == 0 else {
                if length & 0xC0 == 0xC0 { throw .compressionNotAllowed(offset: position) }
                throw .labelTooLong(offset: position, length: length)
            }
            guard position + 1 + length <= count else {
                throw .truncated(offset: position, needed: 1 + length, available: count - position)
            }
            guard position + 1 + length + 1 - Header.wireSize <= DomainName.maxWireLength else {
                throw .nameTooLong(offset: position)
            }
            hash = (hash ^ UInt64(length)) &* 0x100_0000_01b3
            for index in (position + 1)...(position + length) {
                hash = (hash ^ UInt64(DomainName.fold(packet[index]))) &* 0x100_0000_01b3
            }
            position += 1 + length
        }
        self.nameOffset = Header.wireSize
        self.nameLength = position - Header.wireSize
        self.nameHash = hash
        guard position + 4 <= count else { throw .truncated(offset: position, needed: 4, available: count - position) }
        self.type = RecordType(u16(position))
        self.recordClass = RecordClass(u16(position + 2))
        self.questionEnd = position + 4

        var hasEDNS = false
        var payload: UInt16 = 0
        var version: UInt8 = 0
        var dnssecOK = false
        var hasClientSubnet = false
        var cookieOffset = 0
        var cookieLength = 0
        var hasPadding = false
        var other = self.additionalCount > 1
        // Only the common shape is read here: one question, no answer or authority records, OPT as the first
        // additional record right after the question.
        if self.questionCount == 1, self.answerCount == 0, self.authorityCount == 0, self.additionalCount >= 1 {
            let at = self.questionEnd
            if at + 11 <= count, packet[at] == 0, u16(at + 1) == RecordType.opt.rawValue {
                hasEDNS = true
                payload = u16(at + 3)
                version = packet[at + 6]
                dnssecOK = packet[at + 7] & 0x80 != 0
                let rdlength = Int(u16(at + 9))
                var option = at + 11
                let end = option + rdlength
                while option + 4 <= end && end <= count {
                    let code = u16(option)
                    let length = Int(u16(option + 2))
                    if code == EDNSOption.Code.clientSubnet.rawValue { hasClientSubnet = true }
                    if code == EDNSOption.Code.padding.rawValue { hasPadding = true }
                    if code == EDNSOption.Code.cookie.rawValue && cookieOffset == 0 && option + 4 + length <= end {
                        if length == 8 || (16...40).contains(length) {
                            cookieOffset = option + 4
                            cookieLength = length
                        } else {
                            other = true
                        }
                    }
                    option += 4 + length
                }
                // A broken OPT is the full decoder's to report (FORMERR with the question echoed); here it only
                // keeps the query off the fast path.
                if end > count || option != end { other = true }
            } else {
                other = true
            }
        }
        self.hasEDNS = hasEDNS
        self.udpPayloadSize = payload
        self.ednsVersion = version
        self.dnssecOK = dnssecOK
        self.hasClientSubnet = hasClientSubnet
        self.hasOtherAdditional = other
        self.cookieOffset = other ? 0 : cookieOffset
        self.cookieLength = other ? 0 : cookieLength
        self.hasPadding = hasPadding
    }

    /// QR clear, opcode QUERY, one question, no answer or authority records, at most an OPT in additional, EDNS
    /// version 0: the only shape the fast path answers. Everything else takes the full path.
    @inlinable public var isPlainQuery: Bool {
        self.flags & 0xF800 == 0 && self.questionCount == 1 && self.answerCount == 0 && self.authorityCount == 0
            && !self.hasOtherAdditional && self.ednsVersion == 0
    }

    /// RD from the header.
    @inlinable public var recursionDesired: Bool { self.flags & 0x0100 != 0 }
    /// CD from the header.
    @inlinable public var checkingDisabled: Bool { self.flags & 0x0010 != 0 }

    /// The largest UDP response this client accepts: its EDNS payload size (at least 512), or 512 without EDNS
    /// (RFC 1035 §4.2.1, RFC 6891 §6.2.5).
    @inlinable public var clientPayloadLimit: Int { self.hasEDNS ? max(512, Int(self.udpPayloadSize)) : 512 }
}
