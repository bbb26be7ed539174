// AsyncPathTests: suspended handlers answer later over UDP and TCP, and in-flight work is bounded.

import Foundation
@testable import Host
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@Suite(.serialized) struct AsyncPathTests {
    static let types: [any Plugin.Type] = Registry.builtIn + [DelayPlugin.self]

    @Test func suspendedAnswerArrivesOverUDPAndTCPAndIsCached() async throws {
        try await withServer(plugins: "      - delay: { milliseconds: 50 }", types: AsyncPathTests.types) { server in
            for tcp in [false, true] {
                let reply = try server.ask(query("slow\(tcp).example.org.", .a, id: 321), tcp: tcp)
                #expect(reply.header.id == 321)
                #expect(reply.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 200))])
            }
            let hits = server.server.cache.statistics.hits
            let started = Date()
            _ = try server.ask(query("slowfalse.example.org.", .a))
            #expect(server.server.cache.statistics.hits == hits + 1)
            #expect(Date().timeIntervalSince(started) < 0.05)
        }
    }

    @Test func workPastMaxInFlightIsShedWithREFUSED() async throws {
        try await withServer(plugins: "      - delay: { milliseconds: 600 }", extra: "    max_in_flight: 1", types: AsyncPathTests.types) { server in
            let first = Task.detached { try server.ask(query("one.example.org.", .a)) }
            try await Task.sleep(for: .milliseconds(150))
            let second = try server.ask(query("two.example.org.", .a))
            #expect(second.responseCode == .refused)
            #expect(try await first.value.answers.count == 1)
        }
    }

    @Test func pipelinedTCPAnswersComeAsTheyComplete() async throws {
        let plugins = "      - hosts: { file: hosts/example.hosts }\n      - delay: { milliseconds: 300 }"
        try await withServer(plugins: plugins, types: AsyncPathTests.types) { server in
            var (address, length) = SocketAddresses.make(server.address)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var time = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
            // The slow query first, then a hosts name: the fast one must come back first.
            var stream: [UInt8] = []
            for (id, text) in [(1, "slow.example.net."), (2, "www.example.org.")] {
                let packet = query(text, .a, id: UInt16(id)).wire
                stream += [UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet
            }
            try DNSClient.sendAll(fd, stream)
            var order: [UInt16] = []
            for _ in 0..<2 {
                let header = try DNSClient.receiveExactly(fd, 2)
                order.append(try Message(wire: try DNSClient.receiveExactly(fd, Int(header[0]) << 8 | Int(header[1]))).header.id)
            }
            #expect(order == [2, 1])
        }
    }

    @Test func idleTCPConnectionsAreClosed() async throws {
        try await withServer(plugins: ServerTests.hosts, extra: "    tcp_idle_timeout: 200ms") { server in
            var (address, length) = SocketAddresses.make(server.address)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var time = timeval(tv_sec: 3, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
            // Half a length prefix, then silence (slowloris): the server closes within the idle timeout.
            try DNSClient.sendAll(fd, [0x00])
            let started = Date()
            #expect(throws: DNSClientError.closed) { _ = try DNSClient.receiveExactly(fd, 2) }
            #expect(Date().timeIntervalSince(started) < 2)
            // The server still serves.
            #expect(try server.ask(query("www.example.org.", .a), tcp: true).answers.count == 2)
        }
    }

    @Test func connectionsPastTheBoundAreClosed() async throws {
        try await withServer(plugins: ServerTests.hosts, extra: "    max_tcp_connections: 2") { server in
            var sockets: [Int32] = []
            defer { for fd in sockets { close(fd) } }
            for _ in 0..<3 {
                var (address, length) = SocketAddresses.make(server.address)
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var time = timeval(tv_sec: 2, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
                _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
                sockets.append(fd)
                try await Task.sleep(for: .milliseconds(50))
            }
            let packet = query("www.example.org.", .a).wire
            let framed = [UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet
            for fd in sockets.prefix(2) {
                try DNSClient.sendAll(fd, framed)
                let header = try DNSClient.receiveExactly(fd, 2)
                #expect(try Message(wire: try DNSClient.receiveExactly(fd, Int(header[0]) << 8 | Int(header[1]))).answers.count == 2)
            }
            try? DNSClient.sendAll(sockets[2], framed)
            #expect(throws: DNSClientError.self) { _ = try DNSClient.receiveExactly(sockets[2], 2) }
        }
    }
}
