// TestServer: starts a Swiftlet on loopback ephemeral ports for a test and stops it afterwards.

import Foundation
@testable import Host
import Logging
import Pipeline
import Plugins
import SwiftletTestSupport

/// A running server for one test, with clients pointed at its UDP/TCP port.
struct TestServer {
    let server: SwiftletServer
    let address: ListenAddress
    let port: UInt16

    /// Starts a server whose only block listens on 127.0.0.1 (an ephemeral port) with `plugins` YAML lines.
    static func start(plugins: String, extra: String = "", workers: Int = 1, admin: Bool = false,
                      plugins types: [any Plugin.Type] = Registry.builtIn) async throws -> TestServer {
        let text = """
            servers:
              - listen: ["127.0.0.1:0"]
                workers: \(workers)
            \(extra)
                plugins:
            \(plugins)
            \(admin ? "admin: { listen: \"127.0.0.1:0\" }" : "")
            """
        let configuration = try Configuration.parse(text, source: "test.yaml", baseDirectory: fixturesDirectory.path)
        var logger = Logger(label: "test-server")
        logger.logLevel = .warning
        let server = SwiftletServer(configuration: configuration, plugins: types, logger: logger)
        try await server.start()
        let listen = ListenAddress("127.0.0.1:0")!
        let port = server.udpPort(listen)!
        return TestServer(server: server, address: ListenAddress(address: listen.address, port: port), port: port)
    }

    var client: DNSClient { DNSClient(server: self.address, timeout: 2) }

    func ask(_ message: Message, tcp: Bool = false) throws -> Message { try self.client.exchange(message, tcp: tcp) }

    func stop() async { await self.server.stop(grace: 1) }
}

/// Runs `body` against a fresh server and always stops it.
func withServer(plugins: String, extra: String = "", workers: Int = 1, admin: Bool = false,
                types: [any Plugin.Type] = Registry.builtIn, _ body: (TestServer) async throws -> Void) async throws {
    let server = try await TestServer.start(plugins: plugins, extra: extra, workers: workers, admin: admin, plugins: types)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}
