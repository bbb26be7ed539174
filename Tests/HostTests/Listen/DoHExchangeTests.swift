// DoHExchangeTests: how DNS-over-HTTPS requests are read (RFC 8484 §4.1 GET and POST, the JSON form) and what the
// response says about caching (§5.1), without a server.

import Foundation
import NIOHTTP1
import Pipeline
import SwiftletTestSupport
import Testing

@testable import Host

struct DoHExchangeTests {
    /// RFC 8484 §4.1.1's first example: www.example.com A, ID 0, RD, as `?dns=` carries it.
    static let example = "AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB"
    static let exampleOctets: [UInt8] = [
        0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77, 0x77, 0x07, 0x65,
        0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
    ]

    func parse(_ method: HTTPMethod, _ uri: String, type: String? = nil, body: [UInt8]? = []) -> DoHRequest {
        DoHRequest.parse(method: method, uri: uri, contentType: type, body: body, path: "/dns-query")
    }

    @Test func theRFCsGETExampleIsTheRFCsQuery() {
        #expect(parse(.GET, "/dns-query?dns=\(Self.example)") == .wire(Self.exampleOctets))
        #expect(DoHRequest.base64URLEncode(Self.exampleOctets) == Self.example)
        // Other parameters around it are ignored; padding, which clients must not send, is still read.
        #expect(parse(.GET, "/dns-query?ct=x&dns=\(Self.example)&z=1") == .wire(Self.exampleOctets))
        #expect(DoHRequest.base64URLDecode("AQID") == [1, 2, 3])
        #expect(DoHRequest.base64URLDecode("AQ") == [1])
        #expect(DoHRequest.base64URLDecode("AQ==") == [1])
        #expect(DoHRequest.base64URLDecode("-_8") == [0xFB, 0xFF])
    }

    @Test func postTakesTheBodyOfItsMediaTypeOnly() {
        #expect(parse(.POST, "/dns-query", type: "application/dns-message", body: Self.exampleOctets) == .wire(Self.exampleOctets))
        #expect(parse(.POST, "/dns-query", type: "Application/DNS-Message; charset=x", body: Self.exampleOctets) == .wire(Self.exampleOctets))
        #expect(
            parse(.POST, "/dns-query", type: "text/plain", body: Self.exampleOctets)
                == .rejected(.unsupportedMediaType, "a POST request's Content-Type must be application/dns-message, not text/plain")
        )
        #expect(
            parse(.POST, "/dns-query", body: Self.exampleOctets)
                == .rejected(.unsupportedMediaType, "a POST request's Content-Type must be application/dns-message, not none")
        )
        #expect(
            parse(.POST, "/dns-query", type: "application/dns-message", body: nil)
                == .rejected(.payloadTooLarge, "a DNS message has at most 65535 octets")
        )
    }

    @Test func whatIsNotADNSQueryIsRejectedWithItsStatus() {
        let notAQuery = DoHRequest.rejected(.badRequest, "the request does not hold a DNS query")
        #expect(parse(.GET, "/dns-query?dns=AAAB") == notAQuery)
        var response = Self.exampleOctets
        response[2] |= 0x80
        #expect(parse(.POST, "/dns-query", type: "application/dns-message", body: response) == notAQuery)
        #expect(parse(.GET, "/dns-query?dns=AA+B") == .rejected(.badRequest, "the dns parameter is not base64url (RFC 4648 §5)"))
        #expect(parse(.GET, "/dns-query?dns=AA/B") == .rejected(.badRequest, "the dns parameter is not base64url (RFC 4648 §5)"))
        #expect(
            parse(.GET, "/dns-query")
                == .rejected(.badRequest, "a GET request needs ?dns= (RFC 8484 §4.1) or ?name= (the JSON form)")
        )
        #expect(parse(.GET, "/other?dns=\(Self.example)") == .rejected(.notFound, "DNS queries are answered at /dns-query"))
        #expect(parse(.GET, "/dns-query/?dns=\(Self.example)") == .rejected(.notFound, "DNS queries are answered at /dns-query"))
        #expect(parse(.PUT, "/dns-query") == .rejected(.methodNotAllowed, "DNS over HTTPS is asked with GET or POST"))
    }

    @Test func theJSONFormBuildsItsQuestion() throws {
        guard case .json(let wire) = parse(.GET, "/dns-query?name=www.example.com&type=AAAA&do=1&cd=true") else {
            Issue.record("not the JSON form")
            return
        }
        let query = try Message(wire: wire)
        #expect(query.header.id == 0 && query.header.recursionDesired && query.header.checkingDisabled)
        #expect(query.questions.map { "\($0.name) \($0.type.rawValue)" } == ["www.example.com. 28"])
        #expect(query.edns?.dnssecOK == true)
        guard case .json(let numbered) = parse(.GET, "/dns-query?name=a%2Eb.&type=15") else {
            Issue.record("not the JSON form")
            return
        }
        let second = try Message(wire: numbered)
        #expect(second.questions.map { "\($0.name) \($0.type.rawValue)" } == ["a.b. 15"])
        #expect(second.edns?.dnssecOK == false && !second.header.checkingDisabled)
        guard case .json(let plain) = parse(.GET, "/dns-query?name=example.org") else {
            Issue.record("not the JSON form")
            return
        }
        #expect(try Message(wire: plain).questions.map(\.type) == [.a])
        #expect(parse(.GET, "/dns-query?name=x.&type=NOPE") == .rejected(.badRequest, "type is not a record type: 'NOPE'"))
        #expect(parse(.GET, "/dns-query?name=") == .rejected(.badRequest, "name is not a domain name: ''"))
        #expect(parse(.GET, "/dns-query?name=a..b") == .rejected(.badRequest, "name is not a domain name: 'a..b'"))
    }

    @Test func freshnessIsTheSmallestAnswerTTLOrTheNegativeTTL() throws {
        let question = Message.query(try DomainName("a.test."), .a)
        var answer = Message.response(to: question)
        answer.answers = [
            try Record("a.test. 300 IN A 192.0.2.1"), try Record("a.test. 60 IN A 192.0.2.2"),
        ]
        answer.authorities = [try Record("test. 10 IN NS ns.test.")]
        #expect(DoHResponse.freshness(answer) == 60)
        var negative = Message.response(to: question, responseCode: .nxDomain)
        negative.authorities = [try Record("test. 3600 IN SOA ns.test. host.test. 1 2 3 4 900")]
        #expect(DoHResponse.freshness(negative) == 900)
        negative.authorities = [try Record("test. 30 IN SOA ns.test. host.test. 1 2 3 4 900")]
        #expect(DoHResponse.freshness(negative) == 30)
        #expect(DoHResponse.freshness(Message.response(to: question, responseCode: .servFail)) == 0)
        #expect(DoHResponse.freshness(Message.response(to: question)) == 0)
    }

    @Test func theJSONFormOfAReply() throws {
        var query = Message.query(try DomainName("a.test."), .txt)
        query.header.checkingDisabled = true
        var reply = Message.response(to: query)
        reply.header.recursionAvailable = true
        reply.answers = [try Record(#"a.test. 60 IN TXT "v=1 x" "y""#)]
        let text = String(decoding: DoHResponse.json(reply), as: UTF8.self)
        #expect(
            text == #"{"AD":false,"Answer":[{"TTL":60,"data":"\"v=1 x\" \"y\"","name":"a.test.","type":16}],"#
                + #""CD":true,"Question":[{"name":"a.test.","type":16}],"RA":true,"RD":true,"Status":0,"TC":false}"#
        )
        var negative = Message.response(to: query, responseCode: .nxDomain)
        negative.authorities = [try Record("test. 30 IN SOA ns.test. host.test. 1 2 3 4 900")]
        #expect(
            String(decoding: DoHResponse.json(negative), as: UTF8.self)
                == #"{"AD":false,"Authority":[{"TTL":30,"data":"ns.test. host.test. 1 2 3 4 900","name":"test.","type":6}],"#
                + #""CD":true,"Question":[{"name":"a.test.","type":16}],"RA":false,"RD":true,"Status":3,"TC":false}"#
        )
    }
}
