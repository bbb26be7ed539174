// ZoneLookupTests: the authoritative algorithm's exact sections for every RFC rule the zone plugin follows.

import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct ZoneLookupTests {
    static let records: [Record] = [
        "example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300",
        "example.org. 3600 IN NS ns1.example.org.",
        "example.org. 3600 IN NS ns2.example.net.",
        "example.org. 3600 IN MX 10 mail.example.org.",
        "example.org. 3600 IN MX 20 mx.example.net.",
        "ns1.example.org. 3600 IN A 192.0.2.53",
        "mail.example.org. 3600 IN A 192.0.2.25",
        "mail.example.org. 3600 IN AAAA 2001:db8::25",
        "www.example.org. 3600 IN A 192.0.2.80",
        "www.example.org. 3600 IN RRSIG A 13 3 3600 20300101000000 20240101000000 12345 example.org. AAECAwQ=",
        "alias.example.org. 300 IN CNAME www.example.org.",
        "outside.example.org. 300 IN CNAME www.example.net.",
        "loop1.example.org. 300 IN CNAME loop2.example.org.",
        "loop2.example.org. 300 IN CNAME loop1.example.org.",
        "old.example.org. 600 IN DNAME new.example.org.",
        "host.new.example.org. 3600 IN A 192.0.2.99",
        "*.wild.example.org. 3600 IN A 192.0.2.111",
        "*.wild.example.org. 3600 IN TXT \"wildcard\"",
        "exists.wild.example.org. 3600 IN TXT \"real\"",
        "a.b.ent.example.org. 3600 IN A 192.0.2.7",
        "sub.example.org. 3600 IN NS ns.sub.example.org.",
        "sub.example.org. 3600 IN NS ns.example.net.",
        "sub.example.org. 3600 IN DS 12345 13 2 3B1B8C0F9E4E2D7A9B8D6E5F4A3B2C1D0E1F2A3B4C5D6E7F8091A2B3C4D5E6F7",
        "ns.sub.example.org. 3600 IN A 192.0.2.54",
        "_sip._tcp.example.org. 3600 IN SRV 10 60 5060 mail.example.org.",
    ].map { rr($0) }

    static let zone: Zone = {
        do { return try Zone(origin: name("example.org."), records: ZoneLookupTests.records) } catch {
            fatalError("\(error)")
        }
    }()

    static let negativeSOA =
        "example.org.\t300\tIN\tSOA\tns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300"

    func ask(_ text: String, _ type: RecordType, dnssecOK: Bool = false, tcp: Bool = false) -> ZoneAnswer {
        ZoneLookupTests.zone.answer(name(text), type, dnssecOK: dnssecOK, tcp: tcp)
    }

    @Test func exactAnswerIsAuthoritativeWithAdditionalAddresses() {
        let answer = self.ask("example.org.", .mx)
        #expect(answer.responseCode == .noError && answer.authoritative)
        #expect(
            answer.answers.map(\.description) == [
                "example.org.\t3600\tIN\tMX\t10 mail.example.org.", "example.org.\t3600\tIN\tMX\t20 mx.example.net.",
            ]
        )
        #expect(answer.authorities.isEmpty)
        #expect(
            answer.additionals.map(\.description) == [
                "mail.example.org.\t3600\tIN\tA\t192.0.2.25", "mail.example.org.\t3600\tIN\tAAAA\t2001:db8::25",
            ]
        )
        #expect(self.ask("_sip._tcp.example.org.", .srv).additionals.count == 2)
    }

    @Test func questionSpellingIsKeptInTheAnswer() {
        // As knotd does (its owner names point at the question), the answer spells the name as the client did.
        #expect(self.ask("WWW.Example.ORG.", .a).answers.map(\.name.description) == ["WWW.Example.ORG."])
    }

    @Test func noDataCarriesSOAWithNegativeTTL() {
        let answer = self.ask("www.example.org.", .aaaa)
        #expect(answer.responseCode == .noError && answer.answers.isEmpty && answer.authoritative)
        #expect(answer.authorities.map(\.description) == [ZoneLookupTests.negativeSOA])
    }

    @Test func nxDomainCarriesSOA() {
        let answer = self.ask("nope.example.org.", .a)
        #expect(answer.responseCode == .nxDomain)
        #expect(answer.authorities.map(\.description) == [ZoneLookupTests.negativeSOA])
    }

    @Test func emptyNonTerminalIsNoDataNotNXDOMAIN() {
        let answer = self.ask("b.ent.example.org.", .a)
        #expect(answer.responseCode == .noError && answer.answers.isEmpty)
        #expect(self.ask("ent.example.org.", .a).responseCode == .noError)
    }

    @Test func cnameIsFollowedInsideTheZone() {
        let answer = self.ask("alias.example.org.", .a)
        #expect(
            answer.answers.map(\.description) == [
                "alias.example.org.\t300\tIN\tCNAME\twww.example.org.", "www.example.org.\t3600\tIN\tA\t192.0.2.80",
            ]
        )
        #expect(self.ask("alias.example.org.", .cname).answers.count == 1)
        let outside = self.ask("outside.example.org.", .a)
        #expect(
            outside.answers.map(\.type) == [.cname] && outside.responseCode == .noError && outside.authorities.isEmpty
        )
    }

    @Test func cnameLoopStops() {
        let answer = self.ask("loop1.example.org.", .a)
        #expect(
            answer.answers.map(\.description) == [
                "loop1.example.org.\t300\tIN\tCNAME\tloop2.example.org.",
                "loop2.example.org.\t300\tIN\tCNAME\tloop1.example.org.",
            ]
        )
    }

    @Test func dnameSynthesisesACNAMEAndFollowsIt() {
        let answer = self.ask("host.old.example.org.", .a)
        #expect(
            answer.answers.map(\.description) == [
                "old.example.org.\t600\tIN\tDNAME\tnew.example.org.",
                "host.old.example.org.\t600\tIN\tCNAME\thost.new.example.org.",
                "host.new.example.org.\t3600\tIN\tA\t192.0.2.99",
            ]
        )
        // The DNAME owner itself is not substituted (RFC 6672 §2.3).
        #expect(self.ask("old.example.org.", .dname).answers.map(\.type) == [.dname])
        #expect(self.ask("old.example.org.", .a).responseCode == .noError)
    }

    @Test func dnameThatWouldMakeATooLongNameIsYXDOMAIN() throws {
        let long = Array(repeating: String(repeating: "a", count: 60), count: 3).joined(separator: ".")
        let zone = try Zone(
            origin: name("example.org."),
            records: [
                rr("example.org. 3600 IN SOA ns1.example.org. h.example.org. 1 2 3 4 5"),
                rr("example.org. 3600 IN NS ns1.example.net."),
                rr("d.example.org. 3600 IN DNAME \(long).example.org."),
            ]
        )
        #expect(zone.answer(name("\(String(repeating: "b", count: 60)).d.example.org."), .a).responseCode == .yxDomain)
    }

    @Test func wildcardSynthesisesWithTheQueryName() {
        let answer = self.ask("anything.wild.example.org.", .a)
        #expect(answer.answers.map(\.description) == ["anything.wild.example.org.\t3600\tIN\tA\t192.0.2.111"])
        #expect(self.ask("deep.er.wild.example.org.", .a).answers.map(\.name) == [name("deep.er.wild.example.org.")])
        // NODATA from the wildcard for a type it does not have.
        let noData = self.ask("x.wild.example.org.", .mx)
        #expect(noData.responseCode == .noError && noData.answers.isEmpty && noData.authorities.count == 1)
    }

    @Test func existingNamesBlockTheWildcard() {
        // exists.wild has TXT only: A is NODATA, not the wildcard's A (RFC 4592 §2.2.1).
        let answer = self.ask("exists.wild.example.org.", .a)
        #expect(answer.responseCode == .noError && answer.answers.isEmpty)
        // Below an existing name the closest encloser is that name, which has no wildcard child: NXDOMAIN.
        #expect(self.ask("x.exists.wild.example.org.", .a).responseCode == .nxDomain)
        // The wildcard owner itself answers as itself.
        #expect(self.ask("*.wild.example.org.", .txt).answers.map(\.name) == [name("*.wild.example.org.")])
    }

    @Test func delegationIsAReferralWithGlue() {
        for (text, type) in [
            ("sub.example.org.", RecordType.a), ("deep.host.sub.example.org.", .aaaa), ("sub.example.org.", .ns),
        ] {
            let answer = self.ask(text, type)
            #expect(!answer.authoritative && answer.responseCode == .noError && answer.answers.isEmpty, "\(text)")
            #expect(
                answer.authorities.map(\.description) == [
                    "sub.example.org.\t3600\tIN\tNS\tns.sub.example.org.",
                    "sub.example.org.\t3600\tIN\tNS\tns.example.net.",
                ]
            )
            #expect(answer.additionals.map(\.description) == ["ns.sub.example.org.\t3600\tIN\tA\t192.0.2.54"])
        }
        // With DO the DS set goes with the referral.
        #expect(self.ask("sub.example.org.", .a, dnssecOK: true).authorities.map(\.type) == [.ns, .ns, .ds])
    }

    @Test func dsIsAnsweredFromTheParentSide() {
        let answer = self.ask("sub.example.org.", .ds)
        #expect(answer.authoritative && answer.answers.map(\.type) == [.ds])
    }

    @Test func anyOverUDPIsOneHINFOAndOverTCPEverything() {
        let udp = self.ask("mail.example.org.", .any)
        #expect(udp.answers.map(\.description) == ["mail.example.org.\t300\tIN\tHINFO\t\"RFC8482\" \"\""])
        let tcp = self.ask("mail.example.org.", .any, tcp: true)
        #expect(tcp.answers.map(\.type) == [.a, .aaaa])
    }

    @Test func dnssecOKAddsCoveringSignatures() {
        #expect(self.ask("www.example.org.", .a, dnssecOK: true).answers.map(\.type) == [.a, .rrsig])
        #expect(self.ask("www.example.org.", .a).answers.map(\.type) == [.a])
    }

    @Test(arguments: [
        ("no SOA", ["example.org. 3600 IN NS ns.example.net."], "zone example.org.: no SOA record at the apex"),
        (
            "two SOA",
            [
                "example.org. 3600 IN SOA a.example.org. b.example.org. 1 2 3 4 5",
                "example.org. 3600 IN SOA c.example.org. b.example.org. 1 2 3 4 5",
                "example.org. 3600 IN NS ns.example.net.",
            ], "zone example.org.: more than one SOA record"
        ),
        (
            "no NS", ["example.org. 3600 IN SOA a.example.org. b.example.org. 1 2 3 4 5"],
            "zone example.org.: no NS records at the apex"
        ),
        (
            "outside",
            [
                "example.org. 3600 IN SOA a.example.org. b.example.org. 1 2 3 4 5",
                "example.org. 3600 IN NS ns.example.net.", "www.example.net. 3600 IN A 192.0.2.1",
            ], "zone example.org.: www.example.net. A is outside the zone"
        ),
        (
            "CNAME and other data",
            [
                "example.org. 3600 IN SOA a.example.org. b.example.org. 1 2 3 4 5",
                "example.org. 3600 IN NS ns.example.net.", "x.example.org. 3600 IN CNAME www.example.net.",
                "x.example.org. 3600 IN A 192.0.2.1",
            ], "zone example.org.: CNAME at x.example.org. beside other data (A)"
        ),
        (
            "missing glue",
            [
                "example.org. 3600 IN SOA a.example.org. b.example.org. 1 2 3 4 5",
                "example.org. 3600 IN NS ns1.example.org.",
            ], "zone example.org.: name server ns1.example.org. of example.org. has no A or AAAA (glue) in the zone"
        ),
    ])
    func brokenZonesAreRejected(_ row: (String, [String], String)) {
        do {
            _ = try Zone(origin: name("example.org."), records: row.1.map { rr($0) })
            Issue.record("\(row.0) was accepted")
        } catch {
            #expect(error.description == row.2, "\(row.0)")
        }
    }
}
