// ScenarioRunner: replays a scenario file (Unbound/Deckard style) against the resolver: scripted authoritative servers
// (in-process, through the resolver's upstream interface: no sockets), client queries with their expected answers,
// the queries each server must have received, and time passing.

import Foundation
import Pipeline
import SwiftletTestSupport
import Synchronization
import Testing

@testable import Plugins

/// A scenario file (`Tests/Fixtures/scenarios/*.scn`), one directive per line, `;` or `#` starting a comment:
///
/// ```
/// config qname_minimisation off        options: qname_minimisation, use_0x20, depth, queries_per_fetch,
///                                               queries_per_request, cname_chain, timeout (seconds)
/// hint a.root. 127.53.1.1              a root hint
/// server 127.53.1.1                    a scripted server on that address, port 53; its entries follow:
///   match *.test. [A]                  an entry: the query name (or `*.suffix.`: at or below it) and type (any)
///   aa | tc | drop | rcode NXDOMAIN    flags of the reply; `tc`: truncated over UDP, whole over TCP; `drop`: none
///   answer|authority|additional RR     a record of the reply's section
///   repeat N authority RR-with-$       N records, `$` replaced by 0…N-1 (`$hi`, `$lo`: by its quotient and
///                                      remainder by 256, for addresses)
///   reply-case lower                   echo the question in lower case (breaks 0x20)
///   no-edns                            FORMERR (without OPT) to queries with EDNS
/// query www.test. A                    a client query; the expectations follow:
///   rcode NOERROR                      the response code
///   answer RR / authority RR           the exact section contents (TTLs included), as sets
///   ede 22                             the Extended DNS Error's code
///   queries 127.53.1.1 2               queries that server received so far (`queries-at-most` for a bound)
/// time 3600                            the resolver's clock moves on
/// ```
struct Scenario {
    struct Entry {
        var name: DomainName
        var subtree: Bool
        var type: RecordType?
        var authoritative = false
        var truncated = false
        var drop = false
        var lowerCaseQuestion = false
        var refusesEDNS = false
        var responseCode = ResponseCode.noError
        var answers: [Record] = []
        var authorities: [Record] = []
        var additionals: [Record] = []

        func matches(_ question: Question) -> Bool {
            let nameMatches = self.subtree ? question.name.isSubdomain(of: self.name) : question.name == self.name
            return nameMatches && (self.type == nil || self.type == question.type)
        }
    }

    struct Expectation {
        var responseCode: ResponseCode? = nil
        var answers: [Record]? = nil
        var authorities: [Record]? = nil
        var infoCode: UInt16? = nil
        var queries: [(String, Int, exact: Bool)] = []
    }

    enum Step {
        case query(Question, Expectation, line: Int)
        case time(UInt64)
    }

    var options = RecursiveOptions()
    var hints: [RootHints.Server] = []
    var servers: [(address: String, entries: [Entry])] = []
    var steps: [Step] = []

    init(text: String, file: String) throws {
        self.options.allowLoopback = true
        self.options.ipv6 = .off
        var currentEntry: (server: Int, entry: Int)? = nil
        var currentServer: Int? = nil
        var inQuery = false
        func record(_ text: String, line: Int) throws -> Record {
            do { return try Record(text) } catch {
                throw ScenarioError("\(file):\(line): bad record '\(text)': \(error)")
            }
        }
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = raw.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            let trimmed = content.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            let words = trimmed.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let rest = words.dropFirst().joined(separator: " ")
            func bad() -> ScenarioError { ScenarioError("\(file):\(line): cannot read '\(trimmed)'") }
            /// A whole number of at least 1: a limit of 0 (or a word that is not a number) is a typo, not a setting.
            func number(_ word: String) throws -> Int {
                guard let value = Int(word), value > 0 else { throw bad() }
                return value
            }
            switch words[0] {
            case "config":
                guard words.count == 3 else { throw bad() }
                switch words[1] {
                case "qname_minimisation":
                    guard let mode = QNameMinimisation(rawValue: words[2]) else { throw bad() }
                    self.options.qnameMinimisation = mode
                case "use_0x20":
                    guard let on = Bool(words[2]) else { throw bad() }
                    self.options.use0x20 = on
                case "depth": self.options.limits.depth = try number(words[2])
                case "queries_per_fetch": self.options.limits.queriesPerFetch = try number(words[2])
                case "queries_per_request": self.options.limits.queriesPerRequest = try number(words[2])
                case "cname_chain": self.options.limits.cnameChain = try number(words[2])
                case "timeout":
                    guard let seconds = Double(words[2]), seconds > 0 else { throw bad() }
                    self.options.limits.timeout = OptionDuration(seconds: seconds)
                default: throw bad()
                }
            case "hint":
                guard words.count == 3, let address = IPAddress(words[2]) else { throw bad() }
                self.hints.append(RootHints.Server(name: try DomainName(words[1]), addresses: [address]))
            case "server":
                guard words.count == 2, IPAddress(words[1]) != nil else { throw bad() }
                self.servers.append((words[1], []))
                currentServer = self.servers.count - 1
                currentEntry = nil
                inQuery = false
            case "match":
                guard let server = currentServer, words.count >= 2 else { throw bad() }
                let subtree = words[1].hasPrefix("*.")
                let text = subtree ? String(words[1].dropFirst(2)) : words[1]
                let name = text.isEmpty ? DomainName.root : try DomainName(text)
                var type: RecordType? = nil
                if words.count == 3 {
                    guard let parsed = RecordType(mnemonic: words[2]) else { throw bad() }
                    type = parsed
                }
                self.servers[server].entries.append(Entry(name: name, subtree: subtree, type: type))
                currentEntry = (server, self.servers[server].entries.count - 1)
            case "query":
                guard words.count == 3, let type = RecordType(mnemonic: words[2]) else { throw bad() }
                self.steps.append(
                    .query(Question(name: try DomainName(words[1]), type: type), Expectation(), line: line)
                )
                inQuery = true
                currentServer = nil
                currentEntry = nil
            case "time":
                guard words.count == 2, let seconds = UInt64(words[1]) else { throw bad() }
                self.steps.append(.time(seconds))
                inQuery = false
            default:
                if inQuery, case .query(let question, var expectation, let queryLine) = self.steps.last {
                    switch words[0] {
                    case "rcode":
                        guard let code = ResponseCode(mnemonic: rest) else { throw bad() }
                        expectation.responseCode = code
                    case "answer": expectation.answers = (expectation.answers ?? []) + [try record(rest, line: line)]
                    case "no-answer": expectation.answers = []
                    case "authority":
                        expectation.authorities = (expectation.authorities ?? []) + [try record(rest, line: line)]
                    case "no-authority": expectation.authorities = []
                    case "ede": expectation.infoCode = UInt16(rest)
                    case "queries", "queries-at-most":
                        guard words.count == 3, let count = Int(words[2]) else { throw bad() }
                        expectation.queries.append((words[1], count, words[0] == "queries"))
                    default: throw bad()
                    }
                    self.steps[self.steps.count - 1] = .query(question, expectation, line: queryLine)
                    continue
                }
                guard let (server, entry) = currentEntry else { throw bad() }
                var target = self.servers[server].entries[entry]
                switch words[0] {
                case "aa": target.authoritative = true
                case "tc": target.truncated = true
                case "drop": target.drop = true
                case "reply-case": target.lowerCaseQuestion = true
                case "no-edns": target.refusesEDNS = true
                case "rcode":
                    guard let code = ResponseCode(mnemonic: rest) else { throw bad() }
                    target.responseCode = code
                case "answer": target.answers.append(try record(rest, line: line))
                case "authority": target.authorities.append(try record(rest, line: line))
                case "additional": target.additionals.append(try record(rest, line: line))
                case "repeat":
                    guard words.count >= 4, let count = Int(words[1]) else { throw bad() }
                    let template = words.dropFirst(3).joined(separator: " ")
                    for number in 0..<count {
                        let text = template.replacingOccurrences(of: "$hi", with: "\(number / 256)")
                            .replacingOccurrences(of: "$lo", with: "\(number % 256)")
                            .replacingOccurrences(of: "$", with: "\(number)")
                        let made = try record(text, line: line)
                        switch words[2] {
                        case "answer": target.answers.append(made)
                        case "authority": target.authorities.append(made)
                        case "additional": target.additionals.append(made)
                        default: throw bad()
                        }
                    }
                default: throw bad()
                }
                self.servers[server].entries[entry] = target
            }
        }
    }

    /// The reply a scripted server gives to `query` over `transport` (nil: no reply).
    static func reply(to query: Message, entries: [Entry], transport: Transport) -> FakeAction {
        guard let question = query.questions.first, let entry = entries.first(where: { $0.matches(question) }) else {
            var refused = Message(header: Header(flags: 0x8000))
            refused.responseCode = .refused
            return .reply(refused)
        }
        if entry.drop { return .drop }
        var reply = Message(header: Header(flags: 0x8000))
        if entry.refusesEDNS && query.edns != nil {
            // An old server: FORMERR, and no OPT in it (RFC 6891 §7).
            reply.responseCode = .formErr
            return .reply(reply)
        }
        reply.header.isAuthoritative = entry.authoritative
        if entry.lowerCaseQuestion {
            reply.questions = [Question(name: question.name.lowercased(), type: question.type)]
        }
        if entry.truncated && transport == .udp {
            reply.header.isTruncated = true
        } else {
            reply.answers = entry.answers
            reply.authorities = entry.authorities
            reply.additionals = entry.additionals
        }
        reply.responseCode = entry.responseCode
        if query.edns != nil { reply.edns = EDNS() }
        return .reply(reply)
    }

    /// Runs the scenario: sets up its servers, replays its steps.
    func run(file: String) async throws {
        let upstreams = ScriptedUpstreams()
        for (address, entries) in self.servers {
            upstreams.serve(address) { query, transport in
                Scenario.reply(to: query, entries: entries, transport: transport)
            }
        }
        let offset = Atomic<UInt64>(0)
        let resolver = Resolver(
            cache: RRsetCache(),
            hints: RootHints(servers: self.hints),
            options: self.options,
            useIPv6: false,
            upstreams: upstreams,
            metrics: Scenario.metrics(),
            // The resolver's clock moves only with `time` steps, so TTLs are exact (timeouts are waited in real time).
            clock: { [start = Clock.nanoseconds()] in start &+ offset.load(ordering: .relaxed) }
        )
        for step in self.steps {
            switch step {
            case .time(let seconds):
                offset.add(seconds * 1_000_000_000, ordering: .relaxed)
            case .query(let question, let expected, let line):
                let where_ = "\(file):\(line): \(question.name) \(question.type)"
                let result = await withTaskExecutorPreference(TestExecutor.shared) {
                    await resolver.resolve(clientQuestion: question)
                }
                if let code = expected.responseCode {
                    #expect(result.responseCode == code, "\(where_): \(result)")
                }
                if let answers = expected.answers { Scenario.expectSame(result.answers, answers, where_) }
                if let authorities = expected.authorities {
                    Scenario.expectSame(result.authorities, authorities, where_)
                }
                if let code = expected.infoCode {
                    #expect(result.error?.infoCode.rawValue == code, "\(where_): \(result)")
                }
                for (address, count, exact) in expected.queries {
                    let queries = upstreams.queries(address)
                    let received = self.servers.contains { $0.0 == address } ? queries.udp + queries.tcp : -1
                    if exact {
                        #expect(received == count, "\(where_): queries received by \(address): \(received)")
                    } else {
                        #expect(received <= count, "\(where_): queries received by \(address): \(received)")
                    }
                }
            }
        }
    }

    /// Same records as sets (letter case ignored), with the same TTLs.
    static func expectSame(_ actual: [Record], _ expected: [Record], _ comment: String) {
        func key(_ record: Record) -> String {
            var copy = record
            copy.ttl = 0
            // Names in RDATA may come back in the 0x20 case of the question they were compressed against.
            return "\(copy)".lowercased()
        }
        #expect(Set(actual.map(key)) == Set(expected.map(key)), "\(comment): got \(actual.map(\.description))")
        #expect(actual.count == expected.count, "\(comment)")
        for record in actual {
            if let match = expected.first(where: { key($0) == key(record) }) {
                #expect(record.ttl == match.ttl, "\(comment): TTL of \(record), not \(match.ttl)")
            }
        }
    }

    static func metrics() -> RecursiveMetrics {
        RecursiveMetrics(PluginContext(logger: .init(label: "test"), metricsPrefix: "test_recursive"))
    }
}

/// Pieces the hand-written resolver tests share: a root on `prefix`.1 that primes and refers `test.` to `prefix`.2,
/// and a resolver whose only hint is that root, asking through `upstreams`.
enum TestTree {
    static func root(_ prefix: String) -> ScriptedUpstreams.Script { testRoot(prefix) }

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
            metrics: Scenario.metrics()
        )
    }
}

struct ScenarioError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
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
        try await scenario.run(file: file)
    }
}
