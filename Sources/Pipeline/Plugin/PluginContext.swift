// PluginContext: the host services a plugin gets at setup. A plugin's own signatures use swift-log's Logger and
// swift-metrics' Counter, so the plugin API re-exports both: a third-party plugin imports Pipeline alone.

#if canImport(Glibc)
import Glibc
#endif
@_exported import Logging
@_exported import Metrics

/// Host services handed to a plugin at setup (docs/ARCHITECTURE.md): a logger, metrics, paths, background services, and
/// the message cache's invalidation. Nothing here is global; two instances of a plugin get two contexts.
public struct PluginContext: Sendable {
    public var logger: Logger
    /// Prefix for metric labels, `swiftlet_<plugin>`; dimensions carry the server block.
    public var metricsPrefix: String
    /// Dimensions every metric of this instance carries (the server block's index).
    public var metricsDimensions: [(String, String)]
    /// The directory of the configuration file; relative paths in options are resolved against it.
    public var baseDirectory: String
    /// Where this plugin may keep files that outlive the process (`state_dir`); may not exist yet.
    public var stateDirectory: String
    /// Registers a background service (file watchers, refreshers) that runs while this chain serves and is
    /// cancelled when it is replaced by a reload or the server stops.
    public var addService: @Sendable (_ name: String, _ service: @escaping @Sendable () async -> Void) -> Void
    /// Makes every fast-path cache entry unreachable; call after the plugin's data changed.
    public var invalidateCache: @Sendable () -> Void
    /// The host's upstream I/O: a plugin that asks other servers makes its client here at setup.
    public var upstreams: any UpstreamService
    /// The clock stored answers age by (the serving loop's: a manual one in tests). Network timeouts and round trips
    /// are measured on the monotonic clock itself.
    public var clock: any ServerClock
    /// What else the host offers, found by type (the built-in filter's HTTP client runs on the host's event loops,
    /// `EventLoops`): a plugin that needs a service the host did not register says so at setup.
    public var services: PluginServices
    /// Sets the fast-path message cache's byte budget (the cache plugin's `max_size` covers both cache levels).
    public var resizeMessageCache: @Sendable (Int) -> Void
    /// Adds an endpoint under `/api/` to the admin listener while this chain serves (a reload replaces them).
    public var addAdminRoute: @Sendable (AdminRoute) -> Void
    /// What this plugin instance kept from the chain a reload replaces (`retained`).
    public var state: PluginState
    /// This instance's place in the configuration and its options, as written: state is handed over only to the
    /// same plugin at the same place with the same options.
    public var stateKey: String
    /// How many serving threads take this block's queries per listen address (its UDP workers): a plugin that
    /// keeps state per thread (`Arrival.worker`) makes this many tables.
    public var workers: Int

    public init(
        logger: Logger,
        metricsPrefix: String,
        metricsDimensions: [(String, String)] = [],
        baseDirectory: String = ".",
        stateDirectory: String = "swiftlet-state",
        addService: @escaping @Sendable (String, @escaping @Sendable () async -> Void) -> Void = { _, _ in },
        invalidateCache: @escaping @Sendable () -> Void = {},
        upstreams: any UpstreamService = NoUpstreamService(),
        clock: any ServerClock = MonotonicClock(),
        services: PluginServices = PluginServices(),
        resizeMessageCache: @escaping @Sendable (Int) -> Void = { _ in },
        addAdminRoute: @escaping @Sendable (AdminRoute) -> Void = { _ in },
        state: PluginState = PluginState(),
        stateKey: String = "",
        workers: Int = 1
    ) {
        self.logger = logger
        self.metricsPrefix = metricsPrefix
        self.metricsDimensions = metricsDimensions
        self.baseDirectory = baseDirectory
        self.stateDirectory = stateDirectory
        self.addService = addService
        self.invalidateCache = invalidateCache
        self.upstreams = upstreams
        self.clock = clock
        self.services = services
        self.resizeMessageCache = resizeMessageCache
        self.addAdminRoute = addAdminRoute
        self.state = state
        self.stateKey = stateKey
        self.workers = max(1, workers)
    }

    /// The object `make` builds, or, after a reload that left this plugin's options and place unchanged, the one the
    /// previous chain had under `name`: caches, an infrastructure cache and upstream health survive a SIGHUP.
    public func retained<T: Sendable>(_ name: String, _ make: () throws -> T) rethrows -> T {
        try self.state.retained("\(self.stateKey)/\(name)", make)
    }

    /// Says that this instance's answers come from `paths` as they are now: after a reload, when they are the files
    /// the previous chain read (same size, modification time and inode), the block's fast-path entries stay; when
    /// any differs, or nothing was read before, they are invalidated (a SIGHUP after editing a zone file applies it).
    public func dataLoaded(from paths: [String]) {
        let signature = paths.map { path -> String in
            var info = stat()
            guard stat(path, &info) == 0 else { return "\(path) missing" }
            let modified = "\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            return "\(path) \(info.st_size) \(modified) \(info.st_ino)"
        }.joined(separator: "\n")
        let key = "\(self.stateKey)/data"
        let previous = self.state.previous(key) as? String
        self.state.replace(key, with: signature)
        if previous != signature { self.invalidateCache() }
    }

    /// A counter named `<prefix>_<name>` with this instance's dimensions plus `extra`.
    public func counter(_ name: String, _ extra: [(String, String)] = []) -> Counter {
        Counter(label: "\(self.metricsPrefix)_\(name)", dimensions: self.metricsDimensions + extra)
    }

    /// A gauge named `<prefix>_<name>` with this instance's dimensions.
    public func gauge(_ name: String) -> Gauge {
        Gauge(label: "\(self.metricsPrefix)_\(name)", dimensions: self.metricsDimensions)
    }

    /// `path` made absolute against `baseDirectory`.
    public func resolve(_ path: String) -> String { Self.resolve(path, against: self.baseDirectory) }

    /// `path` made absolute against `directory` (the configuration file's, for every relative path in it).
    public static func resolve(_ path: String, against directory: String) -> String {
        if path.hasPrefix("/") { return path }
        return directory.hasSuffix("/") ? directory + path : directory + "/" + path
    }
}


/// Services the host registers for plugins by type, beyond the context's own fields. A value type: each plugin
/// instance's context carries the host's set.
public struct PluginServices: Sendable {
    private var entries: [ObjectIdentifier: any Sendable] = [:]

    public init() {}

    /// Offers `service` to plugins that ask for `type`.
    public mutating func register<T: Sendable>(_ service: T, as type: T.Type = T.self) {
        self.entries[ObjectIdentifier(type)] = service
    }

    /// The service registered as `type`, if the host offers one.
    public func get<T: Sendable>(_ type: T.Type) -> T? { self.entries[ObjectIdentifier(type)] as? T }
}
