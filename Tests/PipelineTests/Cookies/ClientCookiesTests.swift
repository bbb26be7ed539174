// ClientCookiesTests: the resolver's side of DNS cookies on encoded messages: the option added to a query's OPT,
// the server cookie learnt from a reply and sent back, and what makes a reply forged or a BADCOOKIE retry.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct ClientCookiesTests {
    static let server = IPAddress("192.0.2.53")!

    /// A reply from `server` carrying `cookie` as its COOKIE option's octets (none when nil), with `code`.
    static func reply(cookie: [UInt8]?, code: ResponseCode = .noError) throws -> [UInt8] {
        var message = Message.response(to: query("www.example.", .a), responseCode: code)
        if let cookie { message.edns!.options = [.unknown(code: .cookie, data: cookie)] }
        return try message.encode().bytes
    }

    @Test func aQueryGetsOurClientCookieThenTheServersCookieOnceLearnt() throws {
        let cookies = ClientCookies(secret: Array(0..<16))
        let mine = cookies.clientCookie(for: Self.server)
        #expect(mine.count == 8 && mine != cookies.clientCookie(for: IPAddress("192.0.2.54")!))
        #expect(mine == ClientCookies(secret: Array(0..<16)).clientCookie(for: Self.server))

        var packet = try query("www.example.", .a).encode().bytes
        #expect(cookies.prepare(&packet, for: Self.server))
        #expect(try Message(wire: packet).edns?.options == [.cookie(client: mine, server: [])])

        let serverCookie: [UInt8] = Array(repeating: 7, count: 16)
        #expect(cookies.check(try Self.reply(cookie: mine + serverCookie), from: Self.server) == .accepted)
        #expect(cookies.serverCookie(of: Self.server) == serverCookie)
        var second = try query("www.example.", .a).encode().bytes
        cookies.prepare(&second, for: Self.server)
        #expect(try Message(wire: second).edns?.options == [.cookie(client: mine, server: serverCookie)])

        // Without an OPT record there is nowhere to put a cookie.
        var plain = try query("www.example.", .a, edns: false).encode().bytes
        let before = plain
        #expect(!cookies.prepare(&plain, for: Self.server))
        #expect(plain == before)
    }

    @Test func forgedAndBadCookieReplies() throws {
        let cookies = ClientCookies(secret: Array(0..<16))
        let mine = cookies.clientCookie(for: Self.server)
        // A server that never gave a cookie may answer without one.
        #expect(cookies.check(try Self.reply(cookie: nil), from: Self.server) == .accepted)
        #expect(
            cookies.check(try Self.reply(cookie: Array(repeating: 1, count: 8)), from: Self.server)
                == .forged("a reply with a client cookie that is not ours")
        )
        #expect(
            cookies.check(try Self.reply(cookie: mine + [1, 2, 3]), from: Self.server)
                == .forged("a reply with a client cookie that is not ours")
        )
        let fresh: [UInt8] = Array(repeating: 9, count: 16)
        #expect(cookies.check(try Self.reply(cookie: mine + fresh, code: .badCookie), from: Self.server) == .retry)
        #expect(cookies.serverCookie(of: Self.server) == fresh)
        // Once it gave one, a reply without is not its.
        #expect(
            cookies.check(try Self.reply(cookie: nil), from: Self.server)
                == .forged("a reply without a cookie from a server that gives them")
        )
        #expect(cookies.serverCookie(of: Self.server) == nil)
    }
}
