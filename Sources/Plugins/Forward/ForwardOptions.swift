// ForwardOptions: the `forward` plugin's options.

import Pipeline

/// How the next upstream is chosen.
public enum ForwardPolicy: String, Decodable, Sendable, CaseIterable {
    /// A random healthy upstream for each query.
    case random
    /// Healthy upstreams in turn.
    case roundRobin = "round_robin"
    /// Always the first healthy upstream in the list; the others only when it fails.
    case sequential
    /// The healthy upstream with the lowest smoothed RTT, with a little exploration so slow ones are re-measured.
    case fastest
}

/// Options of `- forward: {…}`.
public struct ForwardOptions: Decodable, Sendable {
    /// Upstreams: `ip[:port]` (UDP, TCP on truncation), `tcp://ip[:port]` (TCP only), or `tls://ip[:port]#name`
    /// (DNS over TLS, port 853 by default, the certificate verified for `name`). Port 53 by default. Required.
    public var to: [String]
    /// PEM file of the certificate authorities trusted for `tls://` upstreams; default the system's trust store.
    public var tlsCA: String?
    /// The names forwarded (at or below these zones); others go to the next plugin. Default `["."]`.
    public var zones: [String]
    /// Names (and everything below them) never forwarded: they go to the next plugin. Default none.
    public var except: [String]
    public var policy: ForwardPolicy
    /// How long one try waits for an answer. Default 2s.
    public var timeout: OptionDuration
    /// How long a query may take over all its tries before the client gets SERVFAIL. Default 5s.
    public var deadline: OptionDuration
    /// Failures in a row that mark an upstream down. Default 2.
    public var maxFails: Int
    /// How often a down upstream is probed with `. NS` until it answers. Default 1s.
    public var healthCheck: OptionDuration
    /// Upstream resolutions in flight at once; past it, REFUSED. Default 1000.
    public var maxConcurrent: Int
    /// Random letter case in the question sent (0x20), which the answer must echo letter for letter: another ~1 bit
    /// per letter against forgery. Default off, as Unbound's `use-caps-for-id`: some upstreams flatten the case.
    public var use0x20: Bool

    enum CodingKeys: String, CodingKey {
        case to, zones, except, policy, timeout, deadline
        case maxFails = "max_fails"
        case healthCheck = "health_check"
        case maxConcurrent = "max_concurrent"
        case tlsCA = "tls_ca"
        case use0x20 = "use_0x20"
    }

    public init(to: [String], zones: [String] = ["."], except: [String] = [], policy: ForwardPolicy = .random) {
        self.to = to
        self.zones = zones
        self.except = except
        self.policy = policy
        self.timeout = OptionDuration(seconds: 2)
        self.deadline = OptionDuration(seconds: 5)
        self.maxFails = 2
        self.healthCheck = OptionDuration(seconds: 1)
        self.maxConcurrent = 1000
        self.tlsCA = nil
        self.use0x20 = false
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(to: try container.value(.to, default: []))
        self.zones = try container.value(.zones, default: self.zones)
        self.except = try container.value(.except, default: self.except)
        self.policy = try container.value(.policy, default: self.policy)
        self.timeout = try container.value(.timeout, default: self.timeout)
        self.deadline = try container.value(.deadline, default: self.deadline)
        self.maxFails = try container.value(.maxFails, default: self.maxFails)
        self.healthCheck = try container.value(.healthCheck, default: self.healthCheck)
        self.maxConcurrent = try container.value(.maxConcurrent, default: self.maxConcurrent)
        self.tlsCA = try container.decodeIfPresent(String.self, forKey: .tlsCA)
        self.use0x20 = try container.value(.use0x20, default: self.use0x20)
    }
}
