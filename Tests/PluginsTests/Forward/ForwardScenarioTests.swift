// ForwardScenarioTests: a forward + cache chain replaying a scenario (the recursive resolver's format and runner):
// upstreams scripted in-process, the chain served by the real serving loop, its clock moved by `time` steps.

import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct ForwardScenarioTests {
    /// The first upstream fails (SERVFAIL), the second answers, truncating over UDP; the cache then answers alone
    /// until the TTL runs out on the manual clock, and both are asked again.
    static let text = """
        server 192.0.2.53
          match *.example.org.
          rcode SERVFAIL
        server 192.0.2.54
          match www.example.org. A
          tc
          answer www.example.org. 300 IN A 192.0.2.1
        query www.example.org. A
          rcode NOERROR
          answer www.example.org. 300 IN A 192.0.2.1
          queries 192.0.2.53 1
          queries 192.0.2.54 2
        time 100
        query www.example.org. A
          answer www.example.org. 200 IN A 192.0.2.1
          queries 192.0.2.54 2
        time 200
        query www.example.org. A
          answer www.example.org. 300 IN A 192.0.2.1
          queries 192.0.2.53 2
          queries 192.0.2.54 4
        """

    @Test func failoverTruncationAndCacheAgingReplay() async throws {
        let scenario = try Scenario(text: Self.text, file: "forward.scn")
        let upstreams = scenario.upstreams()
        let clock = ManualClock()
        var builder = ChainBuilder()
        // The cache's RRsets age by the same manual clock as the serving loop's message cache.
        let context = PluginContext(
            logger: .init(label: "test"),
            metricsPrefix: "test_forward",
            upstreams: upstreams,
            clock: clock
        )
        try InProcessServer.add(CachePlugin.self, CacheOptions(), context: context, to: &builder)
        let forward = ForwardOptions().with {
            $0.to = ["192.0.2.53", "192.0.2.54"]
            $0.policy = .sequential
        }
        try InProcessServer.add(ForwardPlugin.self, forward, context: context, to: &builder)
        let server = try InProcessServer(builder, clock: clock)
        let failures = try await scenario.run(
            file: "forward.scn",
            upstreams: upstreams,
            ask: { question in
                try #require(try await server.ask(Message.query(question.name, question.type, edns: EDNS())))
            },
            advance: { seconds in clock.advance(by: .seconds(Int64(seconds))) }
        )
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
