// RateLimitTests: the `ratelimit` plugin served in-process on a manual clock: the per-client limit (burst, refill,
// prefixes, exemption, refused, TCP, fast-path hits), response rate limiting's buckets, slip, window, exemptions
// (TCP, a valid server cookie), and the fixed-size table under a flood of spoofed sources.

import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct RateLimitTests {
    /// Answers names under nx.example. NXDOMAIN (with the zone's SOA), fail.example. SERVFAIL, anything else one A
    /// record, cacheable for 300 s.
    struct Answers: QueryHandler {
        func handle(_ query: inout Query) -> Verdict {
            let name = query.question.name
            if name.isSubdomain(of: try! DomainName("nx.example.")) {
                var response = query.respond(.nxDomain)
                response.authorities = [rr("nx.example. 300 IN SOA ns.nx.example. host.nx.example. 1 2 3 4 300")]
                query.response = response
            } else if name == (try! DomainName("fail.example.")) {
                query.response = query.respond(.servFail)
            } else {
                var response = query.respond()
                response.answers = [rr("\(name) 300 IN A 192.0.2.1")]
                query.response = response
                query.cacheability = .upTo(seconds: 300)
            }
            return .answered
        }
    }

    static func server(
        _ options: RateLimitOptions,
        transport: Transport = .udp,
        clock: ManualClock = ManualClock(),
        cookies: ServerCookies? = nil,
        log: LogRecorder = LogRecorder()
    ) throws -> InProcessServer {
        var builder = ChainBuilder()
        try InProcessServer.add(
            RateLimitPlugin.self,
            options,
            context: PluginContext(logger: log.logger(), metricsPrefix: "test", workers: 2),
            to: &builder
        )
        builder.begin(plugin: "answers")
        builder.add(Answers())
        return try InProcessServer(builder, transport: transport, clock: clock, cookies: cookies)
    }

    static func client(_ address: String, _ transport: Transport = .udp) -> Client {
        Client(address: IPAddress(address)!, port: 5300, transport: transport)
    }

    /// What `address` gets for `qname`: "A" (an answer), "NXDOMAIN", "SERVFAIL", "REFUSED", "TC" (an empty
    /// truncated reply), or "-" (nothing).
    static func ask(_ server: InProcessServer, _ qname: String, from address: String, _ transport: Transport = .udp, id: UInt16 = 1)
        throws -> String
    {
        let reply = server.process(try query(qname, .a, id: id).encode().bytes, from: Self.client(address, transport)).reply
        guard !reply.isEmpty else { return "-" }
        let message = try Message(wire: reply)
        if message.header.isTruncated { return message.answers.isEmpty ? "TC" : "TC+A" }
        if message.responseCode != .noError { return "\(message.responseCode)" }
        return message.answers.isEmpty ? "NODATA" : "A"
    }

    static func clientOnly(qps: Int, burst: Int) -> RateLimitOptions {
        RateLimitOptions().with {
            $0.client.qps = qps
            $0.client.burst = burst
            $0.responses.rate = 0
            $0.exempt = []
        }
    }

    static func responsesOnly(rate: Int, slip: Int = 2, window: Double = 15) -> RateLimitOptions {
        RateLimitOptions().with {
            $0.client.qps = 0
            $0.responses.rate = rate
            $0.responses.slip = slip
            $0.responses.window = OptionDuration(seconds: window)
            $0.exempt = []
        }
    }

    // MARK: Per client

    @Test func aClientPrefixGetsItsBurstThenItsRateAndFastPathHitsCountToo() throws {
        let clock = ManualClock()
        let server = try Self.server(Self.clientOnly(qps: 10, burst: 3), clock: clock)
        // The first query fills the cache; the next two are fast-path hits; the fourth is over the burst.
        let answers = try (0..<4).map { _ in try Self.ask(server, "www.example.", from: "198.51.100.7") }
        #expect(answers == ["A", "A", "A", "-"])
        #expect(server.cached(try query("www.example.", .a).encode().bytes) != nil)
        // Another address in the same /24 shares the limit; one in the next /24 does not.
        #expect(try Self.ask(server, "www.example.", from: "198.51.100.200") == "-")
        #expect(try Self.ask(server, "www.example.", from: "198.51.101.7") == "A")
        // A tenth of a second buys one query (10 a second), not two.
        clock.advance(by: .milliseconds(100))
        #expect(try Self.ask(server, "www.example.", from: "198.51.100.7") == "A")
        #expect(try Self.ask(server, "www.example.", from: "198.51.100.7") == "-")
        // A second later the burst is back.
        clock.advance(by: .seconds(1))
        let later = try (0..<4).map { _ in try Self.ask(server, "www.example.", from: "198.51.100.7") }
        #expect(later == ["A", "A", "A", "-"])
    }

    @Test func refusedExemptIPv6PrefixesAndTCP() throws {
        let server = try Self.server(
            Self.clientOnly(qps: 1, burst: 1).with {
                $0.action = .refused
                $0.exempt = ["203.0.113.0/24"]
            }
        )
        #expect(try Self.ask(server, "a.example.", from: "198.51.100.7") == "A")
        #expect(try Self.ask(server, "a.example.", from: "198.51.100.7") == "REFUSED")
        // Exempt: never limited.
        for _ in 0..<5 { #expect(try Self.ask(server, "a.example.", from: "203.0.113.9") == "A") }
        // IPv6 clients are counted per /56.
        #expect(try Self.ask(server, "a.example.", from: "2001:db8:0:100::1") == "A")
        #expect(try Self.ask(server, "a.example.", from: "2001:db8:0:1ff::2") == "REFUSED")
        #expect(try Self.ask(server, "a.example.", from: "2001:db8:0:200::1") == "A")
        // The per-client limit holds over TCP too.
        let tcp = try Self.server(Self.clientOnly(qps: 1, burst: 1), transport: .tcp)
        #expect(try Self.ask(tcp, "a.example.", from: "198.51.100.7", .tcp) == "A")
        #expect(try Self.ask(tcp, "a.example.", from: "198.51.100.7", .tcp) == "-")
    }

    // MARK: Responses (RRL)

    @Test func answersAreLimitedPerNameAndTypeWithEveryOtherSlipped() throws {
        let server = try Self.server(Self.responsesOnly(rate: 2, slip: 2))
        let same = try (0..<7).map { _ in try Self.ask(server, "www.example.", from: "198.51.100.7") }
        // Two a second; then the first over slips (TC=1, empty), the next is dropped, and so on.
        #expect(same == ["A", "A", "TC", "-", "TC", "-", "TC"])
        // Another name, or the same name from another prefix, is another bucket.
        #expect(try Self.ask(server, "mail.example.", from: "198.51.100.7") == "A")
        #expect(try Self.ask(server, "www.example.", from: "198.51.101.7") == "A")
    }

    @Test func nxdomainIsLimitedPerZoneAndErrorsPerPrefix() throws {
        let server = try Self.server(Self.responsesOnly(rate: 2, slip: 0))
        // Random names under one zone share its NXDOMAIN bucket: the random-subdomain flood.
        let nx = try (0..<4).map { try Self.ask(server, "r\($0).nx.example.", from: "198.51.100.7") }
        #expect(nx == ["NXDOMAIN", "NXDOMAIN", "-", "-"])
        // Errors have one bucket per prefix, whatever the name.
        #expect(try Self.ask(server, "fail.example.", from: "198.51.100.7") == "SERVFAIL")
        #expect(try Self.ask(server, "fail.example.", from: "198.51.100.7") == "SERVFAIL")
        #expect(try Self.ask(server, "fail.example.", from: "198.51.100.7") == "-")
        // Answers are their own buckets still.
        #expect(try Self.ask(server, "www.example.", from: "198.51.100.7") == "A")
    }

    @Test func aFloodStaysLimitedForItsWindowAfterItStops() throws {
        let clock = ManualClock()
        let server = try Self.server(Self.responsesOnly(rate: 10, slip: 0, window: 5), clock: clock)
        // 200 responses in no time: 10 pass, the rest run up a debt capped at 5 seconds.
        let passed = try (0..<200).filter { _ in try Self.ask(server, "www.example.", from: "198.51.100.7") == "A" }
        #expect(passed.count == 10)
        clock.advance(by: .seconds(4))
        #expect(try Self.ask(server, "www.example.", from: "198.51.100.7") == "-")
        clock.advance(by: .milliseconds(1100))
        #expect(try Self.ask(server, "www.example.", from: "198.51.100.7") == "A")
    }

    @Test func tcpAndAValidServerCookieAreNeverLimitedByRRL() throws {
        let tcp = try Self.server(Self.responsesOnly(rate: 1), transport: .tcp)
        for _ in 0..<5 { #expect(try Self.ask(tcp, "www.example.", from: "198.51.100.7", .tcp) == "A") }

        let cookies = ServerCookies(secret: Array(0..<16), unixTime: { _ in 1_800_000_000 })
        let server = try Self.server(Self.responsesOnly(rate: 1, slip: 1), cookies: cookies)
        let client = Self.client("198.51.100.7")
        func ask(_ cookie: [UInt8]) throws -> Message {
            var message = query("www.example.", .a, id: 7)
            message.edns!.options = [.unknown(code: .cookie, data: cookie)]
            return try Message(wire: server.process(try message.encode().bytes, from: client).reply)
        }
        let clientCookie: [UInt8] = [9, 8, 7, 6, 5, 4, 3, 2]
        let first = try ask(clientCookie)
        #expect(first.answers.count == 1)
        // Over the limit with a client cookie alone: BADCOOKIE with a server cookie, not TC.
        let second = try ask(clientCookie)
        #expect(second.responseCode == .badCookie && !second.header.isTruncated)
        guard case .cookie(_, let serverCookie)? = second.edns?.option(.cookie) else {
            Issue.record("no cookie in BADCOOKIE")
            return
        }
        // Back with it, the client is exempt however often it asks.
        for _ in 0..<5 { #expect(try ask(clientCookie + serverCookie).answers.count == 1) }
    }

    // MARK: Logs

    @Test func aLineWhenAPrefixStartsAndStopsBeingLimitedAndNoMoreThanTenAtOnce() throws {
        let clock = ManualClock()
        let log = LogRecorder()
        let server = try Self.server(Self.clientOnly(qps: 10, burst: 1), clock: clock, log: log)
        for _ in 0..<5 { _ = try Self.ask(server, "www.example.", from: "198.51.100.7") }
        #expect(log.all == ["notice: rate limiting queries from 198.51.100.0/24: over 10 a second"])
        clock.advance(by: .seconds(1))
        _ = try Self.ask(server, "www.example.", from: "198.51.100.7")
        #expect(log.all.last == "notice: stopped rate limiting queries from 198.51.100.0/24 after 4 over the limit")
        // Thirty prefixes limited at once (the budget refilled over 20 s): ten lines, the rest only counted.
        clock.advance(by: .seconds(20))
        let before = log.all.count
        for index in 0..<30 {
            for _ in 0..<2 { _ = try Self.ask(server, "www.example.", from: "203.0.\(index).1") }
        }
        #expect(log.all.count - before == 10)
        #expect(log.all[before] == "notice: rate limiting queries from 203.0.0.0/24: over 10 a second")
    }

    // MARK: The table

    @Test func aSpoofedFloodEvictsItselfNotTheLimitedVictim() throws {
        let clock = ManualClock()
        let server = try Self.server(
            Self.responsesOnly(rate: 5, slip: 0, window: 10).with { $0.tableSize = 16 },
            clock: clock
        )
        // The victim's prefix is limited.
        let victim = try (0..<50).map { _ in try Self.ask(server, "www.example.", from: "198.51.100.7") }
        #expect(victim.filter { $0 == "A" }.count == 5)
        // Then 5000 spoofed sources, a new /24 each, ask once each, a millisecond apart, through a 16-entry table.
        for index in 0..<5000 {
            clock.advance(by: .milliseconds(1))
            let address = "10.\(index / 256 % 256).\(index % 256).1"
            #expect(try Self.ask(server, "www.example.", from: address) == "A")
        }
        // Five seconds on, the victim (its debt ran to 10 s) is still limited: its entry was never evicted.
        #expect(try Self.ask(server, "www.example.", from: "198.51.100.7") == "-")
    }

    @Test func theTableNeverGrows() {
        var table = RateTable(size: 64)
        let rate = Rate(perSecond: 1, burst: 1)
        for index in 0..<100_000 {
            let prefix = ClientPrefix(.v4(IPv4Address(rawValue: UInt32(index) << 8)), ipv4: 24, ipv6: 56)
            _ = table.count(prefix.key(kind: 0, bucket: 0), prefix: prefix, now: UInt64(index), rate: rate)
        }
        #expect(table.capacity == 64)
        // Every source counted once a nanosecond apart, each still owing a second: all but the table's worth evicted.
        #expect(table.evictions == 100_000 - 64)
    }

    @Test func badOptionsNameTheOption() throws {
        #expect(throws: PluginSetupError(option: "responses.slip", "must be between 0 and 10, not 11")) {
            _ = try Self.server(RateLimitOptions().with { $0.responses.slip = 11 })
        }
        #expect(throws: PluginSetupError(option: "client.ipv4_prefix", "must be between 0 and 32, not 33")) {
            _ = try Self.server(RateLimitOptions().with { $0.client.ipv4Prefix = 33 })
        }
        #expect(throws: PluginSetupError(option: "exempt[0]", "'10.0.0.1/8' is not an address prefix like 192.0.2.0/24 or 2001:db8::/32 (host bits must be zero)")) {
            _ = try Self.server(RateLimitOptions().with { $0.exempt = ["10.0.0.1/8"] })
        }
    }
}
