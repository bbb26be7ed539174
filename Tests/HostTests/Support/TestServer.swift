// TestServer: starts a Swiftlet on loopback ephemeral ports for a test and stops it afterwards.

import Foundation
import Logging
import Pipeline
import Plugins
import SwiftletTestSupport

@testable import Host

/// A running server for one test, with clients pointed at its UDP/TCP port.
struct TestServer {
    let server: SwiftletServer
    let address: ListenAddress
    let port: UInt16
    /// The configuration text it was started with (for reload tests).
    var text: String = ""

    /// Starts a server whose block listens on 127.0.0.1 (an ephemeral port) with `plugins` YAML lines. With
    /// `blockIndex` N, N blocks for `unused.invalid.` come first, so this block's metrics carry `server="N"`: every
    /// test server in the process shares one metrics registry, and a test that asserts an exact count of a plugin
    /// counter that other suites also move keeps its own label that way.
    static func start(
        plugins: String,
        blockIndex: Int = 0,
        listen: String = "127.0.0.1:0",
        extra: String = "",
        workers: Int = 1,
        admin: Bool = false,
        token: String? = nil,
        stateDirectory: String? = nil,
        plugins types: [any Plugin.Type] = Registry.builtIn
    ) async throws -> TestServer {
        // Never the fixtures folder: a test's state goes to a folder of its own unless it shares one on purpose.
        let state = stateDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-state-\(UUID().uuidString)"
        ).path
        let leading = String(
            repeating: """
                  - listen: ["\(listen)"]
                    zones: ["unused.invalid."]
                    workers: 1
                    plugins:
                      - echo: {}

                """,
            count: blockIndex
        )
        let text = """
            state_dir: "\(state)"
            servers:
            \(leading)  - listen: ["\(listen)"]
                workers: \(workers)
            \(extra)
                plugins:
            \(plugins)
            \(admin ? "admin: { listen: \"127.0.0.1:0\"\(token.map { ", token: \($0)" } ?? "") }" : "")
            """
        let configuration = try Configuration.parse(text, source: "test.yaml", baseDirectory: fixturesDirectory.path)
        var logger = Logger(label: "test-server")
        logger.logLevel = .warning
        var server = SwiftletServer(configuration: configuration, plugins: types, logger: logger)
        // Port 0 picks a free UDP port, and TCP then binds the same number, which another process may hold: retry.
        for attempt in 1...5 {
            do {
                try await server.start()
                break
            } catch let error as ListenError where attempt < 5 && "\(error)".contains("Address already in use") {
                server = SwiftletServer(configuration: configuration, plugins: types, logger: logger)
            }
        }
        let listen = ListenAddress(listen)!
        let port = server.udpPort(listen)!
        return TestServer(
            server: server,
            address: ListenAddress(address: listen.address, port: port),
            port: port,
            text: text
        )
    }

    /// A client with room for a loaded CI machine (the example package builds while the suites run); tests that
    /// expect silence use their own short timeouts.
    var client: DNSClient { DNSClient(server: self.address, timeout: 5) }

    /// Sends `message` from `source` (another loopback address) and returns the reply.
    func ask(_ message: Message, from source: String) async throws -> Message {
        let client = DNSClient(server: self.address, timeout: 2, source: IPAddress(source)!)
        return try await blocking { try client.exchange(message) }
    }

    /// Sends `message` and returns the reply; the blocking socket wait runs off the cooperative pool.
    func ask(_ message: Message, tcp: Bool = false) async throws -> Message {
        let client = self.client
        return try await blocking { try client.exchange(message, tcp: tcp) }
    }

    /// Sends raw octets over UDP and returns the raw reply.
    func raw(_ packet: [UInt8]) async throws -> [UInt8] {
        let client = self.client
        return try await blocking { try client.exchangeRaw(packet) }
    }

    func stop() async { await self.server.stop(grace: 1) }

    /// A connected TCP socket to the server (see `connectTCP(to:timeout:source:receiveBuffer:)`).
    func connectTCP(timeout: Int, source: String? = nil, receiveBuffer: Int32? = nil) -> Int32 {
        HostTests.connectTCP(to: self.address, timeout: timeout, source: source, receiveBuffer: receiveBuffer)
    }

    /// A message with its 2-octet TCP length prefix.
    static func framed(_ packet: [UInt8]) -> [UInt8] {
        [UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)] + packet
    }

    /// Reads one length-prefixed message from a TCP socket.
    static func readFramed(_ fd: Int32) throws -> Message {
        let header = try DNSClient.receiveExactly(fd, 2)
        return try Message(wire: try DNSClient.receiveExactly(fd, Int(header[0]) << 8 | Int(header[1])))
    }
}

/// Runs `body` against a fresh server and always stops it.
func withServer(
    plugins: String,
    blockIndex: Int = 0,
    extra: String = "",
    workers: Int = 1,
    admin: Bool = false,
    token: String? = nil,
    stateDirectory: String? = nil,
    types: [any Plugin.Type] = Registry.builtIn,
    _ body: (TestServer) async throws -> Void
) async throws {
    let server = try await TestServer.start(
        plugins: plugins,
        blockIndex: blockIndex,
        extra: extra,
        workers: workers,
        admin: admin,
        token: token,
        stateDirectory: stateDirectory,
        plugins: types
    )
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

/// The error text of building `yaml` (parse, decode, plugin setup), or "built" when it builds.
func buildError(_ yaml: String, base: String = fixturesDirectory.path) -> String {
    do {
        let configuration = try Configuration.parse(yaml, source: "test.yaml", baseDirectory: base)
        _ = try ChainFactory.build(
            configuration,
            plugins: Registry.builtIn,
            logger: .init(label: "test"),
            invalidate: { _ in }
        )
        return "built"
    } catch {
        return "\(error)"
    }
}

extension TestServer {
    /// The value of the counter `name` of block 0 on the admin listener's /metrics (0 before its first count). Every
    /// test server in the process shares the metrics registry, so a test compares a count before and after.
    /// `labels` as they stand between the braces (`transport="udp"` for the front door's counters).
    func counter(_ name: String, labels: String = "server=\"0\"") async throws -> Int {
        let port = self.server.adminPort!
        let metrics = try await blocking { try ServerTests.httpGet(port: port, path: "/metrics") }
        let prefix = "\(name){\(labels)} "
        let line = metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }
        return line.flatMap { Int($0.dropFirst(prefix.count)) } ?? 0
    }
}

/// A connected TCP socket to `address` with receive and send timeouts (blocking; call inside `blocking`), from `source`
/// (another loopback address) when given, with a receive buffer of `receiveBuffer` octets when given (set before
/// connecting, so the window stays that small).
func connectTCP(to address: ListenAddress, timeout: Int, source: String? = nil, receiveBuffer: Int32? = nil) -> Int32 {
    var (remote, length) = SocketAddresses.make(address)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var time = timeval(tv_sec: timeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    if var size = receiveBuffer {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    if let source, let ip = IPAddress(source) {
        var (from, fromLength) = SocketAddresses.make(ListenAddress(address: ip, port: 0))
        _ = withUnsafePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, fromLength) }
        }
    }
    _ = withUnsafePointer(to: &remote) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
    }
    return fd
}

extension TestServer {
    /// Reloads the configuration `text` (relative paths against the fixtures); returns the "needs restart" lines.
    @discardableResult
    func reload(_ text: String) throws -> [String] {
        try self.server.reload(try Configuration.parse(text, source: "test.yaml", baseDirectory: fixturesDirectory.path))
    }
}

/// A started server for a whole configuration `text` (relative paths against the fixtures, quiet log) and a client of
/// its 127.0.0.1:0 listener, for tests that need more than one block or top-level settings. Stop it when done.
func startServer(_ text: String) async throws -> (SwiftletServer, DNSClient) {
    var logger = Logger(label: "test-server")
    logger.logLevel = .error
    let configuration = try Configuration.parse(text, source: "test.yaml", baseDirectory: fixturesDirectory.path)
    let server = SwiftletServer(configuration: configuration, logger: logger)
    try await server.start()
    let port = server.udpPort(ListenAddress("127.0.0.1:0")!)!
    return (server, DNSClient(server: ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: port), timeout: 5))
}

extension TestServer {
    /// Whether `second` is the message `first` is (the fast path's copy of the chain's reply) but for TTLs aged by the
    /// wall-clock seconds between the two, at most 5 (a loaded machine): a socket test cannot hold the clock still;
    /// ResponderTests compare the octets exactly under a manual clock.
    static func sameReplyAged(_ first: [UInt8], _ second: [UInt8]) throws -> Bool {
        let original = try Message(wire: first)
        var copy = try Message(wire: second)
        let sections = [(original.answers, copy.answers), (original.authorities, copy.authorities)]
        for (before, after) in sections {
            guard before.count == after.count,
                zip(before, after).allSatisfy({ (0...5).contains(Int($0.ttl) - Int($1.ttl)) })
            else { return false }
        }
        copy.answers = zip(copy.answers, original.answers).map { var record = $0; record.ttl = $1.ttl; return record }
        copy.authorities = zip(copy.authorities, original.authorities).map {
            var record = $0
            record.ttl = $1.ttl
            return record
        }
        return copy == original
    }
}
