// Upstream: one upstream server, its transport, and what we have learnt about it (health, smoothed RTT).

import NIOCore
import NIOSSL
import Pipeline
import SwiftletIO
import Synchronization

/// Why an exchange with an upstream failed.
enum UpstreamError: Error, Equatable {
    case timeout
    case connection(String)
    case malformed

    /// A short reason for logs and Extended DNS Error texts.
    static func describe(_ error: any Error) -> String {
        switch error as? UpstreamError {
        case .timeout?: return "timed out"
        case .connection(let reason)?: return reason
        case .malformed?: return "malformed answer"
        case nil: return "\(error)"
        }
    }
}

/// An upstream server with its health and RTT. Shared by every query of one forward instance.
final class Upstream: Sendable {
    enum Transport: Equatable, Sendable {
        /// UDP, with a TCP retry when the answer is truncated.
        case udp
        /// TCP only, over a reused, pipelined connection.
        case tcp
        /// DNS over TLS (RFC 7858), the certificate verified for this name, over a reused, pipelined connection.
        case tls(serverName: String)
    }

    struct Health: Sendable {
        var consecutiveFailures = 0
        var down = false
        /// Smoothed RTT in microseconds (RFC 6298 style, α = 1/8); nil until measured.
        var smoothedRTT: Double? = nil
    }

    let address: SocketAddress
    let name: String
    let transport: Transport
    let health = Mutex(Health())
    let connection: UpstreamTCPConnection
    let datagrams: UpstreamUDPPool
    let rejected: @Sendable () -> Void

    init(
        address: SocketAddress,
        name: String,
        transport: Transport,
        group: any EventLoopGroup,
        tls: NIOSSLContext? = nil,
        rejected: @escaping @Sendable () -> Void = {}
    ) {
        self.address = address
        self.name = name
        self.transport = transport
        var serverName: String? = nil
        if case .tls(let name) = transport { serverName = name }
        self.connection = UpstreamTCPConnection(address: address, group: group, tls: tls, serverName: serverName)
        self.datagrams = UpstreamUDPPool(upstream: address, group: group, rejected: rejected)
        self.rejected = rejected
    }

    /// Sends `packet` over UDP and waits at most `timeout` for its answer: on a UDP worker's thread through that
    /// worker's own sockets to this upstream (read by its reactor), elsewhere through the event-loop pool.
    func exchangeOverUDP(
        _ packet: [UInt8],
        question: Question,
        exactCase: Bool = false,
        timeout: TimeAmount
    ) async throws
        -> [UInt8]
    {
        guard let reactor = Reactor.current else {
            return try await self.datagrams.exchange(packet, question: question, exactCase: exactCase, timeout: timeout)
        }
        let pool = reactor.resource(for: self) {
            ReactorUDPPool(upstream: self.address, reactor: reactor, rejected: self.rejected)
        }
        return try await pool.exchange(packet, question: question, exactCase: exactCase, timeout: timeout)
    }

    /// Parses `ip[:port]`, `[ipv6]:port`, `tcp://…` (port 53 by default) or `tls://ip[:port]#name` (port 853).
    static func parse(_ text: String) -> (SocketAddress, Transport)? {
        var rest = Substring(text)
        var transport = Transport.udp
        var port = 53
        if rest.hasPrefix("tcp://") {
            transport = .tcp
            rest = rest.dropFirst(6)
        } else if rest.hasPrefix("tls://") {
            rest = rest.dropFirst(6)
            guard let hash = rest.firstIndex(of: "#") else { return nil }
            let serverName = String(rest[rest.index(after: hash)...])
            guard !serverName.isEmpty, (try? DomainName(serverName)) != nil else { return nil }
            transport = .tls(serverName: serverName)
            rest = rest[..<hash]
            port = 853
        } else if rest.hasPrefix("udp://") || rest.hasPrefix("dns://") {
            rest = rest.dropFirst(6)
        }
        var host = String(rest)
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()), (1...65535).contains(value) else {
                    return nil
                }
                port = value
            }
        } else if rest.filter({ $0 == ":" }).count == 1, let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let value = Int(rest[rest.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
        }
        guard IPAddress(host) != nil, let address = try? SocketAddress(ipAddress: host, port: port) else { return nil }
        return (address, transport)
    }

    var isDown: Bool { self.health.withLock { $0.down } }

    var smoothedRTT: Double { self.health.withLock { $0.smoothedRTT ?? 0 } }

    /// Records an answer after `microseconds`; an upstream that answers is up.
    func succeeded(after microseconds: Double) {
        self.health.withLock { health in
            health.consecutiveFailures = 0
            health.down = false
            health.smoothedRTT = health.smoothedRTT.map { $0 + (microseconds - $0) / 8 } ?? microseconds
        }
    }

    /// Records a failure; returns true when this one marked the upstream down.
    func failed(maxFails: Int) -> Bool {
        self.health.withLock { health in
            health.consecutiveFailures += 1
            // A timeout counts as a slow answer for the RTT, so `fastest` moves away from it.
            health.smoothedRTT = (health.smoothedRTT ?? 0) + 250_000
            if !health.down && health.consecutiveFailures >= maxFails {
                health.down = true
                return true
            }
            return false
        }
    }
}
