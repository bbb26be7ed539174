// AsyncPathTests: suspended handlers answer later over UDP and TCP, and in-flight work is bounded.

import Foundation
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@testable import Host

@Suite(.serialized) struct AsyncPathTests {
    static let types: [any Plugin.Type] = Registry.builtIn + [DelayPlugin.self]

    @Test func suspendedAnswerArrivesOverUDPAndTCPAndIsCached() async throws {
        try await withServer(plugins: "      - delay: { milliseconds: 50 }", types: AsyncPathTests.types) { server in
            for tcp in [false, true] {
                let reply = try await server.ask(query("slow\(tcp).example.org.", .a, id: 321), tcp: tcp)
                #expect(reply.header.id == 321)
                #expect(reply.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 200))])
            }
            let hits = server.server.cache.statistics.hits
            _ = try await server.ask(query("slowfalse.example.org.", .a))
            #expect(server.server.cache.statistics.hits == hits + 1)
        }
    }

    /// docs/ARCHITECTURE.md: a query a UDP worker suspends runs on that worker's thread (its reactor also polls the
    /// upstream sockets); one from TCP runs on the event loops.
    @Test func suspendedUDPQueriesStayOnTheirWorkersThread() async throws {
        let types = AsyncPathTests.types + [WherePlugin.self]
        try await withServer(plugins: "      - where: {}", workers: 2, types: types) { server in
            for tcp in [false, true] {
                for id in UInt16(1)...4 {
                    let reply = try await server.ask(query("where\(id).example.org.", .txt, id: id), tcp: tcp)
                    #expect(reply.answers.map(\.rdata) == [.txt([Array((tcp ? "elsewhere" : "worker").utf8)])])
                }
            }
        }
    }

    @Test func workPastMaxInFlightIsShedWithREFUSED() async throws {
        try await withServer(
            plugins: "      - delay: { milliseconds: 600 }",
            extra: "    max_in_flight: 1",
            types: AsyncPathTests.types
        ) { server in
            let first = Task.detached { try await server.ask(query("one.example.org.", .a)) }
            // The first is suspended (in flight) before the second is sent.
            #expect(await eventually { server.server.queriesInFlight >= 1 })
            #expect(server.server.queriesInFlight == 1)
            let second = try await server.ask(query("two.example.org.", .a))
            #expect(second.responseCode == .refused)
            #expect(try await first.value.answers.count == 1)
        }
    }

    @Test func pipelinedTCPAnswersComeAsTheyComplete() async throws {
        let plugins = "      - hosts: { file: hosts/example.hosts }\n      - delay: { milliseconds: 300 }"
        try await withServer(plugins: plugins, types: AsyncPathTests.types) { server in
            let order = try await blocking { () throws -> [UInt16] in
                let fd = server.connectTCP(timeout: 3)
                defer { close(fd) }
                // The slow query first, then a hosts name: the fast one must come back first.
                var stream: [UInt8] = []
                for (id, text) in [(1, "slow.example.net."), (2, "www.example.org.")] {
                    stream += TestServer.framed(try query(text, .a, id: UInt16(id)).wire)
                }
                try DNSClient.sendAll(fd, stream)
                return try (0..<2).map { _ in try TestServer.readFramed(fd).header.id }
            }
            #expect(order == [2, 1])
        }
    }

    @Test func idleTCPConnectionsAreClosed() async throws {
        try await withServer(plugins: ServerTests.hosts, extra: "    tcp_idle_timeout: 200ms") { server in
            let (error, elapsed) = try await blocking { () throws -> (DNSClientError?, Double) in
                let fd = server.connectTCP(timeout: 3)
                defer { close(fd) }
                // Half a length prefix, then silence (slowloris): the server closes within the idle timeout.
                try DNSClient.sendAll(fd, [0x00])
                let started = Date()
                do {
                    _ = try DNSClient.receiveExactly(fd, 2)
                    return (nil, Date().timeIntervalSince(started))
                } catch {
                    return (error as? DNSClientError, Date().timeIntervalSince(started))
                }
            }
            // Closed by the server (an orderly close, not our 3 s receive timeout), after about the idle timeout.
            #expect(error == .closed)
            #expect(elapsed >= 0.15 && elapsed < 2, "closed after \(elapsed) s with an idle timeout of 0.2 s")
            // The server still serves.
            #expect(try await server.ask(query("www.example.org.", .a), tcp: true).answers.count == 2)
        }
    }

    @Test func connectionsPastTheBoundAreClosed() async throws {
        try await withServer(plugins: ServerTests.hosts, extra: "    max_tcp_connections: 2") { server in
            let (answers, third) = try await blocking { () throws -> ([Int], DNSClientError?) in
                var sockets: [Int32] = []
                defer { for fd in sockets { close(fd) } }
                let framed = TestServer.framed(try query("www.example.org.", .a).wire)
                // Two connections, each answered (so both are open and counted)...
                var answers: [Int] = []
                for _ in 0..<2 {
                    let fd = server.connectTCP(timeout: 2)
                    sockets.append(fd)
                    try DNSClient.sendAll(fd, framed)
                    answers.append(try TestServer.readFramed(fd).answers.count)
                }
                // ...then a third, which the server closes without reading: end of stream, nothing sent.
                sockets.append(server.connectTCP(timeout: 2))
                do {
                    _ = try DNSClient.receiveExactly(sockets[2], 2)
                    return (answers, nil)
                } catch {
                    return (answers, error as? DNSClientError)
                }
            }
            #expect(answers == [2, 2])
            #expect(third == .closed)
        }
    }
}
