// CachePlugin: `- cache: {}`, the RRset cache in front of forward (and later recursive), feeding the fast path.

import Pipeline

public enum CachePlugin: Plugin {
    public static let name = "cache"
    public static let summary = "answers from cached RRsets and negative answers, and fills the fast-path message cache"

    public static func setup(_ options: CacheOptions, context: PluginContext, into builder: inout ChainBuilder) throws {
        guard options.maxSize >= 1 << 16 else { throw PluginSetupError(option: "max_size", "at least 65536 bytes") }
        if let prefetch = options.prefetch {
            guard (1...50).contains(prefetch.beforeExpiry) else {
                throw PluginSetupError(option: "prefetch.before_expiry", "a percentage from 1 to 50")
            }
            guard prefetch.minHits >= 1 else { throw PluginSetupError(option: "prefetch.min_hits", "at least 1") }
        }
        guard options.minTTL <= options.maxTTL else {
            throw PluginSetupError(option: "min_ttl", "must not exceed max_ttl (\(options.maxTTL))")
        }
        builder.require(.before, ForwardPlugin.name)
        builder.require(.before, RecursivePlugin.name)
        // `max_size` bounds both levels: the RRset cache here and the host's message cache.
        context.resizeMessageCache(options.maxSize)
        // Kept across a reload that leaves these options as they are (the cache stays warm).
        let cache = context.retained("rrset-cache") {
            RRsetCache(
                maxBytes: options.maxSize,
                ttlLimits: RRsetCache.TTLLimits(
                    minimum: options.minTTL,
                    maximum: options.maxTTL,
                    maxNegative: options.maxNegativeTTL
                )
            )
        }
        // `recursive`, later in the chain, stores delegations and glue in the same cache.
        builder.rrsetCache = cache
        builder.add(CacheHandler(cache: cache, options: options, context: context))
    }
}
