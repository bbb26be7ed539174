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
public struct ForwardOptions: PluginOptions {
    /// Upstreams: `ip[:port]` (UDP, TCP on truncation), `tcp://ip[:port]` (TCP only), or `tls://ip[:port]#name`
    /// (DNS over TLS, port 853 by default, the certificate verified for `name`). Port 53 by default. Required.
    public var to: [String] = []
    /// PEM file of the certificate authorities trusted for `tls://` upstreams; default the system's trust store.
    public var tlsCA: String? = nil
    /// The names forwarded (at or below these zones); others go to the next plugin.
    public var zones: [String] = ["."]
    /// Names (and everything below them) never forwarded: they go to the next plugin.
    public var except: [String] = []
    public var policy: ForwardPolicy = .random
    /// How long one try waits for an answer.
    public var timeout: OptionDuration = OptionDuration(seconds: 2)
    /// How long a query may take over all its tries before the client gets SERVFAIL.
    public var deadline: OptionDuration = OptionDuration(seconds: 5)
    /// Failures in a row that mark an upstream down.
    public var maxFails: Int = 2
    /// How often a down upstream is probed with `. NS` until it answers.
    public var healthCheck: OptionDuration = OptionDuration(seconds: 1)
    /// Upstream resolutions in flight at once; past it, REFUSED.
    public var maxConcurrent: Int = 1000
    /// Random letter case in the question sent (0x20), which the answer must echo letter for letter: another ~1 bit
    /// per letter against forgery.
    public var use0x20: Bool = false
    public var cookies: Bool = true

    public init() {}

    public static let options: [PluginOption<ForwardOptions>] = [
        PluginOption(
            "to",
            \.to,
            "[ip[:port] | tcp://ip[:port] | tls://ip[:port]#name | https://ip[:port][/path][#name]]",
            "the upstreams",
            default: "(required)"
        ),
        PluginOption(
            "tls_ca",
            \.tlsCA,
            "path",
            "PEM certificate authorities for tls:// and https:// upstreams",
            default: "(system trust store)"
        ),
        PluginOption("zones", \.zones, "[name]", "names forwarded; others go to the next plugin"),
        PluginOption("except", \.except, "[name]", "names never forwarded"),
        PluginOption("policy", \.policy, "random|round_robin|sequential|fastest", "which upstream is tried first"),
        PluginOption("timeout", \.timeout, "duration", "per try"),
        PluginOption("deadline", \.deadline, "duration", "over all tries; then SERVFAIL"),
        PluginOption("max_fails", \.maxFails, "integer", "failures in a row that mark an upstream down"),
        PluginOption("health_check", \.healthCheck, "duration", "probe interval for down upstreams"),
        PluginOption("max_concurrent", \.maxConcurrent, "integer", "resolutions in flight; past it REFUSED"),
        PluginOption("use_0x20", \.use0x20, "bool", "random letter case in queries, echoed exactly in answers"),
        PluginOption("cookies", \.cookies, "bool", "DNS cookies to upstreams (RFC 7873): replies with a client cookie not ours are discarded"),
    ]
}
