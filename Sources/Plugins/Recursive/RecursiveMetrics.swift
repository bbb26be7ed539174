// RecursiveMetrics: the `recursive` plugin's counters, made once at setup (every metric it exports is here).

import Pipeline

/// Client queries, the queries they caused and what went wrong.
struct RecursiveMetrics: Sendable {
    /// Client queries that reached the resolver.
    let requests: Counter
    /// Fetches that joined an identical one in flight.
    let coalesced: Counter
    /// Queries sent to name servers.
    let upstreamQueries: Counter
    /// Queries to name servers that timed out.
    let timeouts: Counter
    /// Datagrams and messages that answered nothing we asked (forged, late, malformed).
    let rejectedReplies: Counter
    /// Records dropped from answers as out of bailiwick or unasked.
    let scrubbedRecords: Counter
    /// Answers from servers that do not serve the zone.
    let lameServers: Counter
    /// Truncated answers asked again over TCP.
    let tcpRetries: Counter
    /// Servers asked again without EDNS.
    let ednsFallbacks: Counter
    /// Resolutions stopped by a `limits` bound.
    let limitsHit: Counter
    /// Client queries answered SERVFAIL.
    let failures: Counter
    /// Client queries refused past `max_concurrent`.
    let shed: Counter

    init(_ context: PluginContext) {
        self.requests = context.counter("requests_total")
        self.coalesced = context.counter("coalesced_total")
        self.upstreamQueries = context.counter("upstream_queries_total")
        self.timeouts = context.counter("upstream_timeouts_total")
        self.rejectedReplies = context.counter("rejected_replies_total")
        self.scrubbedRecords = context.counter("scrubbed_records_total")
        self.lameServers = context.counter("lame_answers_total")
        self.tcpRetries = context.counter("tcp_retries_total")
        self.ednsFallbacks = context.counter("edns_fallbacks_total")
        self.limitsHit = context.counter("limits_hit_total")
        self.failures = context.counter("failures_total")
        self.shed = context.counter("shed_total")
    }
}
