// RateLimitServerTests: abuse defences through a whole server on loopback: the amplification a spoofed-source flood
// of ANY and of large TXT queries gets with and without `ratelimit` (bytes out / bytes in), the counters it keeps,
// and DNS cookies as dig and kdig see them.

import Foundation
import Glibc
import Pipeline
import SwiftletTestSupport
import Testing

@testable import Host

@Suite(.serialized) struct RateLimitServerTests {
    /// A zone with a large TXT RRset (about 1 KB on the wire) and its apex, for the floods.
    static func zoneFile() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-amp-\(UUID()).zone").path
        let strings = (0..<4).map { "\"" + String(repeating: Character(UnicodeScalar(UInt8(97 + $0))), count: 250) + "\"" }
        try """
        $ORIGIN amp.test.
        $TTL 300
        @   IN SOA ns.amp.test. host.amp.test. 1 3600 600 86400 300
        @   IN NS  ns.amp.test.
        ns  IN A   192.0.2.53
        big IN TXT \(strings.joined(separator: " "))

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A UDP socket on `source` (a loopback address standing for a spoofed victim) that floods and counts octets.
    final class Flood {
        let fd: Int32
        var sent = 0
        var received = 0
        var replies: [[UInt8]] = []

        init(source: String) {
            self.fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var size: Int32 = 8 << 20
            setsockopt(self.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            var (local, length) = SocketAddresses.make(ListenAddress(address: IPAddress(source)!, port: 0))
            _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(self.fd, $0, length) } }
        }

        deinit { close(self.fd) }

        func send(_ packet: [UInt8], to server: ListenAddress) {
            var (remote, length) = SocketAddresses.make(server)
            let count = packet.withUnsafeBytes { bytes in
                withUnsafePointer(to: &remote) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(self.fd, bytes.baseAddress, bytes.count, 0, $0, length) }
                }
            }
            if count > 0 { self.sent += count }
        }

        /// Takes every reply already queued on the socket.
        func drain() {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard count > 0 else { return }
                self.received += count
                self.replies.append(Array(buffer[0..<count]))
            }
        }
    }

    /// Floods `server` from `source` with `batches` batches of `size` copies of `query`, then returns the octets sent
    /// and received after the first batch (the first window, where the burst is allowed) and every reply.
    /// After each batch an exempt-prefix query's reply is awaited: the single worker answers in order, so by then
    /// every reply to the batch is queued on the flood socket (loopback delivers at once).
    static func flood(_ server: TestServer, query: Message, from source: String, batches: Int = 10, size: Int = 50)
        async throws -> (sent: Int, received: Int, replies: [[UInt8]])
    {
        let flood = Flood(source: source)
        let packet = try query.encode().bytes
        var baseline = (sent: 0, received: 0, replies: 0)
        for batch in 0..<batches {
            for _ in 0..<size { flood.send(packet, to: server.address) }
            _ = try await server.ask(Message.query(try DomainName("ns.amp.test."), .a, id: 1), from: "127.1.0.1")
            flood.drain()
            if batch == 0 { baseline = (flood.sent, flood.received, flood.replies.count) }
        }
        return (flood.sent - baseline.sent, flood.received - baseline.received, Array(flood.replies[baseline.replies...]))
    }

    @Test func aSpoofedFloodOfANYOrLargeTXTIsNotAmplifiedWithRateLimitOn() async throws {
        let zone = try Self.zoneFile()
        defer { try? FileManager.default.removeItem(atPath: zone) }
        let zonePlugin = "      - zone: { zones: [{ origin: amp.test., file: \"\(zone)\" }] }"
        var edns = Message.query(try DomainName("big.amp.test."), .txt, id: 7)
        edns.edns = EDNS()
        var any = Message.query(try DomainName("amp.test."), .any, id: 8)
        any.edns = EDNS()

        // Without it: each TXT query of ~40 octets gets over a kilobyte back.
        let open = try await TestServer.start(plugins: zonePlugin, blockIndex: 7)
        let unlimited = try await Self.flood(open, query: edns, from: "127.0.0.77")
        await open.stop()
        let openFactor = Double(unlimited.received) / Double(unlimited.sent)
        #expect(openFactor > 20, "TXT amplification without ratelimit: \(openFactor)")

        let server = try await TestServer.start(
            plugins: """
                      - ratelimit: { client: { qps: 0 }, responses: { rate: 10, slip: 2, window: 15s }, exempt: ["127.1.0.0/16"] }
                \(zonePlugin)
                """,
            blockIndex: 6,
            admin: true
        )
        defer { Task { await server.stop() } }
        let txt = try await Self.flood(server, query: edns, from: "127.0.0.77")
        let txtFactor = Double(txt.received) / Double(txt.sent)
        #expect(txtFactor <= 1, "TXT amplification with ratelimit: \(txtFactor)")
        // Every reply after the first window is a slip: empty, TC=1, question and OPT only.
        let slipped = try txt.replies.map { try Message(wire: $0) }
        #expect(slipped.allSatisfy { $0.header.isTruncated && $0.answers.isEmpty })
        #expect(slipped.count == 225, "every other one of 450 limited replies")

        let anyFlood = try await Self.flood(server, query: any, from: "127.0.0.78")
        let anyFactor = Double(anyFlood.received) / Double(anyFlood.sent)
        #expect(anyFactor <= 1, "ANY amplification with ratelimit: \(anyFactor)")

        // The counters: 10 answered, then of 490 limited every other slipped, per flood.
        let slips = try await server.counter(
            "swiftlet_ratelimit_responses_total",
            labels: "server=\"6\",bucket=\"answer\",action=\"slip\""
        )
        let drops = try await server.counter(
            "swiftlet_ratelimit_responses_total",
            labels: "server=\"6\",bucket=\"answer\",action=\"drop\""
        )
        #expect(slips == 2 * 245 && drops == 2 * 245)
        print("amplification (bytes out / bytes in, after the first window): TXT \(openFactor) without ratelimit, \(txtFactor) with; ANY \(anyFactor) with")
    }

    @Test(.enabled(if: Tools.gate(Binaries.tool("dig") != nil && Binaries.tool("kdig") != nil)))
    func digAndKdigGetGoodCookiesThatComeBackValid() async throws {
        try Tools.require(Binaries.tool("dig") != nil && Binaries.tool("kdig") != nil, "dig and kdig")
        let server = try await TestServer.start(plugins: "      - echo: {}", blockIndex: 8)
        defer { Task { await server.stop() } }
        let port = "\(server.port)"
        // dig +cookie: dig checks the reply echoes its client cookie ("good").
        let (_, first, _) = try await Binaries.runOffPool(
            Binaries.tool("dig")!,
            ["@127.0.0.1", "-p", port, "+cookie=0102030405060708", "x.example", "TXT"]
        )
        let line = try #require(first.split(separator: "\n").first { $0.hasPrefix("; COOKIE: ") })
        #expect(line.hasSuffix(" (good)"))
        let cookie = String(line.dropFirst("; COOKIE: ".count).prefix(48))
        #expect(cookie.hasPrefix("0102030405060708") && cookie.count == 48)
        // Sent back, it is valid and fresh: the same cookie comes back.
        let (_, second, _) = try await Binaries.runOffPool(
            Binaries.tool("dig")!,
            ["@127.0.0.1", "-p", port, "+cookie=\(cookie)", "x.example", "TXT"]
        )
        #expect(second.contains("; COOKIE: \(cookie) (good)"))
        let (_, kdig, _) = try await Binaries.runOffPool(
            Binaries.tool("kdig")!,
            ["@127.0.0.1", "-p", port, "+cookie=\(cookie)", "x.example", "TXT"]
        )
        #expect(kdig.contains(";; COOKIE: \(cookie.uppercased())"))
        // A made-up server cookie is not echoed: a new one comes back.
        let (_, forged, _) = try await Binaries.runOffPool(
            Binaries.tool("kdig")!,
            ["@127.0.0.1", "-p", port, "+cookie=0102030405060708aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x.example", "TXT"]
        )
        #expect(forged.contains(";; COOKIE: 0102030405060708010000"))
        #expect(!forged.contains("AAAAAAAAAAAAAAAA"))
    }
}
