// SpoofingTests: while a slow server is being asked, forged answers arrive from every side; none is believed or cached.
// Through a whole server, so the exchanges take the production path: the UDP worker's reactor and the connected,
// random-port socket the host's upstream service opens per query.

import Foundation
import Glibc
import Pipeline
import SwiftletTestSupport
import Synchronization
import Testing

@testable import Host

@Suite struct SpoofingTests {
    /// Sends `bytes` `count` times from `source`:53 to `port` on 127.0.0.1: forgeries from the wrong address at the
    /// resolver's own port (only the port a test can see; a blind flood over every port would hit the other tests).
    static func flood(_ bytes: [UInt8], from source: String, to port: UInt16, count: Int) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        guard case .v4(let v4)? = IPAddress(source) else { return }
        local.sin_addr.s_addr = v4.rawValue.bigEndian
        local.sin_port = UInt16(53).bigEndian
        _ = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        target.sin_port = port.bigEndian
        for _ in 0..<count {
            _ = bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &target) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
    }

    @Test func forgedAnswersAreNeitherAcceptedNorCached() async throws {
        let prefix = "127.53.30"
        let root = try FakeUpstream(host: "\(prefix).1", port: 53, script: testRoot(prefix))
        defer { root.stop() }
        let tld = try FakeUpstream(host: "\(prefix).2", port: 53) { _, _ in
            var reply = Message(header: Header(flags: 0x8000))
            reply.authorities = [rr("slow.test. 3600 NS ns.slow.test.")]
            reply.additionals = [rr("ns.slow.test. 3600 A \(prefix).4")]
            return .reply(reply)
        }
        defer { tld.stop() }
        let floods = Atomic<Int>(0)
        let slowServer = Mutex<FakeUpstream?>(nil)
        let slow = try FakeUpstream(host: "\(prefix).4", port: 53) { query, _ in
            var real = Message(header: Header(flags: 0x8400))
            real.answers = [rr("www.slow.test. 3600 A 192.0.2.30")]
            var poison = Message(header: Header(flags: 0x8400))
            poison.answers = [rr("www.slow.test. 3600 A 6.6.6.6")]
            poison.authorities = [rr("test. 3600 NS ns.evil.example.")]
            poison.additionals = [rr("ns.evil.example. 3600 A 6.6.6.6")]
            let forged = FakeUpstream.bytes(poison, for: query)
            // A flood from another address at the resolver's port while the real answer is delayed.
            floods.add(1, ordering: .relaxed)
            let port = slowServer.withLock { $0?.lastPeerPort.load(ordering: .relaxed) ?? 0 }
            Thread { SpoofingTests.flood(forged, from: "\(prefix).99", to: port, count: 1000) }.start()
            var wrongID = forged
            wrongID[1] ^= 0x5A
            var wrongCase = query
            wrongCase.questions = [Question(name: query.questions[0].name.lowercased(), type: .a)]
            if wrongCase.questions[0].name.wire == query.questions[0].name.wire {
                wrongCase.questions = [Question(name: try! DomainName("WWW.SLOW.TEST."), type: .a)]
            }
            // Junk that only the scrubber can catch: right everything, but NS and glue for names not below slow.test.
            var junk = real
            junk.authorities = [rr("test. 3600 NS ns.evil.example.")]
            junk.additionals = [rr("ns.evil.example. 3600 A 6.6.6.6"), rr("ns.test. 3600 A 6.6.6.6")]
            return .sequence([
                .fromOtherPort(forged),  // right address, ID and question, wrong port
                .raw(wrongID),  // right address and port, wrong ID
                .raw(FakeUpstream.bytes(poison, for: wrongCase)),  // the question without our 0x20 case
                .delay(0.1, junk),  // well inside the first try's timeout (376 ms for a server never asked)
            ])
        }
        slowServer.withLock { $0 = slow }
        defer { slow.stop() }
        let hints = FileManager.default.temporaryDirectory.appendingPathComponent("spoof-\(UUID().uuidString).hints")
        try ". 3600 IN NS a.root.\na.root. 3600 IN A \(prefix).1\n".write(to: hints, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: hints) }
        try await withServer(
            plugins: "      - recursive: { root_hints: \(hints.path), allow_loopback: true, ipv6: off, qname_minimisation: off }",
            admin: true
        ) { server in
            let before = try await server.counter("swiftlet_recursive_rejected_replies_total")
            let result = try await server.ask(query("www.slow.test.", .a))
            #expect(result.responseCode == .noError)
            #expect(result.answers.map(brief) == ["www.slow.test. a 192.0.2.30"])
            #expect(floods.load(ordering: .relaxed) == 1)
            // The wrong-ID and wrong-case datagrams reach our socket and are turned away; the kernel drops the
            // others (the socket is connected to the server's address and port).
            #expect(try await server.counter("swiftlet_recursive_rejected_replies_total") >= before + 2)
            let cache = try #require(server.server.rrsetCaches.first)
            let now = Clock.nanoseconds()
            func cached(_ name: String, _ type: RecordType) -> String {
                guard let hit = cache.lookup(RRsetCache.Key(name: try! DomainName(name), type: type), now: now),
                    case .records(let records, _) = hit.content
                else { return "-" }
                return records.map(brief).sorted().joined(separator: ", ")
            }
            #expect(cached("www.slow.test.", .a) == "www.slow.test. a 192.0.2.30")
            #expect(cached("test.", .ns) == "test. ns ns.test.")
            #expect(cached("ns.test.", .a) == "ns.test. a \(prefix).2")
            #expect(cached("ns.evil.example.", .a) == "-")
        }
    }
}
