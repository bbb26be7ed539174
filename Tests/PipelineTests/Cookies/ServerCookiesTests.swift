// ServerCookiesTests: SipHash-2-4 against the reference vectors, server cookies against RFC 9018's examples, and each
// thing a returned cookie can show (good, client-only, forged, expired, from the future, another server's, made with
// a previous secret or in a previous key period).

import Pipeline
import Synchronization
import SwiftletTestSupport
import Testing

@Suite struct ServerCookiesTests {
    static func hex(_ text: String) -> [UInt8] {
        let digits = text.utf8.filter { $0 != UInt8(ascii: " ") }
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    static func hexText(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// A cookie keeper on a wall clock the test sets (UNIX seconds).
    final class WallClock: Sendable {
        let seconds: Atomic<UInt32>
        init(_ seconds: UInt32) { self.seconds = Atomic(seconds) }
        func set(_ value: UInt32) { self.seconds.store(value, ordering: .relaxed) }
        var read: @Sendable (UInt64) -> UInt32 { { _ in self.seconds.load(ordering: .relaxed) } }
    }

    /// A query for www.example. A carrying `cookie` (client cookie, then server cookie) as its COOKIE option.
    static func packet(cookie: [UInt8]) throws -> [UInt8] {
        var message = query("www.example.", .a, id: 1, edns: true)
        message.edns!.options = [.unknown(code: .cookie, data: cookie)]
        return try message.encode().bytes
    }

    static func check(_ cookies: ServerCookies, _ cookie: [UInt8], from client: String) throws -> CookieCheck {
        let packet = try Self.packet(cookie: cookie)
        return try packet.withUnsafeBytes { bytes in
            cookies.check(try RequestView(packet: bytes), packet: bytes, client: IPAddress(client)!, now: 0)
        }
    }

    /// The 16 octets of the server cookie `serverCookie` returns.
    static func made(_ cookies: ServerCookies, for check: CookieCheck, client: String) -> [UInt8] {
        let (header, hash) = cookies.serverCookie(for: check, client: IPAddress(client)!, now: 0)
        return (0..<8).map { UInt8(truncatingIfNeeded: header >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: hash >> (56 - 8 * UInt64($0))) }
    }

    @Test func sipHashMatchesTheReferenceVectors() {
        // Key 00..0f, message 00..(n-1): the reference implementation's vectors.h.
        let expected: [Int: UInt64] = [
            0: 0x726f_db47_dd0e_0e31, 1: 0x74f8_39c5_93dc_67fd, 7: 0xab02_00f5_8b01_d137,
            8: 0x93f5_f579_9a93_2462, 15: 0xa129_ca61_49be_45e5,
        ]
        for (length, value) in expected {
            var hasher = SipHash24(key: Array(0..<16))
            for byte in 0..<UInt8(length) { hasher.combine(byte) }
            #expect(hasher.finalize() == value, "length \(length)")
        }
    }

    @Test func rfc9018ExamplesOneAndTwoLearnThenRenewACookie() throws {
        let wall = WallClock(1_559_731_985)
        let cookies = ServerCookies(secret: Self.hex("e5e973e5a6b2a43f48e7dc849e37bfcf"), unixTime: wall.read)
        // A.1: the client's first query, its cookie alone.
        let first = try Self.check(cookies, Self.hex("2464c4abcf10c957"), from: "198.51.100.100")
        #expect(first.state == .clientOnly)
        let learnt = Self.made(cookies, for: first, client: "198.51.100.100")
        #expect(Self.hexText(learnt) == "010000005cf79f111f8130c3eee29480")
        // The same cookie 10 minutes later is valid and sent back as it is.
        wall.set(1_559_731_985 + 600)
        let again = try Self.check(cookies, Self.hex("2464c4abcf10c957") + learnt, from: "198.51.100.100")
        #expect(again.state == .valid)
        #expect(Self.made(cookies, for: again, client: "198.51.100.100") == learnt)
        // A.2: 40 minutes after it was made, still valid but renewed.
        wall.set(1_559_734_385)
        let renewed = try Self.check(cookies, Self.hex("2464c4abcf10c957") + learnt, from: "198.51.100.100")
        #expect(renewed.state == .valid)
        #expect(Self.hexText(Self.made(cookies, for: renewed, client: "198.51.100.100")) == "010000005cf7a871d4a564a1442aca77")
        // From another address the same cookie proves nothing.
        #expect(try Self.check(cookies, Self.hex("2464c4abcf10c957") + learnt, from: "198.51.100.101").state == .invalid)
    }

    @Test func rfc9018ExampleThreeHashesTheReservedOctetsAsReceived() throws {
        let wall = WallClock(1_559_727_985 + 60)
        let cookies = ServerCookies(secret: Self.hex("e5e973e5a6b2a43f48e7dc849e37bfcf"), unixTime: wall.read)
        let returned = Self.hex("fc93fc62807ddb86 01abcdef5cf78f71a314227b6679ebf5")
        // A minute after it was made it is valid, Reserved = abcdef hashed as it came; a new one (Reserved zero) is
        // made all the same.
        let fresh = try Self.check(cookies, returned, from: "203.0.113.203")
        #expect(fresh.state == .valid)
        #expect(Self.made(cookies, for: fresh, client: "203.0.113.203")[1..<4] == [0, 0, 0])
        // At the example's reply time it is almost two hours old: invalid, and replaced by the example's new cookie.
        wall.set(1_559_734_700)
        let old = try Self.check(cookies, returned, from: "203.0.113.203")
        #expect(old.state == .invalid)
        #expect(Self.hexText(Self.made(cookies, for: old, client: "203.0.113.203")) == "010000005cf7a9acf73a7810aca2381e")
    }

    @Test func rfc9018ExampleFourAcceptsTheOldSecretAndAnswersWithTheNew() throws {
        let wall = WallClock(1_559_741_961)
        let cookies = ServerCookies(
            secret: Self.hex("445536bcd2513298075a5d379663c962"),
            previousSecret: Self.hex("dd3bdf9344b678b185a6f5cb60fca715"),
            unixTime: wall.read
        )
        let client = "2001:db8:220:1:59de:d0f4:8769:82b8"
        let check = try Self.check(cookies, Self.hex("22681ab97d52c298 010000005cf7c57926556bd0934c72f8"), from: client)
        #expect(check.state == .valid)
        #expect(Self.hexText(Self.made(cookies, for: check, client: client)) == "010000005cf7c609a6bb79d16625507a")
        // Without the old secret the same cookie is another server's.
        let other = ServerCookies(secret: Self.hex("445536bcd2513298075a5d379663c962"), unixTime: wall.read)
        #expect(try Self.check(other, Self.hex("22681ab97d52c298 010000005cf7c57926556bd0934c72f8"), from: client).state == .invalid)
    }

    @Test func expiredFutureForgedAndOddLengthCookiesAreInvalid() throws {
        let wall = WallClock(1_559_731_985)
        let cookies = ServerCookies(secret: Self.hex("e5e973e5a6b2a43f48e7dc849e37bfcf"), unixTime: wall.read)
        let good = Self.hex("2464c4abcf10c957 010000005cf79f111f8130c3eee29480")
        wall.set(1_559_731_985 + 3600)
        #expect(try Self.check(cookies, good, from: "198.51.100.100").state == .valid)
        wall.set(1_559_731_985 + 3601)
        #expect(try Self.check(cookies, good, from: "198.51.100.100").state == .invalid)
        // Made "in the future" by a server whose clock is ahead: 5 minutes are tolerated, not more.
        wall.set(1_559_731_985 - 300)
        #expect(try Self.check(cookies, good, from: "198.51.100.100").state == .valid)
        wall.set(1_559_731_985 - 301)
        #expect(try Self.check(cookies, good, from: "198.51.100.100").state == .invalid)
        wall.set(1_559_731_985)
        var forged = good
        forged[23] ^= 1
        #expect(try Self.check(cookies, forged, from: "198.51.100.100").state == .invalid)
        var version2 = good
        version2[8] = 2
        #expect(try Self.check(cookies, version2, from: "198.51.100.100").state == .invalid)
        // A server cookie of a length we never make (8 + 8) is someone else's.
        #expect(try Self.check(cookies, Array(good[0..<16]), from: "198.51.100.100").state == .invalid)
        // A server with another secret does not accept ours.
        let other = ServerCookies(secret: Array(repeating: 7, count: 16), unixTime: wall.read)
        #expect(try Self.check(other, good, from: "198.51.100.100").state == .invalid)
    }

    @Test func aRotatingKeyChangesEachPeriodAndCookiesOfThePreviousPeriodStayValid() throws {
        let period: UInt32 = 3600
        let start: UInt32 = 1_800_000_000 / period * period + period - 60
        let wall = WallClock(start)
        let cookies = ServerCookies(secret: Array(0..<16), lifetime: period, unixTime: wall.read)
        let first = try Self.check(cookies, Self.hex("0102030405060708"), from: "192.0.2.1")
        let before = Self.made(cookies, for: first, client: "192.0.2.1")
        // Not the secret itself: the key is derived for the period.
        let plain = ServerCookies(secret: Array(0..<16), unixTime: wall.read)
        #expect(Self.made(plain, for: first, client: "192.0.2.1") != before)
        // Two minutes later the period has changed: the old cookie is valid, but a new one (new key) is made.
        wall.set(start + 120)
        let next = try Self.check(cookies, Self.hex("0102030405060708") + before, from: "192.0.2.1")
        #expect(next.state == .valid)
        let after = Self.made(cookies, for: next, client: "192.0.2.1")
        #expect(after != before)
        #expect(try Self.check(cookies, Self.hex("0102030405060708") + after, from: "192.0.2.1").state == .valid)
    }

    @Test func malformedCookieLengthsLeaveTheFastPathForFormErr() throws {
        for length in [0, 7, 9, 15, 41] {
            let packet = try Self.packet(cookie: Array(repeating: 1, count: length))
            let view = try packet.withUnsafeBytes { try RequestView(packet: $0) }
            #expect(view.cookieOffset == 0 && !view.isPlainQuery, "length \(length)")
        }
        for length in [8, 16, 24, 40] {
            let packet = try Self.packet(cookie: Array(repeating: 1, count: length))
            let view = try packet.withUnsafeBytes { try RequestView(packet: $0) }
            #expect(view.cookieLength == length && view.isPlainQuery, "length \(length)")
        }
    }
}
