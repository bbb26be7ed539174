// DoTTests: DNS over TLS (RFC 7858) through a whole server: dig, kdig and `swiftlet query` as clients, ALPN "dot",
// padded replies (RFC 8467), Swiftlet forwarding to Swiftlet over TLS, session resumption, a certificate renewed
// while a connection stays open, and the configuration errors for bad certificates.

import Foundation
import NIOCore
import NIOPosix
import Pipeline
import SwiftletTestSupport
import Testing

@testable import Host

/// A certificate for `dns.test` with its key, made by openssl in a folder of its own (no IP address in it: NIOSSL
/// accepts a certificate naming the address connected to whatever name was asked for).
struct TestCertificate {
    let directory: URL
    var cert: String { self.directory.appendingPathComponent("cert.pem").path }
    var key: String { self.directory.appendingPathComponent("key.pem").path }

    static let openssl = "/usr/bin/openssl"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: Self.openssl) }

    /// A new key and self-signed certificate, valid for 30 days, or expired since 2020 with `expired`.
    static func make(expired: Bool = false) throws -> TestCertificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-cert-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = TestCertificate(directory: directory)
        try certificate.renew(expired: expired)
        return certificate
    }

    /// Writes a new key and certificate over the old files (a renewal).
    func renew(expired: Bool = false) throws {
        let subject = ["-subj", "/CN=dns.test", "-addext", "subjectAltName=DNS:dns.test"]
        let newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let path = self.directory.path
        if !expired {
            try Self.run(["req", "-x509"] + newKey + ["-keyout", "\(path)/key.new", "-out", "\(path)/cert.new", "-days", "30"] + subject)
        } else {
            // openssl req cannot date a certificate in the past; `openssl ca` can.
            try "".write(toFile: "\(path)/index.txt", atomically: true, encoding: .utf8)
            try "01\n".write(toFile: "\(path)/serial", atomically: true, encoding: .utf8)
            try "[ca]\ndefault_ca=d\n[d]\ndatabase=\(path)/index.txt\nnew_certs_dir=\(path)\nserial=\(path)/serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n"
                .write(toFile: "\(path)/ca.cnf", atomically: true, encoding: .utf8)
            try Self.run(["req", "-new"] + newKey + ["-keyout", "\(path)/key.new", "-out", "\(path)/req.pem", "-subj", "/CN=dns.test"])
            try Self.run([
                "ca", "-batch", "-config", "\(path)/ca.cnf", "-selfsign", "-keyfile", "\(path)/key.new", "-in",
                "\(path)/req.pem", "-out", "\(path)/cert.new", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
            ])
        }
        // Each file replaced at once, as certbot's renewal does (a reader never sees half a file).
        _ = rename("\(path)/key.new", self.key)
        _ = rename("\(path)/cert.new", self.cert)
    }

    static func run(_ arguments: [String]) throws {
        let (status, _, error) = try Binaries.run(Self.openssl, arguments, timeout: 30)
        guard status == 0 else { throw DNSClientError.socket("openssl \(arguments.first ?? ""): \(error)") }
    }

    func remove() { try? FileManager.default.removeItem(at: self.directory) }
}

@Suite(.serialized) struct DoTTests {
    static let tools = Binaries.tool("kdig") != nil && Binaries.tool("dig") != nil && TestCertificate.available

    /// A server whose block serves `plugins` on plain 127.0.0.1 and DNS over TLS on another port.
    static func server(_ certificate: TestCertificate, plugins: String = "      - echo: {}", blockIndex: Int = 0)
        async throws -> (TestServer, UInt16)
    {
        let server = try await TestServer.start(
            plugins: plugins,
            blockIndex: blockIndex,
            extra: "    tls: { listen: [\"127.0.0.1:0\"], cert: \"\(certificate.cert)\", key: \"\(certificate.key)\" }"
        )
        return (server, server.server.tlsPort(ListenAddress("127.0.0.1:0")!)!)
    }

    /// A DNS-over-TLS connection that trusts only `certificate` and checks the name dns.test.
    static func connection(to port: UInt16, trusting certificate: TestCertificate, group: any EventLoopGroup) throws
        -> UpstreamTCPConnection
    {
        UpstreamTCPConnection(
            address: try SocketAddress(ipAddress: "127.0.0.1", port: Int(port)),
            group: group,
            tls: try UpstreamTLS.context(trustRoots: certificate.cert),
            serverName: "dns.test"
        )
    }

    static func ask(_ connection: UpstreamTCPConnection, _ name: String) async throws -> Message {
        let message = query(name, .a)
        let bytes = try await connection.exchange(
            try message.encode().bytes,
            question: message.questions[0],
            timeout: .seconds(3),
            exactCase: false
        )
        return try Message(wire: bytes)
    }

    @Test(.enabled(if: Tools.gate(DoTTests.tools)))
    func kdigDigAndSwiftletQueryAskOverTLSWithALPNDot() async throws {
        try Tools.require(Self.tools, "kdig, dig and openssl")
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let (server, port) = try await Self.server(certificate)
        defer { Task { await server.stop() } }
        // The echo plugin answers with the transport it saw: _tls.<name> SRV.
        let (_, kdig, _) = try await Binaries.runOffPool(
            Binaries.tool("kdig")!,
            ["@127.0.0.1", "-p", "\(port)", "+tls-ca=\(certificate.cert)", "+tls-hostname=dns.test", "x.test", "A"]
        )
        #expect(kdig.contains("_tls.x.test.") && kdig.contains("x.test.") && kdig.contains("127.0.0.1"))
        #expect(kdig.contains(";; TLS session (TLS1.3)"))
        let (_, dig, _) = try await Binaries.runOffPool(
            Binaries.tool("dig")!,
            ["+tls", "@127.0.0.1", "-p", "\(port)", "y.test", "A"]
        )
        #expect(dig.contains("status: NOERROR") && dig.contains("_tls.y.test."))
        let (status, ours, _) = try await Binaries.runOffPool(
            Binaries.swiftlet,
            ["query", "@127.0.0.1:\(port)", "z.test", "A", "+tls-ca=\(certificate.cert)", "+tls-hostname=dns.test"]
        )
        #expect(status == 0 && ours.contains("_tls.z.test.") && ours.contains(";; SERVER: 127.0.0.1:\(port)(TLS)"))
        // A name the certificate does not carry fails the check.
        let (wrongName, _, _) = try await Binaries.runOffPool(
            Binaries.swiftlet,
            ["query", "@127.0.0.1:\(port)", "z.test", "+tls-ca=\(certificate.cert)", "+tls-hostname=other.test", "+timeout=2"]
        )
        #expect(wrongName != 0)
        let (_, negotiated, _) = try await Binaries.runOffPool(
            "/bin/sh",
            ["-c", "echo | \(TestCertificate.openssl) s_client -connect 127.0.0.1:\(port) -alpn dot 2>/dev/null"],
            timeout: 10
        )
        #expect(negotiated.contains("ALPN protocol: dot"))
    }

    @Test(.enabled(if: Tools.gate(DoTTests.tools)))
    func aPaddedQueryGetsAReplyPaddedToBlocksOf468() async throws {
        try Tools.require(Self.tools, "kdig and openssl")
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let (server, port) = try await Self.server(certificate)
        defer { Task { await server.stop() } }
        let (_, padded, _) = try await Binaries.runOffPool(
            Binaries.tool("kdig")!,
            ["@127.0.0.1", "-p", "\(port)", "+tls", "+padding", "x.test", "A"]
        )
        #expect(padded.contains(";; PADDING: "))
        #expect(padded.contains("Received 468 B"))
        // Not padded unless asked.
        let (_, plain, _) = try await Binaries.runOffPool(
            Binaries.tool("kdig")!,
            ["@127.0.0.1", "-p", "\(port)", "+tls", "+nopadding", "x.test", "A"]
        )
        #expect(!plain.contains(";; PADDING: ") && !plain.contains("Received 468 B"))
    }

    @Test(.enabled(if: Tools.gate(TestCertificate.available)))
    func swiftletForwardsToSwiftletOverTLS() async throws {
        try Tools.require(TestCertificate.available, "openssl")
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let (upstream, port) = try await Self.server(certificate, blockIndex: 10)
        defer { Task { await upstream.stop() } }
        let forwarder = try await TestServer.start(
            plugins: "      - forward: { to: [\"tls://127.0.0.1:\(port)#dns.test\"], tls_ca: \"\(certificate.cert)\" }",
            blockIndex: 11
        )
        defer { Task { await forwarder.stop() } }
        let reply = try await forwarder.ask(query("far.test.", .a))
        // The upstream saw a TLS client.
        #expect(reply.additionals.map(\.name.description).contains("_tls.far.test."))
    }

    @Test(.enabled(if: Tools.gate(TestCertificate.available)))
    func aRenewedCertificateServesNewConnectionsWhileOpenOnesStay() async throws {
        try Tools.require(TestCertificate.available, "openssl")
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let old = try TestCertificate.make()
        defer { old.remove() }
        try FileManager.default.removeItem(atPath: old.cert)
        try FileManager.default.copyItem(atPath: certificate.cert, toPath: old.cert)
        let (server, port) = try await Self.server(certificate, blockIndex: 12)
        defer { Task { await server.stop() } }
        let group = MultiThreadedEventLoopGroup.singleton
        let open = try Self.connection(to: port, trusting: old, group: group)
        defer { open.close() }
        #expect(try await Self.ask(open, "before.test.").responseCode == .noError)

        try certificate.renew()
        // SIGHUP's path: the configuration is the same, the certificate files are new.
        let configuration = try Configuration.parse(server.text, source: "test.yaml", baseDirectory: fixturesDirectory.path)
        try server.server.reload(configuration)
        // A new connection must trust the new certificate; one trusting only the old fails its handshake.
        let renewed = try Self.connection(to: port, trusting: certificate, group: group)
        defer { renewed.close() }
        #expect(try await Self.ask(renewed, "after.test.").responseCode == .noError)
        let stale = try Self.connection(to: port, trusting: old, group: group)
        defer { stale.close() }
        await #expect(throws: (any Error).self) { _ = try await Self.ask(stale, "stale.test.") }
        // The connection opened before the renewal still answers (it would fail to reconnect: it trusts the old one).
        #expect(try await Self.ask(open, "still.test.").responseCode == .noError)
    }

    @Test(.enabled(if: Tools.gate(TestCertificate.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"))))
    func aReconnectingClientResumesItsSession() async throws {
        try Tools.require(TestCertificate.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "openssl and python3")
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let (server, port) = try await Self.server(certificate, blockIndex: 13)
        defer { Task { await server.stop() } }
        // Python's ssl module: a query on a first connection (a TLS 1.3 ticket arrives after the handshake), then a
        // second connection offering that session.
        let script = """
            import socket, ssl, struct, sys
            context = ssl.create_default_context(cafile=sys.argv[2])
            query = bytes.fromhex("1234010000010000000000000474657374000001" + "0001")
            def ask(session=None):
                raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
                tls = context.wrap_socket(raw, server_hostname="dns.test", session=session)
                tls.sendall(struct.pack("!H", len(query)) + query)
                length = struct.unpack("!H", tls.recv(2))[0]
                while length > 0:
                    length -= len(tls.recv(length))
                session, reused = tls.session, tls.session_reused
                tls.close()
                return session, reused
            session, first = ask()
            _, second = ask(session)
            print("first", first, "second", second)
            """
        let (status, output, error) = try await Binaries.runOffPool(
            "/usr/bin/python3",
            ["-c", script, "\(port)", certificate.cert],
            timeout: 20
        )
        #expect(status == 0, "\(error)")
        #expect(output == "first False second True\n")
    }

    @Test(.enabled(if: Tools.gate(TestCertificate.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"))))
    func theTCPBoundsHoldOverTLS() async throws {
        try Tools.require(TestCertificate.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "openssl and python3")
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let server = try await TestServer.start(
            plugins: "      - echo: {}",
            blockIndex: 14,
            extra: """
                    tls: { listen: ["127.0.0.1:0"], cert: "\(certificate.cert)", key: "\(certificate.key)" }
                    max_tcp_connections_per_client: 3
                    tcp_idle_timeout: 1s
                """
        )
        defer { Task { await server.stop() } }
        let port = server.server.tlsPort(ListenAddress("127.0.0.1:0")!)!
        // Four connections from one address: three are served, the fourth is closed before its handshake ends. Then
        // one served connection is left idle: the server closes it after the idle timeout (the read sees the end;
        // the client's own timeout is 10 s).
        let script = """
            import socket, ssl, struct, sys
            context = ssl.create_default_context(cafile=sys.argv[2])
            query = bytes.fromhex("1234010000010000000000000474657374000001" + "0001")
            def connect():
                raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
                return context.wrap_socket(raw, server_hostname="dns.test")
            def ask(tls):
                tls.sendall(struct.pack("!H", len(query)) + query)
                length = struct.unpack("!H", tls.recv(2))[0]
                while length > 0:
                    length -= len(tls.recv(length))
            served = []
            for _ in range(3):
                tls = connect()
                ask(tls)
                served.append(tls)
            try:
                extra = connect()
                ask(extra)
                print("fourth served")
            except (ssl.SSLError, ConnectionError, OSError, struct.error):
                print("fourth refused")
            closed = served[0].recv(1) == b""
            print("idle closed", closed)
            """
        let (status, output, error) = try await Binaries.runOffPool(
            "/usr/bin/python3",
            ["-c", script, "\(port)", certificate.cert],
            timeout: 30
        )
        #expect(status == 0, "\(error)")
        #expect(output == "fourth refused\nidle closed True\n")
    }

    @Test(.enabled(if: Tools.gate(TestCertificate.available)))
    func anExpiredCertificateOrAForeignKeyIsAConfigurationError() throws {
        try Tools.require(TestCertificate.available, "openssl")
        let expired = try TestCertificate.make(expired: true)
        defer { expired.remove() }
        let text = "servers:\n  - listen: [\"127.0.0.1:1\"]\n    tls: { listen: [\"127.0.0.1:2\"], cert: \"\(expired.cert)\", key: \"\(expired.key)\" }\n"
        #expect(
            buildError(text)
                == "test.yaml:3:43: servers[0].tls.cert: the certificate in '\(expired.cert)' expired on 2020-01-02T00:00:00Z"
        )
        let good = try TestCertificate.make()
        defer { good.remove() }
        let other = try TestCertificate.make()
        defer { other.remove() }
        let foreign = "servers:\n  - listen: [\"127.0.0.1:1\"]\n    tls: { listen: [\"127.0.0.1:2\"], cert: \"\(good.cert)\", key: \"\(other.key)\" }\n"
        #expect(buildError(foreign).contains("servers[0].tls.cert: the key in '\(other.key)' does not go with the certificate in '\(good.cert)'"))
        let same = "servers:\n  - listen: [\"127.0.0.1:1\"]\n    tls: { listen: [\"127.0.0.1:1\"], cert: \"\(good.cert)\", key: \"\(good.key)\" }\n"
        #expect(buildError(same).contains("127.0.0.1:1 is also another listen address of this block"))
    }
}
