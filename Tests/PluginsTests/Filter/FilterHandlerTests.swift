// FilterHandlerTests: the filter plugin without a socket, with inline rules: set up as the host does in front of a
// stub that answers what is let through, served in-process.

import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct FilterHandlerTests {
    static func server(block: [String], allow: [String] = []) throws -> InProcessServer {
        var builder = ChainBuilder()
        let context = PluginContext(logger: .init(label: "test"), metricsPrefix: "test_filter")
        try InProcessServer.add(FilterPlugin.self, FilterOptions().with {
            $0.allow = allow
            $0.block = block
        }, context: context, to: &builder)
        builder.begin(plugin: "next")
        builder.add(StubHandler("next", .answered, journal: Journal(), answer: rr("passed. 60 IN A 192.0.2.7")))
        return try InProcessServer(builder)
    }

    @Test func blockedNamesGetTheNullAddressAndExceptionsPassOn() async throws {
        let server = try Self.server(block: ["||ads.example^"], allow: ["||good.ads.example^"])
        let blocked = try #require(try await server.ask(query("tracker.ads.example.", .a)))
        #expect(blocked.responseCode == .noError)
        #expect(blocked.answers.map(brief) == ["tracker.ads.example. a 0.0.0.0"])
        #expect(blocked.answers.map(\.ttl) == [60])
        let blocked6 = try #require(try await server.ask(query("ads.example.", .aaaa)))
        #expect(blocked6.answers.map(brief) == ["ads.example. aaaa ::"])
        let excepted = try #require(try await server.ask(query("good.ads.example.", .a)))
        #expect(excepted.answers.map(brief) == ["passed. a 192.0.2.7"])
        let other = try #require(try await server.ask(query("example.", .a)))
        #expect(other.answers.map(brief) == ["passed. a 192.0.2.7"])
    }
}
