// DoHTests: DNS over HTTPS (RFC 8484) through a whole server: kdig and curl as clients, HTTP/2 and HTTP/1.1 from
// AsyncHTTPClient, the wire and JSON forms, Cache-Control, the error statuses, suspended queries, the per-connection
// stream bound (an HTTP/2 client driven frame by frame), the idle timeout, plain HTTP behind a proxy, and the
// configuration errors.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@testable import Host

@Suite(.serialized) struct DoHTests {
    /// The fixture certificate names 127.0.0.1 and dns.test; it is its own root.
    static let certificate = fixturesDirectory.appendingPathComponent("tls/server.pem").path
    static let https = "    https: { listen: [\"127.0.0.1:0\"], cert: tls/server.pem, key: tls/server.key }"
    /// `doh.test.` with answers of different TTLs, in a file of its own; the zone plugin's entry for it.
    static func zone(_ records: String = DoHTests.records, transferTo: String = "") throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-doh-\(UUID()).zone").path
        try records.write(toFile: file, atomically: true, encoding: .utf8)
        return "      - zone: { zones: [{ origin: doh.test., file: \(file)\(transferTo) }] }"
    }

    static let records = """
        $ORIGIN doh.test.
        @ 3600 SOA ns hostmaster 1 3600 900 604800 300
        @ 3600 NS ns
        ns 120 A 192.0.2.53
        www 300 A 192.0.2.1
        www 60 A 192.0.2.2
        txt 600 TXT "v=spf1 -all"
        """

    /// A server whose block serves `plugins` on plain 127.0.0.1 and DNS over HTTPS on another port.
    static func server(
        plugins: String? = nil,
        https: String = DoHTests.https,
        extra: String = "",
        blockIndex: Int = 0,
        types: [any Plugin.Type] = Registry.builtIn
    ) async throws -> (TestServer, UInt16) {
        let server = try await TestServer.start(
            plugins: try plugins ?? Self.zone(),
            blockIndex: blockIndex,
            extra: https + (extra.isEmpty ? "" : "\n" + extra),
            admin: true,
            plugins: types
        )
        return (server, server.server.httpsPort(ListenAddress("127.0.0.1:0")!)!)
    }

    /// An HTTP client trusting the fixture certificate: HTTP/2 when the server offers it, or HTTP/1.1 only.
    static func client(http1: Bool = false) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(Self.certificate)
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        if http1 { configuration.httpVersion = .http1Only }
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    struct Response {
        var status: UInt
        var version: HTTPVersion
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: self.body, as: UTF8.self) }
        var message: Message? { try? Message(wire: self.body) }
    }

    static func send(
        _ client: HTTPClient,
        _ url: String,
        method: HTTPMethod = .GET,
        type: String? = nil,
        body: [UInt8]? = nil,
        seconds: Int64 = 10
    ) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let type { request.headers.add(name: "content-type", value: type) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(seconds))
        let collected = try await response.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for (name, value) in response.headers { headers[name.lowercased()] = value }
        return Response(status: response.status.code, version: response.version, headers: headers, body: Array(collected.readableBytesView))
    }

    static func wire(_ name: String, _ type: RecordType, id: UInt16 = 0) throws -> [UInt8] {
        try Message.query(DomainName(name), type, id: id, edns: nil).encode().bytes
    }

    @Test func wireFormOverHTTP2AndHTTP1WithCacheControlFromTheSmallestTTL() async throws {
        let (server, port) = try await Self.server()
        defer { Task { await server.stop() } }
        for http1 in [false, true] {
            let client = Self.client(http1: http1)
            let base = "https://127.0.0.1:\(port)/dns-query"
            // GET ?dns= (RFC 8484 §4.1), ID 0 as the RFC asks of clients.
            let get = try await Self.send(client, base + "?dns=" + DoHRequest.base64URLEncode(try Self.wire("www.doh.test.", .a)))
            #expect(get.status == 200)
            #expect(get.version == (http1 ? .http1_1 : .http2))
            #expect(get.headers["content-type"] == "application/dns-message")
            #expect(get.headers["cache-control"] == "max-age=60")
            #expect(get.headers["content-length"] == "\(get.body.count)")
            let answer = try #require(get.message)
            #expect(answer.header.id == 0 && answer.header.isResponse && answer.header.isAuthoritative)
            #expect(answer.answers.map(brief).sorted() == ["www.doh.test. a 192.0.2.1", "www.doh.test. a 192.0.2.2"])
            // POST application/dns-message; the ID is echoed whatever it is.
            let post = try await Self.send(
                client,
                base,
                method: .POST,
                type: "application/dns-message",
                body: try Self.wire("txt.doh.test.", .txt, id: 0x4242)
            )
            #expect(post.status == 200 && post.headers["cache-control"] == "max-age=600")
            #expect(post.message?.header.id == 0x4242)
            #expect(post.message?.answers.map(brief) == [#"txt.doh.test. txt "v=spf1 -all""#])
            // A negative answer may be kept for its SOA's negative TTL (RFC 2308 §5).
            let negative = try await Self.send(client, base + "?dns=" + DoHRequest.base64URLEncode(try Self.wire("no.doh.test.", .a)))
            #expect(negative.status == 200 && negative.message?.responseCode == .nxDomain)
            #expect(negative.headers["cache-control"] == "max-age=300")
            try await client.shutdown()
        }
        #expect(try await server.counter("swiftlet_queries_total", labels: "transport=\"https\"") >= 6)
    }

    @Test func theJSONFormAnswersNameAndType() async throws {
        let (server, port) = try await Self.server()
        defer { Task { await server.stop() } }
        let client = Self.client()
        defer { _ = client.shutdown() }
        let response = try await Self.send(client, "https://127.0.0.1:\(port)/dns-query?name=ns.doh.test&type=A")
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "application/dns-json")
        #expect(response.headers["cache-control"] == "max-age=120")
        #expect(
            response.text
                == #"{"AD":false,"Answer":[{"TTL":120,"data":"192.0.2.53","name":"ns.doh.test.","type":1}],"CD":false,"#
                + #""Question":[{"name":"ns.doh.test.","type":1}],"RA":false,"RD":true,"Status":0,"TC":false}"#
        )
    }

    @Test func requestsThatAreNotDNSQueriesGetTheirStatus() async throws {
        let (server, port) = try await Self.server(blockIndex: 13)
        defer { Task { await server.stop() } }
        let listen = "listen=\"127.0.0.1:0\""
        func count(_ status: String) async throws -> Int {
            try await server.counter("swiftlet_https_responses_total", labels: "\(listen),status=\"\(status)\"")
        }
        let before = try await [400, 404, 405, 413, 415].asyncMap { try await count("\($0)") }
        let client = Self.client()
        defer { _ = client.shutdown() }
        let base = "https://127.0.0.1:\(port)"
        let badBase64 = try await Self.send(client, base + "/dns-query?dns=AA*B")
        #expect(badBase64.status == 400 && badBase64.text == "the dns parameter is not base64url (RFC 4648 §5)\n")
        #expect(badBase64.headers["content-type"] == "text/plain")
        let notAQuery = try await Self.send(client, base + "/dns-query", method: .POST, type: "application/dns-message", body: [1, 2, 3])
        #expect(notAQuery.status == 400 && notAQuery.text == "the request does not hold a DNS query\n")
        let elsewhere = try await Self.send(client, base + "/resolve?dns=AAAB")
        #expect(elsewhere.status == 404 && elsewhere.text == "DNS queries are answered at /dns-query\n")
        let put = try await Self.send(client, base + "/dns-query", method: .PUT, body: [0])
        #expect(put.status == 405 && put.headers["allow"] == "GET, POST")
        let huge = try await Self.send(
            client,
            base + "/dns-query",
            method: .POST,
            type: "application/dns-message",
            body: [UInt8](repeating: 0, count: 70_000)
        )
        #expect(huge.status == 413 && huge.text == "a DNS message has at most 65535 octets\n")
        let wrongType = try await Self.send(client, base + "/dns-query", method: .POST, type: "application/json", body: try Self.wire("x.", .a))
        #expect(wrongType.status == 415)
        #expect(try await server.ask(query("www.doh.test.", .a)).answers.count == 2)
        let after = try await [400, 404, 405, 413, 415].asyncMap { try await count("\($0)") }
        #expect(zip(before, after).map { $1 - $0 } == [2, 1, 1, 1, 1])
    }

    @Test func kdigAndCurlAskOverHTTP2() async throws {
        let tools = Binaries.tool("kdig") != nil && Binaries.tool("curl") != nil
        try Tools.require(tools, "kdig and curl")
        let (server, port) = try await Self.server(plugins: "      - echo: {}")
        defer { Task { await server.stop() } }
        // The echo plugin answers with the transport and address it saw: _https.<name> SRV and 127.0.0.1.
        for method in ["+https", "+https-get"] {
            let (_, kdig, _) = try await Binaries.runOffPool(
                Binaries.tool("kdig")!,
                ["@127.0.0.1", "-p", "\(port)", method, "+tls-ca=\(Self.certificate)", "+tls-hostname=dns.test", "x.test", "A"]
            )
            #expect(kdig.contains(";; HTTP session (HTTP/2-\(method == "+https" ? "POST" : "GET"))-(dns.test/dns-query)-(status: 200)"))
            #expect(kdig.contains("_https.x.test.") && kdig.contains("127.0.0.1"))
            // kdig pads over HTTPS by default: the reply is padded to a block of 468 (RFC 8467).
            #expect(kdig.contains("Received 468 B"))
        }
        let (status, curl, _) = try await Binaries.runOffPool(
            Binaries.tool("curl")!,
            [
                "-s", "--http2", "--cacert", Self.certificate, "-H", "accept: application/dns-json",
                "-w", "\n%{http_version} %{http_code}",
                "https://127.0.0.1:\(port)/dns-query?name=y.test&type=AAAA",
            ]
        )
        #expect(status == 0 && curl.hasSuffix("\n2 200") && curl.contains(#""name":"_https.y.test.""#))
    }

    @Test func digCurlAndSwiftletQueryResolveThroughDoH() async throws {
        let tools = Binaries.tool("dig") != nil && Binaries.tool("curl") != nil
        try Tools.require(tools, "dig and curl")
        let (server, port) = try await Self.server(plugins: try Self.zone(Self.records + "\napp 300 A 127.0.0.1\n"))
        defer { Task { await server.stop() } }
        let (_, dig, _) = try await Binaries.runOffPool(Binaries.tool("dig")!, ["+https", "@127.0.0.1", "-p", "\(port)", "www.doh.test", "A"])
        #expect(dig.contains("status: NOERROR") && dig.contains("www.doh.test.\t\t60\tIN\tA\t192.0.2.2"))
        #expect(dig.contains("(HTTPS)"))
        let (_, digGet, _) = try await Binaries.runOffPool(Binaries.tool("dig")!, ["+https-get", "@127.0.0.1", "-p", "\(port)", "ns.doh.test", "A"])
        #expect(digGet.contains("ns.doh.test.\t\t120\tIN\tA\t192.0.2.53") && digGet.contains("(HTTPS-GET)"))
        // curl resolves app.doh.test through Swiftlet's DoH, then fetches the admin listener's /health by that name.
        let admin = server.server.adminPort!
        let (status, health, error) = try await Binaries.runOffPool(
            Binaries.tool("curl")!,
            ["-s", "-S", "--doh-url", "https://127.0.0.1:\(port)/dns-query", "--cacert", Self.certificate, "http://app.doh.test:\(admin)/health"]
        )
        #expect(status == 0 && health.hasPrefix("ok"), "\(error)")
        for method in ["+https", "+https-get"] {
            let (code, ours, _) = try await Binaries.runOffPool(
                Binaries.swiftlet,
                ["query", "@127.0.0.1:\(port)", "txt.doh.test", "TXT", method, "+tls-ca=\(Self.certificate)"]
            )
            #expect(code == 0 && ours.contains("txt.doh.test.\t600\tIN\tTXT\t\"v=spf1 -all\""), "\(ours)")
            #expect(ours.contains(";; SERVER: 127.0.0.1:\(port)(\(method == "+https" ? "HTTPS" : "HTTPS-GET"))"))
        }
        // A path the server does not serve is a 404, which `swiftlet query` reports as a failure.
        let (missing, _, missingError) = try await Binaries.runOffPool(
            Binaries.swiftlet,
            ["query", "@127.0.0.1:\(port)", "txt.doh.test", "+https=/other", "+tls-ca=\(Self.certificate)"]
        )
        #expect(missing == 9 && missingError.contains("https: status 404"))
    }

    @Test func suspendedQueriesAreAnsweredAndStreamsPerConnectionAreBounded() async throws {
        let python = "/usr/bin/python3"
        let available = FileManager.default.isExecutableFile(atPath: python)
            && (try? Binaries.run(python, ["-c", "import h2"]).0) == 0
        try Tools.require(available, "python3-h2")
        let (server, port) = try await Self.server(
            plugins: "      - delay: { milliseconds: 700 }",
            https: "    https: { listen: [\"127.0.0.1:0\"], cert: tls/server.pem, key: tls/server.key, max_streams: 4 }",
            types: Registry.builtIn + [DelayPlugin.self]
        )
        defer { Task { await server.stop() } }
        // An HTTP/2 client that reads the server's SETTINGS, opens as many streams as they allow at once, each for
        // another name (so each suspends in the delay plugin) and reads their answers; then opens one more than
        // allowed at once, ignoring the bound it acknowledged, and reports how the server ended the connection.
        let script = """
            import socket, ssl, sys, base64, struct
            import h2.connection, h2.config, h2.events, h2.settings
            port, ca = int(sys.argv[1]), sys.argv[2]
            context = ssl.create_default_context(cafile=ca)
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="dns.test")
            assert sock.selected_alpn_protocol() == "h2"
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            conn.initiate_connection()
            sock.sendall(conn.data_to_send())
            limit = None
            while limit is None:
                for event in conn.receive_data(sock.recv(65535)):
                    if isinstance(event, h2.events.RemoteSettingsChanged):
                        limit = event.changed_settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS].new_value
                sock.sendall(conn.data_to_send())
            print("max_concurrent_streams", limit)
            def query(name):
                labels = b"".join(bytes([len(l)]) + l.encode() for l in name.split("."))
                return struct.pack(">HHHHHH", 0, 0x0100, 1, 0, 0, 0) + labels + b"\\x00" + struct.pack(">HH", 1, 1)
            def open_streams(count, first):
                streams = []
                for i in range(count):
                    stream = conn.get_next_available_stream_id()
                    dns = base64.urlsafe_b64encode(query("n%d.test" % (first + i))).rstrip(b"=").decode()
                    conn.send_headers(stream, [(":method", "GET"), (":scheme", "https"), (":authority", "dns.test"),
                                               (":path", "/dns-query?dns=" + dns)], end_stream=True)
                    streams.append(stream)
                sock.sendall(conn.data_to_send())
                return streams
            streams = open_streams(limit, 0)
            status, answered = {}, []
            while len(answered) < len(streams):
                for event in conn.receive_data(sock.recv(65535)):
                    if isinstance(event, h2.events.ResponseReceived):
                        status[event.stream_id] = dict(event.headers)[b":status"].decode()
                    elif isinstance(event, h2.events.StreamEnded):
                        answered.append("%d %s" % (event.stream_id, status.get(event.stream_id)))
                sock.sendall(conn.data_to_send())
            print("answered", " ".join(sorted(answered)))
            conn.remote_settings[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] = 1000
            conn.remote_settings.acknowledge()
            open_streams(limit + 1, limit)
            while True:
                data = sock.recv(65535)
                if not data:
                    print("closed without goaway")
                    break
                events = conn.receive_data(data)
                ended = [e for e in events if isinstance(e, h2.events.ConnectionTerminated)]
                if ended:
                    print("goaway error", int(ended[0].error_code))
                    break
            """
        let (status, output, error) = try await Binaries.runOffPool(python, ["-c", script, "\(port)", Self.certificate], timeout: 30)
        #expect(status == 0, "\(error)")
        // All the streams the bound allows are answered at once, each after its suspended query resumed. A client
        // that opens more than it acknowledged has broken the protocol: swift-nio-http2 ends the connection with
        // GOAWAY PROTOCOL_ERROR (RFC 9113 §5.1.2 allows refusing just the stream).
        #expect(
            output == """
                max_concurrent_streams 4
                answered 1 200 3 200 5 200 7 200
                goaway error 1

                """,
            "\(error)"
        )
    }

    @Test func forwardAsksSwiftletAndUnboundOverHTTPS() async throws {
        try Tools.require(UnboundServer.available && TestCertificate.available, "unbound and openssl")
        // A certificate naming dns.test only (NIOSSL accepts one naming the address connected to for any name).
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let (upstream, port) = try await Self.server(
            plugins: "      - echo: {}",
            https: "    https: { listen: [\"127.0.0.1:0\"], cert: \"\(certificate.cert)\", key: \"\(certificate.key)\" }",
            blockIndex: 15
        )
        defer { Task { await upstream.stop() } }
        let unbound = try await UnboundServer.start(
            localData: ["www.unbound.test. 300 IN A 192.0.2.9"],
            certificate: certificate.cert,
            key: certificate.key
        )
        defer { unbound.stop() }
        let forwarder = try await TestServer.start(
            plugins: """
                      - forward: { to: ["https://127.0.0.1:\(unbound.httpsPort!)/dns-query#dns.test"], zones: [unbound.test.], tls_ca: "\(certificate.cert)" }
                      - forward: { to: ["https://127.0.0.1:\(port)#dns.test"], tls_ca: "\(certificate.cert)" }
                """,
            blockIndex: 12
        )
        defer { Task { await forwarder.stop() } }
        var ports: Set<UInt16> = []
        for _ in 0..<3 {
            // The upstream saw an HTTPS client, on one connection reused (the port it saw stays the same).
            let reply = try await forwarder.ask(query("x.far.test.", .a))
            #expect(reply.additionals.map(\.name.description).contains("_https.x.far.test."), "\(reply)")
            for case .srv(let srv) in reply.additionals.map(\.rdata) { ports.insert(srv.port) }
            let fromUnbound = try await forwarder.ask(query("www.unbound.test.", .a))
            #expect(fromUnbound.answers.map(brief) == ["www.unbound.test. a 192.0.2.9"])
        }
        #expect(ports.count == 1)
        // A certificate that does not name the server asked for fails the check: no answer, SERVFAIL.
        let strict = try await TestServer.start(
            plugins: "      - forward: { to: [\"https://127.0.0.1:\(port)#other.test\"], tls_ca: \"\(certificate.cert)\", timeout: 1s, deadline: 2s }",
            blockIndex: 11
        )
        defer { Task { await strict.stop() } }
        let unverified = try await strict.ask(query("www.elsewhere.test.", .a))
        #expect(unverified.responseCode == .servFail, "\(unverified)")
    }

    @Test func aClientOpeningAndResettingTenThousandStreamsIsDisconnected() async throws {
        let python = "/usr/bin/python3"
        let available = FileManager.default.isExecutableFile(atPath: python)
            && (try? Binaries.run(python, ["-c", "import h2"]).0) == 0
        try Tools.require(available, "python3-h2")
        let (server, port) = try await Self.server(plugins: "      - echo: {}")
        defer { Task { await server.stop() } }
        // HTTP/2 "rapid reset" (CVE-2023-44487): open a stream and reset it at once, 10,000 times, without waiting.
        let script = """
            import socket, ssl, sys
            import h2.connection, h2.config, h2.events, h2.errors
            port, ca = int(sys.argv[1]), sys.argv[2]
            context = ssl.create_default_context(cafile=ca)
            context.set_alpn_protocols(["h2"])
            sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="dns.test")
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            conn.initiate_connection()
            sent = 0
            try:
                for i in range(10000):
                    stream = conn.get_next_available_stream_id()
                    conn.send_headers(stream, [(":method", "GET"), (":scheme", "https"), (":authority", "dns.test"),
                                               (":path", "/dns-query?name=n%d.test" % i)])
                    conn.reset_stream(stream, h2.errors.ErrorCodes.CANCEL)
                    sent += 1
                    if i % 100 == 99:
                        sock.sendall(conn.data_to_send())
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
            goaway = None
            try:
                while goaway is None:
                    data = sock.recv(65535)
                    if not data:
                        break
                    for event in conn.receive_data(data):
                        if isinstance(event, h2.events.ConnectionTerminated):
                            goaway = int(event.error_code)
            except Exception:
                pass
            print("goaway", goaway, "sent all" if sent == 10000 else "stopped early")
            """
        let (status, output, error) = try await Binaries.runOffPool(python, ["-c", script, "\(port)", Self.certificate], timeout: 60)
        #expect(status == 0, "\(error)")
        // swift-nio-http2 allows 200 resets in 30 s, then ends the connection with ENHANCE_YOUR_CALM (11).
        #expect(output.hasPrefix("goaway 11 "), "\(output) \(error)")
        // The server answers other clients meanwhile.
        let client = Self.client()
        defer { _ = client.shutdown() }
        let after = try await Self.send(client, "https://127.0.0.1:\(port)/dns-query?name=after.test&type=A")
        #expect(after.status == 200 && after.text.contains("_https.after.test."))
    }

    @Test func aRenewedCertificateServesNewConnectionsWhileOpenOnesStay() async throws {
        try Tools.require(TestCertificate.available, "openssl")
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let old = try TestCertificate.make()
        defer { old.remove() }
        try FileManager.default.removeItem(atPath: old.cert)
        try FileManager.default.copyItem(atPath: certificate.cert, toPath: old.cert)
        let https = "    https: { listen: [\"127.0.0.1:0\"], cert: \"\(certificate.cert)\", key: \"\(certificate.key)\" }"
        let (server, port) = try await Self.server(plugins: "      - echo: {}", https: https)
        defer { Task { await server.stop() } }
        // Clients that trust one certificate each, checking the name dns.test (the address is pinned).
        func client(trusting trusted: TestCertificate) throws -> HTTPClient {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(trusted.cert)
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
            configuration.dnsOverride = ["dns.test": "127.0.0.1"]
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        }
        let url = "https://dns.test:\(port)/dns-query?name=x.test&type=A"
        let open = try client(trusting: old)
        defer { _ = open.shutdown() }
        let first: Response
        do { first = try await Self.send(open, url) } catch {
            Issue.record("a client trusting the first certificate: \(error)")
            return
        }
        #expect(first.status == 200)
        try certificate.renew()
        // SIGHUP's path: the configuration is the same, the certificate files are new.
        try server.server.reload(try Configuration.parse(server.text, source: "test.yaml", baseDirectory: fixturesDirectory.path))
        let renewed = try client(trusting: certificate)
        defer { _ = renewed.shutdown() }
        let afterRenewal: Response
        do { afterRenewal = try await Self.send(renewed, url) } catch {
            Issue.record("a client trusting the renewed certificate: \(error)")
            return
        }
        #expect(afterRenewal.status == 200)
        // The connection opened before the renewal still answers, on HTTP/2 (it would fail to reconnect).
        let still = try await Self.send(open, url)
        #expect(still.status == 200 && still.version == .http2)
        // A new connection trusting only the old certificate fails its handshake (AsyncHTTPClient tries until the
        // request's deadline).
        let stale = try client(trusting: old)
        defer { _ = stale.shutdown() }
        await #expect(throws: (any Error).self) { _ = try await Self.send(stale, url, seconds: 2) }
    }

    @Test func anIdleConnectionIsClosedAndPlainHTTPServesOnlyWhenConfigured() async throws {
        let (server, port) = try await Self.server(
            plugins: "      - echo: {}",
            https: "    https: { listen: [\"127.0.0.1:0\"], plain: true, path: /q }",
            extra: "    tcp_idle_timeout: 1s",
            blockIndex: 14
        )
        defer { Task { await server.stop() } }
        let idle = "listen=\"127.0.0.1:0\",reason=\"idle\""
        let closedBefore = try await server.counter("swiftlet_tcp_connections_closed_total", labels: idle)
        // Plain HTTP/1.1, keep-alive: two requests on one connection, then the connection sits idle.
        let fd = try await blocking { connectTCP(to: ListenAddress(address: IPAddress("127.0.0.1")!, port: port), timeout: 5) }
        defer { close(fd) }
        let wire = DoHRequest.base64URLEncode(try Self.wire("p.test.", .a))
        for _ in 0..<2 {
            let request = "GET /q?dns=\(wire) HTTP/1.1\r\nHost: x\r\n\r\n"
            try DNSClient.sendAll(fd, Array(request.utf8))
            let response = try await blocking { () throws -> String in
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(fd, &buffer, buffer.count, 0)
                return String(decoding: buffer[0..<max(0, count)], as: UTF8.self)
            }
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(response.contains("content-type: application/dns-message\r\n"))
        }
        // No request for the idle timeout: the server closes the connection (recv sees the end).
        let ended = try await blocking { () -> Int in
            var buffer = [UInt8](repeating: 0, count: 16)
            return recv(fd, &buffer, buffer.count, 0)
        }
        #expect(ended == 0)
        #expect(try await TCPAbuseTests.wait(for: closedBefore + 1, seconds: 5) {
            try await server.counter("swiftlet_tcp_connections_closed_total", labels: idle)
        } == closedBefore + 1)
        // The client is the TCP peer, over plain HTTP too.
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        let json = try await Self.send(client, "http://127.0.0.1:\(port)/q?name=z.test&type=A")
        #expect(json.status == 200 && json.text.contains(#""name":"_https.z.test.""#) && json.text.contains(#""data":"127.0.0.1""#))
    }

    @Test func zoneTransfersAreNotAnsweredOverHTTPS() async throws {
        let (server, port) = try await Self.server(plugins: try Self.zone(transferTo: ", transfer_to: [\"127.0.0.0/8\"]"))
        defer { Task { await server.stop() } }
        let client = Self.client()
        defer { _ = client.shutdown() }
        let response = try await Self.send(
            client,
            "https://127.0.0.1:\(port)/dns-query?dns=" + DoHRequest.base64URLEncode(try Self.wire("doh.test.", .axfr))
        )
        // One HTTP response carries one DNS message; a transfer takes several, so it is refused (TCP serves it).
        #expect(response.status == 200 && response.message?.responseCode == .refused)
        let overTCP = try await server.ask(query("doh.test.", .axfr), tcp: true)
        #expect(overTCP.responseCode == .noError && overTCP.answers.first?.type == .soa)
    }

    @Test func httpsConfigurationErrorsAreNamed() throws {
        func block(_ https: String) -> String {
            """
            servers:
              - listen: ["127.0.0.1:5300"]
                https: \(https)
                plugins:
                  - echo: {}
            """
        }
        #expect(
            buildError(block("{ listen: [\"127.0.0.1:8443\"] }"))
                == "test.yaml:3:12: servers[0].https: https needs cert and key (PEM files); for plain HTTP behind a TLS-terminating proxy, say plain: true"
        )
        #expect(
            buildError(block("{ listen: [\"127.0.0.1:8080\"], plain: true, cert: tls/server.pem }"))
                == "test.yaml:3:61: servers[0].https.cert: plain: true serves HTTP without TLS (behind a proxy that ends it); remove cert and key, or plain"
        )
        #expect(
            buildError(block("{ listen: [\"127.0.0.1:5300\"], plain: true }"))
                == "test.yaml:3:23: servers[0].https.listen[0]: 127.0.0.1:5300 is also another listen address of this block; DNS over HTTPS needs a TCP port of its own"
        )
        #expect(
            buildError(block("{ listen: [\"127.0.0.1:8080\"], plain: true, path: dns-query }"))
                == "test.yaml:3:61: servers[0].https.path: path must be a URI path like /dns-query, not 'dns-query'"
        )
        #expect(
            buildError(block("{ listen: [\"127.0.0.1:8080\"], plain: true, max_streams: 0 }"))
                == "test.yaml:3:68: servers[0].https.max_streams: max_streams must be between 1 and 10000, not 0"
        )
        #expect(
            buildError(block("{ listen: [\"127.0.0.1:8443\"], cert: tls/missing.pem, key: tls/server.key }")).hasPrefix(
                "test.yaml:3:48: servers[0].https.cert: cannot read a PEM certificate from '\(fixturesDirectory.path)/tls/missing.pem'"
            )
        )
        #expect(buildError(block("{ listen: [\"127.0.0.1:8443\"], cert: tls/server.pem, key: tls/server.key }")) == "built")
    }
}

extension Array {
    /// `transform` on each element in order, awaiting each.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
