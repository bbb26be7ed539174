// Configuration: the YAML file's model: server blocks, the admin listener, logging.

import Pipeline
import Yams

/// A whole configuration file (docs/ARCHITECTURE.md).
public struct Configuration: Sendable {
    public var servers: [ServerBlockConfiguration]
    public var admin: AdminConfiguration?
    public var log: LogConfiguration
    /// Where it came from (a path, or `<embedded default>`), for messages.
    public var source: String
    /// The directory relative paths in plugin options are resolved against.
    public var baseDirectory: String
    /// Where plugins keep what must outlive the process (the filter's last good list bodies): `state_dir`, default
    /// `swiftlet-state` next to the configuration file. Made when first written.
    public var stateDirectory: String = "swiftlet-state"
}

/// One `servers:` entry.
public struct ServerBlockConfiguration: Sendable {
    public var listen: [ListenAddress]
    /// The zones this block answers; the most specific across blocks on one address wins. Default `["."]`.
    public var zones: [DomainName]
    /// UDP worker threads per listen address; default one per core.
    public var workers: Int?
    /// The largest UDP response sent, whatever the client's EDNS size says (DNS Flag Day 2020). Default 1232.
    public var maxUDPSize: Int
    /// Close a TCP connection idle this long (RFC 7766 §6.2.3). Default 10s.
    public var tcpIdleTimeout: Double
    /// TCP connections open at once per listen address, at most. Default 1000.
    public var maxTCPConnections: Int
    /// TCP connections open at once from one client address, at most (Unbound's `tcp-connection-limit` idea), so
    /// one client cannot take the whole `maxTCPConnections`. Default 16.
    public var maxTCPConnectionsPerClient: Int
    /// Queries in flight on one TCP connection, at most (RFC 7766 §6.2.1.1 pipelining). Default 100.
    public var maxTCPQueriesPerConnection: Int
    /// Suspended queries (waiting on an upstream) per block, at most; past it the server answers REFUSED. Default 10000.
    public var maxInFlight: Int
    /// DNS cookies (RFC 7873, RFC 9018). On by default.
    public var cookies: CookieConfiguration = CookieConfiguration()
    /// DNS over TLS listeners (`tls:`), nil for none.
    public var tls: TLSListenConfiguration? = nil
    /// DNS over HTTPS listeners (`https:`), nil for none.
    public var https: HTTPSListenConfiguration? = nil
    /// The peers whose TCP, TLS and HTTPS connections start with a PROXY protocol v2 header naming the client
    /// (`proxy_protocol:`, load balancers); empty for none. A header from any other peer closes its connection.
    public var proxyProtocol: [IPPrefix] = []
    /// The chain, in order.
    public var plugins: [PluginEntry]
    /// Where this block starts in the file, for messages.
    public var path: String
}

/// A block's `tls:`: DNS over TLS (RFC 7858) on these addresses, with this certificate and key.
public struct TLSListenConfiguration: Sendable, Equatable {
    public var listen: [ListenAddress]
    /// PEM files, as absolute paths (relative ones resolved against the configuration file's directory).
    public var certificate: String
    public var key: String
}

/// A block's `https:`: DNS over HTTPS (RFC 8484) on these addresses.
public struct HTTPSListenConfiguration: Sendable, Equatable {
    public var listen: [ListenAddress]
    /// PEM files, as absolute paths; both nil for plain HTTP behind a TLS-terminating proxy (`plain: true`).
    public var certificate: String? = nil
    public var key: String? = nil
    /// The URI path DNS queries are asked at (RFC 8484 §3's URI Template's path). Default `/dns-query`.
    public var path = "/dns-query"
    /// HTTP/2 streams open at once on one connection, at most (SETTINGS_MAX_CONCURRENT_STREAMS). Default 100.
    public var maxStreams = 100

    public init(listen: [ListenAddress]) { self.listen = listen }
}

/// A server block's `cookies:`.
public struct CookieConfiguration: Sendable, Equatable {
    /// Answer client cookies with server cookies and check returned ones. Default true.
    public var enabled = true
    /// 16 octets every server of an anycast set shares (RFC 9018 §5); nil for one made at random when the process
    /// starts (client cookies then last until a restart).
    public var secret: [UInt8]? = nil
    /// The secret before the last change, still accepted for the hour its cookies live.
    public var previousSecret: [UInt8]? = nil
    /// How long the key made from the secret is used before the next is (the secret is never on the wire, and a
    /// key learnt from cookies is of use for one period). 0: the secret itself. Default 1 day.
    public var secretLifetime: UInt32 = 86400

    public init() {}
}

/// One `- name: {options}` entry of a chain, kept as YAML until the plugin decodes its options.
public struct PluginEntry: @unchecked Sendable {
    public var name: String
    public var options: Node
    public var path: [String]
    public var nameNode: Node
}

/// The admin HTTP listener: `/health`, `/ready`, `/metrics`, and the plugins' API under `/api/`.
public struct AdminConfiguration: Sendable {
    public var listen: ListenAddress
    /// The bearer token `/api/` requests must carry (`token`, or read from `token_file`); without one the API
    /// answers 401 to everything but its OpenAPI document.
    public var token: String?
    /// Seconds a connection has to send one whole request (the listener's defence against slow clients). Default 10.
    public var requestTimeout: Double

    public init(listen: ListenAddress, token: String? = nil, requestTimeout: Double = 10) {
        self.listen = listen
        self.token = token
        self.requestTimeout = requestTimeout
    }
}

/// The server's own log (not the query log).
public struct LogConfiguration: Sendable {
    public var level: String
}

/// A `host:port` to listen on: `127.0.0.1:5353`, `[::1]:5353`, `0.0.0.0:53`.
public struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Parses `ip:port` or `[ipv6]:port`.
    public init?(_ text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":"),
                let address = IPv6Address(text[text.index(after: text.startIndex)..<close]),
                let port = UInt16(text[text.index(close, offsetBy: 2)...])
            else { return nil }
            self.init(address: .v6(address), port: port)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let address = IPv4Address(text[..<colon]),
            let port = UInt16(text[text.index(after: colon)...])
        else { return nil }
        self.init(address: .v4(address), port: port)
    }

    public var description: String {
        switch self.address {
        case .v4(let v4): return "\(v4):\(self.port)"
        case .v6(let v6): return "[\(v6)]:\(self.port)"
        }
    }
}
