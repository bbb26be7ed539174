// InfrastructureCacheTests: RTT smoothing and back-off, RTT bands, lameness and the delegation failure back-off.

import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct InfrastructureCacheTests {
    static let second: UInt64 = 1_000_000_000
    let fast = IPAddress("192.0.2.1")!
    let slow = IPAddress("192.0.2.2")!
    let unknown = IPAddress("192.0.2.3")!

    @Test func timeoutsFollowTheMeasuredRTTAndBackOff() {
        let cache = InfrastructureCache()
        #expect(cache.timeout(for: self.fast, now: 0) == InfrastructureCache.unknownRTT)
        cache.answered(self.fast, after: 10, now: 0)
        // srtt 10, rttvar 5: 10 + 4·5 = 30, raised to the 50 ms floor.
        #expect(cache.timeout(for: self.fast, now: 0) == 50)
        cache.answered(self.slow, after: 200, now: 0)
        #expect(cache.timeout(for: self.slow, now: 0) == 600)
        cache.timedOut(self.slow, now: 0)
        cache.timedOut(self.slow, now: 0)
        #expect(cache.timeout(for: self.slow, now: 0) == 2400)
        for _ in 0..<10 { cache.timedOut(self.slow, now: 0) }
        #expect(cache.timeout(for: self.slow, now: 0) == InfrastructureCache.maximumTimeout)
        // Facts expire with the host TTL.
        #expect(cache.timeout(for: self.slow, now: InfrastructureCache.hostTTL + 1) == InfrastructureCache.unknownRTT)
    }

    @Test func serversWithinTheBandComeFirstAndSlowOnesLast() {
        let cache = InfrastructureCache()
        cache.answered(self.fast, after: 5, now: 0)
        cache.answered(self.slow, after: 900, now: 0)
        for _ in 0..<20 {
            let order = cache.order([self.slow, self.unknown, self.fast], now: 0)
            // fast (5 ms) and unknown (376 ms) are within 400 ms of each other, in random order; slow is last.
            #expect(Set(order.prefix(2)) == [self.fast, self.unknown])
            #expect(order.last == self.slow)
        }
    }

    @Test func lamenessAndFailuresAreRememberedForAWhile() {
        let cache = InfrastructureCache()
        let zone = name("example.test.")
        cache.markLame(self.fast, zone: zone, now: 0)
        #expect(cache.isLame(self.fast, zone: zone, now: 1))
        #expect(!cache.isLame(self.fast, zone: name("other.test."), now: 1))
        #expect(!cache.isLame(self.fast, zone: zone, now: InfrastructureCache.lameTTL))
        // RFC 9520 §3.2: 1 s, then doubled per failure, at most 5 minutes; an answer clears it.
        var now: UInt64 = 0
        var backOffs: [UInt64] = []
        for _ in 0..<12 {
            cache.recordFailure(zone, now: now)
            var end = now
            while cache.isFailing(zone, now: end) { end += Self.second / 2 }
            backOffs.append((end - now) / Self.second)
            now = end
        }
        #expect(backOffs.prefix(5) == [1, 2, 4, 8, 16])
        #expect(backOffs.last == 300)
        cache.recordFailure(zone, now: now)
        cache.recordSuccess(zone)
        #expect(!cache.isFailing(zone, now: now))
    }

    @Test func randomisedCaseKeepsTheName() {
        let original = name("www.example-with-letters.test.")
        var differed = false
        for _ in 0..<20 {
            let mixed = original.withRandomCase()
            #expect(mixed == original)
            #expect(mixed.wire.count == original.wire.count)
            differed = differed || mixed.wire != original.wire
        }
        #expect(differed)
    }
}
