// CacheOptions: the `cache` plugin's options.

import Pipeline

/// Options of `- cache: {…}`.
public struct CacheOptions: PluginOptions {
    /// Bytes for each cache level: the RRset cache and the host's message cache.
    public var maxSize: Int = 64 << 20
    /// TTLs below this are raised to it, seconds.
    public var minTTL: UInt32 = 0
    /// TTLs above this are lowered to it, seconds.
    public var maxTTL: UInt32 = 86400
    /// Negative answers are kept at most this long, seconds (RFC 2308 §5).
    public var maxNegativeTTL: UInt32 = 3600
    /// Serve expired data for this long after its TTL when the upstreams fail (RFC 8767); 0 disables.
    public var serveStale: OptionDuration = OptionDuration(seconds: 0)
    /// With `serve_stale`: how long a client waits for a refresh before it gets the stale data (RFC 8767 §5
    /// suggests 1.8 s).
    public var staleClientTimeout: OptionDuration = OptionDuration(seconds: 1.8)
    /// Refresh popular entries in the background before they expire; nil (the default) disables.
    public var prefetch: PrefetchOptions? = nil

    public init() {}

    public static let options: [PluginOption<CacheOptions>] = [
        PluginOption("max_size", \.maxSize, "bytes", "the size of each cache level (RRsets, and the fast path's answers)"),
        PluginOption("min_ttl", \.minTTL, "seconds", "TTLs below are raised to it"),
        PluginOption("max_ttl", \.maxTTL, "seconds", "TTLs above are lowered to it"),
        PluginOption("max_negative_ttl", \.maxNegativeTTL, "seconds", "negative answers are kept at most this long"),
        PluginOption(
            "serve_stale",
            \.serveStale,
            "duration",
            "answer expired data this long past its TTL when upstreams fail (RFC 8767)",
            default: "0"
        ),
        PluginOption(
            "stale_client_timeout",
            \.staleClientTimeout,
            "duration",
            "with serve_stale: how long a client waits for a refresh before it gets the stale data"
        ),
        PluginOption(
            "prefetch",
            \.prefetch,
            "{ min_hits, before_expiry }",
            "refresh entries asked min_hits (2) times once before_expiry percent (10) of their TTL remains",
            default: "off"
        ),
    ]
}

/// `prefetch: { min_hits: 2, before_expiry: 10 }`: an entry asked for at least `min_hits` times is refreshed in the
/// background when less than `before_expiry` percent of its TTL remains; clients keep getting it meanwhile.
public struct PrefetchOptions: PluginOptions {
    /// Requests that reached the cache plugin for the entry (fast-path hits are not seen).
    public var minHits: Int = 2
    /// Percent of the TTL left that starts a refresh, 1–50.
    public var beforeExpiry: UInt32 = 10

    public init() {}

    public static let options: [PluginOption<PrefetchOptions>] = [
        PluginOption("min_hits", \.minHits, "integer", "requests that reached the cache plugin for the entry"),
        PluginOption("before_expiry", \.beforeExpiry, "percent", "percent of the TTL left that starts a refresh, 1–50"),
    ]
}
