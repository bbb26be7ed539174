// FilterEngine: one filter instance's lists, groups and current rule set; loads and swaps rule sets, and pauses.

import AsyncHTTPClient
import Dispatch
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import FilterRuleEngine
import Pipeline
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

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
    /// Seconds since 1970 when a URL list's body was last confirmed (fetched, or 304); what its `refresh` counts from.
    var fetchedAt: Double?
    /// Failed fetches in a row and when the last one was tried: the retry backs off from there.
    var failures = 0
    var lastAttempt: Double?
}

/// A URL list's validators and fetch time as kept in the state directory next to its body.
struct StoredListMeta: Codable {
    var url: String
    var etag: String?
    var lastModified: String?
    var fetchedAt: Double
}

/// What fetching a URL list gave.
enum FetchOutcome: Sendable {
    /// 304, or the same bytes as before.
    case unchanged
    /// A new body (kept in the list's status).
    case changed
    case failed(String)
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
    /// Where URL lists' last good bodies are kept (`<state_dir>/filter`).
    let stateDirectory: String

    private let current = Mutex<RuleSet>(.empty)
    private let statuses: Mutex<[ListStatus]>
    private let loadTiming = Mutex<(durationMs: Double, rulesPerSecond: Double)>((0, 0))
    /// Blocking is off until this time (host monotonic nanoseconds); 0 when not paused.
    private let pausedUntil = Atomic<UInt64>(0)
    /// One load at a time; a second caller waits for its turn rather than building a set nobody will keep.
    private let loading = LoadLock()

    /// Every counter of the plugin instance (the handler counts its decisions here too).
    let metrics: FilterMetrics

    init(options: FilterOptions, context: PluginContext) throws {
        self.options = options
        self.listNames = ["custom"] + options.lists.map(\.name)
        self.paths = options.lists.map { $0.isURL ? nil : context.resolve($0.source) }
        self.logger = context.logger
        self.invalidateCache = context.invalidateCache
        self.eventLoopGroup = context.eventLoopGroup
        self.stateDirectory = context.stateDirectory + "/filter"
        self.statuses = Mutex([ListStatus](repeating: ListStatus(), count: options.lists.count + 1))
        self.metrics = FilterMetrics(context)
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
        let client = fetch && !self.urlListIndexes.isEmpty ? self.makeClient() : nil
        let summary = await self.loading.run {
            await self.load(fetch: fetch ? self.urlListIndexes : [], always: true, client: client)
        }
        try? await client?.shutdown()
        return summary
    }

    /// The indexes (into `options.lists`) of the URL lists.
    var urlListIndexes: [Int] { self.options.lists.indices.filter { self.options.lists[$0].isURL } }

    /// The synchronous first load at setup: files, and URL lists from the bodies kept in the state directory (so a
    /// restart without network blocks what it blocked before); the refresher fetches them when they are due.
    func loadNow() {
        self.loadStoredLists()
        let bodies = self.statuses.withLock { $0.map(\.body) }
        let (sources, errors) = self.sources { (bodies[$0 + 1], nil) }
        _ = self.build(sources: sources, errors: errors, keepOnFailure: false)
    }

    /// Fetches the URL lists in `fetch` and rebuilds the rule set when any list's bytes changed, or `always`.
    private func load(fetch: [Int], always: Bool, client: HTTPClient?) async -> String {
        var changed = false
        var failures: [Int: String] = [:]
        for index in fetch {
            guard let client else { break }
            switch await self.fetch(index, client: client) {
            case .unchanged: break
            case .changed: changed = true
            case .failed(let error):
                failures[index] = error
                // A failure with a body kept: keep_previous serves on from that body, nothing to rebuild.
                if self.options.onLoadError != .keepPrevious { changed = true }
            }
        }
        guard changed || always else {
            for (index, error) in failures {
                self.logger.error("filter list '\(self.options.lists[index].name)' failed to load: \(error)")
                self.statuses.withLock { $0[index + 1].lastError = error }
                self.metrics.reloadFailures.increment()
            }
            // Nothing the rule set is made of changed (304s, the same bytes): no rebuild, and the cached answers stay.
            return "unchanged: \(fetch.count) lists checked, none changed"
        }
        let bodies = self.statuses.withLock { $0.map(\.body) }
        let (sources, errors) = self.sources { index in
            // A list that failed: keep_previous keeps the whole current set (build says so), the others drop it or
            // block everything for it.
            if let error = failures[index] { return (nil, error) }
            return (bodies[index + 1], nil)
        }
        return await withCheckedContinuation { continuation in
            // Building a large set takes CPU for a while: off the server's executor and event loops.
            DispatchQueue.global(qos: .utility).async {
                continuation.resume(returning: self.build(sources: sources, errors: errors, keepOnFailure: true))
            }
        }
    }

    /// The refresher: each URL list is fetched when its own `refresh` has passed since it was last confirmed (at
    /// once when it never was); a failed fetch is retried after 10 s, doubling up to the smaller of its `refresh`
    /// and 30 minutes. Runs until cancelled (a reload or stop), then shuts the HTTP client down.
    func refreshLoop() async {
        let indexes = self.urlListIndexes
        let client = self.makeClient()
        while !Task.isCancelled {
            let now = Date().timeIntervalSince1970
            let due = indexes.filter { self.nextFetch($0) <= now }
            if !due.isEmpty { _ = await self.loading.run { await self.load(fetch: due, always: false, client: client) } }
            let next = indexes.map { self.nextFetch($0) }.min() ?? now + 3600
            let wait = max(1, min(next - Date().timeIntervalSince1970, 3600))
            try? await Task.sleep(for: .seconds(wait))
        }
        try? await client.shutdown()
    }

    /// When URL list `index` is next due, in seconds since 1970.
    func nextFetch(_ index: Int) -> Double {
        let status = self.statuses.withLock { $0[index + 1] }
        let refresh = self.options.lists[index].refresh.seconds
        if status.failures > 0, let attempt = status.lastAttempt {
            return attempt + FilterEngine.backoff(failures: status.failures, refresh: refresh)
        }
        guard let fetched = status.fetchedAt else { return 0 }
        return fetched + refresh
    }

    /// Seconds before the next try after `failures` failed fetches in a row.
    static func backoff(failures: Int, refresh: Double) -> Double {
        let cap = min(refresh, 1800)
        return min(10 * pow(2, Double(max(0, failures - 1))), cap)
    }

    // MARK: The state directory

    /// The files list `index`'s body and validators are kept in (named by a hash of its URL).
    func storedFiles(_ index: Int) -> (body: String, meta: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in self.options.lists[index].source.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let name = String(hash, radix: 16)
        return ("\(self.stateDirectory)/\(name).list", "\(self.stateDirectory)/\(name).json")
    }

    /// Reads the kept bodies of the URL lists that have none in memory yet.
    func loadStoredLists() {
        for index in self.urlListIndexes where self.statuses.withLock({ $0[index + 1].body == nil }) {
            let files = self.storedFiles(index)
            guard let data = FileManager.default.contents(atPath: files.meta),
                let meta = try? JSONDecoder().decode(StoredListMeta.self, from: data),
                meta.url == self.options.lists[index].source,
                let body = FileManager.default.contents(atPath: files.body), body.count <= self.options.maxListSize
            else { continue }
            self.statuses.withLock {
                $0[index + 1].body = [UInt8](body)
                $0[index + 1].etag = meta.etag
                $0[index + 1].lastModified = meta.lastModified
                $0[index + 1].fetchedAt = meta.fetchedAt
            }
            self.logger.info("filter list '\(self.options.lists[index].name)' loaded from \(files.body)")
        }
    }

    /// Keeps list `index`'s validators and fetch time in the state directory, and its body too when `body` (a
    /// revalidation leaves the kept body as it is); each file is written whole, then renamed in place.
    func storeList(_ index: Int, body writeBody: Bool) {
        let status = self.statuses.withLock { $0[index + 1] }
        guard let body = status.body, let fetchedAt = status.fetchedAt else { return }
        let files = self.storedFiles(index)
        let meta = StoredListMeta(
            url: self.options.lists[index].source,
            etag: status.etag,
            lastModified: status.lastModified,
            fetchedAt: fetchedAt
        )
        do {
            try FileManager.default.createDirectory(atPath: self.stateDirectory, withIntermediateDirectories: true)
            if writeBody || !FileManager.default.fileExists(atPath: files.body) {
                try Data(body).write(to: URL(fileURLWithPath: files.body), options: .atomic)
            }
            try JSONEncoder().encode(meta).write(to: URL(fileURLWithPath: files.meta), options: .atomic)
        } catch {
            self.logger.warning("cannot keep filter list '\(self.options.lists[index].name)' in \(self.stateDirectory): \(error)")
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
                self.metrics.reloadFailures.increment()
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
        self.metrics.rules.record(ruleSet.totalRules)
        self.metrics.memory.record(ruleSet.memoryBytes)
        if failed.isEmpty { self.metrics.reloads.increment() } else { self.metrics.reloadFailures.increment() }
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

    /// An HTTP client on the host's event loops, for one refresher run or one API reload (each shuts its own down,
    /// so a reload's new refresher never shares a client the old one is closing).
    private func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        return HTTPClient(eventLoopGroup: self.eventLoopGroup, configuration: configuration)
    }

    /// Fetches list `index` with If-None-Match / If-Modified-Since; a 304 keeps the stored body. A new body is kept
    /// in memory and in the state directory; every try is recorded for the backoff.
    func fetch(_ index: Int, client: HTTPClient) async -> FetchOutcome {
        let url = self.options.lists[index].source
        let stored = self.statuses.withLock { $0[index + 1] }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "swiftlet-filter")
        if stored.body != nil {
            if let etag = stored.etag { request.headers.add(name: "If-None-Match", value: etag) }
            if let modified = stored.lastModified { request.headers.add(name: "If-Modified-Since", value: modified) }
        }
        let now = Date().timeIntervalSince1970
        func failed(_ reason: String) -> FetchOutcome {
            self.statuses.withLock {
                $0[index + 1].failures += 1
                $0[index + 1].lastAttempt = now
            }
            return .failed(reason)
        }
        do {
            let response = try await client.execute(
                request,
                timeout: .nanoseconds(Int64(self.options.fetchTimeout.nanoseconds))
            )
            if response.status == .notModified, stored.body != nil {
                self.statuses.withLock {
                    $0[index + 1].fetchedAt = now
                    $0[index + 1].failures = 0
                    $0[index + 1].lastError = nil
                }
                self.storeList(index, body: false)
                return .unchanged
            }
            guard response.status == .ok else {
                return failed("\(url): HTTP \(response.status.code) \(response.status.reasonPhrase)")
            }
            if let length = response.headers.first(name: "Content-Length").flatMap(Int.init),
                length > self.options.maxListSize
            {
                return failed("\(url): \(length) bytes, over max_list_size \(self.options.maxListSize)")
            }
            let buffer = try await response.body.collect(upTo: self.options.maxListSize)
            let body = [UInt8](buffer.readableBytesView)
            let etag = response.headers.first(name: "ETag")
            let modified = response.headers.first(name: "Last-Modified")
            self.statuses.withLock {
                $0[index + 1].body = body
                $0[index + 1].etag = etag
                $0[index + 1].lastModified = modified
                $0[index + 1].fetchedAt = now
                $0[index + 1].failures = 0
                $0[index + 1].lastError = nil
            }
            let changed = body != stored.body
            self.storeList(index, body: changed)
            return changed ? .changed : .unchanged
        } catch is NIOTooManyBytesError {
            return failed("\(url): over max_list_size \(self.options.maxListSize) bytes")
        } catch {
            return failed("\(url): \(error)")
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
