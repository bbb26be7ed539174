// SwiftletServer: the running server: listeners per address, the compiled blocks, reload and graceful stop.

import Foundation
import Logging
import NIOCore
import NIOPosix
import Pipeline
import Plugins
import Synchronization

/// A running Swiftlet: owns the UDP workers, TCP listeners, admin listener, the message cache and the blocks.
public final class SwiftletServer: @unchecked Sendable {
    public let plugins: [any Plugin.Type]
    public let logger: Logger
    public let cache: MessageCache
    private let group: MultiThreadedEventLoopGroup
    /// Suspended TCP queries run on the loops of `group` (their connections' loops); UDP ones on their worker's reactor.
    private let loopExecutors: EventLoopTaskExecutors
    private let admin: AdminState
    private var configuration: Configuration
    private var listeners: [ListenAddress: AddressListeners] = [:]
    private var tlsListeners: [ListenAddress: EncryptedListeners] = [:]
    private var httpsListeners: [ListenAddress: EncryptedListeners] = [:]
    /// Reloads the DNS-over-TLS and DNS-over-HTTPS certificates when their files change.
    private var certificateWatch: Task<Void, Never>?
    private var blocks: [ServerBlock] = []
    /// The serving blocks' RRset caches, in block order (blocks without one left out).
    var rrsetCaches: [RRsetCache] { self.blocks.compactMap(\.rrsetCache) }
    /// Suspended queries in flight, over every block.
    var queriesInFlight: Int { self.blocks.reduce(0) { $0 + $1.inFlight.current } }
    private var adminServer: AdminServer?
    private let reloadLock = NSLock()
    /// What the serving chains' plugins keep for the next reload (caches, infrastructure, upstreams).
    private var pluginState: [String: any Sendable] = [:]

    /// The blocks whose plugins invalidated their cached answers (a build's data changed).
    final class InvalidatedBlocks: Sendable {
        let blocks = Mutex<Set<Int>>([])
    }

    /// One listen address's UDP workers, TCP listener and their responders.
    final class AddressListeners {
        let udp: Responder
        let tcp: Responder
        var workers: [UDPWorker] = []
        var tcpListener: TCPListener?
        init(udp: Responder, tcp: Responder) {
            self.udp = udp
            self.tcp = tcp
        }
    }

    /// One DNS-over-TLS or DNS-over-HTTPS address's responder, certificate (none for plain HTTP) and listener.
    final class EncryptedListeners {
        let responder: Responder
        let context: TLSServerContext?
        var listener: (any ConnectionListener)?
        init(responder: Responder, context: TLSServerContext?) {
            self.responder = responder
            self.context = context
        }
    }

    /// How often the certificate and key files are looked at (a renewal applies within this).
    static let certificatePoll: Duration = .seconds(5)

    public init(configuration: Configuration, plugins: [any Plugin.Type] = Registry.builtIn, logger: Logger) {
        self.configuration = configuration
        self.plugins = plugins
        self.logger = logger
        self.cache = MessageCache()
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, min(2, System.coreCount)))
        self.loopExecutors = EventLoopTaskExecutors(group: self.group)
        let cache = self.cache
        self.admin = AdminState(registry: MetricsBootstrap.registry, token: configuration.admin?.token) {
            // The fast path counts nothing per answer beyond its hits; its size is read from the shards when scraped.
            let statistics = cache.statistics
            let registry = MetricsBootstrap.registry
            registry.makeGauge(name: "swiftlet_message_cache_bytes", help: "Bytes held by the message cache (estimate)")
                .set(Int64(statistics.bytes))
            registry.makeGauge(name: "swiftlet_message_cache_max_bytes", help: "The message cache's byte bound")
                .set(Int64(cache.maxBytes))
            registry.makeGauge(name: "swiftlet_message_cache_entries", help: "Answers held by the message cache")
                .set(Int64(statistics.entries))
            registry.makeGauge(
                name: "swiftlet_message_cache_evictions",
                help: "Answers the message cache evicted under its byte bound since it started"
            ).set(Int64(statistics.evictions))
        }
    }

    /// Builds the chains and binds every listener. Nothing serves until all succeeded.
    /// - Throws: `ConfigError` from plugin setup, `ListenError` when an address cannot be bound.
    public func start() async throws {
        MetricsBootstrap.bootstrapOnce()
        let state = PluginState()
        let built = try self.build(self.configuration, state: state)
        self.pluginState = state.collected
        self.blocks = built.map(\.block)
        var addresses: [ListenAddress] = []
        for block in self.configuration.servers {
            for address in block.listen where !addresses.contains(address) { addresses.append(address) }
        }
        do {
            for address in addresses {
                let blocks = self.blocks(listeningOn: address, in: self.configuration, built: self.blocks)
                let table = BlockTable(blocks: blocks)
                let listeners = AddressListeners(
                    udp: Responder(cache: self.cache, table: table, transport: .udp, logger: self.logger),
                    tcp: Responder(cache: self.cache, table: table, transport: .tcp, logger: self.logger)
                )
                // Registered before anything can fail, so that stop() below closes whatever was opened: a worker
                // left running would go on answering on its port.
                self.listeners[address] = listeners
                let blockConfigs = self.configuration.servers.filter { $0.listen.contains(address) }
                let workerCount = blockConfigs.compactMap(\.workers).max() ?? System.coreCount
                var bound = address
                if bound.port == 0 { bound.port = try UDPWorker.freePort(on: address) }
                for index in 0..<workerCount {
                    let worker = try UDPWorker(address: bound, index: index, responder: listeners.udp)
                    listeners.workers.append(worker)
                    worker.start(name: "swiftlet-udp-\(address)-\(index)")
                }
                let first = blockConfigs.first!
                listeners.tcpListener = try await TCPListener.bind(
                    address: bound,
                    responder: listeners.tcp,
                    group: self.group,
                    executors: self.loopExecutors,
                    idleTimeout: first.tcpIdleTimeout,
                    maxConnections: first.maxTCPConnections,
                    maxConnectionsPerClient: first.maxTCPConnectionsPerClient,
                    maxInFlight: first.maxTCPQueriesPerConnection,
                    proxyFrom: first.proxyProtocol
                )
                self.logger.info("listening on \(bound) (udp ×\(workerCount), tcp)")
            }
            for (address, blockConfigs) in Self.addresses(\.tls?.listen, in: self.configuration) {
                let first = blockConfigs.first!
                let tls = first.tls!
                let table = BlockTable(blocks: self.blocks(listeningOn: address, \.tls?.listen, in: self.configuration, built: self.blocks))
                let listeners = EncryptedListeners(
                    responder: Responder(cache: self.cache, table: table, transport: .tls, logger: self.logger),
                    context: try TLSServerContext(certificate: tls.certificate, key: tls.key, alpn: TLSServerContext.dotALPN)
                )
                self.tlsListeners[address] = listeners
                listeners.listener = try await TCPListener.bind(
                    address: address,
                    responder: listeners.responder,
                    group: self.group,
                    executors: self.loopExecutors,
                    idleTimeout: first.tcpIdleTimeout,
                    maxConnections: first.maxTCPConnections,
                    maxConnectionsPerClient: first.maxTCPConnectionsPerClient,
                    maxInFlight: first.maxTCPQueriesPerConnection,
                    tls: listeners.context,
                    proxyFrom: first.proxyProtocol
                )
                self.logger.info("listening on \(address.address):\(listeners.listener!.boundPort) (dns over tls)")
            }
            for (address, blockConfigs) in Self.addresses(\.https?.listen, in: self.configuration) {
                let first = blockConfigs.first!
                let https = first.https!
                let table = BlockTable(
                    blocks: self.blocks(listeningOn: address, \.https?.listen, in: self.configuration, built: self.blocks)
                )
                var context: TLSServerContext? = nil
                if let certificate = https.certificate, let key = https.key {
                    context = try TLSServerContext(certificate: certificate, key: key, alpn: TLSServerContext.dohALPN)
                }
                let listeners = EncryptedListeners(
                    responder: Responder(cache: self.cache, table: table, transport: .https, logger: self.logger),
                    context: context
                )
                self.httpsListeners[address] = listeners
                listeners.listener = try await HTTPSListener.bind(
                    address: address,
                    responder: listeners.responder,
                    group: self.group,
                    executors: self.loopExecutors,
                    tls: context,
                    path: https.path,
                    maxStreams: https.maxStreams,
                    idleTimeout: first.tcpIdleTimeout,
                    maxConnections: first.maxTCPConnections,
                    maxConnectionsPerClient: first.maxTCPConnectionsPerClient,
                    proxyFrom: first.proxyProtocol
                )
                let kind = context == nil ? "plain http, behind a tls proxy" : "https"
                self.logger.info("listening on \(address.address):\(listeners.listener!.boundPort) (dns over \(kind))")
            }
            if let admin = self.configuration.admin {
                self.adminServer = try await AdminServer.bind(
                    address: admin.listen,
                    state: self.admin,
                    group: self.group,
                    requestTimeout: .milliseconds(Int64(admin.requestTimeout * 1000))
                )
                self.logger.info("admin listening on \(admin.listen.address):\(self.adminServer!.boundPort)")
            }
        } catch {
            await self.stop()
            throw error
        }
        for item in built { self.startServices(item) }
        self.admin.routes.withLock { $0 = built.flatMap(\.routes) }
        let contexts = self.certificateContexts
        if !contexts.isEmpty {
            let logger = self.logger
            self.certificateWatch = Task(executorPreference: ServerExecutor.shared) {
                while !Task.isCancelled {
                    try? await Task.sleep(for: SwiftletServer.certificatePoll)
                    SwiftletServer.reloadCertificates(contexts, logger: logger)
                }
            }
        }
        self.admin.ready.store(true, ordering: .releasing)
    }

    /// The certificates of every DNS-over-TLS and DNS-over-HTTPS listener.
    private var certificateContexts: [TLSServerContext] {
        (Array(self.tlsListeners.values) + Array(self.httpsListeners.values)).compactMap(\.context)
    }

    /// Every distinct address of one kind of listener (`\.tls?.listen`, `\.https?.listen`), with the blocks that
    /// serve on it (in file order).
    static func addresses(
        _ kind: KeyPath<ServerBlockConfiguration, [ListenAddress]?>,
        in configuration: Configuration
    ) -> [(ListenAddress, [ServerBlockConfiguration])] {
        var addresses: [ListenAddress] = []
        for block in configuration.servers {
            for address in block[keyPath: kind] ?? [] where !addresses.contains(address) { addresses.append(address) }
        }
        return addresses.map { address in
            (address, configuration.servers.filter { $0[keyPath: kind]?.contains(address) == true })
        }
    }

    /// Loads the certificates whose files changed; a bad renewal is logged and the previous certificate serves on.
    static func reloadCertificates(_ contexts: [TLSServerContext], logger: Logger) {
        for context in contexts {
            do {
                if try context.reloadIfChanged() { logger.info("certificate reloaded from \(context.certificatePath)") }
            } catch {
                logger.error("certificate not reloaded, the previous one serves on: \(error)")
            }
        }
    }

    private func blocks(
        listeningOn address: ListenAddress,
        _ kind: KeyPath<ServerBlockConfiguration, [ListenAddress]?>,
        in configuration: Configuration,
        built: [ServerBlock]
    ) -> [ServerBlock] {
        configuration.servers.enumerated().filter { $0.element[keyPath: kind]?.contains(address) == true }.map {
            built[$0.offset]
        }
    }

    /// Compiles every block of `configuration`, wired to this server's event loops and message cache.
    /// Builds every block's chain; its plugins take over what the serving chains' plugins kept (`state`), and a
    /// plugin's data change invalidates only its own block's fast-path entries.
    /// `invalidated` collects the blocks whose plugins changed their data while building (the reload bumps them
    /// again once the new chains serve, so nothing the old chain stored in between survives).
    private func build(
        _ configuration: Configuration,
        state: PluginState,
        invalidated: InvalidatedBlocks = InvalidatedBlocks()
    ) throws -> [BuiltBlock] {
        let cache = self.cache
        return try ChainFactory.build(
            configuration,
            plugins: self.plugins,
            logger: self.logger,
            eventLoopGroup: self.group,
            resizeMessageCache: { cache.resize(maxBytes: $0) },
            state: state,
            invalidate: { block in
                cache.bumpEpoch(group: block)
                invalidated.blocks.withLock { _ = $0.insert(block) }
            }
        )
    }

    private func blocks(
        listeningOn address: ListenAddress,
        in configuration: Configuration,
        built: [ServerBlock]
    ) -> [ServerBlock] {
        configuration.servers.enumerated().filter { $0.element.listen.contains(address) }.map { built[$0.offset] }
    }

    private func startServices(_ item: BuiltBlock) {
        let logger = self.logger
        let tasks = item.services.map { name, service in
            Task(executorPreference: ServerExecutor.shared) {
                logger.debug("service started: \(name)")
                await service()
            }
        }
        item.block.services.withLock { $0 += tasks }
    }

    /// The UDP port actually bound for a configured address (differs when the configuration says port 0).
    public func udpPort(_ address: ListenAddress) -> UInt16? { self.listeners[address]?.workers.first?.boundPort }
    public func tcpPort(_ address: ListenAddress) -> UInt16? { self.listeners[address]?.tcpListener?.boundPort }
    /// The port a DNS-over-TLS address is bound to.
    public func tlsPort(_ address: ListenAddress) -> UInt16? { self.tlsListeners[address]?.listener?.boundPort }
    /// The port a DNS-over-HTTPS address is bound to.
    public func httpsPort(_ address: ListenAddress) -> UInt16? { self.httpsListeners[address]?.listener?.boundPort }

    /// The open TCP connections of `address`'s listener, in all and per client.
    func tcpConnections(_ address: ListenAddress) -> TCPListener.ConnectionCount? {
        self.listeners[address]?.tcpListener?.connections
    }
    public var adminPort: UInt16? { self.adminServer?.boundPort }

    /// Builds new chains from `configuration` off the serving path and swaps them in at once; the fast path's epoch
    /// is bumped. A configuration that fails to build changes nothing. Listen addresses must stay the same.
    /// - Throws: `ConfigError`.
    /// Builds the new configuration's chains off the serving path and swaps them in; a failure leaves the running
    /// ones serving. Plugins whose options did not change keep their state (the RRset cache, recursive's
    /// infrastructure cache, forward's upstreams and their health), and only the blocks whose chain changed lose
    /// their fast-path entries.
    /// - Returns: what changed that only a restart applies (listener options), one line each, for the log.
    @discardableResult
    public func reload(_ configuration: Configuration) throws -> [String] {
        self.reloadLock.lock()
        defer { self.reloadLock.unlock() }
        let oldAddresses = Set(self.configuration.servers.flatMap(\.listen))
        let newAddresses = Set(configuration.servers.flatMap(\.listen))
        let oldTLS = Set(self.configuration.servers.flatMap { ($0.tls?.listen ?? []) + ($0.https?.listen ?? []) })
        let newTLS = Set(configuration.servers.flatMap { ($0.tls?.listen ?? []) + ($0.https?.listen ?? []) })
        guard oldAddresses == newAddresses && oldTLS == newTLS else {
            throw ConfigError(
                file: configuration.source,
                line: 0,
                column: 0,
                keyPath: "servers",
                message: "listen addresses changed; restart the server to apply that (the running configuration stays)"
            )
        }
        let state = PluginState(previous: self.pluginState)
        let invalidated = InvalidatedBlocks()
        let built = try self.build(configuration, state: state, invalidated: invalidated)
        let newBlocks = built.map(\.block)
        for (address, listeners) in self.listeners {
            let table = BlockTable(blocks: self.blocks(listeningOn: address, in: configuration, built: newBlocks))
            listeners.udp.replace(table)
            listeners.tcp.replace(table)
        }
        for (kind, listening) in [(\ServerBlockConfiguration.tls?.listen, self.tlsListeners), (\.https?.listen, self.httpsListeners)] {
            for (address, listeners) in listening {
                listeners.responder.replace(
                    BlockTable(blocks: self.blocks(listeningOn: address, kind, in: configuration, built: newBlocks))
                )
            }
        }
        // SIGHUP also looks at the certificate files at once (certbot's deploy hook sends one).
        SwiftletServer.reloadCertificates(self.certificateContexts, logger: self.logger)
        // A block's cached answers stay when it answers alike: same zones, size, plugins and options, and the same
        // data (its plugins said nothing changed while building).
        var stale = invalidated.blocks.withLock { $0 }
        for (index, block) in configuration.servers.enumerated() {
            let before = index < self.configuration.servers.count ? self.configuration.servers[index] : nil
            if before.map(ChainFactory.fingerprint) != ChainFactory.fingerprint(block) { stale.insert(index) }
        }
        for index in stale { self.cache.bumpEpoch(group: index) }
        let restart = SwiftletServer.needsRestart(from: self.configuration, to: configuration)
        let old = self.blocks
        self.blocks = newBlocks
        self.configuration = configuration
        self.pluginState = state.collected
        for block in old { block.stopServices() }
        for item in built { self.startServices(item) }
        self.admin.routes.withLock { $0 = built.flatMap(\.routes) }
        self.admin.token.withLock { $0 = configuration.admin?.token }
        self.logger.info("configuration reloaded from \(configuration.source)")
        for line in restart { self.logger.warning("needs restart: \(line)") }
        return restart
    }

    /// The listener options that changed between `old` and `new`: the sockets and their bounds are made at start, so
    /// these take effect at the next restart (the running values stay until then).
    static func needsRestart(from old: Configuration, to new: Configuration) -> [String] {
        var lines: [String] = []
        for (index, block) in new.servers.enumerated() where index < old.servers.count {
            let before = old.servers[index]
            let path = "servers[\(index)]"
            func note<T: Equatable>(_ key: String, _ was: T, _ now: T) {
                if was != now { lines.append("\(path).\(key) changed from \(was) to \(now); the running value stays until restart") }
            }
            note("workers", before.workers.map(String.init) ?? "one per core", block.workers.map(String.init) ?? "one per core")
            note("tcp_idle_timeout", before.tcpIdleTimeout, block.tcpIdleTimeout)
            note("max_tcp_connections", before.maxTCPConnections, block.maxTCPConnections)
            note("max_tcp_connections_per_client", before.maxTCPConnectionsPerClient, block.maxTCPConnectionsPerClient)
            note("max_tcp_queries_per_connection", before.maxTCPQueriesPerConnection, block.maxTCPQueriesPerConnection)
            note("tls.cert", before.tls?.certificate ?? "none", block.tls?.certificate ?? "none")
            note("tls.key", before.tls?.key ?? "none", block.tls?.key ?? "none")
            note("https.cert", before.https?.certificate ?? "none", block.https?.certificate ?? "none")
            note("https.key", before.https?.key ?? "none", block.https?.key ?? "none")
            note("https.path", before.https?.path ?? "none", block.https?.path ?? "none")
            note("https.max_streams", before.https?.maxStreams ?? 0, block.https?.maxStreams ?? 0)
            note("proxy_protocol", before.proxyProtocol.map { "\($0.address)/\($0.length)" }, block.proxyProtocol.map { "\($0.address)/\($0.length)" })
        }
        let was = old.admin.map { "\($0.listen)" } ?? "off"
        let now = new.admin.map { "\($0.listen)" } ?? "off"
        if was != now { lines.append("admin.listen changed from \(was) to \(now); the running value stays until restart") }
        if old.admin?.requestTimeout != new.admin?.requestTimeout {
            lines.append("admin.request_timeout changed; the running value stays until restart")
        }
        return lines
    }

    /// Stops accepting, lets suspended queries finish (at most `grace` seconds), and closes everything.
    public func stop(grace: Double = 5) async {
        self.admin.ready.store(false, ordering: .releasing)
        self.certificateWatch?.cancel()
        for listeners in self.listeners.values {
            for worker in listeners.workers { worker.stop() }
            await listeners.tcpListener?.close()
        }
        for listeners in Array(self.tlsListeners.values) + Array(self.httpsListeners.values) {
            await listeners.listener?.close()
        }
        self.tlsListeners.removeAll()
        self.httpsListeners.removeAll()
        let deadline = Date().addingTimeInterval(grace)
        while self.blocks.contains(where: { $0.inFlight.current > 0 }) && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for listeners in self.listeners.values { for worker in listeners.workers { worker.join() } }
        self.listeners.removeAll()
        for block in self.blocks {
            for task in block.stopServices() { await task.value }
        }
        if let adminServer = self.adminServer { try? await adminServer.channel.close() }
        self.adminServer = nil
        try? await self.group.shutdownGracefully()
    }
}
