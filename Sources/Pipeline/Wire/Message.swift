// Message: a whole DNS message (RFC 1035 §4.1) with its four sections and EDNS.

/// A DNS message: header, question, answer, authority and additional sections, and the OPT record's content as
/// `edns` (never as a record in `additional`).
public struct Message: Hashable, Sendable {
    public var header: Header
    public var questions: [Question]
    public var answers: [Record]
    public var authorities: [Record]
    public var additionals: [Record]
    public var edns: EDNS?

    public init(
        header: Header = Header(),
        questions: [Question] = [],
        answers: [Record] = [],
        authorities: [Record] = [],
        additionals: [Record] = [],
        edns: EDNS? = nil
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    /// The first question, which every message this server handles has (QDCOUNT 1 in practice, RFC 9619).
    public var question: Question? { self.questions.first }

    /// The full 12-bit RCODE: the header's 4 bits and, with EDNS, OPT's 8 extended bits (RFC 6891 §6.1.3).
    public var responseCode: ResponseCode {
        get { ResponseCode(UInt16(self.edns?.extendedRCode ?? 0) << 4 | UInt16(self.header.rcodeLow)) }
        set {
            self.header.rcodeLow = newValue.headerBits
            if self.edns != nil { self.edns!.extendedRCode = newValue.extendedBits }
        }
    }

    /// A query for one question, with EDNS at our default payload size unless `edns` is nil.
    public static func query(
        _ name: DomainName,
        _ type: RecordType,
        recordClass: RecordClass = .in,
        id: UInt16 = 0,
        recursionDesired: Bool = true,
        edns: EDNS? = EDNS()
    ) -> Message {
        var header = Header(id: id)
        header.recursionDesired = recursionDesired
        return Message(
            header: header,
            questions: [Question(name: name, type: type, recordClass: recordClass)],
            edns: edns
        )
    }

    /// An empty response to `query`: same ID, opcode, RD and CD, the question echoed with its letter case, and an OPT
    /// record when the query had one (RFC 6891 §7), advertising `payloadSize`.
    public static func response(
        to query: Message,
        responseCode: ResponseCode = .noError,
        payloadSize: UInt16 = EDNS.defaultPayloadSize
    ) -> Message {
        var header = Header(id: query.header.id)
        header.isResponse = true
        header.opcode = query.header.opcode
        header.recursionDesired = query.header.recursionDesired
        header.checkingDisabled = query.header.checkingDisabled
        var response = Message(header: header, questions: query.questions)
        if let edns = query.edns {
            var answerEDNS = EDNS(udpPayloadSize: payloadSize)
            answerEDNS.dnssecOK = edns.dnssecOK
            response.edns = answerEDNS
        }
        response.responseCode = responseCode
        return response
    }
}
