// ResponderTests: the serving loop in-process, with no socket: a packet in, the bytes out or a recording sink, and a
// manual clock for TTL aging and serve-stale's fallback race.

import Pipeline
import Synchronization
import SwiftletTestSupport
import Testing

@Suite struct ResponderTests {
    // MARK: Handlers

    /// Answers every question with one A record (cacheable for 300 s, unless told otherwise) and counts its calls.
    final class Answerer: QueryHandler {
        let address: String
        let cacheable: Bool
        let calls = Atomic<Int>(0)
        let refreshes = Atomic<Int>(0)

        init(_ address: String, cacheable: Bool = true) {
            self.address = address
            self.cacheable = cacheable
        }

        func handle(_ query: inout Query) -> Verdict {
            self.calls.add(1, ordering: .relaxed)
            if query.isRefresh { self.refreshes.add(1, ordering: .relaxed) }
            var response = query.respond()
            response.answers = [rr("\(query.question.name) 300 IN A \(self.address)")]
            query.response = response
            query.cacheability = self.cacheable ? .upTo(seconds: 300) : .never
            return .answered
        }
    }

    /// Suspends every query until the test opens it, then answers like `Answerer`; with `fallbackAfter`, leaves a
    /// stale answer (192.0.2.99, TTL 30) for the serving loop to send if the chain is still waiting by then.
    final class Gate: QueryHandler {
        let fallbackAfter: Duration?
        private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

        init(fallbackAfter: Duration? = nil) { self.fallbackAfter = fallbackAfter }

        func handle(_ query: inout Query) -> Verdict {
            if let after = self.fallbackAfter {
                var stale = Message.response(to: query.request)
                stale.answers = [rr("\(query.question.name) 30 IN A 192.0.2.99")]
                query.lateFallback = (stale, after)
            }
            return .suspend
        }

        func resume(_ query: inout Query) async -> Verdict {
            await withCheckedContinuation { continuation in
                let now = self.state.withLock { state -> Bool in
                    if state.open { return true }
                    state.waiting.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
            var response = query.respond()
            response.answers = [rr("\(query.question.name) 300 IN A 192.0.2.1")]
            query.response = response
            query.cacheability = .upTo(seconds: 300)
            return .answered
        }

        func open() {
            let waiting = self.state.withLock { state in
                state.open = true
                defer { state.waiting = [] }
                return state.waiting
            }
            for continuation in waiting { continuation.resume() }
        }
    }

    /// Answers from "stored" data it wants refreshed (cache prefetch), and notes in `finish` what each run ended with.
    final class StaleAnswerer: QueryHandler {
        let journal = Journal()

        func handle(_ query: inout Query) -> Verdict {
            var response = query.respond()
            response.answers = [rr("\(query.question.name) 5 IN A 192.0.2.50")]
            query.response = response
            query.refreshInBackground = true
            return .answered
        }

        func finish(_ query: inout Query) {
            let address = query.response?.answers.first.map(ResponderTests.line) ?? "nothing"
            self.journal.add("\(query.isRefresh ? "refresh" : "client"): \(address)")
        }
    }

    /// Says it answered without building a response (a plugin bug).
    struct Forgetful: QueryHandler {
        func handle(_ query: inout Query) -> Verdict { .answered }
    }

    struct Decides: Guard {
        let decision: GuardDecision
        func check(_ request: RequestView?, client: Client, arrival: Arrival) -> GuardDecision { self.decision }
    }

    /// Counts the jobs it is given, then runs them on the server executor.
    final class CountingExecutor: TaskExecutor {
        let jobs = Atomic<Int>(0)
        func enqueue(_ job: consuming ExecutorJob) {
            self.jobs.add(1, ordering: .relaxed)
            let job = UnownedJob(job)
            ServerExecutor.shared.enqueue(ExecutorJob(job))
        }
    }

    // MARK: Helpers

    /// `handlers` (and `guards`) as one block for `zones`, served in-process.
    static func server(
        _ handlers: [any QueryHandler],
        guards: [any Guard] = [],
        replyGuards: [any ReplyGuard] = [],
        zones: [String] = ["."],
        maxInFlight: Int = 100,
        transport: Transport = .udp,
        clock: ManualClock = ManualClock(),
        cookies: ServerCookies? = nil
    ) -> InProcessServer {
        var builder = ChainBuilder()
        for `guard` in guards { builder.add(guard: `guard`) }
        for replyGuard in replyGuards { builder.add(replyGuard: replyGuard) }
        for (index, handler) in handlers.enumerated() {
            builder.begin(plugin: "handler\(index)")
            builder.add(handler)
        }
        // A chain without order constraints always builds.
        return try! InProcessServer(
            builder,
            zones: zones.map { name($0) },
            maxInFlight: maxInFlight,
            transport: transport,
            clock: clock,
            cookies: cookies
        )
    }

    static func packet(_ qname: String = "www.example.", id: UInt16, edns: Bool = true) -> [UInt8] {
        (try? query(qname, .a, id: id, edns: edns).encode().bytes) ?? []
    }

    /// The answer section as `name TTL class type rdata` lines.
    static func answers(_ bytes: [UInt8]) throws -> [String] { try Message(wire: bytes).answers.map(Self.line) }

    static func line(_ record: Record) -> String { record.description.split(separator: "\t").joined(separator: " ") }

    // MARK: Tests

    @Test func answersThroughTheChainThenFromTheFastPathAgedByItsClock() throws {
        let clock = ManualClock()
        let answerer = Answerer("192.0.2.1")
        let server = Self.server([answerer], clock: clock)

        let first = server.process(Self.packet(id: 1))
        let second = server.process(Self.packet(id: 2))
        clock.advance(by: .seconds(100))
        let third = server.process(Self.packet(id: 3))

        #expect(answerer.calls.load(ordering: .relaxed) == 1)
        #expect(try Self.answers(first.reply) == ["www.example. 300 IN A 192.0.2.1"])
        // The same octets but the ID: the fast path copied the chain's reply.
        #expect(second.reply == [0, 2] + first.reply.dropFirst(2))
        #expect(try Message(wire: third.reply).header.id == 3)
        #expect(try Self.answers(third.reply) == ["www.example. 200 IN A 192.0.2.1"])
    }

    @Test func unreadablePacketsGetHeaderOnlyErrorsOrNothing() {
        let server = Self.server([Answerer("192.0.2.1")])
        // A QUERY whose question is missing: FORMERR, RD echoed, counts zero.
        let formErr = server.process([0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(formErr.reply == [0xAB, 0xCD, 0x81, 0x01, 0, 0, 0, 0, 0, 0, 0, 0])
        // Opcode STATUS (2) without a question: NOTIMP (RFC 8906 §8).
        let notImp = server.process([0xAB, 0xCE, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(notImp.reply == [0xAB, 0xCE, 0x90, 0x04, 0, 0, 0, 0, 0, 0, 0, 0])
        // A response, or less than a header: nothing at all.
        #expect(server.process([0xAB, 0xCF, 0x81, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]).outcome == .none)
        #expect(server.process([0xAB, 0xCF, 0x01]).outcome == .none)
        var answered = Self.packet(id: 7)
        answered[2] |= 0x80
        #expect(server.process(answered).outcome == .none)
    }

    @Test func aNameNoBlockServesIsRefusedWithItsQuestionAndOPT() throws {
        let answerer = Answerer("192.0.2.1")
        let server = Self.server([answerer], zones: ["example."])
        let reply = try Message(wire: server.process(Self.packet("www.other.", id: 9)).reply)
        #expect(reply.header.id == 9 && reply.responseCode == .refused)
        #expect(reply.questions == [Question(name: name("www.other."), type: .a)])
        #expect(reply.answers.isEmpty && reply.edns != nil)
        #expect(answerer.calls.load(ordering: .relaxed) == 0)
        #expect(try Self.answers(server.process(Self.packet("a.EXAMPLE.", id: 10)).reply).count == 1)
    }

    @Test func guardsDropOrRefuseBeforeTheChain() throws {
        let answerer = Answerer("192.0.2.1")
        let dropping = Self.server([answerer], guards: [Decides(decision: .drop)])
        #expect(dropping.process(Self.packet(id: 1)).outcome == .none)
        let refusing = Self.server([answerer], guards: [Decides(decision: .refuse)])
        #expect(try Message(wire: refusing.process(Self.packet(id: 2)).reply).responseCode == .refused)
        // A guard still sees a packet it cannot parse, by address alone: a dropped client gets no FORMERR either.
        #expect(dropping.process([0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]).outcome == .none)
        #expect(answerer.calls.load(ordering: .relaxed) == 0)
    }

    @Test func aChainThatAnswersNothingIsRefusedAndOneThatForgetsIsServfail() throws {
        let passing = Self.server([StubHandler("a", .next, journal: Journal())])
        #expect(try Message(wire: passing.process(Self.packet(id: 1)).reply).responseCode == .refused)
        let forgetful = Self.server([Forgetful()])
        let packet = Self.packet(id: 2)
        #expect(try Message(wire: forgetful.process(packet).reply).responseCode == .servFail)
        #expect(forgetful.cached(packet) == nil)
    }

    @Test func anUnknownEDNSVersionIsBadversWithVersionZero() throws {
        let answerer = Answerer("192.0.2.1")
        let server = Self.server([answerer])
        var request = query("www.example.", .a, id: 5)
        request.edns?.version = 1
        let reply = try Message(wire: server.process(try request.encode().bytes).reply)
        #expect(reply.responseCode == .badVers && reply.edns?.version == 0 && reply.answers.isEmpty)
        #expect(answerer.calls.load(ordering: .relaxed) == 0)
    }

    @Test func aSuspendedQueryRepliesThroughTheSinkAndFillsTheCacheAfterwards() async throws {
        let gate = Gate()
        let server = Self.server([gate])
        let packet = Self.packet(id: 0x4242)
        let cachedWhenSent = Mutex<[UInt8]?>(nil)
        let sink = RecordingSink { _ in cachedWhenSent.withLock { $0 = server.cached(packet) } }

        #expect(server.process(packet, sink: sink).outcome == .pending)
        #expect(sink.sent.isEmpty)
        gate.open()
        #expect(await eventually { sink.sent.count == 1 })
        let reply = try #require(sink.sent.first?.first)
        #expect(try Message(wire: reply).header.id == 0x4242)
        #expect(try Self.answers(reply) == ["www.example. 300 IN A 192.0.2.1"])
        // The reply left before the message cache was filled; the fill follows.
        #expect(cachedWhenSent.withLock { $0 } == nil)
        #expect(await eventually { server.cached(packet) == reply })
    }

    @Test func pastMaxInFlightAQueryIsShedWithRefused() async throws {
        let gate = Gate()
        let server = Self.server([gate], maxInFlight: 1)
        let sink = RecordingSink()
        #expect(server.process(Self.packet("a.example.", id: 1), sink: sink).outcome == .pending)
        let shed = server.process(Self.packet("b.example.", id: 2))
        #expect(try Message(wire: shed.reply).responseCode == .refused)
        gate.open()
        #expect(await eventually { sink.sent.count == 1 })
        // The slot is free again.
        let after = RecordingSink()
        #expect(server.process(Self.packet("c.example.", id: 3), sink: after).outcome == .pending)
        #expect(await eventually { after.sent.count == 1 })
    }

    @Test func serveStaleFallbackGoesOutWhenTheChainIsLateAndTheChainStillFillsTheCache() async throws {
        let clock = ManualClock()
        let gate = Gate(fallbackAfter: .milliseconds(1800))
        let server = Self.server([gate], clock: clock)
        let packet = Self.packet(id: 77)
        let sink = RecordingSink()

        #expect(server.process(packet, sink: sink).outcome == .pending)
        #expect(await eventually { clock.sleepers == 1 })
        clock.advance(by: .milliseconds(1799))
        #expect(clock.sleepers == 1 && sink.sent.isEmpty)
        clock.advance(by: .milliseconds(1))
        #expect(await eventually { sink.sent.count == 1 })
        let fallback = try #require(sink.sent.first?.first)
        #expect(try Message(wire: fallback).header.id == 77)
        #expect(try Self.answers(fallback) == ["www.example. 30 IN A 192.0.2.99"])

        gate.open()
        // Stored as of when the query came in, 1.8 s ago on this clock: 298.2 s are left, given as 299.
        _ = await eventually { server.cached(packet) != nil }
        let stored = try Self.answers(try #require(server.cached(packet)))
        #expect(stored == ["www.example. 299 IN A 192.0.2.1"])
        // The chain's own reply lost the race: the client got one answer.
        #expect(sink.sent.count == 1)
    }

    @Test func aChainThatAnswersFirstCancelsTheFallback() async throws {
        let clock = ManualClock()
        let gate = Gate(fallbackAfter: .milliseconds(1800))
        let server = Self.server([gate], clock: clock)
        let sink = RecordingSink()

        #expect(server.process(Self.packet(id: 78), sink: sink).outcome == .pending)
        #expect(await eventually { clock.sleepers == 1 })
        gate.open()
        #expect(await eventually { sink.sent.count == 1 && clock.sleepers == 0 })
        clock.advance(by: .seconds(10))
        #expect(try Self.answers(try #require(sink.sent.first?.first)) == ["www.example. 300 IN A 192.0.2.1"])
        #expect(sink.sent.count == 1)
    }

    @Test func prefetchRerunsTheRestOfTheChainInTheBackgroundAndCachesItsAnswer() async throws {
        let stale = StaleAnswerer()
        let fresh = Answerer("192.0.2.2")
        let server = Self.server([stale, fresh])
        let packet = Self.packet(id: 11)

        let reply = server.process(packet)
        #expect(try Self.answers(reply.reply) == ["www.example. 5 IN A 192.0.2.50"])
        #expect(await eventually { stale.journal.all.count == 2 })
        #expect(stale.journal.all == ["client: www.example. 5 IN A 192.0.2.50", "refresh: www.example. 300 IN A 192.0.2.2"])
        #expect(fresh.calls.load(ordering: .relaxed) == 1 && fresh.refreshes.load(ordering: .relaxed) == 1)
        #expect(await eventually { server.cached(packet).map { try? Self.answers($0) } == ["www.example. 300 IN A 192.0.2.2"] })
    }

    @Test(arguments: [Transport.udp, .tcp])
    func suspendedQueriesRunOnTheExecutorTheTransportGives(transport: Transport) async throws {
        let gate = Gate()
        let executor = CountingExecutor()
        let server = Self.server([gate], transport: transport)
        let sink = RecordingSink()
        #expect(server.process(Self.packet(id: 1), sink: sink, executor: executor).outcome == .pending)
        // Over TCP the task is queued on the executor at once; over UDP it starts inline and moves there on resuming.
        if transport == .tcp { #expect(executor.jobs.load(ordering: .relaxed) >= 1) }
        gate.open()
        #expect(await eventually { sink.sent.count == 1 })
        #expect(executor.jobs.load(ordering: .relaxed) >= 1)
    }
}
