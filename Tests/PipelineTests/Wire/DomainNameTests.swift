// DomainNameTests: limits, case rules, canonical order and presentation escapes of DomainName.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct DomainNameTests {
    @Test func presentationRoundTripsEscapes() throws {
        let text = #"a\.b.c\032d.\255.example.org."#
        let parsed = try DomainName(text)
        #expect(
            parsed.labels.map { Array($0) } == [
                Array("a.b".utf8), [0x63, 0x20, 0x64], [255], Array("example".utf8), Array("org".utf8),
            ]
        )
        #expect(parsed.description == #"a\.b.c\032d.\255.example.org."#)
        #expect(try DomainName(parsed.description) == parsed)
    }

    @Test func specialCharactersAreEscapedWithBackslash() throws {
        let parsed = try DomainName(labels: [Array("a;b(c)\"d\\e@f$g".utf8), Array("org".utf8)])
        #expect(parsed.description == #"a\;b\(c\)\"d\\e\@f\$g.org."#)
        #expect(try DomainName(parsed.description).isIdentical(to: parsed))
    }

    @Test func rootAndOrigin() throws {
        #expect(try DomainName(".") == .root)
        #expect(DomainName.root.description == ".")
        #expect(DomainName.root.wire == [0])
        let origin = name("example.org.")
        #expect(try DomainName("@", origin: origin) == origin)
        #expect(try DomainName("www", origin: origin).description == "www.example.org.")
        #expect(try DomainName("www.example.net.", origin: origin).description == "www.example.net.")
        #expect(try DomainName("www.example.org").description == "www.example.org.")
    }

    @Test(arguments: [
        ("empty label", "a..b.", PresentationError.Reason.emptyLabel),
        ("leading dot", ".a.", .emptyLabel),
        ("64-octet label", String(repeating: "a", count: 64) + ".", .labelTooLong),
        (
            "256-octet name",
            Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".") + ".",
            .nameTooLong
        ),
        ("escape over 255", #"\256.org."#, .badEscape),
        ("short escape", #"a\25"#, .badEscape),
    ])
    func invalidTextIsRejected(_ row: (String, String, PresentationError.Reason)) {
        #expect(throws: PresentationError(row.2)) { try DomainName(row.1) }
    }

    @Test func longestLegalNameIsAccepted() throws {
        // 3 × 63-octet labels + one of 61 = 64·3 + 62 + 1 = 255 octets.
        let text =
            Array(repeating: String(repeating: "a", count: 63), count: 3).joined(separator: ".")
            + "." + String(repeating: "b", count: 61) + "."
        let parsed = try DomainName(text)
        #expect(parsed.wire.count == 255)
        #expect(throws: PresentationError(.nameTooLong)) { try parsed.prepending(label: Array("x".utf8)) }
    }

    @Test func equalityAndHashingIgnoreCase() {
        let lower = name("www.example.org.")
        let mixed = name("WwW.ExAmPlE.oRg.")
        #expect(lower == mixed)
        #expect(lower.hashValue == mixed.hashValue)
        #expect(!lower.isIdentical(to: mixed))
        #expect(mixed.lowercased().isIdentical(to: lower))
        #expect(Set([lower, mixed]).count == 1)
        #expect(name("www.example.org.") != name("www.example.net."))
    }

    @Test func subdomainAndParent() {
        let www = name("www.Example.org.")
        #expect(www.isSubdomain(of: name("example.ORG.")))
        #expect(www.isSubdomain(of: www))
        #expect(www.isSubdomain(of: .root))
        #expect(!www.isSubdomain(of: name("ample.org.")))
        #expect(!name("example.org.").isSubdomain(of: www))
        #expect(www.parent == name("example.org."))
        #expect(name("org.").parent == .root)
        #expect(DomainName.root.parent == nil)
        #expect(www.labelCount == 3)
        #expect(DomainName.root.labelCount == 0)
    }

    /// The example ordering of RFC 4034 §6.1.
    @Test func canonicalOrderFollowsRFC4034() {
        let ordered = [
            "example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.", "zABC.a.EXAMPLE.", "z.example.",
            #"\001.z.example."#, "*.z.example.", #"\200.z.example."#,
        ].map(name)
        #expect(ordered.shuffled().sorted() == ordered)
        for (left, right) in zip(ordered, ordered.dropFirst()) {
            #expect(left < right, "\(left) < \(right)")
            #expect(!(right < left))
        }
    }

    @Test func wireInitializerValidates() throws {
        #expect(try DomainName(wire: [3, 0x6f, 0x72, 0x67, 0]).description == "org.")
        #expect(throws: WireError.compressionNotAllowed(offset: 0)) { try DomainName(wire: [0xC0, 0x00]) }
        #expect(throws: WireError.trailingBytes(offset: 1, count: 1)) { try DomainName(wire: [0, 0]) }
        #expect(throws: WireError.truncated(offset: 0, needed: 4, available: 3)) { try DomainName(wire: [3, 1, 2]) }
        // The in-place check must not take a pointer or a reserved label type in last place for the root label.
        #expect(throws: (any Error).self) { try DomainName(wire: [0xC0]) }
        #expect(throws: (any Error).self) { try DomainName(wire: [1, 0x61, 0x40]) }
        #expect(throws: (any Error).self) { try DomainName(wire: []) }
        let long =
            [UInt8](repeating: 0, count: 0) + (0..<4).flatMap { _ in [63] + [UInt8](repeating: 0x61, count: 63) } + [0]
        #expect(throws: (any Error).self) { try DomainName(wire: long) }
    }
}

@Suite struct AddressTests {
    @Test(arguments: [
        ("2001:db8::1", "2001:db8::1"), ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("::", "::"), ("::1", "::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"), ("fe80::", "fe80::"), ("2001:db8::0:1:0:0:1", "2001:db8::1:0:0:1"),
    ])
    func ipv6TextIsCanonicalRFC5952(_ row: (String, String)) throws {
        let address = try #require(IPv6Address(row.0))
        #expect(address.description == row.1)
        #expect(IPv6Address(address.description) == address)
        #expect(IPv6Address(octets: address.octets) == address)
    }

    @Test(arguments: ["", ":", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::", "1:2:3:4:5:6:7"])
    func badIPv6TextIsRejected(_ text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test func ipv4TextRoundTrips() throws {
        let address = try #require(IPv4Address("192.0.2.1"))
        #expect(address.rawValue == 0xC000_0201)
        #expect(address.description == "192.0.2.1")
        #expect(address.octets == [192, 0, 2, 1])
        for bad in ["192.0.2", "192.0.2.256", "192.0.2.01", "a.b.c.d", "192.0.2.1.5", ""] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
    }
}
