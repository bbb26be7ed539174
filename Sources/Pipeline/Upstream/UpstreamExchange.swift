// UpstreamExchange: the host's upstream I/O as plugins see it: send a query to a server, get the reply that answers
// it. Host implements it (pooled and per-query UDP sockets, pipelined TCP and TLS connections, on the executor the
// query runs on); forward and recursive decide whom to ask, when to retry and what to believe.

/// One upstream server and how to reach it.
public struct UpstreamServer: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16
    public var transport: UpstreamTransport

    public init(address: IPAddress, port: UInt16, transport: UpstreamTransport = .udp) {
        self.address = address
        self.port = port
        self.transport = transport
    }

    /// The same server over another transport (TCP after a truncated UDP answer).
    public func over(_ transport: UpstreamTransport) -> UpstreamServer {
        UpstreamServer(address: self.address, port: self.port, transport: transport)
    }
}

public enum UpstreamTransport: Hashable, Sendable {
    /// UDP (the caller asks again over TCP when the answer comes truncated).
    case udp
    /// TCP (RFC 7766).
    case tcp
    /// DNS over TLS (RFC 7858), the certificate verified for this name (RFC 8310 strict privacy).
    case tls(serverName: String)
    /// DNS over HTTPS (RFC 8484): POSTs to `path`, the certificate verified for `serverName` (also the request's
    /// host), or for the address itself when nil.
    case https(serverName: String?, path: String)

    /// Encrypted (TLS or HTTPS): the certificate is checked, so spoofed replies cannot get in.
    public var isEncrypted: Bool {
        switch self {
        case .udp, .tcp: return false
        case .tls, .https: return true
        }
    }
}

/// Why an exchange with an upstream failed.
public enum UpstreamError: Error, Equatable, Sendable {
    case timeout
    case connection(String)
    case malformed

    /// A short reason for logs and Extended DNS Error texts.
    public static func describe(_ error: any Error) -> String {
        switch error as? UpstreamError {
        case .timeout?: return "timed out"
        case .connection(let reason)?: return reason
        case .malformed?: return "malformed answer"
        case nil: return "\(error)"
        }
    }
}

/// Sends queries to upstream servers and returns their answers. Made by the host's `UpstreamService` for one plugin
/// instance (its sockets, connections and rejected-reply counter are that instance's).
public protocol UpstreamExchange: Sendable {
    /// Sends the query `packet` to `server` under a fresh random ID (RFC 5452 §4.3: the ID the packet carries is
    /// replaced) and returns the first reply that answers it: from that server, a response, our ID and `question`,
    /// letter for letter when `exactCase` (0x20). Anything else that arrives meanwhile is counted as rejected and
    /// ignored. Throws `UpstreamError` when nothing answers within `timeout` or the transport fails.
    /// - Parameter executor: the executor the calling query runs on (`Query.executor`): a UDP worker's reactor
    ///   keeps the exchange on its own thread and sockets; nil (or any other) uses the host's event loops.
    func exchange(
        _ packet: [UInt8],
        question: Question,
        exactCase: Bool,
        with server: UpstreamServer,
        timeout: Duration,
        on executor: (any TaskExecutor)?
    ) async throws -> [UInt8]
}

/// What a plugin instance asks of its upstream client.
public struct UpstreamClientOptions: Sendable {
    /// How UDP queries get their sockets.
    public enum Datagrams: Sendable {
        /// A few long-lived sockets per server, on kernel-random ports rotated every 100 queries or 30 s, shared by
        /// the queries in flight (a forwarder asks the same few servers all the time).
        case pooled
        /// A socket of its own per query, on a fresh kernel-random port, connected to the server (a resolver asks
        /// thousands of servers, each rarely; RFC 5452 §9.2).
        case perQuery
    }
    public var datagrams: Datagrams
    /// TCP and TLS: one reused, pipelined connection per server (true), or a connection per exchange (false).
    public var reusesConnections: Bool
    /// PEM file of the certificates TLS servers must chain to; nil: the system's trust store.
    public var trustRoots: String?
    /// Called for each datagram or message that answers nothing we asked (forged, late, or malformed, or with a
    /// client cookie that is not ours).
    public var rejected: @Sendable () -> Void
    /// DNS cookies to send in every query that has an OPT record, checking replies against them (RFC 7873 §5.1,
    /// §5.3); nil sends none.
    public var cookies: ClientCookies?

    public init(
        datagrams: Datagrams,
        reusesConnections: Bool,
        trustRoots: String? = nil,
        cookies: ClientCookies? = nil,
        rejected: @escaping @Sendable () -> Void = {}
    ) {
        self.datagrams = datagrams
        self.reusesConnections = reusesConnections
        self.trustRoots = trustRoots
        self.cookies = cookies
        self.rejected = rejected
    }
}

/// The host's upstream I/O, handed to plugins at setup (`PluginContext.upstreams`).
public protocol UpstreamService: Sendable {
    /// A client with `options`. Throws `UpstreamSetupError` when they cannot be met (an unreadable `trustRoots`).
    func client(_ options: UpstreamClientOptions) throws -> any UpstreamExchange
}

/// Why an upstream client could not be made.
public struct UpstreamSetupError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// The service of a context made without a host (unit tests of plugins that never reach an upstream): every client
/// fails each exchange with a connection error naming why.
public struct NoUpstreamService: UpstreamService {
    public init() {}
    public func client(_ options: UpstreamClientOptions) throws -> any UpstreamExchange { Client() }

    struct Client: UpstreamExchange {
        func exchange(
            _ packet: [UInt8],
            question: Question,
            exactCase: Bool,
            with server: UpstreamServer,
            timeout: Duration,
            on executor: (any TaskExecutor)?
        ) async throws -> [UInt8] {
            throw UpstreamError.connection("no upstream service in this context")
        }
    }
}
