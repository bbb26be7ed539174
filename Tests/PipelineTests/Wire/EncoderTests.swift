// EncoderTests: compression, the size limit with whole-RRset truncation and TC, and OPT always kept.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct EncoderTests {
    /// A response with `count` A records at one name, an NS RRset in authority and glue in additional.
    func bigResponse(answers count: Int, edns: Bool = true) -> Message {
        var message = Message.response(to: query("big.example.org.", .a, edns: edns))
        message.answers = (0..<count).map { rr("big.example.org. 300 IN A 192.0.2.\($0 + 1)") }
        message.authorities = [rr("example.org. 300 IN NS ns1.example.org.")]
        message.additionals = [rr("ns1.example.org. 300 IN A 198.51.100.1")]
        return message
    }

    @Test func namesAreCompressedAgainstTheQuestion() throws {
        let message = self.bigResponse(answers: 1, edns: false)
        let bytes = try message.wire
        // Header 12 + question 21 + answer (pointer 2 + 10 + 4) + NS (2 + 10 + 6: "ns1" + pointer)
        // + glue (2 + "ns1"... pointer to the NS target 2 + 10 + 4) = 12 + 21 + 16 + 18 + 16.
        #expect(bytes.count == 83)
        #expect(Array(bytes[33..<35]) == [0xC0, 0x0C])
        #expect(try Message(wire: bytes) == message)
    }

    @Test func compressionMatchesWithoutRegardToCase() throws {
        var message = Message.response(to: query("WWW.Example.ORG.", .a, edns: false))
        message.answers = [rr("www.example.org. 300 IN A 192.0.2.1")]
        let bytes = try message.wire
        #expect(Array(bytes[33..<35]) == [0xC0, 0x0C])
        let decoded = try Message(wire: bytes)
        // The owner is spelled as the question was: the pointer shares its octets.
        #expect(decoded.answers[0].name.isIdentical(to: name("WWW.Example.ORG.")))
    }

    @Test func whatTheWireCannotCarryIsAnErrorNotATrap() throws {
        // 300 character-strings of 255 octets: 76,800 octets of RDATA, more than RDLENGTH can say.
        let long = RData.txt(Array(repeating: Array(repeating: UInt8(ascii: "a"), count: 255), count: 300))
        var message = Message.response(to: query("big.example.org.", .txt))
        message.answers = [Record(name: name("big.example.org."), ttl: 300, rdata: long)]
        #expect(throws: EncodingError.rdataTooLong(owner: name("big.example.org."), type: .txt, length: 76800)) {
            try message.encode()
        }
        // A reply is SERVFAIL in its place: the header, the question and an OPT without options, no records.
        let (encoded, failure) = message.encodeReply(maxSize: 1232)
        #expect(failure == .rdataTooLong(owner: name("big.example.org."), type: .txt, length: 76800))
        let reply = try Message(wire: encoded.bytes)
        #expect(reply.responseCode == .servFail && reply.header.id == message.header.id)
        #expect(reply.questions == message.questions && reply.answers.isEmpty && reply.edns?.options == [])
        // An EDNS option over 65,535 octets.
        var option = Message.response(to: query("www.example.org.", .a))
        option.edns?.options = [.padding(70000)]
        #expect(throws: EncodingError.optionTooLong(code: 12, length: 70000)) { try option.encode() }
        // A record that fits next to one that does not: still an error, never a silently shorter answer.
        message.answers.insert(rr("big.example.org. 300 IN TXT ok"), at: 0)
        #expect(throws: EncodingError.self) { try message.encode(maxSize: 512) }
    }

    @Test func srvTargetIsNotCompressed() throws {
        var message = Message.response(to: query("_sip._tcp.example.org.", .srv, edns: false))
        message.answers = [rr("_sip._tcp.example.org. 300 IN SRV 1 1 5060 example.org.")]
        let bytes = try message.wire
        // The target is written in full (13 octets) although example.org. appears in the question.
        #expect(bytes.suffix(13) == ArraySlice([7] + Array("example".utf8) + [3] + Array("org".utf8) + [0]))
    }

    @Test func answerThatDoesNotFitIsCutByWholeRRsetWithTC() throws {
        let message = self.bigResponse(answers: 40)
        let encoded = try message.encode(maxSize: 512)
        #expect(encoded.truncated)
        #expect(encoded.bytes.count <= 512)
        let decoded = try Message(wire: encoded.bytes)
        #expect(decoded.header.isTruncated)
        // One RRset of 40 records: dropped whole, never split.
        #expect(decoded.answers.isEmpty)
        #expect(decoded.authorities.isEmpty && decoded.additionals.isEmpty)
        #expect(decoded.edns == message.edns)
        #expect(decoded.question == message.question)
    }

    @Test func laterRRsetsAreDroppedAndEarlierKept() throws {
        var message = Message.response(to: query("www.example.org.", .a))
        message.answers =
            [rr("www.example.org. 300 IN CNAME web.example.net.")]
            + (0..<40).map { rr("web.example.net. 300 IN A 192.0.2.\($0 + 1)") }
        let decoded = try Message(wire: message.encode(maxSize: 512).bytes)
        #expect(decoded.header.isTruncated)
        #expect(decoded.answers == [rr("www.example.org. 300 IN CNAME web.example.net.")])
    }

    @Test func additionalIsDroppedWithoutTC() throws {
        var message = self.bigResponse(answers: 1)
        message.additionals = (0..<40).map { rr("ns1.example.org. 300 IN AAAA 2001:db8::\($0 + 1)") }
        let encoded = try message.encode(maxSize: 512)
        #expect(!encoded.truncated)
        let decoded = try Message(wire: encoded.bytes)
        #expect(!decoded.header.isTruncated)
        #expect(decoded.answers.count == 1 && decoded.authorities.count == 1)
        #expect(decoded.additionals.isEmpty)
        #expect(decoded.edns != nil)
    }

    @Test func everythingFitsAtTheLimitExactly() throws {
        let message = self.bigResponse(answers: 5)
        let size = try message.wire.count
        let exact = try message.encode(maxSize: size)
        #expect(!exact.truncated && exact.bytes.count == size)
        let short = try message.encode(maxSize: size - 1)
        // The glue is the last RRset: it goes quietly.
        #expect(!short.truncated)
        #expect(try Message(wire: short.bytes).additionals.isEmpty)
    }

    @Test func extendedResponseCodeTravelsInOPT() throws {
        var message = Message.response(to: query("example.org.", .a))
        message.responseCode = .badCookie
        #expect(message.header.rcodeLow == 7)
        #expect(message.edns?.extendedRCode == 1)
        let decoded = try Message(wire: message.wire)
        #expect(decoded.responseCode == .badCookie)
    }

    @Test func responseEchoesIDQuestionCaseAndEDNS() {
        var q = query("ExAmple.ORG.", .aaaa, id: 0xBEEF, dnssecOK: true)
        q.header.checkingDisabled = true
        let response = Message.response(to: q, responseCode: .nxDomain)
        #expect(response.header.id == 0xBEEF)
        #expect(response.header.isResponse && response.header.recursionDesired && response.header.checkingDisabled)
        #expect(response.questions[0].name.isIdentical(to: name("ExAmple.ORG.")))
        #expect(response.edns?.dnssecOK == true)
        #expect(response.responseCode == .nxDomain)
    }

    @Test func digTextShowsEverySection() {
        var message = Message.response(to: query("example.org.", .mx, id: 4242))
        message.header.isAuthoritative = true
        message.answers = [rr("example.org. 300 IN MX 10 mail.example.org.")]
        message.edns?.options = [.extendedError(ExtendedError(infoCode: .blocked, extraText: "ads"))]
        #expect(
            message.description == """
                ;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 4242
                ;; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1

                ;; OPT PSEUDOSECTION:
                ; EDNS: version: 0, flags:; udp: 1232
                ; EDE: 15 (ads)

                ;; QUESTION SECTION:
                ;example.org.\t\tIN\tMX

                ;; ANSWER SECTION:
                example.org.\t300\tIN\tMX\t10 mail.example.org.

                """
        )
    }
}
