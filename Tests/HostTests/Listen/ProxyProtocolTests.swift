// ProxyProtocolTests: the PROXY protocol v2 header as read (addresses, LOCAL, TLVs, malformed ones), and through a
// whole server: a trusted balancer's header names the client on TCP, DNS over TLS and DNS over HTTPS; an untrusted
// peer's header, or a trusted peer's connection without one, is closed and counted.

import Foundation
import Glibc
import Pipeline
import SwiftletTestSupport
import Testing

@testable import Host

struct ProxyHeaderTests {
    /// A version 2 header: `command` 1 PROXY or 0 LOCAL, `family` 0x11 TCP over IPv4, 0x21 over IPv6, 0x00 UNSPEC.
    static func header(command: UInt8 = 1, family: UInt8 = 0x11, source: [UInt8], port: UInt16, tlvs: [UInt8] = []) -> [UInt8] {
        let destination = [UInt8](repeating: 1, count: source.count)
        let addresses = family == 0 ? [] : source + destination + [UInt8(port >> 8), UInt8(port & 0xFF), 0, 53]
        let body = addresses + tlvs
        return ProxyHeader.signature + [0x20 | command, family, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
    }

    @Test func addressesOfBothFamiliesAndTheirPorts() {
        let v4 = Self.header(source: [203, 0, 113, 7], port: 4242)
        #expect(ProxyHeader.parse(v4) == .proxied(IPAddress("203.0.113.7")!, 4242, length: 28))
        // Octets after the header are the connection's own, not the header's.
        #expect(ProxyHeader.parse(v4 + [0, 29, 1, 2]) == .proxied(IPAddress("203.0.113.7")!, 4242, length: 28))
        let v6 = Self.header(family: 0x21, source: IPv6Address("2001:db8::7")!.octets, port: 53000)
        #expect(ProxyHeader.parse(v6) == .proxied(IPAddress("2001:db8::7")!, 53000, length: 52))
        // TLVs (here a 5-octet authority) are taken with the header and skipped.
        let tlv: [UInt8] = [0x02, 0x00, 0x02, 0x61, 0x62]
        #expect(ProxyHeader.parse(Self.header(source: [192, 0, 2, 1], port: 1, tlvs: tlv)) == .proxied(IPAddress("192.0.2.1")!, 1, length: 33))
    }

    @Test func localAndAddresslessHeadersLeaveTheConnectionsPeer() {
        #expect(ProxyHeader.parse(Self.header(command: 0, source: [192, 0, 2, 1], port: 1)) == .local(length: 28))
        #expect(ProxyHeader.parse(Self.header(family: 0x00, source: [], port: 0)) == .local(length: 16))
    }

    @Test func partialAndMalformedHeaders() {
        let whole = Self.header(source: [203, 0, 113, 7], port: 4242)
        for count in [0, 1, 11, 12, 15, 16, 27] { #expect(ProxyHeader.parse(whole.prefix(count)) == .incomplete) }
        #expect(ProxyHeader.parse([0x00, 0x1D]) == .invalid("no PROXY protocol v2 signature"))
        #expect(ProxyHeader.parse(Array("PROXY TCP4 1.2.3.4".utf8)) == .invalid("no PROXY protocol v2 signature"))
        var version1 = whole
        version1[12] = 0x11
        #expect(ProxyHeader.parse(version1) == .invalid("PROXY protocol version 1, not 2"))
        var command = whole
        command[12] = 0x22
        #expect(ProxyHeader.parse(command) == .invalid("PROXY protocol command 2 (0 LOCAL and 1 PROXY exist)"))
        var long = whole
        (long[14], long[15]) = (0x10, 0x00)
        #expect(ProxyHeader.parse(long) == .invalid("a PROXY protocol header of 4112 octets (at most 4096 are taken)"))
        var short = ProxyHeader.signature + [0x21, 0x11, 0x00, 0x04] + [1, 2, 3, 4]
        #expect(ProxyHeader.parse(short) == .invalid("a PROXY protocol IPv4 header without its addresses"))
        short[13] = 0x21
        #expect(ProxyHeader.parse(short) == .invalid("a PROXY protocol IPv6 header without its addresses"))
    }
}

@Suite(.serialized) struct ProxyProtocolTests {
    static let proxied = ProxyHeaderTests.header(source: [203, 0, 113, 7], port: 4242)

    /// What the echo plugin said: the client address and port it saw.
    static func seen(_ reply: Message) -> String {
        let address = reply.additionals.compactMap { record -> String? in
            switch record.rdata {
            case .a(let a): return "\(a)"
            case .aaaa(let aaaa): return "\(aaaa)"
            default: return nil
            }
        }
        let port = reply.additionals.compactMap { record -> UInt16? in
            if case .srv(let srv) = record.rdata { return srv.port } else { return nil }
        }
        return "\(address.first ?? "?"):\(port.first ?? 0)"
    }

    /// Sends `prefix` then a framed query on a new TCP connection from `source`; the reply, or nil when the server
    /// closed the connection instead.
    static func ask(_ server: TestServer, from source: String, prefix: [UInt8]) async throws -> Message? {
        try await blocking { () throws -> Message? in
            let fd = connectTCP(to: server.address, timeout: 5, source: source)
            defer { close(fd) }
            try DNSClient.sendAll(fd, prefix + TestServer.framed(try query("who.test.", .a).wire))
            return try? TestServer.readFramed(fd)
        }
    }

    @Test func aTrustedBalancersHeaderNamesTheClientAndOthersAreClosed() async throws {
        let server = try await TestServer.start(
            plugins: "      - echo: {}",
            extra: "    proxy_protocol: [\"127.0.0.1/32\"]",
            admin: true
        )
        defer { Task { await server.stop() } }
        let listen = "listen=\"\(server.address)\""
        func count(_ result: String) async throws -> Int {
            try await server.counter("swiftlet_proxy_protocol_headers_total", labels: "\(listen),result=\"\(result)\"")
        }
        let before = try await ["proxied", "local", "untrusted", "invalid"].asyncMap { try await count($0) }
        // From the balancer: the client its header names.
        let reply = try await Self.ask(server, from: "127.0.0.1", prefix: Self.proxied)
        #expect(reply.map(Self.seen) == "203.0.113.7:4242")
        // A LOCAL header (a health check): the balancer itself.
        let local = try await Self.ask(server, from: "127.0.0.1", prefix: ProxyHeaderTests.header(command: 0, source: [1, 2, 3, 4], port: 9))
        #expect(local.map(Self.seen)?.hasPrefix("127.0.0.1:") == true)
        // The balancer must send a header: a bare query from it is closed unanswered.
        #expect(try await Self.ask(server, from: "127.0.0.1", prefix: []) == nil)
        // Another client may not pass for someone else; without a header it is itself.
        #expect(try await Self.ask(server, from: "127.0.0.2", prefix: Self.proxied) == nil)
        let direct = try await Self.ask(server, from: "127.0.0.2", prefix: [])
        #expect(direct.map(Self.seen)?.hasPrefix("127.0.0.2:") == true)
        // UDP has no header: its clients are themselves.
        #expect(Self.seen(try await server.ask(query("who.test.", .a), from: "127.0.0.3")).hasPrefix("127.0.0.3:"))
        let after = try await ["proxied", "local", "untrusted", "invalid"].asyncMap { try await count($0) }
        #expect(zip(before, after).map { $1 - $0 } == [1, 1, 1, 1])
    }

    @Test func theHeaderComesBeforeTLSOnDNSOverTLSAndHTTPS() async throws {
        let python = "/usr/bin/python3"
        try Tools.require(FileManager.default.isExecutableFile(atPath: python), "python3")
        let server = try await TestServer.start(
            plugins: "      - echo: {}",
            blockIndex: 11,
            extra: """
                    proxy_protocol: ["127.0.0.1/32"]
                    tls: { listen: ["127.0.0.1:0"], cert: tls/server.pem, key: tls/server.key }
                    https: { listen: ["127.0.0.1:0"], cert: tls/server.pem, key: tls/server.key }
                """
        )
        defer { Task { await server.stop() } }
        let tlsPort = server.server.tlsPort(ListenAddress("127.0.0.1:0")!)!
        let httpsPort = server.server.httpsPort(ListenAddress("127.0.0.1:0")!)!
        let header = Self.proxied.map { String(format: "%02x", $0) }.joined()
        let dns = try query("who.test.", .a).wire
        // The header on the TCP connection, then TLS on it: a DoT query and a DoH (HTTP/1.1) JSON query.
        let script = """
            import socket, ssl, sys
            port_tls, port_https, ca, header, dns = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], bytes.fromhex(sys.argv[4]), bytes.fromhex(sys.argv[5])
            def connect(port, alpn):
                raw = socket.create_connection(("127.0.0.1", port), timeout=10)
                raw.sendall(header)
                context = ssl.create_default_context(cafile=ca)
                context.set_alpn_protocols([alpn])
                return context.wrap_socket(raw, server_hostname="dns.test")
            dot = connect(port_tls, "dot")
            dot.sendall(len(dns).to_bytes(2, "big") + dns)
            length = int.from_bytes(dot.recv(2), "big")
            reply = b""
            while len(reply) < length:
                reply += dot.recv(length - len(reply))
            print("dot", reply.hex())
            doh = connect(port_https, "http/1.1")
            doh.sendall(b"GET /dns-query?name=who.test&type=A HTTP/1.1\\r\\nHost: dns.test\\r\\nConnection: close\\r\\n\\r\\n")
            response = b""
            while True:
                data = doh.recv(65535)
                if not data:
                    break
                response += data
            print("doh", response.split(b"\\r\\n\\r\\n", 1)[1].decode())
            """
        let (status, output, error) = try await Binaries.runOffPool(
            python,
            ["-c", script, "\(tlsPort)", "\(httpsPort)", fixturesDirectory.appendingPathComponent("tls/server.pem").path, header,
             dns.map { String(format: "%02x", $0) }.joined()],
            timeout: 30
        )
        #expect(status == 0, "\(error)")
        let lines = output.split(separator: "\n")
        let dotHex = lines.first { $0.hasPrefix("dot ") }.map { String($0.dropFirst(4)) } ?? ""
        var octets: [UInt8] = []
        var index = dotHex.startIndex
        while index < dotHex.endIndex, let next = dotHex.index(index, offsetBy: 2, limitedBy: dotHex.endIndex) {
            octets.append(UInt8(dotHex[index..<next], radix: 16) ?? 0)
            index = next
        }
        #expect(Self.seen(try Message(wire: octets)) == "203.0.113.7:4242")
        let json = lines.first { $0.hasPrefix("doh ") } ?? ""
        #expect(json.contains(#"{"TTL":0,"data":"203.0.113.7","name":"who.test.","type":1}"#), "\(output)")
        #expect(json.contains(#""data":"0 0 4242 .","name":"_https.who.test.""#), "\(output)")
    }

    @Test func proxyProtocolPrefixesAreChecked() {
        let yaml = """
            servers:
              - listen: ["127.0.0.1:5300"]
                proxy_protocol: ["10.0.0.0/8", "10.1.2.3/8"]
                plugins:
                  - echo: {}
            """
        #expect(
            buildError(yaml)
                == "test.yaml:3:36: servers[0].proxy_protocol[1]: '10.1.2.3/8' is not an address prefix like 10.0.0.0/8 or 2001:db8::/32"
        )
    }
}
