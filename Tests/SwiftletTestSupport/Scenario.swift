// Scenario: a scenario file (Unbound/Deckard style): scripted authoritative servers, queries with their expected
// responses, the queries each server must have received, and time passing. Its servers answer in-process through
// `ScriptedUpstreams`; `run` replays the steps against any server under test (recursive's resolver, a forward or
// cache chain in an `InProcessServer`) and returns every difference found.

import Foundation
import Pipeline

/// A scenario file (`Tests/Fixtures/scenarios/*.scn`), one directive per line, `;` or `#` starting a comment:
///
/// ```
/// config qname_minimisation off        a setting of the server under test, for its runner (recursive's:
///                                      qname_minimisation, use_0x20, depth, queries_per_fetch,
///                                      queries_per_request, cname_chain, timeout in seconds)
/// hint a.root. 127.53.1.1              a root hint (for a resolver)
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
/// time 3600                            the server's clock moves on
/// ```
public struct Scenario: Sendable {
    public struct Entry: Sendable {
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

    public struct Expectation: Sendable {
        var responseCode: ResponseCode? = nil
        var answers: [Record]? = nil
        var authorities: [Record]? = nil
        var infoCode: UInt16? = nil
        var queries: [(String, Int, exact: Bool)] = []
    }

    public enum Step: Sendable {
        case query(Question, Expectation, line: Int)
        case time(UInt64)
    }

    /// `config KEY VALUE` lines, for the runner to apply (and to reject the ones it does not know, by line).
    public var settings: [(key: String, value: String, line: Int)] = []
    /// `hint NAME ADDRESS` lines.
    public var hints: [(name: DomainName, address: IPAddress)] = []
    public var servers: [(address: String, entries: [Entry])] = []
    public var steps: [Step] = []

    public init(text: String, file: String) throws {
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
            switch words[0] {
            case "config":
                guard words.count == 3 else { throw bad() }
                self.settings.append((words[1], words[2], line))
            case "hint":
                guard words.count == 3, let address = IPAddress(words[2]) else { throw bad() }
                self.hints.append((try DomainName(words[1]), address))
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
    public static func reply(to query: Message, entries: [Entry], transport: Transport) -> FakeAction {
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

    /// The scenario's servers, answering in-process.
    public func upstreams() -> ScriptedUpstreams {
        let upstreams = ScriptedUpstreams()
        for (address, entries) in self.servers {
            upstreams.serve(address) { query, transport in
                Scenario.reply(to: query, entries: entries, transport: transport)
            }
        }
        return upstreams
    }

    /// Replays the steps: `ask` gets each query's response from the server under test, `advance` moves its clock by
    /// a `time` step's seconds. Returns what differed from the expectations, each naming the file and line.
    public func run(
        file: String,
        upstreams: ScriptedUpstreams,
        ask: (Question) async throws -> Message,
        advance: (UInt64) -> Void
    ) async throws -> [String] {
        var failures: [String] = []
        for step in self.steps {
            switch step {
            case .time(let seconds):
                advance(seconds)
            case .query(let question, let expected, let line):
                let place = "\(file):\(line): \(question.name) \(question.type)"
                let response = try await ask(question)
                if let code = expected.responseCode, response.responseCode != code {
                    failures.append("\(place): rcode \(response.responseCode), not \(code)")
                }
                if let answers = expected.answers {
                    failures += Scenario.differences(response.answers, answers, "\(place): answer")
                }
                if let authorities = expected.authorities {
                    failures += Scenario.differences(response.authorities, authorities, "\(place): authority")
                }
                if let code = expected.infoCode {
                    let codes = response.edns?.options.compactMap { option -> UInt16? in
                        if case .extendedError(let error) = option { return error.infoCode.rawValue }
                        return nil
                    } ?? []
                    if codes != [code] { failures.append("\(place): Extended DNS Error \(codes), not \(code)") }
                }
                for (address, count, exact) in expected.queries {
                    let queries = upstreams.queries(address)
                    let received = self.servers.contains { $0.0 == address } ? queries.udp + queries.tcp : -1
                    if exact ? received != count : received > count {
                        failures.append(
                            "\(place): \(address) received \(received) queries, not \(exact ? "" : "at most ")\(count)"
                        )
                    }
                }
            }
        }
        return failures
    }

    /// How `actual` differs from `expected` as sets of records (letter case ignored), TTLs included.
    public static func differences(_ actual: [Record], _ expected: [Record], _ place: String) -> [String] {
        func key(_ record: Record) -> String {
            var copy = record
            copy.ttl = 0
            // Names in RDATA may come back in the 0x20 case of the question they were compressed against.
            return "\(copy)".lowercased()
        }
        var failures: [String] = []
        if Set(actual.map(key)) != Set(expected.map(key)) || actual.count != expected.count {
            failures.append("\(place): got \(actual.map(\.description)), not \(expected.map(\.description))")
        }
        for record in actual {
            if let match = expected.first(where: { key($0) == key(record) }), record.ttl != match.ttl {
                failures.append("\(place): TTL of \(record), not \(match.ttl)")
            }
        }
        return failures
    }
}

public struct ScenarioError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
