// CacheOptions: the `cache` plugin's options.

import Pipeline

/// Options of `- cache: {…}`.
public struct CacheOptions: Decodable, Sendable {
    /// Bytes for each cache level: the RRset cache and the host's message cache. Default 64 MiB.
    public var maxSize: Int
    /// TTLs below this are raised to it, seconds. Default 0.
    public var minTTL: UInt32
    /// TTLs above this are lowered to it, seconds. Default 86400.
    public var maxTTL: UInt32
    /// Negative answers are kept at most this long, seconds (RFC 2308 §5). Default 3600.
    public var maxNegativeTTL: UInt32
    /// Serve expired data for this long after its TTL when the upstreams fail (RFC 8767); 0 disables. Default 0.
    public var serveStale: OptionDuration
    /// With `serve_stale`: how long a client waits for a refresh before it gets the stale data (RFC 8767 §5
    /// suggests 1.8 s). Default 1.8s.
    public var staleClientTimeout: OptionDuration
    /// Refresh popular entries in the background before they expire; nil (the default) disables.
    public var prefetch: PrefetchOptions?

    enum CodingKeys: String, CodingKey {
        case maxSize = "max_size"
        case minTTL = "min_ttl"
        case maxTTL = "max_ttl"
        case maxNegativeTTL = "max_negative_ttl"
        case serveStale = "serve_stale"
        case prefetch
        case staleClientTimeout = "stale_client_timeout"
    }

    public init(
        maxSize: Int = 64 << 20,
        minTTL: UInt32 = 0,
        maxTTL: UInt32 = 86400,
        maxNegativeTTL: UInt32 = 3600,
        serveStale: OptionDuration = OptionDuration(seconds: 0)
    ) {
        self.maxSize = maxSize
        self.minTTL = minTTL
        self.maxTTL = maxTTL
        self.maxNegativeTTL = maxNegativeTTL
        self.serveStale = serveStale
        self.staleClientTimeout = OptionDuration(seconds: 1.8)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        self.maxSize = try container.value(.maxSize, default: self.maxSize)
        self.minTTL = try container.value(.minTTL, default: self.minTTL)
        self.maxTTL = try container.value(.maxTTL, default: self.maxTTL)
        self.maxNegativeTTL = try container.value(.maxNegativeTTL, default: self.maxNegativeTTL)
        self.serveStale = try container.value(.serveStale, default: self.serveStale)
        self.prefetch = try container.decodeIfPresent(PrefetchOptions.self, forKey: .prefetch)
        self.staleClientTimeout = try container.value(.staleClientTimeout, default: self.staleClientTimeout)
    }
}

/// `prefetch: { min_hits: 2, before_expiry: 10 }`: an entry asked for at least `min_hits` times is refreshed in the
/// background when less than `before_expiry` percent of its TTL remains; clients keep getting it meanwhile.
public struct PrefetchOptions: Decodable, Sendable {
    /// Requests that reached the cache plugin for the entry (fast-path hits are not seen). Default 2.
    public var minHits: Int
    /// Percent of the TTL left that starts a refresh, 1–50. Default 10.
    public var beforeExpiry: UInt32

    enum CodingKeys: String, CodingKey {
        case minHits = "min_hits"
        case beforeExpiry = "before_expiry"
    }

    public init(minHits: Int = 2, beforeExpiry: UInt32 = 10) {
        self.minHits = minHits
        self.beforeExpiry = beforeExpiry
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        self.minHits = try container.value(.minHits, default: self.minHits)
        self.beforeExpiry = try container.value(.beforeExpiry, default: self.beforeExpiry)
    }
}
