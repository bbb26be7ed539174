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
public struct RecursiveLimits: PluginOptions, Equatable {
    /// Name-server address lookups nested inside one another (BIND's `max-recursion-depth`).
    public var depth: Int = 7
    /// Queries sent to resolve one name (Unbound's `MAX_SENT_COUNT`).
    public var queriesPerFetch: Int = 32
    /// Queries sent for one client query, name-server lookups included.
    public var queriesPerRequest: Int = 200
    /// CNAME and DNAME links followed (Unbound's `MAX_RESTART_COUNT`).
    public var cnameChain: Int = 11
    /// How long one client query may take before it gets SERVFAIL.
    public var timeout: OptionDuration = OptionDuration(seconds: 10)

    public init() {}

    public static let options: [PluginOption<RecursiveLimits>] = [
        PluginOption("depth", \.depth, "integer", "name-server lookups nested in one another"),
        PluginOption("queries_per_fetch", \.queriesPerFetch, "integer", "queries sent to resolve one name"),
        PluginOption("queries_per_request", \.queriesPerRequest, "integer", "queries sent for one client query in all"),
        PluginOption("cname_chain", \.cnameChain, "integer", "CNAME and DNAME links followed"),
        PluginOption("timeout", \.timeout, "duration", "time for one client query; then SERVFAIL"),
    ]
}

/// Options of `- recursive: {…}`.
public struct RecursiveOptions: PluginOptions {
    /// `built-in` (IANA's root servers) or a root-hints file (`named.root` format: NS and address records).
    public var rootHints: String = "built-in"
    public var qnameMinimisation: QNameMinimisation = .relaxed
    /// Random letter case in outgoing names, which a forged answer must match (draft-vixie-dnsext-dns0x20).
    public var use0x20: Bool = true
    public var cookies: Bool = true
    public var ipv6: IPv6Use = .auto
    public var limits: RecursiveLimits = RecursiveLimits()
    /// Client queries being resolved at once; past it, REFUSED.
    public var maxConcurrent: Int = 1000
    /// Lets name servers on loopback addresses be queried. Off by default (a referral to 127.0.0.1 is refused, as
    /// Unbound's `do-not-query-localhost`); for test trees on 127.0.0.0/8 only.
    public var allowLoopback: Bool = false

    public init() {}

    public static let options: [PluginOption<RecursiveOptions>] = [
        PluginOption("root_hints", \.rootHints, "built-in | path", "the root servers to start from (named.root format)"),
        PluginOption(
            "qname_minimisation",
            \.qnameMinimisation,
            "off|relaxed|strict",
            "show servers one more label per cut (RFC 9156)"
        ),
        PluginOption("use_0x20", \.use0x20, "bool", "random letter case in outgoing names, checked in answers"),
        PluginOption("cookies", \.cookies, "bool", "DNS cookies to authoritative servers (RFC 7873): replies with a client cookie not ours are discarded"),
        PluginOption(
            "ipv6",
            \.ipv6,
            "auto|on|off",
            "use name servers' IPv6 addresses (auto: when the host has a route)"
        ),
        PluginOption("limits", nested: \.limits),
        PluginOption("max_concurrent", \.maxConcurrent, "integer", "client queries resolved at once; past it REFUSED"),
        PluginOption(
            "allow_loopback",
            \.allowLoopback,
            "bool",
            "let name servers on 127.0.0.0/8 and ::1 be asked (test trees)"
        ),
    ]
}
