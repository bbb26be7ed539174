// ChainFactory: turns each server block's plugin list into guards and a chain, decoding options strictly.

import Foundation
import Logging
import NIOCore
import NIOPosix
import Pipeline
import Plugins
import Yams

/// A server block built but not yet serving, with the background services its plugins asked for.
struct BuiltBlock {
    var block: ServerBlock
    var services: [(String, @Sendable () async -> Void)]
    var routes: [AdminRoute]
}

enum ChainFactory {
    /// Builds every block of `configuration`.
    /// - Throws: `ConfigError` naming the plugin entry (unknown plugin, bad options, setup failure, bad order).
    static func build(
        _ configuration: Configuration,
        plugins: [any Plugin.Type],
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        resizeMessageCache: @escaping @Sendable (Int) -> Void = { _ in },
        state: PluginState = PluginState(),
        invalidate: @escaping @Sendable (_ block: Int) -> Void
    ) throws -> [BuiltBlock] {
        let decoder = ConfigDecoder(file: configuration.source)
        var hostServices = PluginServices()
        hostServices.register(EventLoops(eventLoopGroup))
        let upstreams = HostUpstreamService(group: eventLoopGroup)
        var built: [BuiltBlock] = []
        for (index, blockConfiguration) in configuration.servers.enumerated() {
            var builder = ChainBuilder()
            let services = ServiceList()
            for (position, entry) in blockConfiguration.plugins.enumerated() {
                guard let plugin = plugins.first(where: { $0.name == entry.name }) else {
                    let known = plugins.map { $0.name }.sorted().joined(separator: ", ")
                    throw decoder.error(
                        "unknown plugin '\(entry.name)' (known: \(known))",
                        at: entry.nameNode,
                        path: entry.path
                    )
                }
                builder.begin(plugin: entry.name)
                var pluginLogger = logger
                pluginLogger[metadataKey: "plugin"] = "\(entry.name)"
                let context = PluginContext(
                    logger: pluginLogger,
                    metricsPrefix: "swiftlet_\(entry.name)",
                    metricsDimensions: [("server", "\(index)")],
                    baseDirectory: configuration.baseDirectory,
                    stateDirectory: configuration.stateDirectory,
                    addService: { name, service in services.append(name, service) },
                    invalidateCache: { invalidate(index) },
                    upstreams: upstreams,
                    services: hostServices,
                    resizeMessageCache: resizeMessageCache,
                    addAdminRoute: { services.append(route: $0) },
                    state: state,
                    stateKey: "\(index)/\(position)/\(entry.name)/\(ChainFactory.fingerprint(entry.options))",
                    workers: blockConfiguration.workers ?? System.coreCount
                )
                try ChainFactory.setup(plugin, entry: entry, decoder: decoder, context: context, builder: &builder)
            }
            let chain: Chain
            do {
                chain = try builder.build()
            } catch {
                throw ConfigError(
                    file: configuration.source,
                    line: 0,
                    column: 0,
                    keyPath: blockConfiguration.path + ".plugins",
                    message: error.description
                )
            }
            let block = ServerBlock(
                index: index,
                zones: blockConfiguration.zones,
                guards: builder.guards,
                chain: chain,
                observers: builder.observers,
                maxUDPSize: blockConfiguration.maxUDPSize,
                maxInFlight: blockConfiguration.maxInFlight,
                rrsetCache: builder.rrsetCache,
                replyGuards: builder.replyGuards,
                cookies: ChainFactory.cookies(blockConfiguration.cookies)
            )
            built.append(BuiltBlock(block: block, services: services.items, routes: services.routes))
        }
        return built
    }

    /// The secret of blocks not given one: made once per process, so a reload keeps the cookies clients hold.
    static let processCookieSecret = ServerCookies.randomSecret()

    static func cookies(_ configuration: CookieConfiguration) -> ServerCookies? {
        guard configuration.enabled else { return nil }
        return ServerCookies(
            secret: configuration.secret ?? ChainFactory.processCookieSecret,
            previousSecret: configuration.previousSecret,
            lifetime: configuration.secretLifetime
        )
    }

    /// The options as YAML text: equal for equal options however they were written (flow or block style, spacing).
    static func fingerprint(_ options: Node) -> String { (try? Yams.serialize(node: options)) ?? "" }

    /// A block's configuration as it shapes its answers (zones, size, each plugin and its options): two equal ones
    /// answer alike, so a reload keeps that block's fast-path entries.
    static func fingerprint(_ block: ServerBlockConfiguration) -> String {
        let plugins = block.plugins.map { "\($0.name): \(ChainFactory.fingerprint($0.options))" }
        return "zones \(block.zones) udp \(block.maxUDPSize)\n" + plugins.joined(separator: "\n")
    }

    /// Decodes one plugin's options and runs its setup (opens the existential so `Options` is concrete).
    static func setup<P: Plugin>(
        _ plugin: P.Type,
        entry: PluginEntry,
        decoder: ConfigDecoder,
        context: PluginContext,
        builder: inout ChainBuilder
    ) throws {
        let options = try decoder.decode(P.Options.self, from: entry.options, path: entry.path)
        do {
            try P.setup(options, context: context, into: &builder)
        } catch let error as PluginSetupError {
            let path = entry.path + error.option.split(separator: ".").map(String.init)
            let node = ChainFactory.node(for: error.option, in: entry.options) ?? entry.nameNode
            throw decoder.error(error.message, at: node, path: path)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw decoder.error("setup failed: \(error)", at: entry.nameNode, path: entry.path)
        }
    }

    /// The node of an option path like `rules[1].net[0]`, for its position.
    static func node(for option: String, in root: Node) -> Node? {
        var keys: [any CodingKey] = []
        for part in option.split(separator: ".") {
            var name = Substring(part)
            var indexes: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]"),
                let index = Int(name[name.index(after: open)..<name.index(before: name.endIndex)])
            {
                indexes.insert(index, at: 0)
                name = name[..<open]
            }
            keys.append(SimpleKey(String(name)))
            keys += indexes.map { IndexKey($0) as any CodingKey }
        }
        return ConfigDecoder.node(at: keys, in: root)
    }
}

/// Collects services and admin routes during setup (setup closures are @Sendable, so the list is a locked box).
final class ServiceList: @unchecked Sendable {
    private(set) var items: [(String, @Sendable () async -> Void)] = []
    private(set) var routes: [AdminRoute] = []
    private let lock = NSLock()
    func append(_ name: String, _ service: @escaping @Sendable () async -> Void) {
        self.lock.withLock { self.items.append((name, service)) }
    }
    func append(route: AdminRoute) { self.lock.withLock { self.routes.append(route) } }
}
