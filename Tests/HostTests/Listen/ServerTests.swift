// ServerTests: a real server on loopback answering over UDP and TCP, the fast path, limits and errors.

import Foundation
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@testable import Host

@Suite(.serialized) struct ServerTests {
    static let hosts = "      - hosts: { file: hosts/example.hosts, ttl: 300 }"

    @Test func answersOverUDPAndTCP() async throws {
        try await withServer(plugins: ServerTests.hosts) { server in
            for tcp in [false, true] {
                let reply = try await server.ask(query("www.example.org.", .a, id: 77), tcp: tcp)
                #expect(reply.header.id == 77 && reply.header.isResponse && reply.header.isAuthoritative)
                #expect(reply.responseCode == .noError)
                #expect(reply.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1)), .a(IPv4Address(192, 0, 2, 2))])
                // The second answer may come from the message cache, its TTL lowered by the time since the first.
                #expect(reply.answers.allSatisfy { $0.ttl <= 300 && $0.ttl > 0 })
                #expect(reply.edns?.udpPayloadSize == 1232)
            }
        }
    }

    @Test func secondAnswerComesFromTheFastPathIdentically() async throws {
        try await withServer(plugins: ServerTests.hosts) { server in
            let packet = try query("Www.Example.Org.", .aaaa, id: 9).wire
            let first = try await server.raw(packet)
            let hitsBefore = server.server.cache.statistics.hits
            let second = try await server.raw(packet)
            #expect(server.server.cache.statistics.hits == hitsBefore + 1)
            #expect(try TestServer.sameReplyAged(first, second))
            let message = try Message(wire: second)
            #expect(message.questions[0].name.isIdentical(to: name("Www.Example.Org.")))
            #expect(message.answers.map(\.rdata) == [.aaaa(IPv6Address("2001:db8::1")!)])
        }
    }

    /// The fast path's promise: for random queries the fast path answers exactly as the chain did.
    @Test func fastPathAndChainGiveIdenticalAnswers() async throws {
        try await withServer(plugins: ServerTests.hosts) { server in
            var generator = SeededGenerator(seed: 2024)
            let names = [
                "www.example.org.", "WWW.example.ORG.", "mail.example.org.", "www.", "1.2.0.192.in-addr.arpa.",
                "nope.example.org.",
            ]
            let types: [RecordType] = [.a, .aaaa, .ptr, .mx, .txt]
            for _ in 0..<60 {
                var request = query(
                    names.randomElement(using: &generator)!,
                    types.randomElement(using: &generator)!,
                    id: UInt16.random(in: 0...UInt16.max, using: &generator),
                    dnssecOK: Bool.random(using: &generator),
                    edns: Bool.random(using: &generator)
                )
                request.header.checkingDisabled = Bool.random(using: &generator)
                server.server.cache.removeAll()
                let fromChain = try await server.raw(request.wire)
                let fromCache = try await server.raw(request.wire)
                #expect(fromChain == fromCache, "\(request.questions[0])")
            }
            #expect(server.server.cache.statistics.hits > 0)
        }
    }

    @Test func largeAnswerIsTruncatedOverUDPAndWholeOverTCP() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-big-\(UUID().uuidString).hosts"
        )
        let lines = (1...60).map { "192.0.2.\($0) big.example.org" }.joined(separator: "\n")
        try lines.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try await withServer(plugins: "      - hosts: { file: \(file.path) }") { server in
            let small = try await server.ask(query("big.example.org.", .a, edns: false))
            #expect(small.header.isTruncated && small.answers.isEmpty)
            #expect(try await server.raw(query("big.example.org.", .a, edns: false).wire).count <= 512)
            let edns = try await server.ask(query("big.example.org.", .a))
            #expect(!edns.header.isTruncated && edns.answers.count == 60)
            let tcp = try await server.ask(query("big.example.org.", .a, edns: false), tcp: true)
            #expect(!tcp.header.isTruncated && tcp.answers.count == 60)
        }
    }

    @Test func pipelinedTCPQueriesAreAllAnswered() async throws {
        try await withServer(plugins: ServerTests.hosts) { server in
            let ids = try await blocking { () throws -> [UInt16] in
                var (address, length) = SocketAddresses.make(server.address)
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var time = timeval(tv_sec: 2, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
                }
                #expect(connected == 0)
                var stream: [UInt8] = []
                for id in 1...5 {
                    let packet = try query(id % 2 == 0 ? "www.example.org." : "mail.example.org.", .a, id: UInt16(id)).wire
                    stream += [UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet
                }
                // All five in one write: the server must split the stream into five queries.
                try DNSClient.sendAll(fd, stream)
                var ids: [UInt16] = []
                for _ in 1...5 {
                    let header = try DNSClient.receiveExactly(fd, 2)
                    let reply = try Message(
                        wire: try DNSClient.receiveExactly(fd, Int(header[0]) << 8 | Int(header[1]))
                    )
                    ids.append(reply.header.id)
                    #expect(reply.answers.count == (reply.header.id % 2 == 0 ? 2 : 1))
                }
                return ids
            }
            #expect(ids.sorted() == [1, 2, 3, 4, 5])
        }
    }

    @Test func malformedPacketsGetFORMERROrNothingAndServingGoesOn() async throws {
        try await withServer(plugins: ServerTests.hosts) { server in
            // A header whose question is cut off: FORMERR with the header only.
            let cut = hex("abcd 0100 0001 0000 0000 0000 07 6578616d")
            let reply = try await server.raw(cut)
            #expect(reply == hex("abcd 8101 0000 0000 0000 0000"))
            // A bad OPT after a good question: FORMERR echoing the question, no OPT.
            var packet = try query("www.example.org.", .a, id: 0x0102).wire
            packet[packet.count - 1] = 0x08  // RDLENGTH 8 with no data
            let formerr = try Message(wire: try await server.raw(packet))
            #expect(formerr.responseCode == .formErr && formerr.edns == nil)
            #expect(formerr.questions == [Question(name: name("www.example.org."), type: .a)])
            // Too short to have a header: silence.
            #expect(throws: DNSClientError.timeout) {
                try DNSClient(server: server.address, timeout: 0.3).exchangeRaw([0xab, 0xcd, 0x01])
            }
            // A response sent to us: silence.
            var response = query("www.example.org.", .a, id: 5)
            response.header.isResponse = true
            #expect(throws: DNSClientError.timeout) {
                try DNSClient(server: server.address, timeout: 0.3).exchangeRaw(response.wire)
            }
            #expect(try await server.ask(query("www.example.org.", .a)).answers.count == 2)
        }
    }

    @Test func unknownOpcodeIsNOTIMPAndEDNSVersionIsBADVERS() async throws {
        try await withServer(plugins: ServerTests.hosts) { server in
            var notify = query("www.example.org.", .soa)
            notify.header.opcode = Opcode(9)
            #expect(try await server.ask(notify).responseCode == .notImp)
            var version = query("www.example.org.", .a)
            version.edns?.version = 1
            let reply = try await server.ask(version)
            #expect(reply.responseCode == .badVers)
            #expect(reply.edns?.version == 0)
        }
    }

    @Test func namesNoPluginClaimsAreRefused() async throws {
        try await withServer(plugins: ServerTests.hosts) { server in
            let reply = try await server.ask(query("other.example.net.", .a))
            #expect(reply.responseCode == .refused)
            #expect(reply.answers.isEmpty)
        }
    }

    @Test func zonesPickTheMostSpecificBlock() async throws {
        let text = """
            servers:
              - listen: ["127.0.0.1:0"]
                workers: 1
                zones: ["example.org."]
                plugins:
                  - hosts: { file: hosts/example.hosts }
            """
        let configuration = try Configuration.parse(text, source: "test.yaml", baseDirectory: fixturesDirectory.path)
        let server = SwiftletServer(configuration: configuration, logger: .init(label: "test"))
        try await server.start()
        let port = server.udpPort(ListenAddress("127.0.0.1:0")!)!
        let client = DNSClient(server: ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: port))
        #expect(try client.exchange(query("www.example.org.", .a)).answers.count == 2)
        // www. is in the hosts file but outside the block's zone.
        let outside = try client.exchange(query("www.", .a))
        #expect(outside.responseCode == .refused)
        await server.stop(grace: 1)
    }

    @Test func blocksOnDifferentAddressesDoNotShareCachedAnswers() async throws {
        let text = """
            servers:
              - listen: ["127.0.0.1:0"]
                workers: 1
                plugins:
                  - hosts: { file: hosts/example.hosts }
              - listen: ["127.0.0.2:0"]
                workers: 1
                plugins:
                  - echo: {}
            """
        let configuration = try Configuration.parse(text, source: "test.yaml", baseDirectory: fixturesDirectory.path)
        let server = SwiftletServer(configuration: configuration, logger: .init(label: "test"))
        try await server.start()
        let hostsAddress = ListenAddress(
            address: .v4(IPv4Address(127, 0, 0, 1)),
            port: server.udpPort(ListenAddress("127.0.0.1:0")!)!
        )
        let echoAddress = ListenAddress(
            address: .v4(IPv4Address(127, 0, 0, 2)),
            port: server.udpPort(ListenAddress("127.0.0.2:0")!)!
        )
        let (first, second) = try await blocking {
            (
                try DNSClient(server: hostsAddress).exchange(query("www.example.org.", .a)),
                try DNSClient(server: echoAddress).exchange(query("www.example.org.", .a))
            )
        }
        await server.stop(grace: 1)
        #expect(first.answers.count == 2)
        // The echo block answers for itself, not with the hosts block's cached answer.
        #expect(second.answers.isEmpty && second.additionals.first?.type == .a)
    }

    @Test func aclRefusesAndDropsBeforeTheCache() async throws {
        try await withServer(
            plugins: "      - acl: { drop: [\"127.0.0.2/32\"], refuse: [\"127.0.0.1/32\"] }\n" + ServerTests.hosts
        ) { server in
            let reply = try await server.ask(query("www.example.org.", .a))
            #expect(reply.responseCode == .refused)
            #expect(reply.questions.count == 1 && reply.edns != nil)
        }
    }

    @Test func reloadSwapsChainsAndKeepsServingOnBadConfig() async throws {
        try await withServer(plugins: ServerTests.hosts) { server in
            #expect(try await server.ask(query("www.example.org.", .a)).answers.count == 2)
            let listen = "[\"127.0.0.1:0\"]"
            let echo = try Configuration.parse(
                "servers:\n  - listen: \(listen)\n    plugins:\n      - echo: {}\n",
                source: "reload.yaml"
            )
            try server.server.reload(echo)
            let echoed = try await server.ask(query("www.example.org.", .a))
            #expect(echoed.additionals.first?.rdata == .a(IPv4Address(127, 0, 0, 1)))
            let broken = try Configuration.parse(
                "servers:\n  - listen: \(listen)\n    plugins:\n      - hosts: { file: missing.hosts }\n",
                source: "reload.yaml",
                baseDirectory: fixturesDirectory.path
            )
            #expect(throws: ConfigError.self) { try server.server.reload(broken) }
            #expect(
                try await server.ask(query("www.example.org.", .a)).additionals.first?.rdata
                    == .a(IPv4Address(127, 0, 0, 1))
            )
        }
    }

    @Test func hostsFileChangesAreServedAfterPolling() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-reload-\(UUID().uuidString).hosts"
        )
        try "192.0.2.1 changing.example.org\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try await withServer(plugins: "      - hosts: { file: \(file.path), reload_interval: 100ms }") { server in
            #expect(
                try await server.ask(query("changing.example.org.", .a)).answers.map(\.rdata) == [
                    .a(IPv4Address(192, 0, 2, 1))
                ]
            )
            try "192.0.2.99 changing.example.org\n".write(to: file, atomically: true, encoding: .utf8)
            var answer: [RData] = []
            for _ in 0..<50 {
                try await Task.sleep(for: .milliseconds(100))
                answer = try await server.ask(query("changing.example.org.", .a)).answers.map(\.rdata)
                if answer == [.a(IPv4Address(192, 0, 2, 99))] { break }
            }
            #expect(answer == [.a(IPv4Address(192, 0, 2, 99))])
        }
    }

    @Test func adminEndpointsAnswer() async throws {
        try await withServer(plugins: ServerTests.hosts, admin: true) { server in
            _ = try await server.ask(query("www.example.org.", .a))
            let port = try #require(server.server.adminPort)
            let health = try await blocking { try ServerTests.httpGet(port: port, path: "/health") }
            #expect(health.hasPrefix("HTTP/1.1 200") && health.hasSuffix("ok\n"))
            #expect(
                try await blocking { try ServerTests.httpGet(port: port, path: "/ready") }.hasPrefix("HTTP/1.1 200")
            )
            let metrics = try await blocking { try ServerTests.httpGet(port: port, path: "/metrics") }
            #expect(metrics.contains("swiftlet_hosts_answers_total{server=\"0\",result=\"answer\"}"))
            #expect(metrics.contains("swiftlet_queries_total{transport=\"udp\"}"))
            #expect(try await blocking { try ServerTests.httpGet(port: port, path: "/nope") }.hasPrefix("HTTP/1.1 404"))
        }
    }

    static func httpGet(port: UInt16, path: String) throws -> String {
        var (address, length) = SocketAddresses.make(ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: port))
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var time = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        try DNSClient.sendAll(fd, Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        return ServerTests.readUntilClosed(fd)
    }

    /// Everything the peer sends until it closes the connection (or the socket's receive timeout passes), as text.
    static func readUntilClosed(_ fd: Int32) -> String {
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }
}
