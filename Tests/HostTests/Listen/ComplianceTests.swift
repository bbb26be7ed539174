// ComplianceTests: the checks of RFC 8906 §8 (and the EDNS compliance tests' header-only `opcode` check) against an
// authoritative server block, each asserting the response code, the sections and the OPT record the RFC expects.

import Foundation
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@testable import Host

@Suite struct ComplianceTests {
    static let zone = "      - zone: { zones: [{ origin: example.org., file: zones/example.org.zone }] }"
    static let apex = "example.org."

    /// A query as dig sends it for these checks: no RD, EDNS as given (nil: none).
    static func ask(_ type: RecordType, edns: EDNS?) -> Message {
        var message = query(ComplianceTests.apex, type)
        message.header.recursionDesired = false
        message.edns = edns
        return message
    }

    static func edns(version: UInt8 = 0, flags: UInt16 = 0, options: [EDNSOption] = [], size: UInt16 = 4096) -> EDNS {
        var edns = EDNS(udpPayloadSize: size)
        edns.version = version
        edns.flags = flags
        edns.options = options
        return edns
    }

    @Test func everyCheckOfRFC8906Section8() async throws {
        try await withServer(plugins: ComplianceTests.zone) { server in
            // §8.1.1: plain DNS, the zone's SOA: NOERROR, AA, the SOA, no OPT.
            let plain = try await server.ask(ComplianceTests.ask(.soa, edns: nil))
            #expect(plain.responseCode == .noError && plain.header.isAuthoritative)
            #expect(plain.answers.map(\.type) == [.soa] && plain.edns == nil)
            // §8.1.2: an unknown type: NOERROR, AA, no answer, the SOA in authority.
            let unknown = try await server.ask(ComplianceTests.ask(RecordType(1000), edns: nil))
            #expect(unknown.responseCode == .noError && unknown.header.isAuthoritative && unknown.answers.isEmpty)
            #expect(unknown.authorities.map(\.type) == [.soa] && unknown.edns == nil)
            // §8.2.1: minimal EDNS: NOERROR, the SOA, OPT version 0 with no options.
            let minimal = try await server.ask(ComplianceTests.ask(.soa, edns: ComplianceTests.edns()))
            #expect(minimal.responseCode == .noError && minimal.answers.map(\.type) == [.soa])
            #expect(minimal.edns?.version == 0 && minimal.edns?.options == [])
            // §8.2.2: EDNS version 1: BADVERS, OPT version 0, no SOA.
            let version = try await server.ask(ComplianceTests.ask(.soa, edns: ComplianceTests.edns(version: 1)))
            #expect(version.responseCode == .badVers && version.answers.isEmpty && version.edns?.version == 0)
            // §8.2.3: an unknown option (100): NOERROR, the SOA, the option not echoed.
            let option = EDNSOption.unknown(code: EDNSOption.Code(100), data: [])
            let unknownOption = try await server.ask(
                ComplianceTests.ask(.soa, edns: ComplianceTests.edns(options: [option]))
            )
            #expect(unknownOption.responseCode == .noError && unknownOption.answers.map(\.type) == [.soa])
            #expect(unknownOption.edns?.options == [])
            // §8.2.4: an unknown flag (0x40): NOERROR, the SOA, the flag not echoed (MBZ).
            let unknownFlag = try await server.ask(ComplianceTests.ask(.soa, edns: ComplianceTests.edns(flags: 0x40)))
            #expect(unknownFlag.responseCode == .noError && unknownFlag.answers.map(\.type) == [.soa])
            #expect(unknownFlag.edns?.flags == 0)
            // §8.2.5–8.2.7: version 1 with the unknown option, the unknown flag, and both: BADVERS, OPT version 0,
            // neither echoed.
            for edns in [
                ComplianceTests.edns(version: 1, options: [option]),
                ComplianceTests.edns(version: 1, flags: 0x40),
                ComplianceTests.edns(version: 1, flags: 0x40, options: [option]),
            ] {
                let reply = try await server.ask(ComplianceTests.ask(.soa, edns: edns))
                #expect(reply.responseCode == .badVers && reply.answers.isEmpty)
                #expect(reply.edns?.version == 0 && reply.edns?.flags == 0 && reply.edns?.options == [])
            }
            // §8.2.8: a 512-octet buffer and a large answer (DNSKEY with DO): it fits in 512 or comes truncated.
            let small = ComplianceTests.edns(flags: 0x8000, size: 512)
            let packet = try await server.raw(ComplianceTests.ask(.dnskey, edns: small).wire)
            let truncated = try Message(wire: packet)
            #expect(packet.count <= 512 && truncated.responseCode == .noError)
            #expect(truncated.header.isTruncated || truncated.answers.contains { $0.type == .rrsig })
            // §8.2.9: DO=1: the answer's OPT has DO and the RRSIG comes with the SOA.
            let signed = try await server.ask(ComplianceTests.ask(.soa, edns: ComplianceTests.edns(flags: 0x8000)))
            #expect(signed.edns?.dnssecOK == true && signed.answers.map(\.type) == [.soa, .rrsig])
            // §8.2.10: EDNS over TCP: the OPT comes back.
            let tcp = try await server.ask(ComplianceTests.ask(.soa, edns: ComplianceTests.edns()), tcp: true)
            #expect(tcp.responseCode == .noError && tcp.edns?.version == 0)
        }
    }

    @Test func headerOnlyQueriesGetNOTIMPForUnknownOpcodesAndFORMERRForQUERY() async throws {
        try await withServer(plugins: ComplianceTests.zone) { server in
            // `dig +header-only +opcode=15 +noedns`: ID 0x1234, opcode 15, QDCOUNT 0: NOTIMP, opcode echoed.
            #expect(try await server.raw(hex("1234 7800 0000 0000 0000 0000")) == hex("1234 f804 0000 0000 0000 0000"))
            // Opcode 1 (the retired IQUERY) and 5 (UPDATE, which this server does not implement): NOTIMP too.
            #expect(try await server.raw(hex("1234 0800 0000 0000 0000 0000")) == hex("1234 8804 0000 0000 0000 0000"))
            #expect(try await server.raw(hex("1234 2800 0000 0000 0000 0000")) == hex("1234 a804 0000 0000 0000 0000"))
            // A QUERY without a question: FORMERR.
            #expect(try await server.raw(hex("1234 0000 0000 0000 0000 0000")) == hex("1234 8001 0000 0000 0000 0000"))
            // An unknown opcode with a question: NOTIMP with the question echoed.
            var withQuestion = ComplianceTests.ask(.soa, edns: nil)
            withQuestion.header.opcode = Opcode(15)
            let reply = try await server.ask(withQuestion)
            #expect(reply.responseCode == .notImp && reply.header.opcode == Opcode(15))
            #expect(reply.questions == withQuestion.questions && reply.answers.isEmpty)
        }
    }

    @Test func aResponseTooLargeForTheWireIsSERVFAILNotACrash() async throws {
        try await withServer(
            plugins: "      - oversize: {}",
            admin: true,
            types: Registry.builtIn + [OversizePlugin.self]
        ) { server in
            let counter = "swiftlet_unencodable_responses_total"
            let before = try await server.counter(counter, labels: "transport=\"udp\"")
            for tcp in [false, false, true] {
                let reply = try await server.ask(query("big.example.org.", .txt), tcp: tcp)
                #expect(reply.responseCode == .servFail && reply.answers.isEmpty)
                #expect(reply.questions == [Question(name: name("big.example.org."), type: .txt)])
            }
            #expect(try await server.counter(counter, labels: "transport=\"udp\"") == before + 2)
            // Nothing was cached: the next one is built (and refused by the encoder) again.
        }
    }
}
