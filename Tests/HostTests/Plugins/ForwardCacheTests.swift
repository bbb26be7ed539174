// ForwardCacheTests: forward and cache against scripted upstreams on loopback.

import Foundation
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@testable import Host

@Suite(.serialized) struct ForwardCacheTests {
    static let www = answer("www.example.org. 300 IN A 192.0.2.1", "www.example.org. 300 IN A 192.0.2.2")

    /// An upstream that answers `www.example.org.` with a 1 s TTL while `alive`, and then nothing (the serve-stale tests).
    static func upstream(while alive: Atomic_Bool) throws -> FakeUpstream {
        try FakeUpstream { _, _ in alive.value ? .reply(answer("www.example.org. 1 IN A 192.0.2.1")) : .drop }
    }

    func forward(_ upstream: FakeUpstream, cache: String? = nil, options: String = "") -> String {
        var lines = ""
        if let cache { lines += "      - cache: \(cache)\n" }
        lines += "      - forward: { to: [\"\(upstream.address)\"]\(options) }"
        return lines
    }

    @Test func forwardedAnswerEqualsTheUpstreamsWithTheClientsIDAndCase() async throws {
        let upstream = try FakeUpstream { _, _ in .reply(ForwardCacheTests.www) }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream)) { server in
            let reply = try await server.ask(query("WwW.Example.ORG.", .a, id: 4242))
            #expect(reply.header.id == 4242 && reply.header.recursionAvailable)
            #expect(reply.questions[0].name.isIdentical(to: name("WwW.Example.ORG.")))
            #expect(reply.answers == ForwardCacheTests.www.answers)
            // Forward alone caches nothing: every query reaches the upstream.
            _ = try await server.ask(query("www.example.org.", .a))
            #expect(upstream.queries.udp == 2)
        }
    }

    @Test func cacheAnswersRepeatsAndTTLsCountDown() async throws {
        let upstream = try FakeUpstream { _, _ in .reply(ForwardCacheTests.www) }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, cache: "{}")) { server in
            _ = try await server.ask(query("www.example.org.", .a))
            try await Task.sleep(for: .milliseconds(1100))
            // Straight from the RRset cache (the message cache was emptied), TTL lowered by the time passed.
            server.server.cache.removeAll()
            let cached = try await server.ask(query("www.example.org.", .a))
            #expect(cached.answers.allSatisfy { $0.ttl < 300 && $0.ttl >= 290 })
            #expect(Set(cached.answers.map(\.rdata)) == Set(ForwardCacheTests.www.answers.map(\.rdata)))
            #expect(upstream.queries.udp == 1)
            // And again through the fast path.
            _ = try await server.ask(query("www.example.org.", .a))
            #expect(upstream.queries.udp == 1)
        }
    }

    @Test func negativeAnswersAreCachedForTheSOATime() async throws {
        let soa = "example.org. 3600 IN SOA ns.example.org. h.example.org. 1 2 3 4 60"
        let upstream = try FakeUpstream { query, _ in
            query.questions[0].name == name("nx.example.org.")
                ? .reply(answer(code: .nxDomain, authority: [soa])) : .reply(answer(authority: [soa]))
        }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, cache: "{ max_negative_ttl: 30 }")) { server in
            for _ in 0..<3 {
                server.server.cache.removeAll()
                let nx = try await server.ask(query("nx.example.org.", .a))
                #expect(nx.responseCode == .nxDomain && nx.authorities.first?.type == .soa)
                #expect((nx.authorities.first?.ttl ?? 0) <= 30)
                // NXDOMAIN covers every type of the name.
                #expect(try await server.ask(query("nx.example.org.", .txt)).responseCode == .nxDomain)
                let nodata = try await server.ask(query("www.example.org.", .aaaa))
                #expect(nodata.responseCode == .noError && nodata.answers.isEmpty && nodata.authorities.count == 1)
            }
            #expect(upstream.queries.udp == 2)
        }
    }

    @Test func negativeAnswersLiveForTheSOAsMinimumAndThenAreAskedAgain() async throws {
        // TTL 3600 but MINIMUM 1: the negative TTL is the smaller (RFC 2308 §5), below max_negative_ttl's default.
        let soa = "example.org. 3600 IN SOA ns.example.org. h.example.org. 1 2 3 4 1"
        let upstream = try FakeUpstream { query, _ in
            query.questions[0].name == name("nx.example.org.")
                ? .reply(answer(code: .nxDomain, authority: [soa])) : .reply(answer(authority: [soa]))
        }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, cache: "{}")) { server in
            let nx = try await server.ask(query("nx.example.org.", .a))
            let nodata = try await server.ask(query("www.example.org.", .aaaa))
            #expect(nx.responseCode == .nxDomain && nx.authorities.map(\.ttl) == [1])
            #expect(nodata.responseCode == .noError && nodata.answers.isEmpty && nodata.authorities.map(\.ttl) == [1])
            _ = try await server.ask(query("nx.example.org.", .a))
            _ = try await server.ask(query("www.example.org.", .aaaa))
            #expect(upstream.queries.udp == 2)
            // Once that second has passed, both are asked again.
            try await Task.sleep(for: .milliseconds(1300))
            _ = try await server.ask(query("nx.example.org.", .a))
            _ = try await server.ask(query("www.example.org.", .aaaa))
            #expect(upstream.queries.udp == 4)
        }
    }

    @Test func severalForwardEntriesSendEachZoneToItsOwnUpstreams() async throws {
        let inside = try FakeUpstream { _, _ in .reply(answer("www.corp.example. 300 IN A 10.0.0.1")) }
        let outside = try FakeUpstream { _, _ in .reply(ForwardCacheTests.www) }
        defer { inside.stop(); outside.stop() }
        let plugins = """
                  - cache: {}
                  - forward: { to: ["\(inside.address)"], zones: [corp.example.] }
                  - forward: { to: ["\(outside.address)"] }
            """
        try await withServer(plugins: plugins) { server in
            let corp = try await server.ask(query("www.corp.example.", .a))
            let org = try await server.ask(query("www.example.org.", .a))
            #expect(corp.answers.map(\.rdata) == [.a(IPv4Address(10, 0, 0, 1))] && org.answers.count == 2)
            #expect(inside.queries.udp == 1 && outside.queries.udp == 1)
        }
    }

    @Test func theCachesMemoryIsReported() async throws {
        let upstream = try FakeUpstream { _, _ in .reply(ForwardCacheTests.www) }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, cache: "{}"), admin: true) { server in
            _ = try await server.ask(query("www.example.org.", .a))
            // The stores run after the reply: wait for the message cache's.
            for _ in 0..<20 where server.server.cache.statistics.entries == 0 {
                try await Task.sleep(for: .milliseconds(50))
            }
            let statistics = server.server.cache.statistics
            #expect(statistics.entries == 1 && statistics.bytes > 40 && statistics.bytes < 4096)
            // Both levels' gauges are exported. (Their values are the process's: every test server shares the
            // registry, so only their presence is checked here; the sums are unit-tested with the caches.)
            let metrics = try await blocking { try ServerTests.httpGet(port: server.server.adminPort!, path: "/metrics") }
            let lines = metrics.split(separator: "\n")
            for gauge in [
                "swiftlet_cache_memory_bytes{", "swiftlet_message_cache_bytes ", "swiftlet_message_cache_max_bytes ",
                "swiftlet_message_cache_entries ", "swiftlet_message_cache_evictions ",
            ] {
                let value = lines.first { $0.hasPrefix(gauge) }.flatMap { $0.split(separator: " ").last }
                #expect(value.flatMap { Double($0) } != nil, "\(gauge)")
            }
        }
    }

    @Test func maxSizeBoundsBothCacheLevels() async throws {
        let upstream = try FakeUpstream { query, _ in .reply(answer("\(query.questions[0].name) 300 IN A 192.0.2.1")) }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, cache: "{ max_size: 65536 }")) { server in
            #expect(server.server.cache.maxBytes == 65536)
            // About 1,500 answers' worth of both levels into 64 KiB each: both must evict to stay under it.
            for index in 0..<1500 { _ = try await server.ask(query("n\(index).example.org.", .a)) }
            let statistics = server.server.cache.statistics
            #expect(statistics.bytes <= 65536 && statistics.evictions > 0 && statistics.entries > 100)
            // The RRset level: its own cache's figures (the gauge is shared by every test server in the process).
            let rrsets = try #require(server.server.rrsetCaches.first)
            #expect(rrsets.maxBytes == 65536)
            #expect(rrsets.usage.bytes <= 65536 && rrsets.usage.evictions > 0 && rrsets.usage.entries > 50)
        }
    }

    @Test func dnssecOKQueriesAreKeptApart() async throws {
        let upstream = try FakeUpstream { _, _ in .reply(ForwardCacheTests.www) }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, cache: "{}")) { server in
            _ = try await server.ask(query("www.example.org.", .a))
            _ = try await server.ask(query("www.example.org.", .a, dnssecOK: true))
            _ = try await server.ask(query("www.example.org.", .a, dnssecOK: true))
            #expect(upstream.queries.udp == 2)
            // CD is kept apart in the fast path too: the RRset cache answers it, the upstream is not asked again.
            var checkingDisabled = query("www.example.org.", .a)
            checkingDisabled.header.checkingDisabled = true
            let cd = try await server.ask(checkingDisabled)
            #expect(cd.header.checkingDisabled && cd.answers.count == 2)
            #expect(upstream.queries.udp == 2)
        }
    }

    @Test func answersToCheckingDisabledQueriesAreNotServedToValidatingOnes() async throws {
        let upstream = try FakeUpstream { _, _ in .reply(ForwardCacheTests.www) }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, cache: "{}")) { server in
            var checkingDisabled = query("www.example.org.", .a)
            checkingDisabled.header.checkingDisabled = true
            _ = try await server.ask(checkingDisabled)
            _ = try await server.ask(checkingDisabled)
            #expect(upstream.queries.udp == 1)
            // Unvalidated data (CD=1) stays in the message cache under its own key; a CD=0 query asks the upstream.
            server.server.cache.removeAll()
            let validated = try await server.ask(query("www.example.org.", .a))
            #expect(!validated.header.checkingDisabled && validated.answers.count == 2)
            #expect(upstream.queries.udp == 2)
        }
    }

    @Test func negativeAnswersWithoutAnSOAAreNotCached() async throws {
        let upstream = try FakeUpstream { _, _ in .reply(answer()) }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, cache: "{}")) { server in
            for _ in 0..<3 {
                let reply = try await server.ask(query("empty.example.org.", .a))
                #expect(reply.responseCode == .noError && reply.answers.isEmpty && reply.authorities.isEmpty)
            }
            // RFC 2308 §5: nothing bounds how long such an answer may live, so every query asks again.
            #expect(upstream.queries.udp == 3)
        }
    }

    @Test func minAndMaxTTLBoundTheTTLsGivenAndCached() async throws {
        let upstream = try FakeUpstream { query, _ in
            query.questions[0].name == name("short.example.org.")
                ? .reply(answer("short.example.org. 5 IN A 192.0.2.1"))
                : .reply(answer("long.example.org. 999999 IN A 192.0.2.2"))
        }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, cache: "{ min_ttl: 60, max_ttl: 3600 }")) { server in
            #expect(try await server.ask(query("short.example.org.", .a)).answers.map(\.ttl) == [60])
            #expect(try await server.ask(query("long.example.org.", .a)).answers.map(\.ttl) == [3600])
            // The same bounds in the RRset cache.
            server.server.cache.removeAll()
            let short = try await server.ask(query("short.example.org.", .a)).answers.map(\.ttl)
            let long = try await server.ask(query("long.example.org.", .a)).answers.map(\.ttl)
            #expect(short.count == 1 && short[0] <= 60 && short[0] >= 58)
            #expect(long.count == 1 && long[0] <= 3600 && long[0] >= 3598)
            #expect(upstream.queries.udp == 2)
        }
    }

    @Test func staleDataIsNotServedPastTheStaleWindow() async throws {
        let alive = Atomic_Bool(true)
        let upstream = try ForwardCacheTests.upstream(while: alive)
        defer { upstream.stop() }
        let plugins = self.forward(upstream, cache: "{ serve_stale: 3s }", options: ", timeout: 200ms, deadline: 300ms")
        try await withServer(plugins: plugins) { server in
            #expect(try await server.ask(query("www.example.org.", .a)).answers.count == 1)
            alive.value = false
            // Expired after 1 s, servable stale until 4 s.
            try await Task.sleep(for: .milliseconds(1500))
            let stale = try await server.ask(query("www.example.org.", .a))
            #expect(stale.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1))])
            // The 30 s recheck interval that answer started does not stretch the window: past 4 s there is nothing.
            try await Task.sleep(for: .milliseconds(3000))
            server.server.cache.removeAll()
            let after = try await server.ask(query("www.example.org.", .a))
            #expect(after.responseCode == .servFail && after.answers.isEmpty)
        }
    }

    @Test func identicalConcurrentMissesShareOneUpstreamQuery() async throws {
        let upstream = try FakeUpstream { _, _ in .delay(0.5, ForwardCacheTests.www) }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream, options: ", max_concurrent: 10")) { server in
            let address = server.address
            let replies = try await blocking { () throws -> Int in
                var (target, length) = SocketAddresses.make(address)
                let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
                defer { close(fd) }
                var size: Int32 = 8 << 20
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
                var time = timeval(tv_sec: 3, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
                _ = withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
                }
                for id in 0..<1000 { try DNSClient.sendAll(fd, query("www.example.org.", .a, id: UInt16(id)).wire) }
                var ids = Set<UInt16>()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while ids.count < 1000 {
                    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    guard count > 0, let reply = try? Message(wire: Array(buffer[0..<count])) else { break }
                    if reply.answers.count == 2 { ids.insert(reply.header.id) }
                }
                return ids.count
            }
            #expect(replies == 1000)
            #expect(upstream.queries.udp == 1)
        }
    }

    @Test func truncatedUpstreamAnswerIsRetriedOverTCP() async throws {
        let full = answer("www.example.org. 300 IN TXT \"complete\"")
        let upstream = try FakeUpstream { _, transport in
            transport == .udp ? .reply(answer(truncated: true)) : .reply(full)
        }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward(upstream)) { server in
            let reply = try await server.ask(query("www.example.org.", .txt))
            #expect(reply.answers.map(\.rdata) == [.txt([Array("complete".utf8)])])
            #expect(!reply.header.isTruncated)
            #expect(upstream.queries == (1, 1))
        }
    }

    @Test func spoofedRepliesAreIgnored() async throws {
        let upstream = try FakeUpstream { query, _ in
            var wrongID = ForwardCacheTests.www
            wrongID.header.id = query.header.id &+ 1
            wrongID.questions = query.questions
            wrongID.header.isResponse = true
            var wrongQuestion = answer("evil.example.net. 300 IN A 203.0.113.66")
            wrongQuestion.questions = [Question(name: name("evil.example.net."), type: .a)]
            wrongQuestion.header.id = query.header.id
            var fromElsewhere = answer("www.example.org. 300 IN A 203.0.113.66")
            fromElsewhere.header.id = query.header.id
            fromElsewhere.questions = query.questions
            return .sequence([
                .raw(wrongID.encodeReply().encoded.bytes), .raw(wrongQuestion.encodeReply().encoded.bytes),
                .fromOtherPort(fromElsewhere.encodeReply().encoded.bytes),
                .fromOtherAddress(fromElsewhere.encodeReply().encoded.bytes), .delay(0.2, ForwardCacheTests.www),
            ])
        }
        defer { upstream.stop() }
        // Block 1, so its counter is its own: forward tests in other suites move server="0"'s meanwhile.
        try await withServer(plugins: self.forward(upstream), blockIndex: 1, admin: true) { server in
            let rejected = "swiftlet_forward_rejected_replies_total"
            let before = try await server.counter(rejected, labels: "server=\"1\"")
            let reply = try await server.ask(query("www.example.org.", .a))
            #expect(Set(reply.answers.map(\.rdata)) == Set(ForwardCacheTests.www.answers.map(\.rdata)))
            // Wrong ID, wrong question, wrong source port and wrong source address: all four seen and rejected.
            #expect(try await server.counter(rejected, labels: "server=\"1\"") == before + 4)
        }
    }

    @Test func deadUpstreamGivesSERVFAILWithinTheDeadline() async throws {
        let upstream = try FakeUpstream { _, _ in .drop }
        defer { upstream.stop() }
        // Health-check probes (`. NS`) would also reach the upstream: kept out of the window the test counts in.
        let options = ", timeout: 200ms, deadline: 500ms, health_check: 1h"
        try await withServer(plugins: self.forward(upstream, options: options)) { server in
            // The test client gives up after 2 s: SERVFAIL arrives well inside that (deadline 500 ms).
            let reply = try await server.ask(query("www.example.org.", .a))
            #expect(reply.responseCode == .servFail)
            guard case .extendedError(let error)? = reply.edns?.options.first else {
                Issue.record("no Extended DNS Error")
                return
            }
            #expect(error.infoCode == .networkError)
            // After max_fails the upstream is down: the next query fails at once, without asking it.
            _ = try await server.ask(query("other.example.org.", .a))
            let asked = upstream.queries.udp
            let down = try await server.ask(query("third.example.org.", .a))
            #expect(down.responseCode == .servFail && upstream.queries.udp == asked)
        }
    }

    @Test func staleDataIsServedWhenUpstreamsFail() async throws {
        let alive = Atomic_Bool(true)
        let upstream = try ForwardCacheTests.upstream(while: alive)
        defer { upstream.stop() }
        let plugins = self.forward(upstream, cache: "{ serve_stale: 1h }", options: ", timeout: 200ms, deadline: 400ms")
        try await withServer(plugins: plugins) { server in
            #expect(try await server.ask(query("www.example.org.", .a)).answers.count == 1)
            alive.value = false
            try await Task.sleep(for: .milliseconds(1500))
            let stale = try await server.ask(query("www.example.org.", .a))
            #expect(stale.responseCode == .noError)
            #expect(stale.answers.map(\.ttl) == [30])
            #expect(stale.edns?.options == [.extendedError(ExtendedError(infoCode: .staleAnswer))])
            // RFC 8767 §5: the failed upstream is not asked again for 30 s; the stale data answers meanwhile.
            let asked = upstream.queries.udp
            for _ in 0..<3 {
                server.server.cache.removeAll()
                #expect(try await server.ask(query("www.example.org.", .a)).answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1))])
            }
            #expect(upstream.queries.udp == asked)
        }
    }

    @Test func prefetchRefreshesAHotNameBeforeItExpires() async throws {
        let asked = Atomic_Bool(false)
        let upstream = try FakeUpstream { _, _ in
            // The first answer is 192.0.2.1; every later one 192.0.2.2.
            let address = asked.value ? "192.0.2.2" : "192.0.2.1"
            asked.value = true
            return .reply(answer("hot.example.org. 6 IN A \(address)"))
        }
        defer { upstream.stop() }
        let plugins = self.forward(upstream, cache: "{ prefetch: { min_hits: 1, before_expiry: 50 } }")
        try await withServer(plugins: plugins, admin: true) { server in
            let prefetchesBefore = try await server.counter("swiftlet_cache_prefetches_total")
            let started = Clock.nanoseconds()
            let first = try await server.ask(query("hot.example.org.", .a))
            #expect(first.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1))])
            // Inside the last half of the TTL (3 s of 6): the old answer at once, and a refresh behind it.
            try await Task.sleep(for: .milliseconds(3500))
            let during = try await server.ask(query("hot.example.org.", .a))
            #expect(during.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1))])
            var refreshed: [RData] = []
            for _ in 0..<30 where refreshed != [.a(IPv4Address(192, 0, 2, 2))] {
                try await Task.sleep(for: .milliseconds(100))
                refreshed = try await server.ask(query("hot.example.org.", .a)).answers.map(\.rdata)
            }
            // The new data arrived before the old expired (6 s), through exactly one more upstream query: the prefetch.
            #expect(refreshed == [.a(IPv4Address(192, 0, 2, 2))])
            #expect(Double(Clock.nanoseconds() - started) / 1e9 < 5.5)
            #expect(upstream.queries.udp == 2)
            #expect(try await server.counter("swiftlet_cache_prefetches_total") == prefetchesBefore + 1)
        }
    }

    @Test func staleDataIsServedWhenTheUpstreamIsSlowerThanTheClientTimeout() async throws {
        let slow = Atomic_Bool(false)
        let upstream = try FakeUpstream { _, _ in
            // The first answer lives 1 s; the slow one 10 s.
            let reply =
                slow.value ? answer("www.example.org. 10 IN A 192.0.2.2") : answer("www.example.org. 1 IN A 192.0.2.1")
            return slow.value ? .delay(1.2, reply) : .reply(reply)
        }
        defer { upstream.stop() }
        let plugins = self.forward(upstream, cache: "{ serve_stale: 1h, stale_client_timeout: 200ms }")
        try await withServer(plugins: plugins) { server in
            #expect(try await server.ask(query("www.example.org.", .a)).answers.count == 1)
            slow.value = true
            try await Task.sleep(for: .milliseconds(1500))
            // The upstream now takes 1.2 s; after 200 ms the client gets the expired data (our client waits 2 s).
            let stale = try await server.ask(query("www.example.org.", .a))
            #expect(stale.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1))])
            #expect(stale.answers.map(\.ttl) == [30])
            #expect(stale.edns?.options == [.extendedError(ExtendedError(infoCode: .staleAnswer))])
            // The refresh still completed and was stored.
            try await Task.sleep(for: .milliseconds(1500))
            server.server.cache.removeAll()
            slow.value = false
            let fresh = try await server.ask(query("www.example.org.", .a))
            #expect(fresh.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 2))])
            // From the cache: the upstream saw the first query and the refresh only.
            #expect(upstream.queries.udp == 2)
        }
    }

    @Test func exceptAndZonesPassNamesOn() async throws {
        let upstream = try FakeUpstream { _, _ in .reply(ForwardCacheTests.www) }
        defer { upstream.stop() }
        let plugins =
            "      - forward: { to: [\"\(upstream.address)\"], zones: [example.org.], except: [local.example.org.] }\n      - echo: {}"
        try await withServer(plugins: plugins) { server in
            let forwarded = try await server.ask(query("www.example.org.", .a))
            #expect(forwarded.answers.count == 2)
            #expect(try await server.ask(query("a.local.example.org.", .a)).additionals.count == 2)
            #expect(try await server.ask(query("www.example.net.", .a)).additionals.count == 2)
            #expect(upstream.queries.udp == 1)
        }
    }

    @Test func badForwardOptionsAreNamed() throws {
        let text =
            "servers:\n  - listen: [\"127.0.0.1:0\"]\n    plugins:\n      - forward: { to: [\"192.0.2.1:99999\"] }\n"
        #expect(
            buildError(text)
                == "test.yaml:4:25: servers[0].plugins[0].forward.to[0]: '192.0.2.1:99999' is not an upstream like 192.0.2.53, 192.0.2.53:5300, [2001:db8::53]:53, tcp://192.0.2.53 or tls://192.0.2.53#dns.example.net"
        )
        let order =
            "servers:\n  - listen: [\"127.0.0.1:0\"]\n    plugins:\n      - forward: { to: [\"192.0.2.1\"] }\n      - cache: {}\n"
        #expect(
            buildError(order) == "test.yaml: servers[0].plugins: plugin 'cache' must come before 'forward' in the chain"
        )
    }
}

/// A flag a script closure can read while a test flips it.
final class Atomic_Bool: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Bool
    init(_ value: Bool) { self.stored = value }
    var value: Bool {
        get { self.lock.withLock { self.stored } }
        set { self.lock.withLock { self.stored = newValue } }
    }
}
