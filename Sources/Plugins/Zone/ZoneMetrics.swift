// ZoneMetrics: the `zone` plugin's counters, made once at setup (every metric it exports is here).

import Pipeline

/// Answers by kind, transfers and reloads by result.
struct ZoneMetrics: Sendable {
    /// Authoritative answers.
    let answered: Counter
    /// Referrals to a delegated child.
    let referrals: Counter
    /// NXDOMAIN and NODATA answers.
    let negative: Counter
    /// Zone transfers sent.
    let transfers: Counter
    /// Zone transfers refused (UDP, or a client not in `transfer_to`).
    let refusedTransfers: Counter
    /// Reloads after a file changed.
    let reloads: Counter
    /// Reloads that failed (the previous data keeps serving).
    let failedReloads: Counter

    init(_ context: PluginContext) {
        self.answered = context.counter("answers_total", [("result", "answer")])
        self.referrals = context.counter("answers_total", [("result", "referral")])
        self.negative = context.counter("answers_total", [("result", "negative")])
        self.transfers = context.counter("transfers_total", [("result", "ok")])
        self.refusedTransfers = context.counter("transfers_total", [("result", "refused")])
        self.reloads = context.counter("reloads_total", [("result", "ok")])
        self.failedReloads = context.counter("reloads_total", [("result", "error")])
    }
}
