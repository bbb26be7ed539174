// FilterEngine: one filter instance's lists, groups and current rule set; loads and swaps rule sets, and pauses.

import AsyncHTTPClient
import Dispatch
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Pipeline
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A client group compiled: its prefixes and the lists it uses as a bit mask (bit 0: the inline rules).
struct FilterGroup: Sendable {
    var name: String
    var prefixes: [IPPrefix]
    var lists: UInt64
}

/// What is known of one list's last load.
struct ListStatus: Sendable {
    var rules = 0
    var skipped = SkippedLines()
    /// Seconds since 1970 of the last successful load; nil before the first.
    var lastLoad: Double?
    var lastError: String?
    /// A URL list's last good body and its validators, for conditional requests and rebuilds.
    var body: [UInt8]?
    var etag: String?
    var lastModified: String?
}

final class FilterEngine: Sendable {
    let options: FilterOptions
    /// Index 0 is the inline rules ("custom"); list `i` of the options is index `i + 1`.
    let listNames: [String]
    let paths: [String?]
    let groups: [FilterGroup]
    /// The lists every group uses (bit per list): a rule from any other list filters for some groups only.
    let listsOfEveryGroup: UInt64
    let logger: Logger
    let invalidateCache: @Sendable () -> Void
    let eventLoopGroup: any EventLoopGroup

    private let current = Mutex<RuleSet>(.empty)
    private let statuses: Mutex<[ListStatus]>
    private let loadTiming = Mutex<(durationMs: Double, rulesPerSecond: Double)>((0, 0))
    /// Blocking is off until this time (host monotonic nanoseconds); 0 when not paused.
    private let pausedUntil = Atomic<UInt64>(0)
    /// One load at a time; a second caller waits for its turn rather than building a set nobody will keep.
    private let loading = LoadLock()
    private let httpClient = Mutex<HTTPClient?>(nil)

    let reloads: Counter
    let reloadFailures: Counter
    let rulesGauge: Gauge
    let memoryGauge: Gauge

    init(options: FilterOptions, context: PluginContext) throws {
        self.options = options
        self.listNames = ["custom"] + options.lists.map(\.name)
        self.paths = options.lists.map { $0.isURL ? nil : context.resolve($0.source) }
        self.logger = context.logger
        self.invalidateCache = context.invalidateCache
        self.eventLoopGroup = context.eventLoopGroup
        self.statuses = Mutex([ListStatus](repeating: ListStatus(), count: options.lists.count + 1))
        self.reloads = context.counter("reloads_total", [("result", "ok")])
        self.reloadFailures = context.counter("reloads_total", [("result", "error")])
        self.rulesGauge = context.gauge("rules")
        self.memoryGauge = context.gauge("memory_bytes")
        self.groups = try Self.compileGroups(options, listNames: self.listNames)
        self.listsOfEveryGroup = self.groups.reduce(~0) { $0 & $1.lists }
    }

    /// Groups in configuration order, then an implicit `default` group (every list) unless one is configured.
    static func compileGroups(_ options: FilterOptions, listNames: [String]) throws -> [FilterGroup] {
        var seenLists = Set<String>()
        for (index, list) in options.lists.enumerated() {
            guard !list.name.isEmpty, list.name != "custom" else {
                throw PluginSetupError(
                    option: "lists[\(index)].name",
                    "'\(list.name)' is reserved or empty; name the list"
                )
            }
            guard seenLists.insert(list.name).inserted else {
                throw PluginSetupError(option: "lists[\(index)].name", "the list name '\(list.name)' is used twice")
            }
            if !list.isURL && list.source.contains("://") {
                throw PluginSetupError(option: "lists[\(index)].source", "only http:// and https:// URLs are supported")
            }
        }
        guard listNames.count <= 64 else {
            throw PluginSetupError(option: "lists", "at most 63 lists per filter (\(listNames.count - 1) given)")
        }
        let everything: UInt64 = listNames.count == 64 ? ~0 : (1 << UInt64(listNames.count)) - 1
        var groups: [FilterGroup] = []
        // A group is a cache view, and views have 12 bits (`ServerBlock.cacheView`); the default group takes one.
        guard options.groups.count < 4096 else {
            throw PluginSetupError(option: "groups", "at most 4095 groups (\(options.groups.count) given)")
        }
        for (index, group) in options.groups.enumerated() {
            guard !groups.contains(where: { $0.name == group.name }) else {
                throw PluginSetupError(option: "groups[\(index)].name", "the group name '\(group.name)' is used twice")
            }
            var mask: UInt64 = 1
            for (position, name) in group.lists.enumerated() {
                guard let list = listNames.firstIndex(of: name), list > 0 else {
                    throw PluginSetupError(
                        option: "groups[\(index)].lists[\(position)]",
                        "no list named '\(name)' (lists: \(listNames.dropFirst().joined(separator: ", ")))"
                    )
                }
                mask |= 1 << UInt64(list)
            }
            let prefixes = try PluginSetupError.prefixes(group.clients, option: "groups[\(index)].clients")
            groups.append(FilterGroup(name: group.name, prefixes: prefixes, lists: mask))
        }
        if !groups.contains(where: { $0.prefixes.isEmpty }) {
            groups.append(FilterGroup(name: "default", prefixes: [], lists: everything))
        }
        return groups
    }

    /// The group of a client: the one with the longest prefix containing it, else the first catch-all group.
    func groupIndex(of address: IPAddress) -> Int {
        var best = -1
        var bestLength = -1
        for (index, group) in self.groups.enumerated() {
            if group.prefixes.isEmpty {
                if best < 0 { best = index }
                continue
            }
            for prefix in group.prefixes where prefix.length > bestLength && prefix.contains(address) {
                best = index
                bestLength = prefix.length
            }
        }
        return max(best, 0)
    }

    var ruleSet: RuleSet { self.current.withLock { $0 } }

    // MARK: Pause

    /// Seconds of pause left (0 when blocking is on).
    func pauseRemaining(now: UInt64 = Clock.nanoseconds()) -> UInt32 {
        let until = self.pausedUntil.load(ordering: .relaxed)
        guard until > now else { return 0 }
        return UInt32(min(UInt64(UInt32.max), (until - now + 999_999_999) / 1_000_000_000))
    }

    func pause(seconds: UInt32) {
        self.pausedUntil.store(Clock.nanoseconds() + UInt64(seconds) * 1_000_000_000, ordering: .relaxed)
        // Cached block answers must stop; answers cached during the pause expire with it (see the handler).
        self.invalidateCache()
    }

    func resume() {
        self.pausedUntil.store(0, ordering: .relaxed)
        self.invalidateCache()
    }

    // MARK: Loading

    /// Reads every list (files from disk; URLs fetched when `fetch`, else their last body), builds a rule set off
    /// the serving path and swaps it in. Lists that fail follow `on_load_error`.
    /// - Returns: a one-line summary.
    @discardableResult
    func reload(fetch: Bool) async -> String {
        await self.loading.run {
            await self.load(fetch: fetch)
        }
    }

    /// The synchronous first load at setup: files only (URL lists arrive from the refresher).
    func loadFilesNow() {
        let (sources, errors) = self.sources { _ in (nil, nil) }
        _ = self.build(sources: sources, errors: errors, keepOnFailure: false)
    }

    private func load(fetch: Bool) async -> String {
        var fetched: [Int: ([UInt8]?, String?)] = [:]
        for (index, list) in self.options.lists.enumerated() where list.isURL {
            fetched[index] = fetch ? await self.fetch(index) : (self.statuses.withLock { $0[index + 1].body }, nil)
        }
        let (sources, errors) = self.sources { fetched[$0]! }
        return await withCheckedContinuation { continuation in
            // Building a large set takes CPU for a while: off the server's executor and event loops.
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: self.build(sources: sources, errors: errors, keepOnFailure: true))
            }
        }
    }

    /// Every list's bytes, or why there are none: files read now, URL lists from `url`.
    private func sources(url: (Int) -> ([UInt8]?, String?)) -> (sources: [[UInt8]?], errors: [String?]) {
        var sources: [[UInt8]?] = []
        var errors: [String?] = []
        for (index, list) in self.options.lists.enumerated() {
            let (bytes, error) = list.isURL ? url(index) : self.readFile(index)
            sources.append(bytes)
            errors.append(error)
        }
        return (sources, errors)
    }

    private func readFile(_ index: Int) -> ([UInt8]?, String?) {
        guard let path = self.paths[index] else { return (nil, "not a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            return (nil, "cannot read '\(path)'")
        }
        guard data.count <= self.options.maxListSize else {
            return (nil, "'\(path)' is \(data.count) bytes, over max_list_size \(self.options.maxListSize)")
        }
        return ([UInt8](data), nil)
    }

    /// Builds and swaps in a rule set. With `keepOnFailure` and `keep_previous`, a list that failed keeps the whole
    /// current set (its old rules cannot be separated from the others'), and the error is reported.
    private func build(sources: [[UInt8]?], errors: [String?], keepOnFailure: Bool) -> String {
        let failed = errors.enumerated().compactMap { $0.element == nil ? nil : $0.offset }
        for index in failed {
            let message = errors[index]!
            self.logger.error("filter list '\(self.options.lists[index].name)' failed to load: \(message)")
            self.statuses.withLock { $0[index + 1].lastError = message }
        }
        if keepOnFailure && !failed.isEmpty && self.options.onLoadError == .keepPrevious {
            // URL lists keep their last body, so they rebuild from it; a file list cannot.
            if failed.contains(where: { !self.options.lists[$0].isURL || sources[$0] == nil }) {
                self.reloadFailures.increment()
                return
                    "kept the previous rules: \(failed.map { self.options.lists[$0].name }.joined(separator: ", ")) failed to load"
            }
        }
        let started = Clock.nanoseconds()
        var builder = RuleSetBuilder(
            listNames: self.listNames,
            expectedRules: RuleSetBuilder.estimatedRules(sources)
        )
        let inline = self.options.block + self.options.allow.map { $0.hasPrefix("@@") ? $0 : "@@" + $0 }
        let custom = builder.add(list: 0, rules: inline)
        var results: [(rules: Int, skipped: SkippedLines)?] = [custom]
        for (index, source) in sources.enumerated() {
            guard let source else {
                if errors[index] != nil && self.options.onLoadError == .failClosed {
                    builder.blockEverything(list: UInt16(index + 1), because: "(fail_closed: the list did not load)")
                }
                results.append(nil)
                continue
            }
            results.append(source.withUnsafeBufferPointer { builder.add(list: UInt16(index + 1), bytes: $0) })
        }
        let ruleSet = builder.build()
        if !ruleSet.patterns.dropped.isEmpty {
            let examples = ruleSet.patterns.dropped.prefix(3).map { ruleSet.patternRules[Int($0)].text }
            self.logger.warning(
                "\(ruleSet.patterns.dropped.count) pattern rules are too complex to compile and are off, e.g. \(examples)"
            )
        }
        let elapsed = Double(Clock.nanoseconds() - started) / 1e9
        let now = Date().timeIntervalSince1970
        self.statuses.withLock { statuses in
            for (index, result) in results.enumerated() {
                guard let result else { continue }
                statuses[index].rules = result.rules
                statuses[index].skipped = result.skipped
                statuses[index].lastLoad = now
                if index == 0 || errors[index - 1] == nil { statuses[index].lastError = nil }
                for skipped in result.skipped.first.prefix(5) {
                    self.logger.warning(
                        "filter list '\(self.listNames[index])' line \(skipped.line) skipped: \(skipped.reason)"
                    )
                }
            }
        }
        self.loadTiming.withLock {
            $0 = (elapsed * 1000, elapsed > 0 ? Double(ruleSet.totalRules) / elapsed : 0)
        }
        self.current.withLock { $0 = ruleSet }
        self.invalidateCache()
        // The builder's temporary arrays (tens of MB for a big list) are free now; give the pages back to the system
        // instead of keeping them in malloc's free lists.
        Self.releaseFreeMemory()
        self.rulesGauge.record(ruleSet.totalRules)
        self.memoryGauge.record(ruleSet.memoryBytes)
        if failed.isEmpty { self.reloads.increment() } else { self.reloadFailures.increment() }
        let summary =
            "loaded \(ruleSet.totalRules) rules from \(self.options.lists.count) lists in \(Int(elapsed * 1000)) ms"
        self.logger.info("\(summary)")
        return failed.isEmpty
            ? summary : summary + "; failed: \(failed.map { self.options.lists[$0].name }.joined(separator: ", "))"
    }

    /// glibc's `malloc_trim(0)`, looked up at run time (Swift's Glibc module does not declare it).
    static func releaseFreeMemory() {
        #if canImport(Glibc)
        typealias Trim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: Trim.self)(0)
        #endif
    }

    // MARK: URL lists

    /// The HTTP client, made on first use on the host's event loops; shut down by `shutdown()`.
    private func client() -> HTTPClient {
        self.httpClient.withLock { client in
            if let client { return client }
            var configuration = HTTPClient.Configuration()
            configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
            configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
            let made = HTTPClient(eventLoopGroup: self.eventLoopGroup, configuration: configuration)
            client = made
            return made
        }
    }

    func shutdown() async {
        guard
            let client = self.httpClient.withLock({ client -> HTTPClient? in
                defer { client = nil }
                return client
            })
        else { return }
        try? await client.shutdown()
    }

    /// Fetches list `index` with If-None-Match / If-Modified-Since; a 304 keeps the stored body.
    func fetch(_ index: Int) async -> ([UInt8]?, String?) {
        let url = self.options.lists[index].source
        let stored = self.statuses.withLock { $0[index + 1] }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "swiftlet-filter")
        if stored.body != nil {
            if let etag = stored.etag { request.headers.add(name: "If-None-Match", value: etag) }
            if let modified = stored.lastModified { request.headers.add(name: "If-Modified-Since", value: modified) }
        }
        do {
            let response = try await self.client().execute(
                request,
                timeout: .nanoseconds(Int64(self.options.fetchTimeout.nanoseconds))
            )
            if response.status == .notModified, let body = stored.body { return (body, nil) }
            guard response.status == .ok else {
                return (nil, "\(url): HTTP \(response.status.code) \(response.status.reasonPhrase)")
            }
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init),
                length > self.options.maxListSize
            {
                return (nil, "\(url): \(length) bytes, over max_list_size \(self.options.maxListSize)")
            }
            let buffer = try await response.body.collect(upTo: self.options.maxListSize)
            let body = [UInt8](buffer.readableBytesView)
            let etag = response.headers.first(name: "ETag")
            let modified = response.headers.first(name: "Last-Modified")
            self.statuses.withLock {
                $0[index + 1].body = body
                $0[index + 1].etag = etag
                $0[index + 1].lastModified = modified
            }
            return (body, nil)
        } catch is NIOTooManyBytesError {
            return (nil, "\(url): over max_list_size \(self.options.maxListSize) bytes")
        } catch {
            return (nil, "\(url): \(error)")
        }
    }

    // MARK: Stats

    struct ListStats: Encodable {
        var name: String
        var source: String
        var rules: Int
        var skippedLines: Int
        var skippedExamples: [String]
        var lastLoad: String?
        var lastError: String?
    }

    struct Stats: Encodable {
        var domainRulesCount: Int
        var wildcardRulesCount: Int
        var regexRulesCount: Int
        var totalCachedRules: Int
        var enabledListsCount: Int
        var memoryBytes: Int
        var batchedRegexCount: Int
        var batchedPatternsTotal: Int
        var loadDurationMs: Double
        var rulesPerSecond: Double
        var pausedSeconds: UInt32
        var lists: [ListStats]
    }

    func stats() -> Stats {
        let set = self.ruleSet
        let statuses = self.statuses.withLock { $0 }
        let timing = self.loadTiming.withLock { $0 }
        let formatter = ISO8601DateFormatter()
        let sources = ["(inline allow and block)"] + self.options.lists.map(\.source)
        let lists = statuses.enumerated().map { index, status in
            ListStats(
                name: self.listNames[index],
                source: sources[index],
                rules: status.rules,
                skippedLines: status.skipped.count,
                skippedExamples: status.skipped.first.map { "line \($0.line): \($0.reason)" },
                lastLoad: status.lastLoad.map { formatter.string(from: Date(timeIntervalSince1970: $0)) },
                lastError: status.lastError
            )
        }
        return Stats(
            domainRulesCount: set.counts.domainRules,
            wildcardRulesCount: set.counts.wildcardRules,
            regexRulesCount: set.counts.regexRules,
            totalCachedRules: set.totalRules,
            enabledListsCount: statuses.dropFirst().filter { $0.lastLoad != nil && $0.lastError == nil }.count,
            memoryBytes: set.memoryBytes,
            batchedRegexCount: set.patterns.automatonCount,
            batchedPatternsTotal: set.patterns.patternCount,
            loadDurationMs: (timing.durationMs * 10).rounded() / 10,
            rulesPerSecond: timing.rulesPerSecond.rounded(),
            pausedSeconds: self.pauseRemaining(),
            lists: lists
        )
    }
}

/// Runs one async job at a time, in call order.
final class LoadLock: Sendable {
    private let state = Mutex<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func run<T: Sendable>(_ job: @Sendable () async -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = self.state.withLock { state -> Bool in
                if state.busy {
                    state.waiting.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if ready { continuation.resume() }
        }
        let result = await job()
        let next = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
        return result
    }
}
