// ChainBuilder: collects a server block's guards and handlers in the configuration's order.

/// Why a chain could not be built.
public enum ChainBuildError: Error, Equatable, Sendable {
    /// `plugin` must come before (or after) `other`, but the configuration puts them the other way round.
    case order(plugin: String, mustBe: Placement, other: String)

    public enum Placement: String, Sendable {
        case before, after
    }
}

extension ChainBuildError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .order(let plugin, let placement, let other):
            return "plugin '\(plugin)' must come \(placement.rawValue) '\(other)' in the chain"
        }
    }
}

/// Builds one server block's `Chain` and guard list. Plugins add to it in the YAML's order; the order in the file
/// is the order of the chain.
public struct ChainBuilder: Sendable {
    public private(set) var guards: [any Guard] = []
    public private(set) var replyGuards: [any ReplyGuard] = []
    public private(set) var handlers: [any QueryHandler] = []
    public private(set) var names: [String] = []
    public private(set) var observers: [any FastPathObserver] = []
    /// The plugin whose setup is running, so handlers are named after it.
    public var currentPlugin: String = ""
    /// The server block's RRset cache, shared by the plugins that read and fill it: the `cache` plugin creates it,
    /// `recursive` (after it) stores delegations, glue and answers in the same one, or makes its own when alone.
    public var rrsetCache: RRsetCache? = nil
    private var constraints: [(plugin: String, placement: ChainBuildError.Placement, other: String)] = []
    private var pluginOrder: [String] = []

    public init() {}

    public mutating func add(_ handler: any QueryHandler) {
        self.handlers.append(handler)
        self.names.append(self.currentPlugin)
    }

    public mutating func add(guard: any Guard) { self.guards.append(`guard`) }

    public mutating func add(replyGuard: any ReplyGuard) { self.replyGuards.append(replyGuard) }

    public mutating func add(observer: any FastPathObserver) { self.observers.append(observer) }

    /// Declares that the current plugin must run before (or after) `other` when both are in the chain.
    public mutating func require(_ placement: ChainBuildError.Placement, _ other: String) {
        self.constraints.append((self.currentPlugin, placement, other))
    }

    /// Marks the start of a plugin's setup.
    public mutating func begin(plugin: String) {
        self.currentPlugin = plugin
        self.pluginOrder.append(plugin)
    }

    /// The chain, after checking every declared order.
    /// - Throws: `ChainBuildError.order` naming the first violated constraint.
    public func build() throws(ChainBuildError) -> Chain {
        for constraint in self.constraints {
            guard let mine = self.pluginOrder.firstIndex(of: constraint.plugin),
                let theirs = self.pluginOrder.firstIndex(of: constraint.other)
            else { continue }
            let ok = constraint.placement == .before ? mine < theirs : mine > theirs
            if !ok { throw .order(plugin: constraint.plugin, mustBe: constraint.placement, other: constraint.other) }
        }
        return Chain(handlers: self.handlers, names: self.names)
    }
}
