// CacheHandlerTests: the cache plugin without a socket: set up as the host does in front of a counting upstream
// handler, served in-process; what reaches the upstream and what comes back from the RRset cache.

import Pipeline
import Synchronization
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct CacheHandlerTests {
    /// Stands for forward: answers from `reply` (its ID and question set from the query), caches nothing itself.
    final class Upstream: QueryHandler {
        let reply: Message
        let calls = Atomic<Int>(0)
        init(_ reply: Message) { self.reply = reply }

        func handle(_ query: inout Query) -> Verdict {
            self.calls.add(1, ordering: .relaxed)
            var response = Message.response(to: query.request, responseCode: self.reply.responseCode)
            response.answers = self.reply.answers
            response.authorities = self.reply.authorities
            query.response = response
            query.cacheability = .never
            return .answered
        }
    }

    static func server(_ upstream: Upstream, _ options: CacheOptions = CacheOptions()) throws -> InProcessServer {
        var builder = ChainBuilder()
        let context = PluginContext(logger: .init(label: "test"), metricsPrefix: "test_cache")
        try InProcessServer.add(CachePlugin.self, options, context: context, to: &builder)
        builder.begin(plugin: "upstream")
        builder.add(upstream)
        return try InProcessServer(builder)
    }

    static func answer(_ records: String...) -> Message {
        var message = Message(header: Header(flags: 0x8180))
        message.answers = records.map { rr($0) }
        return message
    }

    @Test func aQuestionTheFastPathMissesIsAnsweredFromTheRRsetCache() async throws {
        let upstream = Upstream(Self.answer("www.example.org. 300 IN A 192.0.2.1", "www.example.org. 300 IN A 192.0.2.2"))
        let server = try Self.server(upstream)
        let first = try #require(try await server.ask(query("www.example.org.", .a, edns: true)))
        // Without EDNS the message cache has no entry for it (EDNS is in its key); the RRset cache has the records.
        let second = try #require(try await server.ask(query("www.example.org.", .a, edns: false)))
        #expect(upstream.calls.load(ordering: .relaxed) == 1)
        #expect(first.answers.map(brief) == ["www.example.org. a 192.0.2.1", "www.example.org. a 192.0.2.2"])
        #expect(Set(second.answers.map(brief)) == Set(first.answers.map(brief)))
        #expect(second.answers.allSatisfy { (299...300).contains($0.ttl) } && second.edns == nil)
    }

    @Test func ttlsAreHeldBetweenMinAndMax() async throws {
        var options = CacheOptions()
        options.minTTL = 60
        options.maxTTL = 3600
        let short = Upstream(Self.answer("short.example.org. 5 IN A 192.0.2.1"))
        let reply = try #require(try await Self.server(short, options).ask(query("short.example.org.", .a)))
        #expect(reply.answers.map(\.ttl) == [60])
        let long = Upstream(Self.answer("long.example.org. 604800 IN A 192.0.2.1"))
        let clamped = try #require(try await Self.server(long, options).ask(query("long.example.org.", .a)))
        #expect(clamped.answers.map(\.ttl) == [3600])
    }

    @Test func nxdomainIsCachedForTheSOAMinimum() async throws {
        var negative = Message(header: Header(flags: 0x8183))
        negative.authorities = [rr("example.org. 600 IN SOA ns.example.org. host.example.org. 1 7200 900 1209600 300")]
        let upstream = Upstream(negative)
        let server = try Self.server(upstream)
        let first = try #require(try await server.ask(query("nope.example.org.", .a, edns: true)))
        let second = try #require(try await server.ask(query("nope.example.org.", .a, edns: false)))
        #expect(first.responseCode == .nxDomain && second.responseCode == .nxDomain)
        #expect(upstream.calls.load(ordering: .relaxed) == 1)
        // RFC 2308 §5: the SOA's TTL in a negative answer is the lesser of its TTL and its MINIMUM.
        #expect(second.authorities.map(\.type) == [.soa] && (299...300).contains(second.authorities[0].ttl))
    }
}
