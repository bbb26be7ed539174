// ServerMetrics: the serving loop's own counters (queries, rcodes, fast-path hits, malformed, shed), made once.

import Metrics

/// Counters of one listen address's front door. Made at start so the hot path only increments.
public struct ServerMetrics: Sendable {
    public let queries: Counter
    public let fastPathHits: Counter
    public let malformed: Counter
    public let dropped: Counter
    public let shed: Counter
    public let notImplemented: Counter
    /// Responses a plugin built that the wire format cannot carry (answered SERVFAIL instead).
    public let unencodable: Counter
    /// Queries that carried a DNS cookie, by what it showed: a valid server cookie, a client cookie alone, an
    /// invalid server cookie (`swiftlet_cookies_total{cookie="valid|client_only|invalid"}`).
    public let cookies: [Counter]
    /// Responses by RCODE (index = the low 4 bits; 16 for everything extended).
    public let responses: [Counter]

    public init(transport: String) {
        let dimensions = [("transport", transport)]
        self.queries = Counter(label: "swiftlet_queries_total", dimensions: dimensions)
        self.fastPathHits = Counter(label: "swiftlet_fast_path_hits_total", dimensions: dimensions)
        self.malformed = Counter(label: "swiftlet_malformed_queries_total", dimensions: dimensions)
        self.dropped = Counter(label: "swiftlet_dropped_queries_total", dimensions: dimensions)
        self.shed = Counter(label: "swiftlet_shed_queries_total", dimensions: dimensions)
        self.notImplemented = Counter(label: "swiftlet_not_implemented_total", dimensions: dimensions)
        self.unencodable = Counter(label: "swiftlet_unencodable_responses_total", dimensions: dimensions)
        self.cookies = ["valid", "client_only", "invalid"].map {
            Counter(label: "swiftlet_cookies_total", dimensions: dimensions + [("cookie", $0)])
        }
        let names = [
            "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
            "NXRRSET", "NOTAUTH", "NOTZONE", "RCODE11", "RCODE12", "RCODE13", "RCODE14", "RCODE15", "EXTENDED",
        ]
        self.responses = names.map {
            Counter(label: "swiftlet_responses_total", dimensions: dimensions + [("rcode", $0)])
        }
    }

    public func countResponse(flagsLow: UInt8) { self.responses[Int(flagsLow & 0x0F)].increment() }
}
