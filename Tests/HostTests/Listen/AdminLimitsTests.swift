// AdminLimitsTests: the admin listener bounds what one client can hold: connections, header octets, and time.

import Foundation
import Glibc
import Pipeline
import SwiftletTestSupport
import Testing

@testable import Host

@Suite struct AdminLimitsTests {
    /// A connected socket to the admin port from `source`, with a 3 s receive timeout.
    static func connect(port: UInt16, source: String = "127.0.0.1") -> Int32 {
        connectTCP(to: ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: port), timeout: 3, source: source)
    }

    @Test func connectionsHeadersAndSlowRequestsAreBounded() async throws {
        let text = """
            servers:
              - listen: ["127.0.0.1:0"]
                workers: 1
                plugins:
                  - hosts: { file: hosts/example.hosts }
            admin: { listen: "127.0.0.1:0", request_timeout: 2s }
            """
        let (server, _) = try await startServer(text)
        let port = try #require(server.adminPort)
        let (oversize, slow, held, seventeenth, other) = try await blocking {
            () throws -> (String, (String, Double), [String], (String, Double), String) in
            // 20 KiB of one header: refused by the HTTP decoder (the limit is 8 KiB a field, 16 KiB in all).
            let big = AdminLimitsTests.connect(port: port)
            defer { close(big) }
            let request = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n"
            try DNSClient.sendAll(big, Array(request.utf8))
            let oversize = ServerTests.readUntilClosed(big)
            // Half a request line, then nothing: closed when the request timeout runs out.
            let trickle = AdminLimitsTests.connect(port: port)
            defer { close(trickle) }
            try DNSClient.sendAll(trickle, Array("GET /hea".utf8))
            var started = Date()
            let slow = (ServerTests.readUntilClosed(trickle), Date().timeIntervalSince(started))
            // 16 connections from 127.0.0.1 are held open; the 17th is closed at once, with nothing sent.
            let sixteen = (0..<16).map { _ in AdminLimitsTests.connect(port: port) }
            defer { for fd in sixteen { close(fd) } }
            let extra = AdminLimitsTests.connect(port: port)
            defer { close(extra) }
            started = Date()
            let seventeenth = (ServerTests.readUntilClosed(extra), Date().timeIntervalSince(started))
            // Another client address still gets in, and the 16 held ones are still served.
            let fromElsewhere = AdminLimitsTests.connect(port: port, source: "127.0.0.2")
            defer { close(fromElsewhere) }
            try DNSClient.sendAll(fromElsewhere, Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let other = ServerTests.readUntilClosed(fromElsewhere)
            try DNSClient.sendAll(sixteen[0], Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let held = [ServerTests.readUntilClosed(sixteen[0])]
            return (oversize, slow, held, seventeenth, other)
        }
        await server.stop(grace: 1)
        // NIO's HTTP decoder refuses the header and its error handler answers 400 and closes.
        #expect(oversize.hasPrefix("HTTP/1.1 400 Bad Request"), "\(oversize.prefix(80))")
        // Closed by the 2 s request timeout; the 17th at once, well before any timeout could have closed it (wide
        // margins: the suites share a loaded machine).
        #expect(slow.0 == "" && slow.1 >= 1.9 && slow.1 < 6, "slow request: '\(slow.0)' after \(slow.1) s")
        #expect(seventeenth.0 == "" && seventeenth.1 < 1.5, "17th: '\(seventeenth.0)' after \(seventeenth.1) s")
        #expect(other.hasPrefix("HTTP/1.1 200 OK") && other.hasSuffix("ok\n"))
        #expect(held[0].hasPrefix("HTTP/1.1 200 OK"))
    }
}
