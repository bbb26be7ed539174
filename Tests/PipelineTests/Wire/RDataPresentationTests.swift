// RDataPresentationTests: every typed RDATA parses from zone-file text, prints back exactly, and survives the wire.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct RDataPresentationTests {
    struct Row: Sendable, CustomStringConvertible {
        var description: String { self.input }
        /// A record line as a zone file might write it.
        var input: String
        /// The canonical line Swiftlet prints (fields separated as dig does, one blank inside RDATA).
        var printed: String
    }

    static let rows: [Row] = [
        Row(input: "a.example.org. 300 IN A 192.0.2.1", printed: "a.example.org.\t300\tIN\tA\t192.0.2.1"),
        Row(input: "a.example.org. 300 IN AAAA 2001:DB8:0::1", printed: "a.example.org.\t300\tIN\tAAAA\t2001:db8::1"),
        Row(
            input: "example.org. IN 86400 NS ns1.example.org.",
            printed: "example.org.\t86400\tIN\tNS\tns1.example.org."
        ),
        Row(
            input: "www.example.org. 60 CNAME web.example.net.",
            printed: "www.example.org.\t60\tIN\tCNAME\tweb.example.net."
        ),
        Row(
            input: "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. ( 2024010101 2h 1h 1w 300 )",
            printed:
                "example.org.\t3600\tIN\tSOA\tns1.example.org. hostmaster.example.org. 2024010101 7200 3600 604800 300"
        ),
        Row(
            input: "1.2.0.192.in-addr.arpa. 300 PTR host.example.org.",
            printed: "1.2.0.192.in-addr.arpa.\t300\tIN\tPTR\thost.example.org."
        ),
        Row(
            input: #"example.org. 300 HINFO "Generic PC" Linux"#,
            printed: "example.org.\t300\tIN\tHINFO\t\"Generic PC\" \"Linux\""
        ),
        Row(
            input: "example.org. 300 MX 10 mail.example.org.",
            printed: "example.org.\t300\tIN\tMX\t10 mail.example.org."
        ),
        Row(
            input: #"example.org. 300 TXT "v=spf1 -all" plain "say \"hi\"" "back\\slash" caf\195\169 "\000""#,
            printed:
                #"example.org.\#t300\#tIN\#tTXT\#t"v=spf1 -all" "plain" "say \"hi\"" "back\\slash" "caf\195\169" "\000""#
        ),
        Row(
            input: "_sip._tcp.example.org. 300 SRV 10 60 5060 sip.example.org.",
            printed: "_sip._tcp.example.org.\t300\tIN\tSRV\t10 60 5060 sip.example.org."
        ),
        Row(
            input: #"example.org. 300 NAPTR 100 10 "S" "SIP+D2T" "" _sip._tcp.example.org."#,
            printed: "example.org.\t300\tIN\tNAPTR\t100 10 \"S\" \"SIP+D2T\" \"\" _sip._tcp.example.org."
        ),
        Row(
            input: "old.example.org. 300 DNAME new.example.org.",
            printed: "old.example.org.\t300\tIN\tDNAME\tnew.example.org."
        ),
        Row(
            input:
                "sub.example.org. 300 DS 12345 13 2 ( 3B1B8C0F 9E4E2D7A 9B8D6E5F 4A3B2C1D 0E1F2A3B 4C5D6E7F 8091A2B3 C4D5E6F7 )",
            printed:
                "sub.example.org.\t300\tIN\tDS\t12345 13 2 3B1B8C0F9E4E2D7A9B8D6E5F4A3B2C1D0E1F2A3B4C5D6E7F8091A2B3C4D5E6F7"
        ),
        Row(
            input:
                "example.org. 300 DNSKEY 257 3 13 ( mdsswUyr3DPW132mOi8V9xESWE8jTo0d xCjjnopKl+GqJxpVXckHAeF+KkxLbxIL fDLUT0rAK9iUzy1L53eKGQ== )",
            printed:
                "example.org.\t300\tIN\tDNSKEY\t257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="
        ),
        Row(
            input: "example.org. 300 RRSIG A 13 2 300 20300101000000 20240101000000 12345 example.org. AAECAwQFBgc=",
            printed:
                "example.org.\t300\tIN\tRRSIG\tA 13 2 300 20300101000000 20240101000000 12345 example.org. AAECAwQFBgc="
        ),
        Row(
            input: "example.org. 300 RRSIG TYPE65280 13 2 300 1893456000 1704067200 12345 example.org. AAECAwQFBgc=",
            printed:
                "example.org.\t300\tIN\tRRSIG\tTYPE65280 13 2 300 20300101000000 20240101000000 12345 example.org. AAECAwQFBgc="
        ),
        Row(
            input: "alias.example.org. 300 NSEC b.example.org. A MX RRSIG NSEC TYPE1234",
            printed: "alias.example.org.\t300\tIN\tNSEC\tb.example.org. A MX RRSIG NSEC TYPE1234"
        ),
        Row(
            input:
                "vs4ts7h6lrtc8bbg2d2e6kb3gn0jd4p0.example.org. 300 NSEC3 1 1 0 AABBCCDD ( 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG )",
            printed:
                "vs4ts7h6lrtc8bbg2d2e6kb3gn0jd4p0.example.org.\t300\tIN\tNSEC3\t1 1 0 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG"
        ),
        Row(input: "example.org. 0 NSEC3PARAM 1 0 0 -", printed: "example.org.\t0\tIN\tNSEC3PARAM\t1 0 0 -"),
        Row(
            input:
                "_443._tcp.www.example.org. 300 TLSA 3 1 1 0D6FCE13243AA7C5DD0A2C4B9B6BB2B5E7BBA1A0D8C7B43D2A5E0A1D4E1F2A3B",
            printed:
                "_443._tcp.www.example.org.\t300\tIN\tTLSA\t3 1 1 0D6FCE13243AA7C5DD0A2C4B9B6BB2B5E7BBA1A0D8C7B43D2A5E0A1D4E1F2A3B"
        ),
        Row(
            input:
                #"svc.example.org. 300 SVCB 1 svc1.example.net. ( alpn="h2,dot" port=8853 no-default-alpn mandatory=port,alpn )"#,
            printed:
                "svc.example.org.\t300\tIN\tSVCB\t1 svc1.example.net. mandatory=alpn,port alpn=\"h2,dot\" no-default-alpn port=8853"
        ),
        Row(
            input:
                "www.example.org. 300 HTTPS 1 . alpn=h3,h2 port=443 ipv4hint=192.0.2.80,192.0.2.81 ech=AEX+DQBB ipv6hint=2001:db8::80 key65000=\"x y\"",
            printed:
                "www.example.org.\t300\tIN\tHTTPS\t1 . alpn=\"h3,h2\" port=443 ipv4hint=192.0.2.80,192.0.2.81 ech=AEX+DQBB ipv6hint=2001:db8::80 key65000=\"x y\""
        ),
        Row(
            input: "alias.example.org. 300 HTTPS 0 svc.example.net.",
            printed: "alias.example.org.\t300\tIN\tHTTPS\t0 svc.example.net."
        ),
        Row(
            input: #"example.org. 300 CAA 0 issue "ca.example.net""#,
            printed: "example.org.\t300\tIN\tCAA\t0 issue \"ca.example.net\""
        ),
        Row(
            input: ##"example.org. 300 TYPE65280 \# 4 0A000001"##,
            printed: "example.org.\t300\tIN\tTYPE65280\t\\# 4 0a000001"
        ),
        Row(input: ##"example.org. 300 TYPE65281 \# 0"##, printed: "example.org.\t300\tIN\tTYPE65281\t\\# 0"),
        Row(input: #"example.org. 300 CLASS3 A 192.0.2.1"#, printed: "example.org.\t300\tCH\tA\t192.0.2.1"),
        Row(input: ##"example.org. 300 A \# 4 C0000201"##, printed: "example.org.\t300\tIN\tA\t192.0.2.1"),
    ]

    @Test(arguments: RDataPresentationTests.rows)
    func parsesPrintsAndRoundTrips(_ row: Row) throws {
        let record = try Record(row.input)
        #expect(record.description == row.printed)
        #expect(try Record(record.description) == record)
        // Through the wire: a response holding just this record.
        var message = Message(header: Header(id: 7, flags: 0x8400), answers: [record])
        message.questions = [Question(name: record.name, type: record.type)]
        let decoded = try Message(wire: message.wire)
        #expect(decoded.answers == [record])
        // And the RFC 3597 generic form of its RDATA parses to the same record.
        let bytes = record.rdata.wireBytes
        let generic =
            "\(record.name) \(record.ttl) \(record.recordClass) \(record.type) \\# \(bytes.count) \(TextEncoding.base16(bytes))"
        #expect(try Record(generic) == record)
    }

    struct Bad: Sendable, CustomStringConvertible {
        var description: String { self.input }
        var input: String
        var reason: PresentationError.Reason
        var column: Int
    }

    static let bad: [Bad] = [
        Bad(input: "a.example. 300 A 192.0.2", reason: .badIPv4Address("192.0.2"), column: 18),
        Bad(input: "a.example. 300 AAAA 2001:db8:::1", reason: .badIPv6Address("2001:db8:::1"), column: 21),
        Bad(
            input: "a.example. 300 MX mail.example.",
            reason: .badNumber(field: "preference", text: "mail.example."),
            column: 19
        ),
        Bad(input: "a.example. 300 MX 10", reason: .missingField("exchange"), column: 21),
        Bad(input: "a.example. 300 A 192.0.2.1 extra", reason: .unexpectedText("extra"), column: 28),
        Bad(input: "a.example. 300 BOGUS 1", reason: .unknownType("BOGUS"), column: 16),
        Bad(
            input: ##"a.example. 300 TYPE65280 \# 3 0a0000"##.replacingOccurrences(of: "3 0a0000", with: "4 0a0000"),
            reason: .genericLengthMismatch(declared: 4, actual: 3),
            column: 31
        ),
        Bad(input: "a.example. 300 DS 1 13 2 XYZ", reason: .badHex, column: 26),
        Bad(input: "a.example. 300 DNSKEY 257 3 13 !!!!", reason: .badBase64, column: 32),
        Bad(
            input: "a.example. 300 TYPE65280 0a000001",
            reason: .invalidValue(field: "TYPE65280 RDATA (use \\# form)", text: "0a000001"),
            column: 26
        ),
        Bad(input: "a.example. 300 SOA ns. host. 1 2 3 4", reason: .missingField("minimum"), column: 37),
        Bad(
            input: "a.example. 300 RRSIG A 13 2 300 2030-01 20240101000000 1 a. AA==",
            reason: .badTime("2030-01"),
            column: 33
        ),
        Bad(input: "a.example. 300 TXT \"unterminated", reason: .unterminatedQuote, column: 20),
        Bad(input: "a.example. 300 MX ( 10 mail.example.", reason: .unbalancedParentheses, column: 19),
    ]

    @Test(arguments: RDataPresentationTests.bad)
    func badFieldIsNamedWithItsColumn(_ row: Bad) {
        do {
            _ = try Record(row.input)
            Issue.record("parsed: \(row.input)")
        } catch {
            #expect(error.reason == row.reason)
            if row.column > 0 { #expect(error.column == row.column, "\(error)") }
        }
    }

    @Test func ttlUnitsParse() {
        #expect(TTLText.parse("1h30m") == 5400)
        #expect(TTLText.parse("1W2D") == 777_600)
        #expect(TTLText.parse("300") == 300)
        #expect(TTLText.parse("10x") == nil)
        #expect(TTLText.parse("h") == nil)
        #expect(TTLText.parse("5") == 5)
        #expect(TTLText.parse("99999999999") == nil)
    }

    @Test func textEncodingsRoundTrip() {
        var generator = SeededGenerator(seed: 42)
        for length in 0..<40 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(TextEncoding.base64Decode(TextEncoding.base64(bytes)) == bytes)
            #expect(TextEncoding.base16Decode(TextEncoding.base16(bytes)) == bytes)
            #expect(TextEncoding.base32HexDecode(TextEncoding.base32Hex(bytes)) == bytes)
        }
        #expect(TextEncoding.base64(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(TextEncoding.base32Hex(Array("foobar".utf8)) == "cpnmuoj1e8")
        #expect(TextEncoding.base64Decode("Zm9=vYmFy") == nil)
    }

    @Test func dnskeyKeyTagFollowsRFC4034AppendixB() throws {
        // The KSK of the root zone (2017), whose key tag is 20326.
        let record = try Record(
            ". 172800 IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU="
        )
        guard case .dnskey(let key) = record.rdata else {
            Issue.record("not a DNSKEY")
            return
        }
        #expect(key.keyTag == 20326)
    }
}
