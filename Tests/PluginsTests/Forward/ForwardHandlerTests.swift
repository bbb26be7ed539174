// ForwardHandlerTests: forward's policy without a socket: the plugin set up as the host does, served in-process,
// asking scripted upstreams through the upstream interface (failover, TCP after truncation, 0x20, failures).

import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct ForwardHandlerTests {
    /// `forward` to `to` (sequential, short timeouts), served in-process, asking `upstreams`.
    static func server(
        _ upstreams: ScriptedUpstreams,
        to: [String],
        configure: (inout ForwardOptions) -> Void = { _ in }
    ) throws -> InProcessServer {
        var options = ForwardOptions().with {
            $0.to = to
            $0.policy = .sequential
        }
        options.timeout = OptionDuration(seconds: 0.2)
        options.deadline = OptionDuration(seconds: 0.5)
        configure(&options)
        var builder = ChainBuilder()
        let context = PluginContext(logger: .init(label: "test"), metricsPrefix: "test_forward", upstreams: upstreams)
        try InProcessServer.add(ForwardPlugin.self, options, context: context, to: &builder)
        return try InProcessServer(builder)
    }

    static func answer(_ records: String...) -> FakeAction {
        var reply = Message(header: Header(flags: 0x8180))
        reply.answers = records.map { rr($0) }
        return .reply(reply)
    }

    @Test func relaysTheAnswerUnderTheClientsIDWithRecursionAsked() async throws {
        let upstreams = ScriptedUpstreams()
        let asked = Journal()
        upstreams.serve("192.0.2.53") { query, transport in
            asked.add("\(transport) rd=\(query.header.recursionDesired) \(query.questions[0].name)")
            return Self.answer("www.example.org. 300 IN A 192.0.2.1")
        }
        let server = try Self.server(upstreams, to: ["192.0.2.53"])
        let reply = try #require(try await server.ask(query("www.example.org.", .a, id: 0x7777)))
        #expect(reply.header.id == 0x7777 && reply.responseCode == .noError && reply.header.recursionAvailable)
        #expect(reply.answers.map(brief) == ["www.example.org. a 192.0.2.1"])
        #expect(asked.all == ["udp rd=true www.example.org."])
    }

    @Test func servfailFromOneUpstreamMovesOnToTheNext() async throws {
        let upstreams = ScriptedUpstreams()
        upstreams.serve("192.0.2.53") { _, _ in .reply(Message(header: Header(flags: 0x8182))) }
        upstreams.serve("192.0.2.54") { _, _ in Self.answer("www.example.org. 300 IN A 192.0.2.2") }
        let server = try Self.server(upstreams, to: ["192.0.2.53", "192.0.2.54"])
        let reply = try #require(try await server.ask(query("www.example.org.", .a)))
        #expect(reply.answers.map(brief) == ["www.example.org. a 192.0.2.2"])
        #expect(upstreams.queries("192.0.2.53").udp == 1 && upstreams.queries("192.0.2.54").udp == 1)
    }

    @Test func aTruncatedAnswerIsAskedAgainOverTCP() async throws {
        let upstreams = ScriptedUpstreams()
        upstreams.serve("192.0.2.53") { _, transport in
            transport == .udp
                ? .reply(Message(header: Header(flags: 0x8380)))
                : Self.answer("big.example.org. 300 IN TXT \"whole\"")
        }
        let server = try Self.server(upstreams, to: ["192.0.2.53"])
        let reply = try #require(try await server.ask(query("big.example.org.", .txt)))
        #expect(!reply.header.isTruncated && reply.answers.map(brief) == ["big.example.org. txt \"whole\""])
        #expect(upstreams.queries("192.0.2.53") == (udp: 1, tcp: 1))
    }

    @Test func with0x20OnlyAnAnswerEchoingTheRandomCaseCounts() async throws {
        let upstreams = ScriptedUpstreams()
        let spellings = Journal()
        // The honest upstream echoes the question as asked; the other lower-cases it (a forged or broken answer).
        upstreams.serve("192.0.2.53") { query, _ in
            spellings.add(query.questions[0].name.description)
            return Self.answer("\(query.questions[0].name) 300 IN A 192.0.2.1")
        }
        upstreams.serve("192.0.2.66") { query, _ in
            var reply = Message(header: Header(flags: 0x8180))
            reply.questions = [Question(name: query.questions[0].name.lowercased(), type: .a)]
            reply.answers = [rr("www.example.org. 300 IN A 6.6.6.6")]
            return .reply(reply)
        }
        let honest = try Self.server(upstreams, to: ["192.0.2.53"]) { $0.use0x20 = true }
        let reply = try #require(try await honest.ask(query("Www.Example.Org.", .a)))
        // Sent in a random case of its own; the client gets its own spelling back.
        #expect(spellings.all.count == 1 && spellings.all[0].lowercased() == "www.example.org.")
        #expect(reply.answers.map { $0.name.description } == ["Www.Example.Org."])
        #expect(reply.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1))])

        let broken = try Self.server(upstreams, to: ["192.0.2.66"]) { $0.use0x20 = true }
        // A name of letters only, so that a random case that is all lower case is unlikely (2^-13).
        let failed = try #require(try await broken.ask(query("WWW.EXAMPLE.ORG.", .a)))
        #expect(failed.responseCode == .servFail)
        #expect(upstreams.rejected >= 1)
    }

    @Test func noAnswerBeforeTheDeadlineIsServfailWithANetworkError() async throws {
        let upstreams = ScriptedUpstreams()
        upstreams.serve("192.0.2.53") { _, _ in .drop }
        let server = try Self.server(upstreams, to: ["192.0.2.53"])
        let reply = try #require(try await server.ask(query("www.example.org.", .a)))
        #expect(reply.responseCode == .servFail)
        #expect(
            reply.edns?.options == [
                .extendedError(ExtendedError(infoCode: .networkError, extraText: "192.0.2.53: timed out"))
            ]
        )
    }
}
