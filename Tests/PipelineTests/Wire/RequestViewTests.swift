// RequestViewTests: the in-place view of a query agrees with the full decoder and hashes names without case.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct RequestViewTests {
    func view(_ message: Message) throws -> RequestView {
        let bytes = try message.wire
        return try bytes.withUnsafeBytes { try RequestView(packet: $0) }
    }

    @Test func readsHeaderQuestionAndEDNS() throws {
        var q = query("www.example.org.", .aaaa, id: 0xABCD, dnssecOK: true)
        q.header.checkingDisabled = true
        q.edns?.udpPayloadSize = 4096
        let view = try self.view(q)
        #expect(view.id == 0xABCD)
        #expect(view.type == .aaaa && view.recordClass == .in)
        #expect(view.nameOffset == 12 && view.nameLength == 17)
        #expect(view.questionEnd == 12 + 17 + 4)
        #expect(view.hasEDNS && view.dnssecOK && view.udpPayloadSize == 4096)
        #expect(view.checkingDisabled && view.recursionDesired)
        #expect(view.clientPayloadLimit == 4096)
        #expect(view.isPlainQuery)
    }

    @Test func withoutEDNSTheLimitIs512() throws {
        let view = try self.view(query("example.org.", .a, edns: false))
        #expect(!view.hasEDNS && view.clientPayloadLimit == 512)
        var small = query("example.org.", .a)
        small.edns?.udpPayloadSize = 100
        #expect(try self.view(small).clientPayloadLimit == 512)
    }

    @Test func nameHashIgnoresCase() throws {
        let lower = try self.view(query("www.example.org.", .a))
        let mixed = try self.view(query("WWW.eXample.ORG.", .a))
        let other = try self.view(query("www.example.net.", .a))
        #expect(lower.nameHash == mixed.nameHash)
        #expect(lower.nameHash != other.nameHash)
    }

    @Test func clientSubnetIsNoticed() throws {
        var q = query("example.org.", .a)
        q.edns?.options = [
            .clientSubnet(ClientSubnet(family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, address: [192, 0, 2]))
        ]
        #expect(try self.view(q).hasClientSubnet)
    }

    @Test func brokenOPTKeepsTheQueryOffTheFastPath() throws {
        let bytes = hex("0001 0100 0001 0000 0000 0001 00 0001 0001 00 0029 04d0 00000000 0010")
        let view = try bytes.withUnsafeBytes { try RequestView(packet: $0) }
        #expect(!view.isPlainQuery)
        #expect(view.type == .a)
    }

    @Test func otherShapesAreNotPlainQueries() throws {
        var response = query("example.org.", .a)
        response.header.isResponse = true
        #expect(try !self.view(response).isPlainQuery)
        var notify = query("example.org.", .soa)
        notify.header.opcode = .notify
        #expect(try !self.view(notify).isPlainQuery)
        var withAnswer = query("example.org.", .a)
        withAnswer.answers = [rr("example.org. 300 IN A 192.0.2.1")]
        #expect(try !self.view(withAnswer).isPlainQuery)
        var ednsVersion1 = query("example.org.", .a)
        ednsVersion1.edns?.version = 1
        #expect(try !self.view(ednsVersion1).isPlainQuery)
    }

    @Test(arguments: [
        ("short header", "0001 0100 0001", WireError.truncated(offset: 0, needed: 12, available: 6)),
        ("no question", "0001 0100 0000 0000 0000 0000", .countBeyondPacket(section: .question, count: 0, offset: 12)),
        ("compressed question", "0001 0100 0001 0000 0000 0000 c00c 0001 0001", .compressionNotAllowed(offset: 12)),
        ("label over 63", "0001 0100 0001 0000 0000 0000 41", .labelTooLong(offset: 12, length: 65)),
        ("cut label", "0001 0100 0001 0000 0000 0000 0561", .truncated(offset: 12, needed: 6, available: 2)),
        ("no type", "0001 0100 0001 0000 0000 0000 00 0001", .truncated(offset: 13, needed: 4, available: 2)),
    ])
    func malformedQueriesThrow(_ row: (String, String, WireError)) {
        let bytes = hex(row.1)
        #expect(throws: row.2) { try bytes.withUnsafeBytes { try RequestView(packet: $0) } }
    }
}
