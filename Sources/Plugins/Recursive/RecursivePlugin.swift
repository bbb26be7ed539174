// RecursivePlugin: `- recursive: {}`, a resolver that walks the DNS tree from the root itself.

import Foundation
import Glibc
import Pipeline

public enum RecursivePlugin: Plugin {
    public static let name = "recursive"
    public static let summary =
        "resolves names iteratively from the root servers (no upstream resolver), sharing the cache plugin's RRsets"

    public static func setup(
        _ options: RecursiveOptions,
        context: PluginContext,
        into builder: inout ChainBuilder
    )
        throws
    {
        let limits = options.limits
        for (key, value, range) in [
            ("limits.depth", limits.depth, 1...64),
            ("limits.queries_per_fetch", limits.queriesPerFetch, 1...1000),
            ("limits.queries_per_request", limits.queriesPerRequest, 1...10000),
            ("limits.cname_chain", limits.cnameChain, 0...64),
            ("max_concurrent", options.maxConcurrent, 1...1_000_000),
        ] where !range.contains(value) {
            throw PluginSetupError(option: key, "must be from \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
        guard limits.timeout.nanoseconds >= 100_000_000 else {
            throw PluginSetupError(option: "limits.timeout", "must be at least 100ms")
        }
        let hints =
            options.rootHints == "built-in"
            ? RootHints.builtIn : try RootHints.load(path: context.resolve(options.rootHints))
        let useIPv6: Bool
        switch options.ipv6 {
        case .on: useIPv6 = true
        case .off: useIPv6 = false
        case .auto: useIPv6 = RecursivePlugin.hostHasIPv6Route()
        }
        let metrics = RecursiveMetrics(context)
        // The cache plugin's RRset cache when it comes first; our own otherwise.
        let cache = builder.rrsetCache ?? context.retained("rrset-cache") { RRsetCache() }
        builder.rrsetCache = cache
        let resolver = Resolver(
            cache: cache,
            // What it learnt about servers (RTTs, lameness, EDNS) survives a reload that keeps these options.
            infrastructure: context.retained("infrastructure") { InfrastructureCache() },
            hints: hints,
            options: options,
            useIPv6: useIPv6,
            // A socket of its own on a fresh random port per UDP query (RFC 5452 §9.2), a connection per TCP one
            // (after truncation: rare). Kept across a reload that keeps these options, like the infrastructure.
            upstreams: try context.retained("upstreams") {
                try context.upstreams.client(
                    UpstreamClientOptions(
                        datagrams: .perQuery,
                        reusesConnections: false,
                        cookies: options.cookies ? ClientCookies() : nil,
                        rejected: { [rejected = metrics.rejectedReplies] in rejected.increment() }
                    )
                )
            },
            metrics: metrics,
            // Its RRsets and infrastructure age by the context's clock (the serving loop's).
            clock: { [clock = context.clock] in clock.now() }
        )
        builder.add(RecursiveHandler(resolver: resolver, maxConcurrent: options.maxConcurrent))
    }

    /// Whether a UDP socket can be pointed at a global IPv6 address (a root server's): no packet is sent, the kernel
    /// only looks for a route.
    static func hostHasIPv6Route() -> Bool {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = UInt16(53).bigEndian
        let octets = IPv6Address("2001:503:ba3e::2:30")!.octets  // a.root-servers.net.
        withUnsafeMutableBytes(of: &address.sin6_addr) { raw in
            for index in 0..<16 { raw[index] = octets[index] }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
        return result == 0
    }
}
