// MessageCacheTests: hits patch ID, case and TTLs; the full key separates entries; bounds and refusals hold.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct MessageCacheTests {
    static let second: UInt64 = 1_000_000_000

    /// Stores the answer to `request` built from `records`, encoded as the server would.
    func store(
        _ cache: MessageCache,
        _ request: Message,
        _ records: [Record],
        view: UInt16 = 0,
        code: ResponseCode = .noError,
        maxTTL: UInt32 = 3600,
        now: UInt64 = 0,
        truncated: Bool = false
    ) throws {
        var response = Message.response(to: request, responseCode: code)
        response.answers = records
        response.header.isTruncated = truncated
        let encoded = try response.encode()
        cache.store(
            request: request,
            view: view,
            response: encoded.bytes,
            ttlOffsets: encoded.ttlOffsets,
            minimumTTL: encoded.minimumTTL,
            maxTTL: maxTTL,
            now: now
        )
    }

    /// Asks the cache with `request`'s wire form; returns the reply or nil on a miss.
    func ask(
        _ cache: MessageCache,
        _ request: Message,
        view: UInt16 = 0,
        now: UInt64 = 0,
        limit: Int = 1232
    ) throws -> [UInt8]? {
        let packet = try request.wire
        var out = [UInt8](repeating: 0, count: 4096)
        let length = try packet.withUnsafeBytes { raw in
            let view0 = try RequestView(packet: raw)
            return out.withUnsafeMutableBytes {
                cache.answer(packet: raw, request: view0, view: view, now: now, limit: limit, into: $0)
            }
        }
        return length == 0 ? nil : Array(out[0..<length])
    }

    @Test func hitPatchesIDQuestionCaseAndTTLs() throws {
        let cache = MessageCache()
        let stored = query("www.example.org.", .a, id: 1)
        try self.store(
            cache,
            stored,
            [rr("www.example.org. 300 IN A 192.0.2.1"), rr("www.example.org. 300 IN A 192.0.2.2")],
            now: 0
        )
        let asked = query("WWW.Example.ORG.", .a, id: 0xBEEF)
        let reply = try #require(try self.ask(cache, asked, now: 100 * MessageCacheTests.second + 5))
        let message = try Message(wire: reply)
        #expect(message.header.id == 0xBEEF)
        #expect(message.questions[0].name.isIdentical(to: name("WWW.Example.ORG.")))
        #expect(message.answers.map(\.ttl) == [200, 200])
        #expect(message.answers[0].name.isIdentical(to: name("WWW.Example.ORG.")))
        #expect(message.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1)), .a(IPv4Address(192, 0, 2, 2))])
        #expect(cache.statistics.hits == 1)
    }

    @Test func keyFieldsSeparateEntries() throws {
        let cache = MessageCache()
        try self.store(cache, query("example.org.", .a), [rr("example.org. 300 IN A 192.0.2.1")], view: 1)
        #expect(try self.ask(cache, query("example.org.", .a), view: 1) != nil)
        #expect(try self.ask(cache, query("example.org.", .a), view: 2) == nil)
        #expect(try self.ask(cache, query("example.org.", .aaaa), view: 1) == nil)
        #expect(try self.ask(cache, query("example.org.", .a, dnssecOK: true), view: 1) == nil)
        #expect(try self.ask(cache, query("example.org.", .a, edns: false), view: 1) == nil)
        var cd = query("example.org.", .a)
        cd.header.checkingDisabled = true
        #expect(try self.ask(cache, cd, view: 1) == nil)
        #expect(try self.ask(cache, query("example.net.", .a), view: 1) == nil)
        #expect(try self.ask(cache, query("xample.org.", .a), view: 1) == nil)
        cache.bumpEpoch()
        #expect(try self.ask(cache, query("example.org.", .a), view: 1) == nil)
    }

    @Test func expiredEntriesMissAndAreRemoved() throws {
        let cache = MessageCache()
        try self.store(cache, query("example.org.", .a), [rr("example.org. 60 IN A 192.0.2.1")], now: 0)
        #expect(try self.ask(cache, query("example.org.", .a), now: 59 * MessageCacheTests.second) != nil)
        #expect(try self.ask(cache, query("example.org.", .a), now: 60 * MessageCacheTests.second) == nil)
        #expect(cache.statistics.entries == 0 && cache.statistics.expired == 1)
    }

    @Test func producerCapBoundsTheLifetime() throws {
        let cache = MessageCache()
        try self.store(cache, query("example.org.", .a), [rr("example.org. 3600 IN A 192.0.2.1")], maxTTL: 10)
        #expect(try self.ask(cache, query("example.org.", .a), now: 9 * MessageCacheTests.second) != nil)
        #expect(try self.ask(cache, query("example.org.", .a), now: 10 * MessageCacheTests.second) == nil)
    }

    @Test func truncatedServfailAndSubnetAnswersAreNeverStored() throws {
        let cache = MessageCache()
        try self.store(cache, query("a.example.org.", .a), [rr("a.example.org. 300 IN A 192.0.2.1")], truncated: true)
        try self.store(cache, query("b.example.org.", .a), [], code: .servFail)
        var subnet = query("c.example.org.", .a)
        subnet.edns?.options = [
            .clientSubnet(ClientSubnet(family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, address: [192, 0, 2]))
        ]
        try self.store(cache, subnet, [rr("c.example.org. 300 IN A 192.0.2.1")])
        try self.store(cache, query("d.example.org.", .a), [rr("d.example.org. 0 IN A 192.0.2.1")])
        #expect(cache.statistics.entries == 0)
    }

    @Test func answerLargerThanTheClientLimitIsAMiss() throws {
        let cache = MessageCache()
        let records = (1...30).map { rr("big.example.org. 300 IN A 192.0.2.\($0)") }
        try self.store(cache, query("big.example.org.", .a), records)
        #expect(try self.ask(cache, query("big.example.org.", .a), limit: 512) == nil)
        #expect(try self.ask(cache, query("big.example.org.", .a), limit: 1232) != nil)
    }

    @Test func byteBoundEvictsUnreferencedEntriesFirst() throws {
        let cache = MessageCache(maxBytes: 4000, shardCount: 1)
        for index in 0..<100 {
            try self.store(cache, query("n\(index).example.org.", .a), [rr("n\(index).example.org. 300 IN A 192.0.2.1")])
            // Keep n0 hot: CLOCK gives referenced entries a second chance.
            _ = try self.ask(cache, query("n0.example.org.", .a))
        }
        let statistics = cache.statistics
        #expect(statistics.bytes <= 4000)
        #expect(statistics.evictions > 0)
        #expect(statistics.entries < 100)
        #expect(try self.ask(cache, query("n0.example.org.", .a)) != nil)
        #expect(try self.ask(cache, query("n99.example.org.", .a)) != nil)
    }

    @Test func resizingShrinksTheCacheAsItStores() throws {
        let cache = MessageCache(maxBytes: 1 << 20, shardCount: 1)
        for index in 0..<50 {
            try self.store(cache, query("n\(index).example.org.", .a), [rr("n\(index).example.org. 300 IN A 192.0.2.1")])
        }
        #expect(cache.statistics.entries == 50)
        cache.resize(maxBytes: 4000)
        #expect(cache.maxBytes == 4000)
        try self.store(cache, query("last.example.org.", .a), [rr("last.example.org. 300 IN A 192.0.2.1")])
        #expect(cache.statistics.bytes <= 4000)
        #expect(cache.statistics.entries < 50)
    }

    @Test func storingAgainReplacesTheEntry() throws {
        let cache = MessageCache()
        try self.store(cache, query("example.org.", .a), [rr("example.org. 300 IN A 192.0.2.1")])
        try self.store(cache, query("example.org.", .a), [rr("example.org. 300 IN A 192.0.2.9")])
        #expect(cache.statistics.entries == 1)
        let reply = try #require(try self.ask(cache, query("example.org.", .a)))
        #expect(try Message(wire: reply).answers[0].rdata == .a(IPv4Address(192, 0, 2, 9)))
    }

    @Test func foldedHashMatchesRequestViewHash() throws {
        for text in ["www.example.org.", "WWW.EXAMPLE.ORG.", ".", "a.b.c.d.e.f.example.net."] {
            let packet = try query(text, .a).wire
            let viewHash = try packet.withUnsafeBytes { try RequestView(packet: $0).nameHash }
            #expect(viewHash == name(text).foldedHash)
        }
    }
}
