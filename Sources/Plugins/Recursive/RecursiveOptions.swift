// RecursiveOptions: the `recursive` plugin's options.

import Pipeline

/// QNAME minimisation (RFC 9156): how much of the name each server is shown.
public enum QNameMinimisation: String, Decodable, Sendable, CaseIterable {
    /// Every server gets the full name.
    case off
    /// One more label per zone cut; a server that fails the minimised query (NXDOMAIN where the name exists, an
    /// error) gets the full name instead (RFC 9156 §3 "relaxed").
    case relaxed
    /// One more label per zone cut; an NXDOMAIN for a minimised name ends the resolution (RFC 8020).
    case strict
}

/// Whether IPv6 addresses of name servers are used.
public enum IPv6Use: String, Decodable, Sendable, CaseIterable {
    /// When the host has a route to the IPv6 Internet (checked at start).
    case auto
    case on
    case off
}

/// Bounds on the work one client query may cause (defaults of Unbound, BIND and Knot Resolver).
public struct RecursiveLimits: Decodable, Sendable, Equatable {
    /// Name-server address lookups nested inside one another (BIND's `max-recursion-depth`). Default 7.
    public var depth: Int
    /// Queries sent to resolve one name (Unbound's `MAX_SENT_COUNT`). Default 32.
    public var queriesPerFetch: Int
    /// Queries sent for one client query, name-server lookups included. Default 200.
    public var queriesPerRequest: Int
    /// CNAME and DNAME links followed (Unbound's `MAX_RESTART_COUNT`). Default 11.
    public var cnameChain: Int
    /// How long one client query may take before it gets SERVFAIL. Default 10s.
    public var timeout: OptionDuration

    enum CodingKeys: String, CodingKey {
        case depth, timeout
        case queriesPerFetch = "queries_per_fetch"
        case queriesPerRequest = "queries_per_request"
        case cnameChain = "cname_chain"
    }

    public init() {
        self.depth = 7
        self.queriesPerFetch = 32
        self.queriesPerRequest = 200
        self.cnameChain = 11
        self.timeout = OptionDuration(seconds: 10)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        self.depth = try container.value(.depth, default: self.depth)
        self.queriesPerFetch = try container.value(.queriesPerFetch, default: self.queriesPerFetch)
        self.queriesPerRequest = try container.value(.queriesPerRequest, default: self.queriesPerRequest)
        self.cnameChain = try container.value(.cnameChain, default: self.cnameChain)
        self.timeout = try container.value(.timeout, default: self.timeout)
    }
}

/// Options of `- recursive: {…}`.
public struct RecursiveOptions: Decodable, Sendable {
    /// `built-in` (IANA's root servers) or a root-hints file (`named.root` format: NS and address records).
    public var rootHints: String
    public var qnameMinimisation: QNameMinimisation
    /// Random letter case in outgoing names, which a forged answer must match (draft-vixie-dnsext-dns0x20).
    public var use0x20: Bool
    public var ipv6: IPv6Use
    public var limits: RecursiveLimits
    /// Client queries being resolved at once; past it, REFUSED. Default 1000.
    public var maxConcurrent: Int
    /// Lets name servers on loopback addresses be queried. Off by default (a referral to 127.0.0.1 is refused, as
    /// Unbound's `do-not-query-localhost`); for test trees on 127.0.0.0/8 only.
    public var allowLoopback: Bool

    enum CodingKeys: String, CodingKey {
        case ipv6, limits
        case rootHints = "root_hints"
        case qnameMinimisation = "qname_minimisation"
        case use0x20 = "use_0x20"
        case maxConcurrent = "max_concurrent"
        case allowLoopback = "allow_loopback"
    }

    public init() {
        self.rootHints = "built-in"
        self.qnameMinimisation = .relaxed
        self.use0x20 = true
        self.ipv6 = .auto
        self.limits = RecursiveLimits()
        self.maxConcurrent = 1000
        self.allowLoopback = false
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        self.rootHints = try container.value(.rootHints, default: self.rootHints)
        self.qnameMinimisation = try container.value(.qnameMinimisation, default: self.qnameMinimisation)
        self.use0x20 = try container.value(.use0x20, default: self.use0x20)
        self.ipv6 = try container.value(.ipv6, default: self.ipv6)
        self.limits = try container.value(.limits, default: self.limits)
        self.maxConcurrent = try container.value(.maxConcurrent, default: self.maxConcurrent)
        self.allowLoopback = try container.value(.allowLoopback, default: self.allowLoopback)
    }
}
