// Upstream: one upstream server of `forward`, and what we have learnt about it (health, smoothed RTT).

import Pipeline
import Synchronization

/// An upstream server with its health and RTT. Shared by every query of one forward instance.
final class Upstream: Sendable {
    struct Health: Sendable {
        var consecutiveFailures = 0
        var down = false
        /// Smoothed RTT in microseconds (RFC 6298 style, α = 1/8); nil until measured.
        var smoothedRTT: Double? = nil
    }

    /// Where it is and how it is reached (the host's upstream service keeps its sockets and connection).
    let server: UpstreamServer
    /// As written in `to`, for logs and Extended DNS Errors.
    let name: String
    let health = Mutex(Health())

    init(server: UpstreamServer, name: String) {
        self.server = server
        self.name = name
    }

    /// Parses `ip[:port]`, `[ipv6]:port`, `tcp://…` (port 53 by default), `tls://ip[:port]#name` (port 853) or
    /// `https://ip[:port][/path][#name]` (port 443, path /dns-query; without a name the certificate must carry the
    /// address).
    static func parse(_ text: String) -> UpstreamServer? {
        var rest = Substring(text)
        var transport = UpstreamTransport.udp
        var port = 53
        if rest.hasPrefix("https://") {
            rest = rest.dropFirst(8)
            var serverName: String? = nil
            if let hash = rest.firstIndex(of: "#") {
                serverName = String(rest[rest.index(after: hash)...])
                guard let serverName, !serverName.isEmpty, (try? DomainName(serverName)) != nil else { return nil }
                rest = rest[..<hash]
            }
            var path = "/dns-query"
            if let slash = rest.firstIndex(of: "/") {
                path = String(rest[slash...])
                guard !path.contains("?"), path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
                rest = rest[..<slash]
            }
            transport = .https(serverName: serverName, path: path)
            port = 443
        } else if rest.hasPrefix("tcp://") {
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
        guard let address = IPAddress(host) else { return nil }
        return UpstreamServer(address: address, port: UInt16(port), transport: transport)
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
