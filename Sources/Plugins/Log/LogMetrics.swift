// LogMetrics: the `log` plugin's counters, made once at setup (every metric it exports is here).

import Pipeline

/// Lines written.
struct LogMetrics: Sendable {
    /// Lines written.
    let lines: Counter

    init(_ context: PluginContext) {
        self.lines = context.counter("lines_total")
    }
}
