// FilterPlugin: `- filter: { lists: [...] }`, AdGuard-Home-style block lists with client groups and an admin API.

import Foundation
import FilterRuleEngine
import Pipeline

public enum FilterPlugin: Plugin {
    public static let name = "filter"
    public static let summary =
        "blocks names from hosts, domain and adblock-style lists per client group; answers cached in the fast path"

    public static func setup(_ options: FilterOptions, context: PluginContext, into builder: inout ChainBuilder) throws
    {
        guard options.ttl <= 604_800 else { throw PluginSetupError(option: "ttl", "at most 604800 seconds (a week)") }
        guard options.maxListSize > 0 else { throw PluginSetupError(option: "max_list_size", "must be positive") }
        for (index, rule) in (options.block + options.allow).enumerated() {
            if case .skipped(let reason) = Array(rule.utf8).withUnsafeBufferPointer({ RuleParser.parse($0) }) {
                let key = index < options.block.count ? "block[\(index)]" : "allow[\(index - options.block.count)]"
                throw PluginSetupError(option: key, "'\(rule)': \(reason)")
            }
        }
        // The engine, with its lists' bodies and validators, is kept across a reload that leaves these options as
        // they are: nothing is fetched again before it is due, and the cached answers stay.
        let carried = context.state.previous("\(context.stateKey)/engine") is FilterEngine
        let engine = try context.retained("engine") { try FilterEngine(options: options, context: context) }
        if !carried { engine.loadNow() }
        builder.add(guard: FilterGroupGuard(engine: engine))
        builder.add(FilterHandler(engine: engine))
        for route in FilterAPI(engine: engine).routes { context.addAdminRoute(route) }

        let files = engine.paths.compactMap { $0 }
        if !files.isEmpty && options.reloadInterval.nanoseconds > 0 {
            let interval = options.reloadInterval.duration
            context.addService("filter list watcher") {
                await FileWatch.poll(files, every: interval) { _ in await engine.reload(fetch: false) }
            }
        }
        if !engine.urlListIndexes.isEmpty {
            context.addService("filter list fetcher") { await engine.refreshLoop() }
        }
    }
}
