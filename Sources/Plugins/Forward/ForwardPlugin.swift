// ForwardPlugin: `- forward: { to: ["192.0.2.53"] }`, sends what reaches it to upstream resolvers.

import Pipeline

public enum ForwardPlugin: Plugin {
    public static let name = "forward"
    public static let summary =
        "forwards queries to upstream resolvers (UDP with TCP fallback, or TCP), with health checks"

    public static func setup(_ options: ForwardOptions, context: PluginContext, into builder: inout ChainBuilder) throws
    {
        guard !options.to.isEmpty else {
            throw PluginSetupError(option: "to", "list at least one upstream, like 192.0.2.53 or tcp://192.0.2.53:53")
        }
        let metrics = ForwardMetrics(context)
        // The upstreams (their health and RTTs) and the client with their sockets and connections survive a reload
        // that keeps these options.
        let upstreams = try context.retained("upstreams") { try ForwardPlugin.upstreams(options) }
        let client = try context.retained("client") {
            try ForwardPlugin.client(options, upstreams: upstreams, context: context, metrics: metrics)
        }
        func names(_ texts: [String], _ key: String) throws -> [DomainName] {
            try texts.enumerated().map { index, text in
                guard let name = try? DomainName(text) else {
                    throw PluginSetupError(option: "\(key)[\(index)]", "'\(text)' is not a domain name")
                }
                return name
            }
        }
        guard options.maxFails >= 1 else { throw PluginSetupError(option: "max_fails", "must be at least 1") }
        guard options.maxConcurrent >= 1 else { throw PluginSetupError(option: "max_concurrent", "must be at least 1") }
        guard options.timeout.nanoseconds > 0, options.deadline.nanoseconds >= options.timeout.nanoseconds else {
            throw PluginSetupError(option: "deadline", "must be at least the per-try timeout (\(options.timeout))")
        }
        let handler = ForwardHandler(
            upstreams: upstreams,
            client: client,
            zones: try names(options.zones, "zones"),
            except: try names(options.except, "except"),
            options: options,
            metrics: metrics
        )
        builder.add(handler)
        let interval = options.healthCheck.duration
        context.addService("forward health checks") { await handler.healthChecks(interval: interval) }
    }

    /// The upstreams `to` names, each with its health.
    static func upstreams(_ options: ForwardOptions) throws -> [Upstream] {
        try options.to.enumerated().map { index, text in
            guard let server = Upstream.parse(text) else {
                throw PluginSetupError(
                    option: "to[\(index)]",
                    "'\(text)' is not an upstream like 192.0.2.53, 192.0.2.53:5300, [2001:db8::53]:53, tcp://192.0.2.53 or tls://192.0.2.53#dns.example.net"
                )
            }
            return Upstream(server: server, name: text)
        }
    }

    /// The host's upstream client for these upstreams: pooled UDP sockets and one pipelined connection per server
    /// (a forwarder asks the same few servers all the time), trusting `tls_ca` for TLS and HTTPS ones when it is set.
    static func client(
        _ options: ForwardOptions,
        upstreams: [Upstream],
        context: PluginContext,
        metrics: ForwardMetrics
    ) throws -> any UpstreamExchange {
        let usesTLS = upstreams.contains { $0.server.transport.isEncrypted }
        let clientOptions = UpstreamClientOptions(
            datagrams: .pooled,
            reusesConnections: true,
            trustRoots: usesTLS ? options.tlsCA.map(context.resolve) : nil,
            cookies: options.cookies ? ClientCookies() : nil,
            rejected: { [rejected = metrics.rejectedReplies] in rejected.increment() }
        )
        do { return try context.upstreams.client(clientOptions) } catch let error as UpstreamSetupError {
            throw PluginSetupError(option: "tls_ca", error.message)
        }
    }
}
