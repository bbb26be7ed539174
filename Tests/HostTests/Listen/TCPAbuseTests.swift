// TCPAbuseTests: clients that pipeline and never read, trickle bytes, or open connection after connection cannot
// starve the server: each is bounded and closed, and other clients are answered over UDP and TCP throughout.

import Foundation
import Glibc
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@testable import Host

@Suite(.serialized) struct TCPAbuseTests {
    /// A zone whose `big.example.` TXT answer is 8 KiB, so a client that does not read fills buffers quickly.
    static func bigZone() throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-big-\(UUID()).zone").path
        let strings = (0..<32).map { _ in "\"" + String(repeating: "x", count: 250) + "\"" }.joined(separator: " ")
        try """
        $ORIGIN example.
        $TTL 300
        @ SOA ns hostmaster 1 3600 900 604800 300
        @ NS ns
        ns A 192.0.2.53
        big TXT \(strings)
        """.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Waits until `value` is at least `target`, for at most `seconds`; returns the last value.
    static func wait(for target: Int, seconds: Double, _ value: () async throws -> Int) async throws -> Int {
        var last = 0
        _ = try await eventually(within: seconds) {
            last = try await value()
            return last >= target
        }
        return last
    }

    @Test func aClientThatPipelinesAndNeverReadsIsBoundedAndClosed() async throws {
        let zone = try TCPAbuseTests.bigZone()
        defer { try? FileManager.default.removeItem(atPath: zone) }
        try await withServer(
            plugins: "      - zone: { zones: [{ origin: example., file: \(zone) }] }",
            extra: "    tcp_idle_timeout: 1s",
            admin: true
        ) { server in
            let closed = "swiftlet_tcp_connections_closed_total"
            let label = "listen=\"\(server.address)\",reason=\"not_reading\""
            let before = try await server.counter(closed, labels: label)
            let queries = "swiftlet_queries_total"
            let queriesBefore = try await server.counter(queries, labels: "transport=\"tcp\"")
            // 10,000 pipelined queries (8 KiB answers each, 80 MB in all) from a client with a 4 KiB window that
            // never reads: written from a thread of its own until the server stops taking them.
            // The stream is built before the connection opens: building it takes longer than the 1 s idle timeout on
            // a loaded machine, and the server would rightly close the connection as idle before a query came.
            var stream: [UInt8] = []
            for id in 0..<10_000 {
                stream += TestServer.framed(try query("big.example.", .txt, id: UInt16(id), edns: false).wire)
            }
            let pipelined = stream
            let fd = try await blocking { server.connectTCP(timeout: 5, receiveBuffer: 4096) }
            defer { close(fd) }
            // On a thread of its own: it blocks until the server gives up on it.
            let writer = Task { try? await onOwnThread { try DNSClient.sendAll(fd, pipelined) } }
            // Other clients are answered meanwhile, over UDP and TCP.
            for tcp in [false, true, false, true] {
                let reply = try await server.ask(query("ns.example.", .a), tcp: tcp)
                #expect(reply.answers.map(brief) == ["ns.example. a 192.0.2.53"])
            }
            // Within the idle timeout of going unwritable the server closes it.
            let closedAfter = try await TCPAbuseTests.wait(for: before + 1, seconds: 15) {
                try await server.counter(closed, labels: label)
            }
            let idleClosed = try await server.counter(closed, labels: "listen=\"\(server.address)\",reason=\"idle\"")
            let open = server.server.tcpConnections(ListenAddress("127.0.0.1:0")!)?.perClient.withLock { $0 } ?? [:]
            #expect(closedAfter == before + 1, "closed as idle: \(idleClosed); open: \(open)")
            _ = await writer.value
            // It took only the queries whose replies fit the kernel's buffers and one write buffer, not the 10,000
            // (80 MB of replies) it was sent: then it stopped reading from that client.
            let taken = try await server.counter(queries, labels: "transport=\"tcp\"") - queriesBefore
            #expect(taken > 16 && taken < 2_000, "queries the server took from the client that did not read: \(taken)")
            #expect(try await server.ask(query("ns.example.", .a), tcp: true).answers.count == 1)
        }
    }

    @Test func slowBytesAndConnectionFloodsFromOneAddressCannotHoldSlots() async throws {
        try await withServer(plugins: ServerTests.hosts, extra: "    tcp_idle_timeout: 2s", admin: true) { server in
            let refused = "swiftlet_tcp_connections_refused_total"
            let perClient = "listen=\"\(server.address)\",reason=\"per_client_limit\""
            let idleLabel = "listen=\"\(server.address)\",reason=\"idle\""
            let idle = "swiftlet_tcp_connections_closed_total"
            let refusedBefore = try await server.counter(refused, labels: perClient)
            let idleBefore = try await server.counter(idle, labels: idleLabel)
            let connections = try #require(server.server.tcpConnections(ListenAddress("127.0.0.1:0")!))
            let loopback = IPAddress("127.0.0.1")!
            // How many 127.0.0.1 holds at once, sampled while the flood lasts.
            let sampling = Atomic_Bool(true)
            let sampler = Task { () -> Int in (try? await onOwnThread { () -> Int in
                var peak = 0
                while sampling.value {
                    peak = max(peak, connections.perClient.withLock { $0[loopback] ?? 0 })
                    usleep(1_000)
                }
                return peak
            }) ?? -1 }
            // 2,000 connections from 127.0.0.1, each trickling a query one byte every 100 ms as soon as it opens:
            // 16 at a time are taken (the per-client default), the others closed at once, and a taken one is closed
            // as idle 2 s after it opened (no complete query came), however many bytes it sends.
            let framed = TestServer.framed(try query("www.example.org.", .a).wire)
            let started = Date()
            let flood = Task { () -> [Int32] in (try? await onOwnThread { () -> [Int32] in
                var open: [Int32] = []
                for _ in 0..<2_000 {
                    let fd = server.connectTCP(timeout: 2)
                    // A length of 0x00FF, then the message's octets one at a time: never a whole message.
                    var first: UInt8 = 0x00
                    _ = send(fd, &first, 1, Int32(MSG_NOSIGNAL))
                    open.append(fd)
                    for fd in open.suffix(32) {
                        var more: UInt8 = 0xFF
                        _ = send(fd, &more, 1, Int32(MSG_NOSIGNAL))
                    }
                }
                return open
            }) ?? [] }
            // Another client, from another address, is answered over TCP and UDP meanwhile.
            let other = try await blocking { () throws -> Int in
                let fd = server.connectTCP(timeout: 2, source: "127.0.0.2")
                defer { close(fd) }
                try DNSClient.sendAll(fd, framed)
                return try TestServer.readFramed(fd).answers.count
            }
            #expect(other == 2)
            #expect(try await server.ask(query("www.example.org.", .a)).answers.count == 2)
            let sockets = await flood.value
            defer { for fd in sockets { close(fd) } }
            // Every one of the 2,000 is closed by the server, refused or idle, while all of them keep trickling.
            var closedSoFar = 0
            _ = try await eventually(within: 20) {
                for fd in sockets {
                    var more: UInt8 = 0xFF
                    _ = send(fd, &more, 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                let refusedNow = try await server.counter(refused, labels: perClient) - refusedBefore
                let idleNow = try await server.counter(idle, labels: idleLabel) - idleBefore
                closedSoFar = refusedNow + idleNow
                return closedSoFar >= 2_000
            }
            sampling.value = false
            let peak = await sampler.value
            #expect(closedSoFar == 2_000)
            #expect(peak == 16, "connections 127.0.0.1 held at once: \(peak)")
            let idleClosed = try await server.counter(idle, labels: idleLabel) - idleBefore
            // At least the first 16, held for the idle timeout each; never longer than the flood plus one timeout.
            #expect(idleClosed >= 16)
            #expect(Date().timeIntervalSince(started) >= 2)
            #expect(connections.perClient.withLock { $0[loopback] ?? 0 } == 0)
        }
    }
}
