// Plugin: what a built-in or third-party plugin provides, and the host services it gets at setup.

import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Pipeline
import Synchronization

/// A plugin type: a YAML name, an options type, and a setup that contributes guards and handlers to a chain.
///
/// Options are `Decodable` with a default for every field, so `- name: {}` means all defaults; the host decodes
/// them strictly (unknown keys are errors naming file:line:column and the key path). `setup` validates what
/// decoding cannot (files, ranges, combinations) and throws `PluginSetupError` naming the option.
public protocol Plugin: Sendable {
    associatedtype Options: Decodable & Sendable
    /// The key in the YAML chain (`- hosts: {…}`).
    static var name: String { get }
    /// One line for `swiftlet plugins` and PLUGINS.md.
    static var summary: String { get }
    /// Each option's key, type, default and meaning, for `swiftlet plugins`.
    static var optionsHelp: [OptionHelp] { get }
    static func setup(_ options: Options, context: PluginContext, into builder: inout ChainBuilder) throws
}

/// One line of an option's documentation.
public struct OptionHelp: Sendable {
    public var key: String
    public var type: String
    public var defaultValue: String
    public var meaning: String
    public init(_ key: String, _ type: String, _ defaultValue: String, _ meaning: String) {
        self.key = key
        self.type = type
        self.defaultValue = defaultValue
        self.meaning = meaning
    }
}

/// A setup failure: which option (key path below the plugin) and why.
public struct PluginSetupError: Error, Equatable, Sendable, CustomStringConvertible {
    public var option: String
    public var message: String
    public init(option: String, _ message: String) {
        self.option = option
        self.message = message
    }
    public var description: String { "\(self.option): \(self.message)" }
}

/// Objects plugins keep across a reload: the previous build's, offered by key, and this build's, collected for the
/// next. The host keeps the collected ones only when the reload succeeds.
public final class PluginState: Sendable {
    private let previous: [String: any Sendable]
    private let kept = Mutex<[String: any Sendable]>([:])

    public init(previous: [String: any Sendable] = [:]) { self.previous = previous }

    /// The previous build's object under `key` when it has one of type `T`, else a new one; either way kept for the
    /// next build.
    public func retained<T: Sendable>(_ key: String, _ make: () throws -> T) rethrows -> T {
        let value = try (self.previous[key] as? T) ?? make()
        self.kept.withLock { $0[key] = value }
        return value
    }

    /// The previous build's object under `key`, if any.
    public func previous(_ key: String) -> (any Sendable)? { self.previous[key] }

    /// Keeps `value` under `key` for the next build, whatever was there.
    public func replace(_ key: String, with value: any Sendable) { self.kept.withLock { $0[key] = value } }

    /// What this build kept, for the next one.
    public var collected: [String: any Sendable] { self.kept.withLock { $0 } }
}

/// Host services handed to a plugin at setup (DESIGN §1): a logger, metrics, paths, background services, and the
/// message cache's invalidation. Nothing here is global; two instances of a plugin get two contexts.
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
    /// The event loops for upstream I/O (shared with the host's TCP listeners).
    public var eventLoopGroup: any EventLoopGroup
    /// Sets the fast-path message cache's byte budget (the cache plugin's `max_size` covers both cache levels).
    public var resizeMessageCache: @Sendable (Int) -> Void
    /// Adds an endpoint under `/api/` to the admin listener while this chain serves (a reload replaces them).
    public var addAdminRoute: @Sendable (AdminRoute) -> Void
    /// What this plugin instance kept from the chain a reload replaces (`retained`).
    public var state: PluginState
    /// This instance's place in the configuration and its options, as written: state is handed over only to the
    /// same plugin at the same place with the same options.
    public var stateKey: String

    public init(
        logger: Logger,
        metricsPrefix: String,
        metricsDimensions: [(String, String)] = [],
        baseDirectory: String = ".",
        stateDirectory: String = "swiftlet-state",
        addService: @escaping @Sendable (String, @escaping @Sendable () async -> Void) -> Void = { _, _ in },
        invalidateCache: @escaping @Sendable () -> Void = {},
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        resizeMessageCache: @escaping @Sendable (Int) -> Void = { _ in },
        addAdminRoute: @escaping @Sendable (AdminRoute) -> Void = { _ in },
        state: PluginState = PluginState(),
        stateKey: String = ""
    ) {
        self.logger = logger
        self.metricsPrefix = metricsPrefix
        self.metricsDimensions = metricsDimensions
        self.baseDirectory = baseDirectory
        self.stateDirectory = stateDirectory
        self.addService = addService
        self.invalidateCache = invalidateCache
        self.eventLoopGroup = eventLoopGroup
        self.resizeMessageCache = resizeMessageCache
        self.addAdminRoute = addAdminRoute
        self.state = state
        self.stateKey = stateKey
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
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            let inode = (attributes?[.systemFileNumber] as? NSNumber)?.int64Value ?? -1
            return "\(path) \(size) \(modified) \(inode)"
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

extension PluginSetupError {
    /// Address prefixes from option `option` (`acl.allow`, `zone` `transfer_to`, `filter` group clients), or the
    /// error naming the first bad one.
    public static func prefixes(_ texts: [String], option: String) throws(PluginSetupError) -> [IPPrefix] {
        var prefixes: [IPPrefix] = []
        for (index, text) in texts.enumerated() {
            guard let prefix = IPPrefix(text) else {
                throw PluginSetupError(
                    option: "\(option)[\(index)]",
                    "'\(text)' is not an address prefix like 192.0.2.0/24 or 2001:db8::/32 (host bits must be zero)"
                )
            }
            prefixes.append(prefix)
        }
        return prefixes
    }
}

/// An admin API request as a plugin's route sees it (the host has checked the bearer token already).
public struct AdminRequest: Sendable {
    public var method: String
    public var path: String
    public var body: [UInt8]
    public init(method: String, path: String, body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.body = body
    }
}

/// An admin API response: a status code and a JSON body.
public struct AdminResponse: Sendable, Equatable {
    public var status: Int
    public var body: String
    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

extension AdminResponse {
    /// `value` as JSON (keys sorted, so bodies are stable).
    public static func json(_ status: Int, _ value: some Encodable) -> AdminResponse {
        Self.encoded(status, value, [.sortedKeys])
    }

    /// `{"error": message}`.
    public static func error(_ status: Int, _ message: String) -> AdminResponse {
        Self.encoded(status, ["error": message], [.sortedKeys, .withoutEscapingSlashes])
    }

    private static func encoded(
        _ status: Int,
        _ value: some Encodable,
        _ formatting: JSONEncoder.OutputFormatting
    ) -> AdminResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return AdminResponse(status: status, body: String(decoding: data, as: UTF8.self))
    }
}

/// One endpoint of a plugin's admin API, such as `POST /api/filters/check`.
public struct AdminRoute: Sendable {
    public var method: String
    public var path: String
    public var handler: @Sendable (AdminRequest) async -> AdminResponse
    public init(method: String, path: String, handler: @escaping @Sendable (AdminRequest) async -> AdminResponse) {
        self.method = method
        self.path = path
        self.handler = handler
    }
}
