// MetricsBootstrap: one Prometheus registry for the process, behind swift-metrics.

import Metrics
import Prometheus
import Synchronization

/// swift-metrics can be bootstrapped once per process; every server in it shares this registry.
enum MetricsBootstrap {
    static let registry = PrometheusCollectorRegistry()
    private static let done = Mutex(false)

    static func bootstrapOnce() {
        let first = MetricsBootstrap.done.withLock { done in
            defer { done = true }
            return !done
        }
        if first { MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: MetricsBootstrap.registry)) }
    }
}
