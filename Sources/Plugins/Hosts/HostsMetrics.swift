// HostsMetrics: the `hosts` plugin's counters, made once at setup (every metric it exports is here).

import Pipeline

/// Answers by kind and reloads by result.
struct HostsMetrics: Sendable {
    /// Names answered with records.
    let answered: Counter
    /// Names in the file without records of the type asked.
    let noData: Counter
    /// Names not in the file, when `fallthrough` is off.
    let nxDomain: Counter
    /// Reloads after a file changed.
    let reloads: Counter
    /// Reloads that failed (the previous data keeps serving).
    let failedReloads: Counter

    init(_ context: PluginContext) {
        self.answered = context.counter("answers_total", [("result", "answer")])
        self.noData = context.counter("answers_total", [("result", "nodata")])
        self.nxDomain = context.counter("answers_total", [("result", "nxdomain")])
        self.reloads = context.counter("reloads_total", [("result", "ok")])
        self.failedReloads = context.counter("reloads_total", [("result", "error")])
    }
}
