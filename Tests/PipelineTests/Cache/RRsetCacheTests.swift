// RRsetCacheTests: trust ranking, negative entries, aging, the stale window, and S3-FIFO's scan resistance.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct RRsetCacheTests {
    static let second: UInt64 = 1_000_000_000
    let key = RRsetCache.Key(name: name("WWW.example.org."), type: .a)

    func records(_ address: String, ttl: UInt32 = 300) -> RRsetCacheContent {
        .records([rr("www.example.org. \(ttl) IN A \(address)")], signatures: nil)
    }

    @Test func lookupAgesTTLsAndIgnoresCase() throws {
        let cache = RRsetCache()
        cache.store(self.key, self.records("192.0.2.1"), trust: .answerNonAuthoritative, ttl: 300, now: 0)
        let hit = try #require(
            cache.lookup(RRsetCache.Key(name: name("www.EXAMPLE.org."), type: .a), now: 100 * RRsetCacheTests.second)
        )
        #expect(hit.content == self.records("192.0.2.1", ttl: 200))
        #expect(hit.remaining == 200 && hit.originalTTL == 300 && hit.hits == 1 && !hit.isStale)
        #expect(cache.lookup(self.key, now: 300 * RRsetCacheTests.second) == nil)
    }

    @Test func lowerTrustDoesNotReplaceHigherUntilItExpires() throws {
        let cache = RRsetCache()
        #expect(cache.store(self.key, self.records("192.0.2.1"), trust: .answerAuthoritative, ttl: 60, now: 0))
        #expect(!cache.store(self.key, self.records("203.0.113.9"), trust: .additional, ttl: 60, now: 0))
        #expect(cache.lookup(self.key, now: 0)?.content == self.records("192.0.2.1"))
        #expect(cache.store(self.key, self.records("192.0.2.2"), trust: .answerAuthoritative, ttl: 60, now: 0))
        #expect(
            cache.store(
                self.key,
                self.records("203.0.113.9", ttl: 60),
                trust: .additional,
                ttl: 60,
                now: 61 * RRsetCacheTests.second
            )
        )
    }

    @Test func staleWindowKeepsExpiredDataFlaggedStale() throws {
        let cache = RRsetCache()
        cache.store(
            self.key,
            self.records("192.0.2.1", ttl: 10),
            trust: .answerNonAuthoritative,
            ttl: 10,
            staleWindow: 100,
            now: 0
        )
        let stale = try #require(cache.lookup(self.key, now: 50 * RRsetCacheTests.second))
        #expect(stale.isStale && stale.remaining == 0)
        #expect(cache.lookup(self.key, now: 111 * RRsetCacheTests.second) == nil)
    }

    @Test func aScanOfOneTimeNamesDoesNotEvictNamesInUse() throws {
        let cache = RRsetCache(maxBytes: 12_000, shardCount: 1)
        let hot = (0..<5).map { RRsetCache.Key(name: name("hot\($0).example.org."), type: .a) }
        for key in hot {
            cache.store(key, self.records("192.0.2.1"), trust: .answerNonAuthoritative, ttl: 300, now: 0)
        }
        for round in 0..<20 {
            for key in hot { _ = cache.lookup(key, now: 0) }
            for index in 0..<50 {
                let once = RRsetCache.Key(name: name("scan\(round)-\(index).example.org."), type: .a)
                cache.store(once, self.records("198.51.100.1"), trust: .answerNonAuthoritative, ttl: 300, now: 0)
            }
        }
        #expect(hot.allSatisfy { cache.lookup($0, now: 0) != nil })
        #expect(cache.usage.bytes <= 12_000)
        #expect(cache.bytes == cache.usage.bytes)
        #expect(cache.usage.evictions > 900)
    }
}

@Suite struct RRsetCacheAnswerTests {
    @Test func oneLookupPerRRsetAndRememberedFailures() {
        let cache = RRsetCache()
        let question = Question(name: name("www.example.org."), type: .a)
        cache.store(
            RRsetCache.Key(name: name("www.example.org."), type: .a),
            .records([rr("www.example.org. 300 IN A 192.0.2.1")], signatures: nil),
            trust: .answerAuthoritative,
            ttl: 300,
            now: 0
        )
        // Looked up by another letter case: the same entry, one hit per answer.
        let first = cache.answer(
            Question(name: name("WWW.Example.ORG."), type: .a),
            dnssecOK: false,
            now: 0,
            allowStale: false
        )
        #expect(first?.finalHit?.hits == 1)
        let second = cache.answer(question, dnssecOK: false, now: 0, allowStale: false)
        #expect(second?.finalHit?.hits == 2)
        #expect(second?.answers.map(\.description) == ["www.example.org.\t300\tIN\tA\t192.0.2.1"])
        // A remembered SERVFAIL is a SERVFAIL answer while fresh, and nothing once stale.
        let failing = Question(name: name("broken.example.org."), type: .a)
        cache.store(
            RRsetCache.Key(name: failing.name, type: .a),
            .serverFailure,
            trust: .answerNonAuthoritative,
            ttl: 5,
            staleWindow: 10,
            now: 0
        )
        #expect(
            cache.answer(failing, dnssecOK: false, now: 1_000_000_000, allowStale: false)?.responseCode == .servFail
        )
        #expect(cache.answer(failing, dnssecOK: false, now: 6_000_000_000, allowStale: true) == nil)
    }
}
