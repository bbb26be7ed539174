// CacheOptions: the `cache` plugin's options.

/// Options of `- cache: {…}`.
public struct CacheOptions: Decodable, Sendable {
    /// Bytes for the RRset cache. Default 64 MiB.
    public var maxSize: Int
    /// TTLs below this are raised to it, seconds. Default 0.
    public var minTTL: UInt32
    /// TTLs above this are lowered to it, seconds. Default 86400.
    public var maxTTL: UInt32
    /// Negative answers are kept at most this long, seconds (RFC 2308 §5). Default 3600.
    public var maxNegativeTTL: UInt32
    /// Serve expired data for this long after its TTL when the upstreams fail (RFC 8767); 0 disables. Default 0.
    public var serveStale: OptionDuration

    enum CodingKeys: String, CodingKey {
        case maxSize = "max_size"
        case minTTL = "min_ttl"
        case maxTTL = "max_ttl"
        case maxNegativeTTL = "max_negative_ttl"
        case serveStale = "serve_stale"
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
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        self.maxSize = try container.value(.maxSize, default: self.maxSize)
        self.minTTL = try container.value(.minTTL, default: self.minTTL)
        self.maxTTL = try container.value(.maxTTL, default: self.maxTTL)
        self.maxNegativeTTL = try container.value(.maxNegativeTTL, default: self.maxNegativeTTL)
        self.serveStale = try container.value(.serveStale, default: self.serveStale)
    }
}
