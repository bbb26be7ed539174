// RateLimitOptions: the `ratelimit` plugin's options.

import Pipeline

/// What happens to a query over its client's limit.
public enum RateLimitAction: String, Decodable, Sendable, CaseIterable {
    /// Send nothing (the default: a flood gets no reply to reflect).
    case drop
    /// Answer REFUSED (AdGuard Home's behaviour), so a real client knows to back off.
    case refused
}

/// `client:`: queries per client prefix, before the cache.
public struct ClientLimitOptions: PluginOptions, Equatable {
    public var qps = 50
    public var burst = 100
    public var ipv4Prefix = 24
    public var ipv6Prefix = 56

    public init() {}

    public static let options: [PluginOption<ClientLimitOptions>] = [
        PluginOption("qps", \.qps, "integer", "queries per second each client prefix may send; 0 turns the limit off"),
        PluginOption("burst", \.burst, "integer", "queries a prefix may send at once above its rate"),
        PluginOption("ipv4_prefix", \.ipv4Prefix, "integer", "IPv4 clients counted together per prefix of this length"),
        PluginOption("ipv6_prefix", \.ipv6Prefix, "integer", "IPv6 clients counted together per prefix of this length"),
    ]
}

/// `responses:`: response rate limiting (RRL) over UDP, per client prefix and kind of answer.
public struct ResponseLimitOptions: PluginOptions, Equatable {
    public var rate = 20
    public var slip = 2
    public var window = OptionDuration(seconds: 15)
    public var ipv4Prefix = 24
    public var ipv6Prefix = 56

    public init() {}

    public static let options: [PluginOption<ResponseLimitOptions>] = [
        PluginOption(
            "rate",
            \.rate,
            "integer",
            "responses per second per prefix and bucket (an answer's name and type, NXDOMAIN's zone, errors); 0 turns RRL off"
        ),
        PluginOption(
            "slip",
            \.slip,
            "integer",
            "every slip-th limited response is sent truncated (TC=1) instead of dropped; 0 drops them all, 1 slips all"
        ),
        PluginOption("window", \.window, "duration", "how much over-rate a flood runs up: the time it is limited for after it stops"),
        PluginOption("ipv4_prefix", \.ipv4Prefix, "integer", "IPv4 clients counted together per prefix of this length"),
        PluginOption("ipv6_prefix", \.ipv6Prefix, "integer", "IPv6 clients counted together per prefix of this length"),
    ]
}

/// Options of `- ratelimit: {…}`.
public struct RateLimitOptions: PluginOptions {
    public var client = ClientLimitOptions()
    public var responses = ResponseLimitOptions()
    /// Client prefixes never limited.
    public var exempt: [String] = ["127.0.0.0/8", "::1/128"]
    public var action = RateLimitAction.drop
    /// Entries of each limit's table per serving thread (a fixed size: a flood of spoofed sources evicts, never grows).
    public var tableSize = 16384

    public init() {}

    public static let options: [PluginOption<RateLimitOptions>] = [
        PluginOption("client", nested: \.client),
        PluginOption("responses", nested: \.responses),
        PluginOption("exempt", \.exempt, "[prefix]", "clients never limited"),
        PluginOption("action", \.action, "drop|refused", "what a query over its client's limit gets"),
        PluginOption(
            "table_size",
            \.tableSize,
            "integer",
            "prefixes (and buckets) each limit tracks per UDP worker; 40 octets each"
        ),
    ]
}
