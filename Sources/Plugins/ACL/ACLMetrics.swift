// ACLMetrics: the `acl` plugin's counters, made once at setup (every metric it exports is here).

import Pipeline

/// Queries by the action taken.
struct ACLMetrics: Sendable {
    /// `swiftlet_acl_queries_total{action="allow"}`
    let allowed: Counter
    let refused: Counter
    let dropped: Counter

    init(_ context: PluginContext) {
        self.allowed = context.counter("queries_total", [("action", "allow")])
        self.refused = context.counter("queries_total", [("action", "refuse")])
        self.dropped = context.counter("queries_total", [("action", "drop")])
    }
}
