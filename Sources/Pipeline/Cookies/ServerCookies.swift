// ServerCookies: DNS cookies on the server side (RFC 7873 §5.2) with interoperable server cookies (RFC 9018): every
// reply to a query that carried a client cookie gets a server cookie, and a returned one is checked, so a client
// that shows a valid one has proved it receives replies at the address it claims (response rate limiting exempts it).

#if canImport(Glibc)
import Glibc
#endif

/// What a query's COOKIE option showed.
public struct CookieCheck: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        /// No COOKIE option (or cookies are off for the block).
        case absent
        /// A client cookie alone (RFC 7873 §5.2.3): the client's first query to us, or it forgot ours.
        case clientOnly
        /// A server cookie we did not make, or made too long ago or "in the future" (§5.2.4): treated as client-only.
        case invalid
        /// A server cookie we made for this client cookie and address, still within its lifetime (§5.2.5).
        case valid
    }

    public var state: State
    /// The client cookie's 8 octets, in network order.
    public var clientCookie: UInt64
    /// A valid server cookie recent enough to be sent back as it is (RFC 9018 §4.3): its first 8 octets (version,
    /// reserved, timestamp) and its hash; nil when a new one is due.
    var reusable: (header: UInt64, hash: UInt64)?

    public static let absent = CookieCheck(state: .absent, clientCookie: 0, reusable: nil)

    public static func == (left: CookieCheck, right: CookieCheck) -> Bool {
        left.state == right.state && left.clientCookie == right.clientCookie
            && left.reusable?.header == right.reusable?.header && left.reusable?.hash == right.reusable?.hash
    }

    /// The client sent a cookie, so its reply carries one back.
    public var wantsCookie: Bool { self.state != .absent }
}

/// The server cookie secret and its rules. Nothing in it changes after setup: a rotating secret is derived from the
/// configured one per period (see `lifetime`), so workers read it without locks and every server given the same
/// secret makes and accepts the same cookies (RFC 9018 §1's anycast case).
public final class ServerCookies: Sendable {
    /// The octets a server cookie adds to a reply's OPT record: option code and length (4), client cookie (8),
    /// server cookie (16).
    public static let optionSize = 28
    /// RFC 9018 §4.3: a server cookie is accepted up to an hour after it was made and up to 5 minutes before (clock
    /// skew between the servers sharing a secret); one older than half an hour is replaced by a new one.
    static let maximumAge: UInt32 = 3600
    static let maximumSkew: UInt32 = 300
    static let renewAge: UInt32 = 1800

    private let secret: (UInt64, UInt64)
    private let previousSecret: (UInt64, UInt64)?
    /// Seconds each derived key is used to make cookies; 0 uses the secret itself, as RFC 9018 §4.4 describes.
    private let lifetime: UInt32
    /// UNIX seconds at a ServerClock time (the serving loop stamps queries with monotonic time).
    private let unixTime: @Sendable (UInt64) -> UInt32

    /// - Parameters:
    ///   - secret: 16 octets; all servers answering for the same address should share it (RFC 9018 §5).
    ///   - previousSecret: the secret before an operator's change, still accepted (never used to make cookies).
    ///   - lifetime: make cookies with a key derived from the secret and the current period of this many seconds,
    ///     so the key in use changes every period while those of the past hour are still accepted; 0 for none.
    ///   - unixTime: maps the serving loop's clock to UNIX seconds; by default the wall clock's offset from
    ///     CLOCK_MONOTONIC, taken once.
    public init(
        secret: [UInt8],
        previousSecret: [UInt8]? = nil,
        lifetime: UInt32 = 0,
        unixTime: (@Sendable (UInt64) -> UInt32)? = nil
    ) {
        self.secret = ServerCookies.key(secret)
        self.previousSecret = previousSecret.map(ServerCookies.key)
        self.lifetime = lifetime
        self.unixTime = unixTime ?? ServerCookies.wallClock()
    }

    /// 16 random octets from the kernel, for a server not given a secret.
    public static func randomSecret() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        return bytes
    }

    /// A SipHash key from 16 octets, read as the reference implementation reads its key (little-endian halves).
    static func key(_ octets: [UInt8]) -> (UInt64, UInt64) {
        precondition(octets.count == 16, "a cookie secret has 16 octets")
        var k0: UInt64 = 0
        var k1: UInt64 = 0
        for index in 0..<8 {
            k0 |= UInt64(octets[index]) << (8 * UInt64(index))
            k1 |= UInt64(octets[index + 8]) << (8 * UInt64(index))
        }
        return (k0, k1)
    }

    private static func wallClock() -> @Sendable (UInt64) -> UInt32 {
        var real = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        let realNanoseconds = Int64(real.tv_sec) * 1_000_000_000 + Int64(real.tv_nsec)
        let offset = realNanoseconds - Int64(bitPattern: Clock.nanoseconds())
        return { now in UInt32(truncatingIfNeeded: (Int64(bitPattern: now) + offset) / 1_000_000_000) }
    }

    /// The key cookies made at `timestamp` are hashed with, from `secret`.
    private func key(from secret: (UInt64, UInt64), at timestamp: UInt32) -> (UInt64, UInt64) {
        guard self.lifetime > 0 else { return secret }
        let period = UInt64(timestamp / self.lifetime)
        var first = SipHash24(k0: secret.0, k1: secret.1)
        first.combine(bigEndian: period << 8, octets: 8)
        var second = SipHash24(k0: secret.0, k1: secret.1)
        second.combine(bigEndian: period << 8 | 1, octets: 8)
        return (first.finalize(), second.finalize())
    }

    /// RFC 9018 §4.4: SipHash-2-4 over Client Cookie | Version | Reserved | Timestamp | Client-IP.
    static func hash(key: (UInt64, UInt64), clientCookie: UInt64, header: UInt64, client: IPAddress) -> UInt64 {
        var hasher = SipHash24(k0: key.0, k1: key.1)
        hasher.combine(bigEndian: clientCookie, octets: 8)
        hasher.combine(bigEndian: header, octets: 8)
        switch client.unmapped {
        case .v4(let address): hasher.combine(bigEndian: UInt64(address.rawValue), octets: 4)
        case .v6(let address):
            hasher.combine(bigEndian: address.high, octets: 8)
            hasher.combine(bigEndian: address.low, octets: 8)
        }
        // The hash goes on the wire as the reference implementation outputs it, least significant octet first;
        // kept here in network order like the other fields.
        return hasher.finalize().byteSwapped
    }

    /// Checks the COOKIE option of `request` (its well-formed lengths only: RequestView sends a malformed one to the
    /// full decoder, which answers FORMERR as RFC 7873 §5.2.2 asks).
    public func check(_ request: RequestView, packet: UnsafeRawBufferPointer, client: IPAddress, now: UInt64) -> CookieCheck {
        let offset = request.cookieOffset
        guard offset > 0 else { return .absent }
        let clientCookie = Self.load(packet, at: offset)
        guard request.cookieLength == 24 else {
            // 8: the client cookie alone. 16 to 40 but not 24: a server cookie of a length we never make.
            return CookieCheck(state: request.cookieLength == 8 ? .clientOnly : .invalid, clientCookie: clientCookie)
        }
        let header = Self.load(packet, at: offset + 8)
        let hash = Self.load(packet, at: offset + 16)
        let invalid = CookieCheck(state: .invalid, clientCookie: clientCookie)
        // Version 1 (RFC 9018 §4.2); the reserved octets are hashed as received, whatever they are (its A.3).
        guard header >> 56 == 1 else { return invalid }
        let timestamp = UInt32(truncatingIfNeeded: header)
        let current = self.unixTime(now)
        // Serial number arithmetic (RFC 1982) on the 32-bit timestamps: how far in the past the cookie was made.
        let age = current &- timestamp
        guard age <= Self.maximumAge || age >= 0 &- Self.maximumSkew else { return invalid }
        let key = self.key(from: self.secret, at: timestamp)
        if Self.hash(key: key, clientCookie: clientCookie, header: header, client: client) == hash {
            // Sent back as it is while under half an hour old and made in the current key period.
            // Reserved octets we would not have set make a new one too.
            let fresh =
                age <= Self.renewAge && header >> 32 == 0x0100_0000
                && (self.lifetime == 0 || timestamp / self.lifetime == current / self.lifetime)
            return CookieCheck(state: .valid, clientCookie: clientCookie, reusable: fresh ? (header, hash) : nil)
        }
        if let previous = self.previousSecret,
            Self.hash(key: self.key(from: previous, at: timestamp), clientCookie: clientCookie, header: header, client: client)
                == hash
        {
            return CookieCheck(state: .valid, clientCookie: clientCookie)
        }
        return invalid
    }

    /// The server cookie for a reply: the client's own when still fresh, otherwise a new one made now.
    public func serverCookie(for check: CookieCheck, client: IPAddress, now: UInt64) -> (header: UInt64, hash: UInt64) {
        if let reusable = check.reusable { return reusable }
        let timestamp = self.unixTime(now)
        let header = 0x0100_0000 << 32 | UInt64(timestamp)
        let key = self.key(from: self.secret, at: timestamp)
        return (header, Self.hash(key: key, clientCookie: check.clientCookie, header: header, client: client))
    }

    /// Eight octets of `packet` at `offset` as a big-endian number.
    static func load(_ packet: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in offset..<(offset + 8) { value = value << 8 | UInt64(packet[index]) }
        return value
    }
}
