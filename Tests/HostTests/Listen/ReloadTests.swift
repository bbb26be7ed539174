// ReloadTests: a reload keeps what it can: caches, upstream state and the fast path of blocks that did not change.

import Foundation
import Logging
import Pipeline
import Plugins
import SwiftletTestSupport
import Synchronization
import Testing

@testable import Host

@Suite(.serialized) struct ReloadTests {
    /// Block 0: cache + forward for everything; block 1: hosts for example.org., on the same address.
    static func text(upstream: FakeUpstream, forwardTimeout: String = "2s", idle: String = "10s") -> String {
        """
        servers:
          - listen: ["127.0.0.1:0"]
            workers: 1
            tcp_idle_timeout: \(idle)
            plugins:
              - cache: {}
              - forward: { to: ["\(upstream.address)"], timeout: \(forwardTimeout) }
          - listen: ["127.0.0.1:0"]
            zones: ["example.org."]
            plugins:
              - hosts: { file: hosts/example.hosts }
        """
    }

    static func configuration(_ text: String) throws -> Configuration {
        try Configuration.parse(text, source: "test.yaml", baseDirectory: fixturesDirectory.path)
    }

    @Test func twentyReloadsUnderLoadLoseNothingAndKeepTheCachesWarm() async throws {
        let upstream = try FakeUpstream { query, _ in
            .reply(answer("\(query.questions[0].name) 3600 IN A 192.0.2.1"))
        }
        defer { upstream.stop() }
        let (server, client) = try await startServer(ReloadTests.text(upstream: upstream))
        defer { Task { await server.stop(grace: 1) } }
        let address = client.server
        let names = (0..<50).map { "n\($0).example.net." }
        // Warm: every name once through the upstream.
        try await blocking { for name in names { _ = try client.exchange(query(name, .a)) } }
        #expect(upstream.queries.udp == 50)
        // Load from another thread all along: every query must be answered.
        let running = Atomic_Bool(true)
        let tally = Mutex<(answered: Int, lost: Int)>((0, 0))
        let load = Task {
            try? await blocking {
                let loader = DNSClient(server: address, timeout: 2)
                var index = 0
                while running.value {
                    let reply = try? loader.exchange(query(names[index % names.count], .a))
                    tally.withLock { reply?.answers.count == 1 ? ($0.answered += 1) : ($0.lost += 1) }
                    index += 1
                }
            }
        }
        let text = ReloadTests.text(upstream: upstream)
        for round in 0..<20 {
            let hitsBefore = server.cache.statistics.hits
            try server.reload(try ReloadTests.configuration(text))
            // After the reload, the same 50 names: from the fast path (the block did not change), none upstream.
            try await blocking { for name in names { _ = try client.exchange(query(name, .a)) } }
            #expect(upstream.queries.udp == 50, "round \(round)")
            let hits = server.cache.statistics.hits - hitsBefore
            // The load's queries hit too; at least the 50 of this round (≥ 95% of them would be the bar; all do).
            #expect(hits >= 50, "round \(round): \(hits) fast-path hits for 50 cached names")
        }
        running.value = false
        await load.value
        let (answered, lost) = tally.withLock { $0 }
        #expect(lost == 0 && answered > 0, "\(answered) answered, \(lost) lost under 20 reloads")
        // The forward options change: the block's fast path goes, but the RRset cache (its options unchanged) stays.
        let notes = try server.reload(
            try ReloadTests.configuration(ReloadTests.text(upstream: upstream, forwardTimeout: "1s", idle: "5s"))
        )
        let missesBefore = server.cache.statistics.misses
        try await blocking { for name in names { _ = try client.exchange(query(name, .a)) } }
        #expect(server.cache.statistics.misses - missesBefore == 50)
        #expect(upstream.queries.udp == 50)
        // The idle timeout of a listener that is already open applies at the next start, and says so.
        #expect(notes == ["servers[0].tcp_idle_timeout changed from 10.0 to 5.0; the running value stays until restart"])
    }

    @Test func aBlockWhoseChainChangedLosesItsFastPathAndTheOthersKeepTheirs() async throws {
        let upstream = try FakeUpstream { query, _ in
            .reply(answer("\(query.questions[0].name) 3600 IN A 192.0.2.1"))
        }
        defer { upstream.stop() }
        let text = ReloadTests.text(upstream: upstream)
        let (server, client) = try await startServer(text)
        defer { Task { await server.stop(grace: 1) } }
        try await blocking {
            for _ in 0..<2 {
                _ = try client.exchange(query("www.example.org.", .a))
                _ = try client.exchange(query("a.example.net.", .a))
            }
        }
        // Block 1 (hosts) gets another TTL: its entries go; block 0's stay.
        let changed = text.replacingOccurrences(of: "file: hosts/example.hosts }", with: "file: hosts/example.hosts, ttl: 60 }")
        try server.reload(try ReloadTests.configuration(changed))
        let before = server.cache.statistics
        let (hosts, forwarded) = try await blocking {
            (try client.exchange(query("www.example.org.", .a)), try client.exchange(query("a.example.net.", .a)))
        }
        let after = server.cache.statistics
        #expect(hosts.answers.allSatisfy { $0.ttl == 60 })
        #expect(forwarded.answers.count == 1)
        #expect(after.hits - before.hits == 1 && after.misses - before.misses == 1)
    }
}
