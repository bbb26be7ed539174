// MinimalANYTests: RFC 8482 in every plugin that answered ANY: forward and recursive answer UDP with the synthesized
// HINFO without asking anyone; forward relays the full answer over TCP, which never reaches UDP clients through the
// message cache; hosts sends one RRset over UDP and both families over TCP.

import Foundation
import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct MinimalANYTests {
    static let udp = Client(address: .v4(IPv4Address(198, 51, 100, 7)), port: 5300, transport: .udp)
    static let tcp = Client(address: .v4(IPv4Address(198, 51, 100, 7)), port: 5300, transport: .tcp)

    static func server<P: Plugin>(_ plugin: P.Type, _ options: P.Options, upstreams: ScriptedUpstreams, transport: Transport)
        throws -> InProcessServer
    {
        var builder = ChainBuilder()
        let context = PluginContext(logger: .init(label: "test"), metricsPrefix: "test", upstreams: upstreams)
        try InProcessServer.add(plugin, options, context: context, to: &builder)
        return try InProcessServer(builder, transport: transport)
    }

    static let hinfo = ["example.org. hinfo \"rfc8482\" \"\""]

    @Test func forwardAnswersUDPMinimallyAndRelaysTCPWithoutCachingIt() async throws {
        let upstreams = ScriptedUpstreams()
        upstreams.serve("192.0.2.53") { _, _ in
            var reply = Message(header: Header(flags: 0x8180))
            reply.answers = [rr("example.org. 300 IN A 192.0.2.1"), rr("example.org. 300 IN TXT \"big\"")]
            return .reply(reply)
        }
        let options = ForwardOptions().with { $0.to = ["192.0.2.53"] }
        let udp = try Self.server(ForwardPlugin.self, options, upstreams: upstreams, transport: .udp)
        let minimal = try #require(try await udp.ask(query("example.org.", .any), from: Self.udp))
        #expect(minimal.answers.map(brief) == Self.hinfo && minimal.answers[0].ttl == 3789)
        #expect(upstreams.queries("192.0.2.53") == (udp: 0, tcp: 0))

        let tcp = try Self.server(ForwardPlugin.self, options, upstreams: upstreams, transport: .tcp)
        let full = try #require(try await tcp.ask(query("example.org.", .any), from: Self.tcp))
        #expect(full.answers.map(brief) == ["example.org. a 192.0.2.1", "example.org. txt \"big\""])
        // Not in the message cache: the next ANY (over any transport) goes through the chain again.
        #expect(tcp.cached(try query("example.org.", .any).encode().bytes) == nil)
        // The UDP answer is cached as any answer is.
        #expect(udp.cached(try query("example.org.", .any).encode().bytes) != nil)
    }

    @Test func recursiveAnswersUDPMinimallyWithoutAResolution() async throws {
        let upstreams = ScriptedUpstreams()
        let server = try Self.server(RecursivePlugin.self, RecursiveOptions(), upstreams: upstreams, transport: .udp)
        let reply = try #require(try await server.ask(query("example.org.", .any), from: Self.udp))
        #expect(reply.answers.map(brief) == Self.hinfo)
        #expect(upstreams.queries("198.41.0.4") == (udp: 0, tcp: 0))
    }

    @Test func hostsSendsOneRRsetOverUDPAndBothFamiliesOverTCP() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-any-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("hosts").path
        try "192.0.2.1 box.example.\n2001:db8::1 box.example.\n".write(toFile: file, atomically: true, encoding: .utf8)
        let options = HostsOptions().with {
            $0.file = file
            $0.reloadInterval = OptionDuration(seconds: 0)
        }
        let upstreams = ScriptedUpstreams()
        let udp = try Self.server(HostsPlugin.self, options, upstreams: upstreams, transport: .udp)
        let one = try #require(try await udp.ask(query("box.example.", .any), from: Self.udp))
        #expect(one.answers.map(brief) == ["box.example. a 192.0.2.1"])
        let tcp = try Self.server(HostsPlugin.self, options, upstreams: upstreams, transport: .tcp)
        let both = try #require(try await tcp.ask(query("box.example.", .any), from: Self.tcp))
        #expect(both.answers.map(brief) == ["box.example. a 192.0.2.1", "box.example. aaaa 2001:db8::1"])
    }
}
