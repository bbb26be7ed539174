// ScenarioRunner: replays the scenario files (`Tests/Fixtures/scenarios/*.scn`, read by SwiftletTestSupport's
// `Scenario`) against the recursive resolver: its servers answer in-process, its `config` lines set the resolver's
// options, and `time` steps move the resolver's clock, so TTLs are exact (timeouts are waited in real time).

import Foundation
import Pipeline
import SwiftletTestSupport
import Synchronization
import Testing

@testable import Plugins

/// A scenario run against `Resolver`.
enum RecursiveScenario {
    /// The resolver's options: loopback servers allowed, IPv6 off, then the scenario's `config` lines.
    static func options(_ scenario: Scenario, file: String) throws -> RecursiveOptions {
        var options = RecursiveOptions()
        options.allowLoopback = true
        options.ipv6 = .off
        for (key, value, line) in scenario.settings {
            func bad() -> ScenarioError { ScenarioError("\(file):\(line): cannot read 'config \(key) \(value)'") }
            /// A whole number of at least 1: a limit of 0 (or a word that is not a number) is a typo, not a setting.
            func number() throws -> Int {
                guard let number = Int(value), number > 0 else { throw bad() }
                return number
            }
            switch key {
            case "qname_minimisation":
                guard let mode = QNameMinimisation(rawValue: value) else { throw bad() }
                options.qnameMinimisation = mode
            case "use_0x20":
                guard let on = Bool(value) else { throw bad() }
                options.use0x20 = on
            case "depth": options.limits.depth = try number()
            case "queries_per_fetch": options.limits.queriesPerFetch = try number()
            case "queries_per_request": options.limits.queriesPerRequest = try number()
            case "cname_chain": options.limits.cnameChain = try number()
            case "timeout":
                guard let seconds = Double(value), seconds > 0 else { throw bad() }
                options.limits.timeout = OptionDuration(seconds: seconds)
            default: throw bad()
            }
        }
        return options
    }

    /// What differed from the scenario's expectations (empty when nothing did).
    static func run(_ scenario: Scenario, file: String) async throws -> [String] {
        let upstreams = scenario.upstreams()
        let offset = Atomic<UInt64>(0)
        let resolver = Resolver(
            cache: RRsetCache(),
            hints: RootHints(servers: scenario.hints.map { RootHints.Server(name: $0.name, addresses: [$0.address]) }),
            options: try RecursiveScenario.options(scenario, file: file),
            useIPv6: false,
            upstreams: upstreams,
            metrics: TestTree.metrics(),
            clock: { [start = Clock.nanoseconds()] in start &+ offset.load(ordering: .relaxed) }
        )
        return try await scenario.run(
            file: file,
            upstreams: upstreams,
            ask: { question in
                let resolution = await withTaskExecutorPreference(TestExecutor.shared) {
                    await resolver.resolve(clientQuestion: question)
                }
                // The response the recursive plugin sends (with EDNS, so an Extended DNS Error is carried).
                return RecursiveHandler.response(to: Message.query(question.name, question.type, edns: EDNS()), resolution)
            },
            advance: { seconds in offset.add(seconds * 1_000_000_000, ordering: .relaxed) }
        )
    }
}

/// Pieces the hand-written resolver tests share: a root on `prefix`.1 that primes and refers `test.` to `prefix`.2,
/// and a resolver whose only hint is that root, asking through `upstreams`.
enum TestTree {
    static func root(_ prefix: String) -> ScriptedUpstreams.Script { testRoot(prefix) }

    static func metrics() -> RecursiveMetrics {
        RecursiveMetrics(PluginContext(logger: .init(label: "test"), metricsPrefix: "test_recursive"))
    }

    static func resolver(_ prefix: String, upstreams: any UpstreamExchange, port: UInt16 = 53) -> Plugins.Resolver {
        var options = RecursiveOptions()
        options.allowLoopback = true
        options.ipv6 = .off
        options.qnameMinimisation = .off
        // A generous deadline: the whole test suite runs in parallel on two cores.
        options.limits.timeout = OptionDuration(seconds: 30)
        return Resolver(
            cache: RRsetCache(),
            hints: RootHints(servers: [RootHints.Server(name: name("a.root."), addresses: [IPAddress("\(prefix).1")!])]
            ),
            options: options,
            useIPv6: false,
            upstreams: upstreams,
            port: port,
            metrics: TestTree.metrics()
        )
    }
}

/// The scenario files, each run on its own range of loopback addresses (127.53.N.x), so they run in parallel.
@Suite struct ScenarioTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/scenarios")

    static var files: [String] {
        // SWIFTLET_SCENARIO=03 runs the files whose names start so, when working on one.
        let only = ProcessInfo.processInfo.environment["SWIFTLET_SCENARIO"] ?? ""
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".scn") && $0.hasPrefix(only) }.sorted()
    }

    @Test func thereAreScenarios() {
        #expect(ScenarioTests.files.count >= 10 || ProcessInfo.processInfo.environment["SWIFTLET_SCENARIO"] != nil)
    }

    @Test(arguments: ScenarioTests.files) func scenario(_ file: String) async throws {
        let path = ScenarioTests.directory.appendingPathComponent(file).path
        let scenario = try Scenario(text: try String(contentsOfFile: path, encoding: .utf8), file: file)
        let failures = try await RecursiveScenario.run(scenario, file: file)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
