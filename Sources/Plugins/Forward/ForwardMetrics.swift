// ForwardMetrics: the `forward` plugin's counters, made once at setup (every metric it exports is here).

import Pipeline

/// Queries, tries and upstream health.
struct ForwardMetrics: Sendable {
    /// Queries forward took.
    let requests: Counter
    /// Queries that joined an identical one in flight.
    let coalesced: Counter
    /// Datagrams and messages that answered nothing we asked (forged, late, malformed).
    let rejectedReplies: Counter
    /// Queries refused past `max_concurrent`.
    let shed: Counter
    /// Queries answered SERVFAIL (no upstream answered in time).
    let failures: Counter
    /// Queries sent to upstreams (each try).
    let upstreamQueries: Counter
    /// Tries that failed (timeout, connection).
    let upstreamErrors: Counter
    /// Truncated answers asked again over TCP.
    let truncatedRetries: Counter
    /// Upstreams marked down after `max_fails` failures.
    let markedDown: Counter

    init(_ context: PluginContext) {
        self.requests = context.counter("requests_total")
        self.coalesced = context.counter("coalesced_total")
        self.rejectedReplies = context.counter("rejected_replies_total")
        self.shed = context.counter("shed_total")
        self.failures = context.counter("failures_total")
        self.upstreamQueries = context.counter("upstream_queries_total")
        self.upstreamErrors = context.counter("upstream_errors_total")
        self.truncatedRetries = context.counter("tcp_retries_total")
        self.markedDown = context.counter("upstreams_marked_down_total")
    }
}
