// ResponderCookieTests: the serving loop's last steps on every reply: the server cookie on chain and fast-path
// replies alike, reply guards that drop or slip (TC=1, or BADCOOKIE to a client that sent a cookie), late replies
// included, and FORMERR for a malformed COOKIE option.

import Pipeline
import Synchronization
import SwiftletTestSupport
import Testing

@Suite struct ResponderCookieTests {
    /// Decides every reply the same way and notes whether each arrival showed a valid server cookie.
    final class Decides: ReplyGuard {
        let decision: ReplyDecision
        let seen = Mutex<[Bool]>([])
        init(_ decision: ReplyDecision) { self.decision = decision }
        func check(reply: UnsafeRawBufferPointer, client: Client, arrival: Arrival) -> ReplyDecision {
            self.seen.withLock { $0.append(arrival.validServerCookie) }
            return self.decision
        }
    }

    static let secret: [UInt8] = Array(0..<16)
    static let clientCookie: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]

    static func cookies() -> ServerCookies { ServerCookies(secret: Self.secret, unixTime: { _ in 1_800_000_000 }) }

    static func packet(id: UInt16, cookie: [UInt8]?) throws -> [UInt8] {
        var message = query("www.example.", .a, id: id, edns: true)
        if let cookie { message.edns!.options = [.unknown(code: .cookie, data: cookie)] }
        return try message.encode().bytes
    }

    /// The COOKIE option of a reply: (client cookie, server cookie).
    static func cookie(_ reply: [UInt8]) throws -> (client: [UInt8], server: [UInt8])? {
        guard case .cookie(let client, let server)? = try Message(wire: reply).edns?.option(.cookie) else { return nil }
        return (client, server)
    }

    @Test func chainAndFastPathRepliesCarryAServerCookieThatIsValidWhenReturned() throws {
        let cookies = Self.cookies()
        let recorder = Decides(.send)
        let server = ResponderTests.server([ResponderTests.Answerer("192.0.2.1")], replyGuards: [recorder], cookies: cookies)

        let first = server.process(try Self.packet(id: 1, cookie: Self.clientCookie)).reply
        let fromChain = try #require(try Self.cookie(first))
        #expect(fromChain.client == Self.clientCookie && fromChain.server.count == 16)
        #expect(try ResponderTests.answers(first) == ["www.example. 300 IN A 192.0.2.1"])

        // The fast path's copy gets the same cookie appended (same client cookie, same second).
        let second = server.process(try Self.packet(id: 2, cookie: Self.clientCookie)).reply
        #expect(try Self.cookie(second)?.server == fromChain.server)
        #expect(try ResponderTests.answers(second) == ["www.example. 300 IN A 192.0.2.1"])

        // Returned, it is valid, and sent back as it is; the reply guard sees it proven.
        let third = server.process(try Self.packet(id: 3, cookie: Self.clientCookie + fromChain.server)).reply
        #expect(try Self.cookie(third)?.server == fromChain.server)
        // Without a cookie, none comes back; the message cache kept the reply without one.
        let plain = server.process(try Self.packet(id: 4, cookie: nil)).reply
        #expect(try Self.cookie(plain) == nil)
        #expect(try Message(wire: plain).edns?.options == [])
        #expect(recorder.seen.withLock { $0 } == [false, false, true, false])
    }

    @Test func aSlippedReplyIsTruncatedOrBadCookieForAClientThatSentOne() throws {
        let server = ResponderTests.server(
            [ResponderTests.Answerer("192.0.2.1")],
            replyGuards: [Decides(.slip)],
            cookies: Self.cookies()
        )
        let truncated = try Message(wire: server.process(try Self.packet(id: 1, cookie: nil)).reply)
        #expect(truncated.header.isTruncated && truncated.responseCode == .noError)
        #expect(truncated.questions == [Question(name: name("www.example."), type: .a)])
        #expect(truncated.answers.isEmpty && truncated.authorities.isEmpty && truncated.edns?.options == [])
        #expect(truncated.header.id == 1)

        let reply = server.process(try Self.packet(id: 2, cookie: Self.clientCookie)).reply
        let badCookie = try Message(wire: reply)
        #expect(badCookie.responseCode == .badCookie && !badCookie.header.isTruncated)
        #expect(badCookie.answers.isEmpty && badCookie.header.id == 2)
        // It carries a fresh server cookie the client can come back with.
        let learnt = try #require(try Self.cookie(reply))
        #expect(learnt.client == Self.clientCookie && learnt.server.count == 16)
    }

    @Test func aDroppedReplyIsNotSentEvenWhenItComesLate() async throws {
        let gate = ResponderTests.Gate()
        let server = ResponderTests.server([gate], replyGuards: [Decides(.drop)], cookies: Self.cookies())
        let sink = RecordingSink()
        #expect(server.process(try Self.packet(id: 1, cookie: Self.clientCookie), sink: sink).outcome == .pending)
        gate.open()
        #expect(await eventually { sink.sent.count == 1 })
        #expect(sink.sent == [[]])
    }

    @Test func aLateReplyCarriesTheCookieToo() async throws {
        let gate = ResponderTests.Gate()
        let server = ResponderTests.server([gate], cookies: Self.cookies())
        let sink = RecordingSink()
        #expect(server.process(try Self.packet(id: 5, cookie: Self.clientCookie), sink: sink).outcome == .pending)
        gate.open()
        #expect(await eventually { sink.sent.count == 1 })
        let reply = try #require(sink.sent.first?.first)
        #expect(try Self.cookie(reply)?.client == Self.clientCookie)
        #expect(try ResponderTests.answers(reply) == ["www.example. 300 IN A 192.0.2.1"])
    }

    @Test func aMalformedCookieIsFormErrWithoutOne() throws {
        let server = ResponderTests.server([ResponderTests.Answerer("192.0.2.1")], cookies: Self.cookies())
        let reply = try Message(wire: server.process(try Self.packet(id: 1, cookie: Array(repeating: 9, count: 9))).reply)
        #expect(reply.responseCode == .formErr && reply.answers.isEmpty)
        #expect(reply.edns?.option(.cookie) == nil)
    }
}
