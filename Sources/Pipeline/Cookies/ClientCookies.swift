// ClientCookies: DNS cookies on the resolver's side (RFC 7873 §5.1, §5.3): a client cookie per upstream server in
// every query, the server cookie each one returned remembered and sent back, and replies that show a client cookie
// other than ours, or none where the server always gave one, discarded as forged.

import Synchronization

/// What a reply's COOKIE option says about it.
public enum CookieReplyCheck: Equatable, Sendable {
    /// Nothing to object to (with our client cookie, or from a server that never sent cookies).
    case accepted
    /// BADCOOKIE with our client cookie: the server wants its new cookie back; ask again once (RFC 7873 §5.3).
    case retry
    /// A client cookie that is not ours, or a malformed COOKIE option, or none from a server that had given us one:
    /// not an answer to what we sent.
    case forged(String)
}

/// One upstream client's cookies: its secret, and the server cookies learnt, per server address, bounded.
public final class ClientCookies: Sendable {
    /// Servers remembered at most (a resolver talks to thousands); past it the table starts over.
    static let maximumServers = 10_000

    private let secret: (UInt64, UInt64)
    private let learnt = Mutex<[IPAddress: [UInt8]]>([:])

    /// - Parameter secret: 16 octets; a random one by default (cookies then change with every process).
    public init(secret: [UInt8] = ServerCookies.randomSecret()) { self.secret = ServerCookies.key(secret) }

    /// The client cookie for `server`: a keyed hash of its address (RFC 7873 §4.1 without the client address, which
    /// an unconnected socket does not know), so each server sees a different one and none can track us across them.
    public func clientCookie(for server: IPAddress) -> [UInt8] {
        var hasher = SipHash24(k0: self.secret.0, k1: self.secret.1)
        switch server.unmapped {
        case .v4(let address): hasher.combine(bigEndian: UInt64(address.rawValue), octets: 4)
        case .v6(let address):
            hasher.combine(bigEndian: address.high, octets: 8)
            hasher.combine(bigEndian: address.low, octets: 8)
        }
        let value = hasher.finalize()
        return (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    /// The server cookie `server` last gave us, if any.
    public func serverCookie(of server: IPAddress) -> [UInt8]? { self.learnt.withLock { $0[server] } }

    /// Adds a COOKIE option (our client cookie, and the server's cookie when we have one) to the encoded query
    /// `packet`, whose OPT record must be its last record. Returns false, leaving it unchanged, when it has none.
    @discardableResult
    public func prepare(_ packet: inout [UInt8], for server: IPAddress) -> Bool {
        guard let opt = packet.withUnsafeBytes({ ReplyRewrite.lastOPT($0, length: packet.count) }) else { return false }
        let option = self.clientCookie(for: server) + (self.serverCookie(of: server) ?? [])
        let rdlength = (Int(packet[opt + 9]) << 8 | Int(packet[opt + 10])) + 4 + option.count
        guard rdlength <= Int(UInt16.max) else { return false }
        packet[opt + 9] = UInt8(rdlength >> 8)
        packet[opt + 10] = UInt8(truncatingIfNeeded: rdlength)
        packet += [0, UInt8(EDNSOption.Code.cookie.rawValue), 0, UInt8(option.count)] + option
        return true
    }

    /// Checks `reply` from `server` to a query `prepare` gave a cookie, and learns the server cookie it carries.
    public func check(_ reply: [UInt8], from server: IPAddress) -> CookieReplyCheck {
        // Read in place: every upstream reply passes here, and the plugin decodes it afterwards anyway.
        let found = reply.withUnsafeBytes { ReplyRewrite.cookieOption($0) }
        guard let found, let range = found.cookie else {
            // A server that gave us a cookie puts one in every reply (RFC 7873 §5.2); one without is not from it.
            // It is forgotten all the same, so a server that turned cookies off costs one query, not all of them.
            let had = self.learnt.withLock { $0.removeValue(forKey: server) } != nil
            return had ? .forged("a reply without a cookie from a server that gives them") : .accepted
        }
        guard range.count == 8 || (16...40).contains(range.count),
            Array(reply[range.lowerBound..<(range.lowerBound + 8)]) == self.clientCookie(for: server)
        else { return .forged("a reply with a client cookie that is not ours") }
        if range.count > 8 {
            let serverCookie = Array(reply[(range.lowerBound + 8)..<range.upperBound])
            self.learnt.withLock { learnt in
                if learnt.count >= Self.maximumServers && learnt[server] == nil { learnt.removeAll(keepingCapacity: true) }
                learnt[server] = serverCookie
            }
        }
        // BADCOOKIE is 23: 7 in the header, 1 in the OPT's extended bits.
        let badCookie = reply.count >= Header.wireSize && reply[3] & 0x0F == 7 && found.extendedRCode == 1
        return badCookie ? .retry : .accepted
    }
}
