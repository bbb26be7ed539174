// CacheMetrics: the `cache` plugin's counters, made once at setup (every metric it exports is here).

import Pipeline

/// Requests by outcome, stores, refreshes and the cache's size.
struct CacheMetrics: Sendable {
    /// Requests answered from the RRset cache.
    let hits: Counter
    /// Requests passed on to the next plugin.
    let misses: Counter
    /// Answers from expired data (RFC 8767).
    let staleAnswers: Counter
    /// Answers stored.
    let stores: Counter
    /// Background refreshes started.
    let prefetches: Counter
    /// The RRset cache's bytes.
    let memory: Gauge

    init(_ context: PluginContext) {
        self.hits = context.counter("requests_total", [("result", "hit")])
        self.misses = context.counter("requests_total", [("result", "miss")])
        self.staleAnswers = context.counter("stale_answers_total")
        self.stores = context.counter("stores_total")
        self.prefetches = context.counter("prefetches_total")
        self.memory = context.gauge("memory_bytes")
    }
}
