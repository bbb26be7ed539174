// ACLGuard: allow, refuse or drop a query by client prefix and query type, before the cache.

import Pipeline

/// The compiled access list, checked first-match-wins on every query before the message cache.
struct ACLGuard: Guard {
    struct CompiledRule: Sendable {
        var action: ACLAction
        var prefixes: [IPPrefix]
        var types: [RecordType]

        func matches(_ request: RequestView?, _ client: Client) -> Bool {
            if !self.prefixes.isEmpty && !self.prefixes.contains(where: { $0.contains(client.address) }) {
                return false
            }
            if !self.types.isEmpty {
                guard let request, self.types.contains(request.type) else { return false }
            }
            return true
        }
    }

    let rules: [CompiledRule]
    let fallback: ACLAction
    let metrics: ACLMetrics

    func check(_ request: RequestView?, client: Client, arrival: Arrival) -> GuardDecision {
        var action = self.fallback
        for rule in self.rules where rule.matches(request, client) {
            action = rule.action
            break
        }
        switch action {
        case .allow:
            self.metrics.allowed.increment()
            return .allow
        case .refuse:
            self.metrics.refused.increment()
            return .refuse
        case .drop:
            self.metrics.dropped.increment()
            return .drop
        }
    }
}
