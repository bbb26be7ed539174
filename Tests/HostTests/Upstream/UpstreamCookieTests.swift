// UpstreamCookieTests: the host's upstream client with DNS cookies (RFC 7873 §5.1, §5.3): against scripted servers
// (a server cookie learnt and sent back, a reply with another client cookie discarded, a missing one after cookies
// were given discarded, BADCOOKIE asked again with the new cookie), and against real servers: knotd with its cookie
// module, and unbound 1.17, which has no server cookies and must keep working.

import Foundation
import NIOPosix
import Pipeline
import SwiftletTestSupport
import Synchronization
import Testing

@testable import Host

@Suite(.serialized) struct UpstreamCookieTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Counts the replies the client rejected.
    final class Rejections: Sendable {
        private let count = Atomic<Int>(0)
        func add() { self.count.add(1, ordering: .relaxed) }
        var value: Int { self.count.load(ordering: .relaxed) }
    }

    static func client(_ cookies: ClientCookies, rejected: Rejections = Rejections()) throws -> any UpstreamExchange {
        try HostUpstreamService(group: Self.group).client(
            UpstreamClientOptions(datagrams: .pooled, reusesConnections: true, cookies: cookies) { rejected.add() }
        )
    }

    static func ask(_ client: any UpstreamExchange, _ name: String, _ type: RecordType = .a, at port: UInt16)
        async throws -> Message
    {
        let question = Question(name: try DomainName(name), type: type)
        let bytes = try await client.exchange(
            try query(name, type).encode().bytes,
            question: question,
            exactCase: false,
            with: UpstreamServer(address: .v4(IPv4Address(127, 0, 0, 1)), port: port),
            timeout: .seconds(2),
            on: nil
        )
        return try Message(wire: bytes)
    }

    /// The COOKIE option a query carried.
    static func cookie(of message: Message) -> (client: [UInt8], server: [UInt8])? {
        guard case .cookie(let client, let server)? = message.edns?.option(.cookie) else { return nil }
        return (client, server)
    }

    /// A reply to `query` with one A record, and `cookie` (client, server) in its OPT.
    static func answer(_ query: Message, cookie: [UInt8]?, code: ResponseCode = ResponseCode.noError) -> FakeAction {
        var reply = Message(header: Header(flags: 0x8180))
        reply.answers = code == .noError ? [rr("\(query.questions[0].name) 300 IN A 192.0.2.1")] : []
        reply.edns = EDNS()
        if let cookie { reply.edns!.options = [.unknown(code: .cookie, data: cookie)] }
        reply.responseCode = code
        return .reply(reply)
    }

    @Test func aServerCookieIsLearntAndSentBackAndForgedCookiesAreDiscarded() async throws {
        let serverCookie: [UInt8] = Array(repeating: 0xAB, count: 16)
        let seen = Mutex<[[UInt8]]>([])
        let mode = Atomic<Int>(0)
        let upstream = try FakeUpstream { query, _ in
            guard let sent = Self.cookie(of: query) else { return Self.answer(query, cookie: nil) }
            seen.withLock { $0.append(sent.client + sent.server) }
            switch mode.load(ordering: .relaxed) {
            case 0: return Self.answer(query, cookie: sent.client + serverCookie)
            case 1: return Self.answer(query, cookie: Array(repeating: 1, count: 8) + serverCookie)
            default: return Self.answer(query, cookie: nil)
            }
        }
        defer { upstream.stop() }
        let cookies = ClientCookies()
        let rejected = Rejections()
        let client = try Self.client(cookies, rejected: rejected)
        let loopback = IPAddress("127.0.0.1")!
        let mine = cookies.clientCookie(for: loopback)

        #expect(try await Self.ask(client, "a.example.", at: upstream.port).answers.count == 1)
        #expect(cookies.serverCookie(of: loopback) == serverCookie)
        #expect(try await Self.ask(client, "b.example.", at: upstream.port).answers.count == 1)
        // The first query had our client cookie alone; the second the server's cookie after it.
        #expect(seen.withLock { $0 } == [mine, mine + serverCookie])

        // Someone else's client cookie: not an answer to us.
        mode.store(1, ordering: .relaxed)
        await #expect(throws: UpstreamError.connection("discarded a reply with a client cookie that is not ours")) {
            _ = try await Self.ask(client, "c.example.", at: upstream.port)
        }
        // No cookie from a server that gave one: discarded, and the cookie forgotten, so a server that turned cookies
        // off fails one query only.
        mode.store(2, ordering: .relaxed)
        await #expect(throws: UpstreamError.connection("discarded a reply without a cookie from a server that gives them")) {
            _ = try await Self.ask(client, "d.example.", at: upstream.port)
        }
        #expect(cookies.serverCookie(of: loopback) == nil)
        #expect(try await Self.ask(client, "e.example.", at: upstream.port).answers.count == 1)
        #expect(rejected.value == 2)
    }

    @Test func badCookieIsAskedAgainWithTheNewCookie() async throws {
        let fresh: [UInt8] = Array(repeating: 0x5A, count: 16)
        let asked = Mutex<[[UInt8]]>([])
        let upstream = try FakeUpstream { query, _ in
            let sent = Self.cookie(of: query)!
            asked.withLock { $0.append(sent.server) }
            // Only the cookie it just handed out is good enough.
            return sent.server == fresh
                ? Self.answer(query, cookie: sent.client + fresh)
                : Self.answer(query, cookie: sent.client + fresh, code: ResponseCode.badCookie)
        }
        defer { upstream.stop() }
        let client = try Self.client(ClientCookies())
        #expect(try await Self.ask(client, "a.example.", at: upstream.port).answers.count == 1)
        #expect(asked.withLock { $0 } == [[], fresh])
    }

    @Test(.enabled(if: Tools.gate(KnotServer.available))) func knotdGivesAServerCookieThatItAccepts() async throws {
        try Tools.require(KnotServer.available, "knotd")
        let knot = try KnotServer.start(zone: ZoneInteropTests.zoneFile, cookies: true)
        defer { knot.stop() }
        let cookies = ClientCookies()
        let rejected = Rejections()
        let client = try Self.client(cookies, rejected: rejected)
        let first = try await Self.ask(client, "www.example.org.", at: knot.port)
        #expect(first.responseCode == ResponseCode.noError && !first.answers.isEmpty)
        let learnt = try #require(cookies.serverCookie(of: IPAddress("127.0.0.1")!))
        #expect((8...32).contains(learnt.count))
        // Sent back, knotd accepts it (a BADCOOKIE would have been asked again and counted nothing; an answer is
        // what comes), and the reply's client cookie is ours every time.
        for name in ["example.org.", "www.example.org.", "nope.example.org."] {
            let reply = try await Self.ask(client, name, at: knot.port)
            #expect(reply.responseCode != ResponseCode.badCookie)
            #expect(Self.cookie(of: reply)?.client == cookies.clientCookie(for: IPAddress("127.0.0.1")!))
        }
        #expect(rejected.value == 0)
    }

    @Test(.enabled(if: Tools.gate(KnotServer.available && UnboundServer.available)))
    func aServerForwardsToKnotdAndUnboundWithCookiesOn() async throws {
        try Tools.require(KnotServer.available && UnboundServer.available, "knotd and unbound")
        let knot = try await blocking { try KnotServer.start(zone: ZoneInteropTests.zoneFile, cookies: true) }
        defer { knot.stop() }
        let unbound = try await UnboundServer.start(localData: ["www.unbound.test. 300 IN A 192.0.2.8"])
        defer { unbound.stop() }
        // forward's `cookies` is on by default; each block counts its rejected replies under its own label.
        let server = try await TestServer.start(
            plugins: """
                      - forward: { to: ["127.0.0.1:\(unbound.port)"], zones: [unbound.test.] }
                      - forward: { to: ["127.0.0.1:\(knot.port)"] }
                """,
            blockIndex: 9,
            admin: true
        )
        defer { Task { await server.stop() } }
        for _ in 0..<3 {
            let fromKnot = try await server.ask(query("www.example.org.", .a))
            #expect(fromKnot.responseCode == ResponseCode.noError && !fromKnot.answers.isEmpty)
            let fromUnbound = try await server.ask(query("www.unbound.test.", .a))
            #expect(fromUnbound.answers.map(brief) == ["www.unbound.test. a 192.0.2.8"])
        }
        #expect(try await server.counter("swiftlet_forward_rejected_replies_total", labels: "server=\"9\"") == 0)
    }

    @Test(.enabled(if: Tools.gate(UnboundServer.available))) func unboundWithoutServerCookiesStillAnswers() async throws {
        try Tools.require(UnboundServer.available, "unbound")
        let unbound = try await UnboundServer.start(localData: ["www.example.org. 300 IN A 192.0.2.7"])
        defer { unbound.stop() }
        let cookies = ClientCookies()
        let client = try Self.client(cookies)
        for _ in 0..<3 {
            let reply = try await Self.ask(client, "www.example.org.", at: unbound.port)
            #expect(reply.answers.map(brief) == ["www.example.org. a 192.0.2.7"])
        }
        #expect(cookies.serverCookie(of: IPAddress("127.0.0.1")!) == nil)
    }
}

/// An unbound on a loopback port answering `localData` (no recursion), stopped by `stop()`. Debian 12's unbound 1.17
/// has no server cookies (`answer-cookie` came in 1.18): it ignores the option, as many servers still do.
struct UnboundServer {
    let process: Process
    let directory: URL
    let port: UInt16
    /// Its DNS-over-HTTPS port (`https-port`, path /dns-query), when started with a certificate.
    var httpsPort: UInt16? = nil

    static let available = FileManager.default.isExecutableFile(atPath: "/usr/sbin/unbound")

    /// Answers `localData` (`name TTL IN type data` lines) for names under the zone of the first one's parent; over
    /// DNS over HTTPS too with `certificate` and `key` (PEM paths).
    static func start(localData: [String], certificate: String? = nil, key: String? = nil) async throws -> UnboundServer {
        let first = String(localData[0].split(separator: " ")[0])
        let zone = String(first.drop { $0 != "." }.dropFirst())
        let port = Binaries.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-unbound-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = localData.map { "    local-data: \"\($0)\"" }.joined(separator: "\n")
        var https = ""
        var httpsPort: UInt16? = nil
        if let certificate, let key {
            httpsPort = Binaries.freePort()
            https = """
                    interface: 127.0.0.1@\(httpsPort!)
                    https-port: \(httpsPort!)
                    tls-service-pem: "\(certificate)"
                    tls-service-key: "\(key)"
                """
        }
        let config = """
            server:
                interface: 127.0.0.1@\(port)
            \(https)
                port: \(port)
                do-daemonize: no
                username: ""
                chroot: ""
                directory: "\(directory.path)"
                pidfile: ""
                use-syslog: no
                verbosity: 0
                access-control: 127.0.0.0/8 allow
                module-config: "iterator"
                local-zone: "\(zone)" static
            \(data)
            remote-control:
                control-enable: no
            """
        let server = UnboundServer(
            process: try Self.launch(config, in: directory),
            directory: directory,
            port: port,
            httpsPort: httpsPort
        )
        let client = DNSClient(server: ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: port), timeout: 0.3)
        // Ready when it answers (each try waits up to the client's timeout), within 10 s.
        let ready = await eventually(within: 10) {
            (try? await blocking { try client.exchange(query(first, .a)) })?.answers.count == 1
        }
        guard ready else {
            server.stop()
            throw DNSClientError.timeout
        }
        return server
    }

    /// Writes `config` as unbound.conf in `directory` and starts unbound on it in the foreground, quiet.
    static func launch(_ config: String, in directory: URL) throws -> Process {
        try config.write(to: directory.appendingPathComponent("unbound.conf"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/unbound")
        process.arguments = ["-d", "-c", directory.appendingPathComponent("unbound.conf").path]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func stop() {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.directory)
    }
}
