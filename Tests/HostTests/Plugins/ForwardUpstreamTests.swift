// ForwardUpstreamTests: how forward picks, asks, sheds and recovers its upstreams (scripted upstreams on loopback).

import Foundation
import Pipeline
import Plugins
import Synchronization
import SwiftletTestSupport
import Testing

@testable import Host

@Suite(.serialized) struct ForwardUpstreamTests {
    /// Each name answers with one address.
    static func reply(_ query: Message) -> FakeAction {
        .reply(answer("\(query.questions[0].name) 300 IN A 192.0.2.1"))
    }

    func forward(_ upstreams: [FakeUpstream], options: String = "") -> String {
        let to = upstreams.map { "\"\($0.address)\"" }.joined(separator: ", ")
        return "      - forward: { to: [\(to)]\(options) }"
    }

    @Test func queriesSentUpstreamCarryOurEDNSSizeAndTheClientsDOAndCD() async throws {
        let seen = Mutex<[Message]>([])
        let upstream = try FakeUpstream { query, _ in
            seen.withLock { $0.append(query) }
            return ForwardUpstreamTests.reply(query)
        }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward([upstream])) { server in
            var asked = query("www.example.org.", .a, dnssecOK: true)
            asked.header.checkingDisabled = true
            asked.edns?.udpPayloadSize = 4096
            _ = try await server.ask(asked)
            _ = try await server.ask(query("plain.example.org.", .a, edns: false))
            let sent = seen.withLock { $0 }
            #expect(sent.count == 2)
            guard sent.count == 2 else { return }
            // RD always; our payload size (RFC 6891, 1232 whatever the client's), and DO and CD as the client set them.
            #expect(sent[0].header.recursionDesired && sent[0].header.checkingDisabled)
            #expect(sent[0].edns?.udpPayloadSize == 1232 && sent[0].edns?.dnssecOK == true)
            #expect(sent[1].header.recursionDesired && !sent[1].header.checkingDisabled)
            #expect(sent[1].edns?.udpPayloadSize == 1232 && sent[1].edns?.dnssecOK == false)
            // Fresh random IDs (RFC 5452), not the client's 0x1234 (both equal to it by chance: 2^-32).
            #expect(!(sent[0].header.id == 0x1234 && sent[1].header.id == 0x1234))
        }
    }

    /// sequential: the first while it answers; round_robin: each in turn.
    @Test(arguments: [("sequential", 6, 0), ("round_robin", 3, 3)])
    func orderedPoliciesShareQueriesAsTheySay(policy: String, first expectedFirst: Int, second expectedSecond: Int)
        async throws
    {
        let first = try FakeUpstream { query, _ in ForwardUpstreamTests.reply(query) }
        let second = try FakeUpstream { query, _ in ForwardUpstreamTests.reply(query) }
        defer { first.stop(); second.stop() }
        try await withServer(plugins: self.forward([first, second], options: ", policy: \(policy)")) { server in
            for index in 0..<6 { _ = try await server.ask(query("n\(index).example.org.", .a)) }
            #expect(first.queries.udp == expectedFirst && second.queries.udp == expectedSecond)
        }
    }

    @Test func randomPolicyUsesEveryUpstream() async throws {
        let first = try FakeUpstream { query, _ in ForwardUpstreamTests.reply(query) }
        let second = try FakeUpstream { query, _ in ForwardUpstreamTests.reply(query) }
        defer { first.stop(); second.stop() }
        try await withServer(plugins: self.forward([first, second], options: ", policy: random")) { server in
            // 40 questions all going to one of two upstreams by chance: 2^-39.
            for index in 0..<40 { _ = try await server.ask(query("n\(index).example.org.", .a)) }
            #expect(first.queries.udp + second.queries.udp == 40)
            #expect(first.queries.udp > 0 && second.queries.udp > 0)
        }
    }

    @Test func fastestPolicyPrefersTheUpstreamWithTheLowerSmoothedRTT() async throws {
        let slow = try FakeUpstream { query, _ in
            .delay(0.15, answer("\(query.questions[0].name) 300 IN A 192.0.2.1"))
        }
        let fast = try FakeUpstream { query, _ in ForwardUpstreamTests.reply(query) }
        defer { slow.stop(); fast.stop() }
        try await withServer(plugins: self.forward([slow, fast], options: ", policy: fastest")) { server in
            for index in 0..<20 { _ = try await server.ask(query("n\(index).example.org.", .a)) }
            // One query in twenty explores the other upstream; the rest go to the faster one once both are measured.
            #expect(slow.queries.udp + fast.queries.udp == 20)
            #expect(fast.queries.udp >= 15)
        }
    }

    @Test func anUpstreamThatDoesNotAnswerIsFollowedByTheNext() async throws {
        let dead = try FakeUpstream { _, _ in .drop }
        let alive = try FakeUpstream { query, _ in ForwardUpstreamTests.reply(query) }
        defer { dead.stop(); alive.stop() }
        let options = ", policy: sequential, timeout: 200ms, deadline: 1500ms, health_check: 1h"
        try await withServer(plugins: self.forward([dead, alive], options: options)) { server in
            let started = Clock.nanoseconds()
            let reply = try await server.ask(query("www.example.org.", .a))
            let elapsed = Double(Clock.nanoseconds() - started) / 1e9
            #expect(reply.responseCode == .noError && reply.answers.count == 1)
            // One try's timeout on the dead one, then the next answered.
            #expect(elapsed >= 0.2 && elapsed < 1.5)
            #expect(dead.queries.udp == 1 && alive.queries.udp == 1)
        }
    }

    @Test func tcpUpstreamsAreAskedOverTCPOnly() async throws {
        let upstream = try FakeUpstream { query, _ in ForwardUpstreamTests.reply(query) }
        defer { upstream.stop() }
        let plugins = "      - forward: { to: [\"tcp://\(upstream.address)\"] }"
        try await withServer(plugins: plugins) { server in
            for index in 0..<3 {
                let reply = try await server.ask(query("n\(index).example.org.", .a))
                #expect(reply.answers.map(\.name) == [name("n\(index).example.org.")])
            }
            #expect(upstream.queries == (0, 3))
        }
    }

    @Test func aTCPUpstreamThatNeverAcceptsIsBoundedByTheTimeout() async throws {
        // A listener whose accept queue is full: the kernel drops further SYNs, so connecting hangs (a dead host).
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        listen(listener, 0)
        var fillers: [Int32] = []
        for _ in 0..<3 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, length) }
            }
            fillers.append(filler)
        }
        defer { for fd in fillers + [listener] { close(fd) } }
        let port = UInt16(bigEndian: address.sin_port)
        let plugins =
            "      - forward: { to: [\"tcp://127.0.0.1:\(port)\"], timeout: 300ms, deadline: 600ms, health_check: 1h }"
        try await withServer(plugins: plugins) { server in
            let started = Clock.nanoseconds()
            let reply = try await server.ask(query("www.example.org.", .a))
            let elapsed = Double(Clock.nanoseconds() - started) / 1e9
            // SERVFAIL once the try's 300 ms are up (connecting included, and the 600 ms deadline), before the old
            // fixed 2 s connect could have ended (with room for a loaded machine: other suites run alongside).
            #expect(reply.responseCode == .servFail)
            #expect(elapsed < 1.9)
        }
    }

    @Test func tcpUpstreamConnectionsAreReusedAndPipelined() async throws {
        let upstream = try FakeUpstream { query, _ in
            // The first question's answer is held back: the others' answers overtake it on the same connection.
            let name = query.questions[0].name
            let reply = answer("\(name) 300 IN A 192.0.2.1")
            return name == SwiftletTestSupport.name("slow.example.org.") ? .delay(0.3, reply) : .reply(reply)
        }
        defer { upstream.stop() }
        let plugins = "      - forward: { to: [\"tcp://\(upstream.address)\"] }"
        try await withServer(plugins: plugins) { server in
            // The connection first, so the three below find it open.
            _ = try await server.ask(query("first.example.org.", .a))
            // The labels in the order their answers arrived.
            let finished = try await withThrowingTaskGroup(of: String.self) { group in
                for label in ["slow", "quick", "brisk"] {
                    group.addTask {
                        let reply = try await server.ask(query("\(label).example.org.", .a))
                        #expect(reply.answers.map(\.name) == [name("\(label).example.org.")])
                        return label
                    }
                    // The slow one reaches the upstream (held there) before the others are sent.
                    if label == "slow" { try await ForwardUpstreamTests.wait { upstream.queries.tcp >= 2 } }
                }
                var order: [String] = []
                for try await label in group { order.append(label) }
                return order
            }
            #expect(finished.count == 3 && finished.last == "slow")
            #expect(upstream.queries == (0, 4))
            #expect(upstream.connections == 1)
        }
    }

    @Test func maxConcurrentRefusesWhatIsOverTheBoundAndCountsIt() async throws {
        // The first query is held 2 s upstream: long enough that the second is sent while it is, however loaded the
        // machine (0.5 s was not, once, under the full suite).
        let upstream = try FakeUpstream { query, _ in
            .delay(2, answer("\(query.questions[0].name) 300 IN A 192.0.2.1"))
        }
        defer { upstream.stop() }
        let plugins = "      - cache: {}\n" + self.forward([upstream], options: ", max_concurrent: 1, timeout: 3s")
        try await withServer(plugins: plugins, admin: true) { server in
            let shedBefore = try await server.counter("swiftlet_forward_shed_total")
            async let first = server.ask(query("one.example.org.", .a))
            // The first is in flight (held by the upstream) before the second is sent.
            try await ForwardUpstreamTests.wait { upstream.queries.udp >= 1 }
            async let second = server.ask(query("two.example.org.", .a))
            let (one, two) = try await (first, second)
            #expect(one.responseCode == .noError && one.answers.count == 1)
            #expect(two.responseCode == .refused && two.answers.isEmpty)
            #expect(try await server.counter("swiftlet_forward_shed_total") == shedBefore + 1)
            // REFUSED is not remembered: with the bound free again, the same question is resolved.
            let again = try await server.ask(query("two.example.org.", .a))
            #expect(again.responseCode == .noError && again.answers.count == 1)
            #expect(upstream.queries.udp == 2)
        }
    }

    @Test func aDownUpstreamIsUpAgainOnceAHealthCheckIsAnswered() async throws {
        let alive = Atomic_Bool(false)
        let upstream = try FakeUpstream { query, _ in alive.value ? ForwardUpstreamTests.reply(query) : .drop }
        defer { upstream.stop() }
        let options = ", timeout: 100ms, deadline: 200ms, max_fails: 1, health_check: 200ms"
        try await withServer(plugins: self.forward([upstream], options: options), admin: true) { server in
            let markedBefore = try await server.counter("swiftlet_forward_upstreams_marked_down_total")
            #expect(try await server.ask(query("a.example.org.", .a)).responseCode == .servFail)
            #expect(try await server.counter("swiftlet_forward_upstreams_marked_down_total") == markedBefore + 1)
            // Down: answered at once, without a try, as having no reachable upstream.
            let down = try await server.ask(query("b.example.org.", .a))
            #expect(down.responseCode == .servFail)
            #expect(down.edns?.options.first == .extendedError(ExtendedError(infoCode: .noReachableAuthority, extraText: "all upstreams are down")))
            alive.value = true
            // The `. NS` probe every 200 ms finds it answering again.
            let recovered = try await eventually(within: 2) {
                try await server.ask(query("c.example.org.", .a)).responseCode == .noError
            }
            #expect(recovered)
        }
    }
}

extension ForwardUpstreamTests {
    /// Waits until `condition` holds, for at most 5 s; fails the test if it never does.
    static func wait(_ condition: () -> Bool) async throws {
        #expect(await eventually(within: 5, condition))
    }

    /// RFC 5452: over 10,000 upstream queries, the ID and the source port together carry at least 30 bits. The ID's
    /// entropy is estimated from its collisions (N²/2C estimates the size of a uniform value's range), the port's from
    /// the spread of the ports used (the kernel picks each new socket's port at random from its ephemeral range; the
    /// minimum-variance estimate of a uniform range from k samples is (max − min)·(k+1)/(k−1)). Sockets rotate, so
    /// the ports are many and none carries more than its share of queries.
    @Test func idAndSourcePortCarryAtLeastThirtyBits() async throws {
        let upstream = try FakeUpstream { query, _ in ForwardUpstreamTests.reply(query) }
        defer { upstream.stop() }
        try await withServer(plugins: self.forward([upstream])) { server in
            let client = server.client
            try await blocking {
                for index in 0..<10_000 {
                    let reply = try client.exchange(query("n\(index).example.org.", .a, id: UInt16(index & 0xFFFF)))
                    guard reply.responseCode == .noError else { throw DNSClientError.timeout }
                }
            }
        }
        let sent = upstream.udpQueries
        #expect(sent.count == 10_000)
        var idCounts: [UInt16: Int] = [:]
        var portCounts: [UInt16: Int] = [:]
        for query in sent {
            idCounts[query.id, default: 0] += 1
            portCounts[query.port, default: 0] += 1
        }
        let collisions = idCounts.values.reduce(0) { $0 + $1 * ($1 - 1) / 2 }
        let idBits = log2(Double(sent.count * (sent.count - 1)) / 2 / Double(max(collisions, 1)))
        let ports = portCounts.keys.sorted()
        let k = Double(ports.count)
        let portRange = Double(ports.last! - ports.first!) * (k + 1) / (k - 1)
        let portBits = log2(portRange)
        // A socket carries at most 100; the kernel may hand a port out again after its socket closed (about one
        // chance in five over 110 draws from 28,000 ports), so a few ports may show two sockets' worth.
        let overQuota = portCounts.values.filter { $0 > 100 }
        #expect(overQuota.count <= 3 && overQuota.allSatisfy { $0 <= 200 }, "ports over 100 queries: \(overQuota)")
        #expect(ports.count >= 90, "\(ports.count) source ports over 10,000 queries")
        #expect(idBits + portBits >= 30, "ID \(idBits) bits + port \(portBits) bits")
        print("entropy over \(sent.count) upstream queries: ID \(idBits) bits + port \(portBits) bits (\(ports.count) ports)")
    }

    @Test func use0x20SendsRandomCaseAndTakesOnlyAnExactEcho() async throws {
        // An upstream that echoes the question as asked, and one that flattens it to lower case.
        let echoing = try FakeUpstream { query, _ in ForwardUpstreamTests.reply(query) }
        defer { echoing.stop() }
        let flattening = try FakeUpstream { query, _ in
            var reply = answer("\(query.questions[0].name.lowercased()) 300 IN A 192.0.2.1")
            reply.questions = [Question(name: query.questions[0].name.lowercased(), type: query.questions[0].type)]
            return .reply(reply)
        }
        defer { flattening.stop() }
        let on = ", use_0x20: true, timeout: 200ms, deadline: 300ms"
        try await withServer(plugins: self.forward([echoing], options: on)) { server in
            for index in 0..<20 {
                let reply = try await server.ask(query("www\(index).example.org.", .a))
                #expect(reply.responseCode == .noError && reply.answers.count == 1)
                // The client's spelling in the answer, not the one sent upstream.
                let spelledAsAsked = name("www\(index).example.org.")
                #expect(reply.answers.first?.name.isIdentical(to: spelledAsAsked) == true)
            }
            // What went upstream was the name in random case: 15+ letters, so all lower 20 times is a 2^-300 event.
            let spelled = echoing.udpQueries.compactMap { $0.name?.description }
            #expect(spelled.count == 20 && spelled.filter { $0 != $0.lowercased() }.count == 20)
        }
        try await withServer(plugins: self.forward([flattening], options: on), admin: true) { server in
            let rejected = try await server.counter("swiftlet_forward_rejected_replies_total")
            // The flattened answer is not ours: counted, and the query fails at its deadline.
            let reply = try await server.ask(query("www.example.org.", .a))
            #expect(reply.responseCode == .servFail)
            #expect(try await server.counter("swiftlet_forward_rejected_replies_total") >= rejected + 1)
        }
        // Off (the default), the same upstream is fine.
        try await withServer(plugins: self.forward([flattening])) { server in
            let reply = try await server.ask(query("www.example.org.", .a))
            #expect(reply.answers.count == 1)
        }
    }
}
