// FilterMetrics: the `filter` plugin's counters, made once at setup (every metric it exports is here).

import Pipeline

/// Decisions, reloads and the rule set's size.
struct FilterMetrics: Sendable {
    /// Queries blocked.
    let blocked: Counter
    /// Queries a matching exception (`@@`) let through.
    let allowed: Counter
    /// Answers blocked for a CNAME target (`block_cname_targets`).
    let cnameBlocked: Counter
    /// Rule-set rebuilds after a list changed.
    let reloads: Counter
    /// Lists that failed to load or fetch.
    let reloadFailures: Counter
    /// Rules in the serving rule set.
    let rules: Gauge
    /// Bytes of the serving rule set.
    let memory: Gauge

    init(_ context: PluginContext) {
        self.blocked = context.counter("blocked_total")
        self.allowed = context.counter("allowed_by_exception_total")
        self.cnameBlocked = context.counter("cname_blocked_total")
        self.reloads = context.counter("reloads_total", [("result", "ok")])
        self.reloadFailures = context.counter("reloads_total", [("result", "error")])
        self.rules = context.gauge("rules")
        self.memory = context.gauge("memory_bytes")
    }
}
