// RateLimitPlugin: `- ratelimit: {…}`, per-client query limits and response rate limiting, as guards, so they hold
// for fast-path hits too.

import Pipeline

public enum RateLimitPlugin: Plugin {
    public static let name = "ratelimit"
    public static let summary =
        "limits queries per client prefix and UDP responses per prefix and answer (RRL with slip), before and after the cache"

    public static func setup(_ options: RateLimitOptions, context: PluginContext, into builder: inout ChainBuilder) throws {
        let exempt = try PluginSetupError.prefixes(options.exempt, option: "exempt")
        guard (16...16_777_216).contains(options.tableSize) else {
            throw PluginSetupError(option: "table_size", "must be between 16 and 16777216, not \(options.tableSize)")
        }
        let metrics = RateLimitMetrics(context)
        let client = options.client
        try Self.check(client.ipv4Prefix, client.ipv6Prefix, option: "client")
        guard client.qps >= 0, client.qps <= 1_000_000_000 else {
            throw PluginSetupError(option: "client.qps", "must be between 0 and 1000000000, not \(client.qps)")
        }
        guard client.burst >= 1, client.burst <= 1_000_000 else {
            throw PluginSetupError(option: "client.burst", "must be between 1 and 1000000, not \(client.burst)")
        }
        let responses = options.responses
        try Self.check(responses.ipv4Prefix, responses.ipv6Prefix, option: "responses")
        guard responses.rate >= 0, responses.rate <= 1_000_000_000 else {
            throw PluginSetupError(option: "responses.rate", "must be between 0 and 1000000000, not \(responses.rate)")
        }
        guard (0...10).contains(responses.slip) else {
            throw PluginSetupError(option: "responses.slip", "must be between 0 and 10, not \(responses.slip)")
        }
        guard responses.window.seconds >= 1, responses.window.seconds <= 3600 else {
            throw PluginSetupError(option: "responses.window", "must be between 1s and 1h, not \(responses.window)")
        }
        var warm: ResponseRateGuard? = nil
        if responses.rate > 0 {
            warm = ResponseRateGuard(
                tables: RateTables(threads: context.workers, size: options.tableSize),
                // A second's worth at once; what goes over runs up a debt of at most `window`.
                rate: Rate(perSecond: responses.rate, burst: responses.rate, window: responses.window.nanoseconds),
                slip: UInt32(responses.slip),
                ipv4Prefix: responses.ipv4Prefix,
                ipv6Prefix: responses.ipv6Prefix,
                exempt: exempt,
                metrics: metrics,
                logger: context.logger
            )
        }
        var limit: RateLimitGuard.ClientLimit? = nil
        if client.qps > 0 {
            limit = RateLimitGuard.ClientLimit(
                tables: RateTables(threads: context.workers, size: options.tableSize),
                rate: Rate(perSecond: client.qps, burst: client.burst),
                ipv4Prefix: client.ipv4Prefix,
                ipv6Prefix: client.ipv6Prefix,
                action: options.action
            )
        }
        if limit != nil || warm != nil {
            builder.add(guard: RateLimitGuard(limit: limit, warm: warm, exempt: exempt, metrics: metrics, logger: context.logger))
        }
        if let warm { builder.add(replyGuard: warm) }
    }

    private static func check(_ ipv4: Int, _ ipv6: Int, option: String) throws {
        guard (0...32).contains(ipv4) else {
            throw PluginSetupError(option: "\(option).ipv4_prefix", "must be between 0 and 32, not \(ipv4)")
        }
        guard (0...128).contains(ipv6) else {
            throw PluginSetupError(option: "\(option).ipv6_prefix", "must be between 0 and 128, not \(ipv6)")
        }
    }
}
