// GoldenPacketTests: packets captured from dig, kdig, knotd and unbound decode and re-encode byte for byte.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct GoldenPacketTests {
    static let fixtures = packetFixtures()

    @Test func fixturesArePresent() {
        #expect(GoldenPacketTests.fixtures.count >= 70)
    }

    /// Packets where knotd compresses less than we do. Knot only points at the question and owner names already
    /// written; we point at any earlier name (RFC 1035 §4.1.4 allows both), so our re-encoding is shorter but not
    /// identical. For these the test requires a smaller packet that decodes to the same message.
    static let knotCompressesLess: Set<String> = [
        "response-knot-dname",  // CNAME target foo.example.net. points into the DNAME's example.net. (DNAME RDATA)
        "response-knot-dname-inzone",  // likewise for the in-zone DNAME target
        "response-knot-axfr-tcp",  // MX and NS targets below example.net. point at ns2.example.net.
    ]

    @Test(arguments: GoldenPacketTests.fixtures)
    func decodesAndReencodesByteForByte(_ fixture: PacketFixture) throws {
        let message = try Message(wire: fixture.bytes)
        let encoded = try message.wire
        if GoldenPacketTests.knotCompressesLess.contains(fixture.name) {
            #expect(encoded.count < fixture.bytes.count, "\(fixture.name)")
            #expect(encoded != fixture.bytes)
        } else {
            #expect(encoded == fixture.bytes, "\(fixture.name): re-encoded \(TextEncoding.base16(encoded))")
        }
        #expect(try Message(wire: encoded) == message)
    }

    @Test(arguments: GoldenPacketTests.fixtures)
    func presentationOfEveryRecordParsesBack(_ fixture: PacketFixture) throws {
        let message = try Message(wire: fixture.bytes)
        for record in message.answers + message.authorities + message.additionals {
            let parsed = try Record(record.description)
            #expect(parsed == record, "\(fixture.name): \(record)")
        }
    }

    @Test func knotMXAnswerHasExactSections() throws {
        let fixture = try #require(GoldenPacketTests.fixtures.first { $0.name == "response-knot-mx" })
        let message = try Message(wire: fixture.bytes)
        #expect(message.header.isResponse && message.header.isAuthoritative)
        #expect(message.responseCode == .noError)
        #expect(message.question == Question(name: name("example.org."), type: .mx))
        #expect(
            message.answers.map(\.description) == [
                "example.org.\t3600\tIN\tMX\t10 mail.example.org.",
                "example.org.\t3600\tIN\tMX\t20 mx.example.net.",
            ]
        )
        #expect(message.edns?.udpPayloadSize == 1232)
    }

    @Test func digQueryCarriesCookieAndEDNS() throws {
        let fixture = try #require(GoldenPacketTests.fixtures.first { $0.name == "query-dig-cookie" })
        let message = try Message(wire: fixture.bytes)
        let edns = try #require(message.edns)
        #expect(edns.udpPayloadSize == 1232)
        guard case .cookie(let client, let server) = try #require(edns.option(.cookie)) else {
            Issue.record("no cookie")
            return
        }
        #expect(client.count == 8)
        #expect(server.isEmpty)
    }

    @Test func requestViewAgreesWithTheDecoderOnEveryQuery() throws {
        for fixture in packetFixtures(prefix: "query-") {
            let message = try Message(wire: fixture.bytes)
            let view = try fixture.bytes.withUnsafeBytes { try RequestView(packet: $0) }
            let question = try #require(message.question)
            #expect(view.id == message.header.id, "\(fixture.name)")
            #expect(view.type == question.type, "\(fixture.name)")
            #expect(view.recordClass == question.recordClass, "\(fixture.name)")
            #expect(Array(fixture.bytes[view.nameOffset..<(view.nameOffset + view.nameLength)]) == question.name.wire)
            #expect(view.hasEDNS == (message.edns != nil), "\(fixture.name)")
            #expect(view.dnssecOK == (message.edns?.dnssecOK ?? false), "\(fixture.name)")
            #expect(view.udpPayloadSize == (message.edns?.udpPayloadSize ?? 0), "\(fixture.name)")
            #expect(view.hasClientSubnet == (message.edns?.option(.clientSubnet) != nil), "\(fixture.name)")
            #expect(view.isPlainQuery, "\(fixture.name)")
        }
    }
}
