// RateLimitMetrics: the `ratelimit` plugin's counters, made once at setup (every metric it exports is here).

import Pipeline

/// Queries and responses limited, by what was done with them.
struct RateLimitMetrics: Sendable {
    /// `swiftlet_ratelimit_queries_total{action="drop|refused"}`: queries over their client prefix's limit.
    let queriesDropped: Counter
    let queriesRefused: Counter
    /// `swiftlet_ratelimit_responses_total{bucket="answer|nxdomain|error", action="drop|slip"}`.
    let responsesDropped: [ResponseRateGuard.Bucket: Counter]
    let responsesSlipped: [ResponseRateGuard.Bucket: Counter]
    /// `swiftlet_ratelimit_log_lines_suppressed_total`: start and stop lines not written (ten at once, then one a
    /// second per serving thread).
    let logLinesSuppressed: Counter

    init(_ context: PluginContext) {
        self.queriesDropped = context.counter("queries_total", [("action", "drop")])
        self.queriesRefused = context.counter("queries_total", [("action", "refused")])
        var dropped: [ResponseRateGuard.Bucket: Counter] = [:]
        var slipped: [ResponseRateGuard.Bucket: Counter] = [:]
        for bucket in ResponseRateGuard.Bucket.allCases {
            dropped[bucket] = context.counter("responses_total", [("bucket", bucket.label), ("action", "drop")])
            slipped[bucket] = context.counter("responses_total", [("bucket", bucket.label), ("action", "slip")])
        }
        self.responsesDropped = dropped
        self.responsesSlipped = slipped
        self.logLinesSuppressed = context.counter("log_lines_suppressed_total")
    }
}
