// FilterPlugin: `- filter: { lists: [...] }`, AdGuard-Home-style block lists with client groups and an admin API.

import Foundation
import FilterRuleEngine
import Pipeline

public enum FilterPlugin: Plugin {
    public static let name = "filter"
    public static let summary =
        "blocks names from hosts, domain and adblock-style lists per client group; answers cached in the fast path"
    public static let optionsHelp: [OptionHelp] = [
        OptionHelp("lists", "[{name, source, refresh}]", "[]", "block lists: files or http(s) URLs (refresh 24h)"),
        OptionHelp("allow", "[rule]", "[]", "inline exception rules (`@@` optional)"),
        OptionHelp("block", "[rule]", "[]", "inline blocking rules"),
        OptionHelp("groups", "[{name, clients, lists}]", "one default group", "client prefixes → the lists they use"),
        OptionHelp("response", "null_ip|nxdomain|nodata|refused|{a, aaaa}", "null_ip", "what a blocked query gets"),
        OptionHelp("ttl", "seconds", "60", "TTL of block answers and their SOA"),
        OptionHelp("block_cname_targets", "bool", "true", "block answers whose CNAME targets are blocked"),
        OptionHelp("on_load_error", "keep_previous|fail_open|fail_closed", "keep_previous", "a list that fails"),
        OptionHelp("reload_interval", "duration", "5s", "how often list files are checked for changes; 0 disables"),
        OptionHelp("max_list_size", "bytes", "67108864", "the largest list accepted"),
        OptionHelp("fetch_timeout", "duration", "30s", "time allowed to fetch one URL list"),
    ]

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
        builder.add(FilterHandler(engine: engine, context: context))
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
