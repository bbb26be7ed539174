// HostsTableTests: hosts(5) parsing, many addresses per name, reverse names, and skipped lines.

import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct HostsTableTests {
    static let text = """
        # comment line
        192.0.2.1   www.example.org www   # trailing comment
        192.0.2.2   www.example.org
        2001:db8::1 www.example.org
        198.51.100.7 Mail.Example.ORG mx.example.org
        not-an-ip   broken.example.org
        192.0.2.3
        fe80::1%eth0 link.example.org
        """

    @Test func parsesNamesAddressesAndSkippedLines() {
        let table = HostsTable(text: HostsTableTests.text)
        #expect(
            table.forward[name("www.example.org.")]
                == HostsTable.Addresses(
                    v4: [IPv4Address(192, 0, 2, 1), IPv4Address(192, 0, 2, 2)],
                    v6: [IPv6Address("2001:db8::1")!]
                )
        )
        #expect(table.forward[name("www.")]?.v4 == [IPv4Address(192, 0, 2, 1)])
        #expect(table.forward[name("mail.example.org.")]?.v4 == [IPv4Address(198, 51, 100, 7)])
        #expect(table.forward[name("link.example.org.")]?.v6 == [IPv6Address("fe80::1")!])
        #expect(
            table.skipped == [
                HostsTable.SkippedLine(line: 6, reason: "'not-an-ip' is not an IP address"),
                HostsTable.SkippedLine(line: 7, reason: "no host name after 192.0.2.3"),
            ]
        )
        #expect(table.reverse[name("1.2.0.192.in-addr.arpa.")] == [name("www.example.org."), name("www.")])
    }

    @Test func reverseNamesFollowRFC3596() {
        #expect(HostsTable.reverseName(.v4(IPv4Address(192, 0, 2, 1))) == name("1.2.0.192.in-addr.arpa."))
        #expect(
            HostsTable.reverseName(.v6(IPv6Address("2001:db8::1")!))
                == name(
                    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
                )
        )
    }
}

@Suite struct HostsHandlerTests {
    func run(_ handler: HostsHandler, _ request: Message) -> (Verdict, Query) {
        var query = Query(request: request, client: testClient)
        let verdict = handler.handle(&query)
        return (verdict, query)
    }

    func handler(fallthrough passes: Bool = true) -> HostsHandler {
        HostsHandler(
            table: HostsTable(text: HostsTableTests.text),
            options: HostsOptions().with {
                $0.ttl = 600
                $0.passesUnknownNames = passes
            },
            metrics: HostsMetrics(PluginContext(logger: .init(label: "test"), metricsPrefix: "test_hosts"))
        )
    }

    @Test func answersEveryAddressOfAName() throws {
        let (verdict, query) = self.run(self.handler(), SwiftletTestSupport.query("WWW.example.org.", .a))
        #expect(verdict == .answered)
        let response = try #require(query.response)
        #expect(response.header.isAuthoritative)
        #expect(
            response.answers.map(\.description) == [
                "WWW.example.org.\t600\tIN\tA\t192.0.2.1", "WWW.example.org.\t600\tIN\tA\t192.0.2.2",
            ]
        )
        #expect(query.cacheability == .upTo(seconds: 600))
    }

    @Test func answersAAAAAndPTR() throws {
        let (_, v6) = self.run(self.handler(), SwiftletTestSupport.query("www.example.org.", .aaaa))
        #expect(v6.response?.answers.map(\.rdata) == [.aaaa(IPv6Address("2001:db8::1")!)])
        let (_, ptr) = self.run(self.handler(), SwiftletTestSupport.query("7.100.51.198.in-addr.arpa.", .ptr))
        #expect(ptr.response?.answers.map(\.rdata) == [.ptr(name("mail.example.org.")), .ptr(name("mx.example.org."))])
    }

    @Test func knownNameOtherTypeIsNoData() throws {
        let (verdict, query) = self.run(self.handler(), SwiftletTestSupport.query("www.example.org.", .mx))
        #expect(verdict == .answered)
        #expect(query.response?.responseCode == .noError)
        #expect(query.response?.answers == [])
    }

    @Test func unknownNamesFallThroughOrGetNXDOMAIN() throws {
        let (passed, _) = self.run(self.handler(), SwiftletTestSupport.query("nope.example.org.", .a))
        #expect(passed == .next)
        let (verdict, query) = self.run(
            self.handler(fallthrough: false),
            SwiftletTestSupport.query("nope.example.org.", .a)
        )
        #expect(verdict == .answered)
        #expect(query.response?.responseCode == .nxDomain)
    }
}
