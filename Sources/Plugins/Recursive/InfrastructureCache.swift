// InfrastructureCache: the third cache level, what we know of name servers: RTT, EDNS support, lameness, failures.

import Pipeline
import Synchronization

/// Facts about name servers, kept for `hostTTL`: per address the smoothed RTT and its variance (RFC 6298, the
/// retransmission timeout with back-off), whether it needs queries without EDNS; per (address, zone) lameness; per
/// zone a failure back-off for delegations none of whose servers answered (RFC 9520 §3.2, 1 s to 5 min).
final class InfrastructureCache: Sendable {
    struct Server {
        /// Smoothed RTT and RTT variance, milliseconds.
        var smoothedRTT: Double
        var variance: Double
        /// The current timeout, milliseconds: srtt + 4·rttvar, doubled per timeout in a row.
        var timeout: Double
        var timeoutsInRow = 0
        /// Answered FORMERR to a query with EDNS and answered without (RFC 6891 §7).
        var withoutEDNS = false
        var expiresAt: UInt64
    }

    struct LameKey: Hashable {
        var address: IPAddress
        var zone: DomainName
    }

    struct Failure {
        var until: UInt64
        var backOff: UInt64
    }

    struct State {
        var servers: [IPAddress: Server] = [:]
        var lame: [LameKey: UInt64] = [:]
        var failures: [DomainName: Failure] = [:]
    }

    /// The RTT assumed for a server never asked (Unbound's 376 ms): it gets explored, after the known fast ones.
    static let unknownRTT = 376.0
    /// Timeouts stay within these, milliseconds.
    static let minimumTimeout = 50.0
    static let maximumTimeout = 12_000.0
    /// Servers whose RTT is within this of the fastest are chosen among at random (Unbound's RTT band).
    static let band = 400.0
    /// How long facts about a server are kept, and how long a lame server is avoided for its zone.
    static let hostTTL: UInt64 = 900 * 1_000_000_000
    static let lameTTL: UInt64 = 900 * 1_000_000_000
    /// The first and the longest failure back-off of a delegation (RFC 9520 §3.2: at least 1 s, at most 5 min).
    static let firstBackOff: UInt64 = 1_000_000_000
    static let longestBackOff: UInt64 = 300 * 1_000_000_000
    /// Entries kept at most, each kind; past it, expired ones go, then the oldest half.
    static let capacity = 100_000

    let state = Mutex(State())

    private static func fresh(_ now: UInt64) -> Server {
        Server(
            smoothedRTT: InfrastructureCache.unknownRTT,
            variance: InfrastructureCache.unknownRTT / 2,
            timeout: InfrastructureCache.unknownRTT,
            expiresAt: now &+ InfrastructureCache.hostTTL
        )
    }

    private static func server(_ state: inout State, _ address: IPAddress, now: UInt64) -> Server {
        if let known = state.servers[address], known.expiresAt > now { return known }
        if state.servers.count >= InfrastructureCache.capacity {
            state.servers = state.servers.filter { $0.value.expiresAt > now }
            if state.servers.count >= InfrastructureCache.capacity { state.servers.removeAll(keepingCapacity: true) }
        }
        return InfrastructureCache.fresh(now)
    }

    /// How long to wait for `address`, milliseconds.
    func timeout(for address: IPAddress, now: UInt64) -> Double {
        self.state.withLock { InfrastructureCache.server(&$0, address, now: now).timeout }
    }

    /// An answer came after `milliseconds` (RFC 6298 §2: α = 1/8, β = 1/4).
    func answered(_ address: IPAddress, after milliseconds: Double, now: UInt64) {
        self.state.withLock { state in
            var server = InfrastructureCache.server(&state, address, now: now)
            if server.timeoutsInRow == 0 && state.servers[address] == nil {
                server.smoothedRTT = milliseconds
                server.variance = milliseconds / 2
            } else {
                server.variance += (abs(server.smoothedRTT - milliseconds) - server.variance) / 4
                server.smoothedRTT += (milliseconds - server.smoothedRTT) / 8
            }
            server.timeoutsInRow = 0
            server.timeout = min(
                max(server.smoothedRTT + 4 * server.variance, InfrastructureCache.minimumTimeout),
                InfrastructureCache.maximumTimeout
            )
            server.expiresAt = now &+ InfrastructureCache.hostTTL
            state.servers[address] = server
        }
    }

    /// No answer within its timeout: back off (double the timeout) and count it against the server's RTT.
    func timedOut(_ address: IPAddress, now: UInt64) {
        self.state.withLock { state in
            var server = InfrastructureCache.server(&state, address, now: now)
            server.timeoutsInRow += 1
            server.timeout = min(server.timeout * 2, InfrastructureCache.maximumTimeout)
            server.smoothedRTT = max(server.smoothedRTT, server.timeout)
            server.expiresAt = now &+ InfrastructureCache.hostTTL
            state.servers[address] = server
        }
    }

    func needsNoEDNS(_ address: IPAddress, now: UInt64) -> Bool {
        self.state.withLock { InfrastructureCache.server(&$0, address, now: now).withoutEDNS }
    }

    func markWithoutEDNS(_ address: IPAddress, now: UInt64) {
        self.state.withLock { state in
            var server = InfrastructureCache.server(&state, address, now: now)
            server.withoutEDNS = true
            state.servers[address] = server
        }
    }

    /// `address` answered for `zone` with REFUSED or NOTAUTH, a non-authoritative non-answer or an upward referral.
    func markLame(_ address: IPAddress, zone: DomainName, now: UInt64) {
        self.state.withLock { state in
            if state.lame.count >= InfrastructureCache.capacity { state.lame = state.lame.filter { $0.value > now } }
            if state.lame.count >= InfrastructureCache.capacity { state.lame.removeAll(keepingCapacity: true) }
            state.lame[LameKey(address: address, zone: zone)] = now &+ InfrastructureCache.lameTTL
        }
    }

    func isLame(_ address: IPAddress, zone: DomainName, now: UInt64) -> Bool {
        self.state.withLock { ($0.lame[LameKey(address: address, zone: zone)] ?? 0) > now }
    }

    /// Addresses to try, best first: those whose RTT is within `band` of the fastest in random order, then the rest
    /// by RTT (servers that time out sink; servers never asked are tried after the known fast ones).
    func order(_ addresses: [IPAddress], now: UInt64) -> [IPAddress] {
        let rated = self.state.withLock { state in
            addresses.map { ($0, InfrastructureCache.server(&state, $0, now: now).smoothedRTT) }
        }
        guard let best = rated.map(\.1).min() else { return [] }
        let near = rated.filter { $0.1 <= best + InfrastructureCache.band }.map(\.0).shuffled()
        let far = rated.filter { $0.1 > best + InfrastructureCache.band }.sorted { $0.1 < $1.1 }.map(\.0)
        return near + far
    }

    /// True while `zone`'s servers are in failure back-off.
    func isFailing(_ zone: DomainName, now: UInt64) -> Bool {
        self.state.withLock { ($0.failures[zone]?.until ?? 0) > now }
    }

    /// None of `zone`'s servers answered: avoid it for the back-off, doubled from the last (RFC 9520 §3.2).
    func recordFailure(_ zone: DomainName, now: UInt64) {
        self.state.withLock { state in
            if state.failures.count >= InfrastructureCache.capacity {
                state.failures = state.failures.filter { $0.value.until > now }
            }
            let backOff =
                state.failures[zone].map { min($0.backOff * 2, InfrastructureCache.longestBackOff) }
                ?? InfrastructureCache.firstBackOff
            state.failures[zone] = Failure(until: now &+ backOff, backOff: backOff)
        }
    }

    func recordSuccess(_ zone: DomainName) {
        self.state.withLock { state in
            if !state.failures.isEmpty { state.failures.removeValue(forKey: zone) }
        }
    }
}
