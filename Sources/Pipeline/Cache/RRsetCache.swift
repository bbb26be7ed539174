// RRsetCache: records by (name, type, class) with RFC 2181 trust ranking and RFC 2308 negative entries.

import Synchronization

/// How much a cached RRset is to be believed, RFC 2181 §5.4.1, lowest first. Data of lower trust never replaces
/// unexpired data of higher trust.
public enum Trust: Int, Comparable, Sendable {
    /// Additional-section data (glue): used to reach servers, never given out as an answer.
    case additional = 1
    /// Authority section of a non-authoritative answer (a referral's NS, a forwarder's SOA).
    case authorityNonAuthoritative
    /// Answer section of a non-authoritative answer (what a forwarder gives us).
    case answerNonAuthoritative
    /// Authority section of an authoritative answer.
    case authorityAuthoritative
    /// Answer section of an authoritative answer.
    case answerAuthoritative

    public static func < (lhs: Trust, rhs: Trust) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What the cache knows about one (name, type, class).
public enum RRsetCacheContent: Sendable, Equatable {
    /// The RRset, and the RRSIGs that covered it when it was fetched with DO (nil when fetched without).
    case records([Record], signatures: [Record]?)
    /// The name exists but has no data of this type (RFC 2308 §2.2); the SOA proves it.
    case noData(soa: Record)
    /// The name does not exist (RFC 2308 §2.1); stored under type 0 so every type sees it.
    case nxDomain(soa: Record)
    /// Resolution failed recently (RFC 2308 §7.1: at most 5 minutes; we keep it 5 s).
    case serverFailure
}

/// A looked-up entry: its content with TTLs lowered by its age, and whether it is past its TTL (stale).
public struct RRsetCacheHit: Sendable, Equatable {
    public var content: RRsetCacheContent
    public var trust: Trust
    /// True when the TTL has run out but the entry is still inside its stale window (RFC 8767).
    public var isStale: Bool
    /// Seconds left (0 when stale).
    public var remaining: UInt32
    /// The TTL the entry was stored with, seconds.
    public var originalTTL: UInt32
    /// How many lookups found it (this one included).
    public var hits: Int
    /// When its stale window ends, in nanoseconds of the clock it was stored by: a refresh that stores the same
    /// data again (serve-stale's recheck interval) must not move this (RFC 8767 §5, the maximum stale timer).
    public var staleUntil: UInt64
}

/// The second cache level (the message cache is the first): RRsets and negative answers, shared by `cache` and, later,
/// `recursive` (delegations and glue live here too, at their trust).
///
/// - Complexity: lookup and store are O(1) expected; eviction sweeps at most a shard's slots.
public final class RRsetCache: Sendable {
    public struct Key: Hashable, Sendable {
        public let name: DomainName
        public let type: RecordType
        public let recordClass: RecordClass
        /// The name's (seeded, case-blind) hash, computed once: a lookup hashes the key for its shard and again in
        /// the shard's table, and an answer asks for three keys of one name (NXDOMAIN, the type, CNAME).
        let nameHash: Int

        public init(name: DomainName, type: RecordType, recordClass: RecordClass = .in) {
            // DomainName hashes and compares without regard to case: no lower-cased copy per key.
            self.init(name: name, nameHash: name.hashValue, type: type, recordClass: recordClass)
        }

        private init(name: DomainName, nameHash: Int, type: RecordType, recordClass: RecordClass) {
            self.name = name
            self.nameHash = nameHash
            self.type = type
            self.recordClass = recordClass
        }

        /// The key of `type` at the same name and class, the name not hashed again.
        public func with(type: RecordType) -> Key {
            Key(name: self.name, nameHash: self.nameHash, type: type, recordClass: self.recordClass)
        }

        public static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.type == rhs.type && lhs.recordClass == rhs.recordClass && lhs.nameHash == rhs.nameHash
                && lhs.name == rhs.name
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(self.nameHash)
            hasher.combine(self.type.rawValue)
            hasher.combine(self.recordClass.rawValue)
        }
    }

    struct Entry {
        var content: RRsetCacheContent
        var trust: Trust
        var storedAt: UInt64
        var expiresAt: UInt64
        var staleUntil: UInt64
        var cost: Int
        /// Uses since it was stored (capped at 3), for S3-FIFO.
        var frequency: UInt8 = 0
        var inMain = false
        var hits = 0
    }

    /// A first-in-first-out queue over an array (amortised O(1) push and pop).
    struct FIFO<Element> {
        private var items: [Element] = []
        private var head = 0
        var isEmpty: Bool { self.head >= self.items.count }
        var count: Int { self.items.count - self.head }
        mutating func push(_ item: Element) { self.items.append(item) }
        mutating func pop() -> Element? {
            guard self.head < self.items.count else { return nil }
            defer {
                self.head += 1
                if self.head > 64 && self.head * 2 > self.items.count {
                    self.items.removeFirst(self.head)
                    self.head = 0
                }
            }
            return self.items[self.head]
        }
    }

    /// One shard under S3-FIFO (Yang et al., SOSP 2023): new entries enter a small FIFO (a tenth of the bytes);
    /// leaving it, an entry used since it came in moves to the main FIFO and the others are evicted and remembered
    /// as ghosts; a ghost stored again goes straight to main; main gives used entries another round. One-time names
    /// (a scan, a random-subdomain flood) pass through the small queue without pushing out the names in use.
    struct Shard {
        var entries: [Key: Entry] = [:]
        var small = FIFO<Key>()
        var main = FIFO<Key>()
        var ghosts: Set<Key> = []
        var ghostOrder = FIFO<Key>()
        var bytes = 0
        var smallBytes = 0

        /// Adds or replaces an entry, then evicts until the shard fits `budget`; returns the evictions.
        mutating func put(_ key: Key, _ entry: Entry, budget: Int) -> Int {
            var entry = entry
            if let existing = self.entries[key] {
                self.bytes -= existing.cost
                if !existing.inMain { self.smallBytes -= existing.cost }
                entry.inMain = existing.inMain
                entry.frequency = existing.frequency
            } else if self.ghosts.remove(key) != nil {
                entry.inMain = true
                self.main.push(key)
            } else {
                self.small.push(key)
            }
            self.entries[key] = entry
            self.bytes += entry.cost
            if !entry.inMain { self.smallBytes += entry.cost }
            var evicted = 0
            var steps = 0
            while self.bytes > budget && steps < 4 * (self.small.count + self.main.count) + 8 {
                steps += 1
                if self.smallBytes > budget / 10 || self.main.isEmpty {
                    guard let candidate = self.small.pop() else { break }
                    guard var victim = self.entries[candidate], !victim.inMain, candidate != key || self.main.isEmpty
                    else {
                        continue
                    }
                    if victim.frequency > 0 {
                        victim.inMain = true
                        victim.frequency = 0
                        self.smallBytes -= victim.cost
                        self.entries[candidate] = victim
                        self.main.push(candidate)
                    } else {
                        self.drop(candidate)
                        self.remember(candidate)
                        evicted += 1
                    }
                } else {
                    guard let candidate = self.main.pop() else { break }
                    guard var victim = self.entries[candidate], victim.inMain else { continue }
                    if victim.frequency > 0 {
                        victim.frequency -= 1
                        self.entries[candidate] = victim
                        self.main.push(candidate)
                    } else {
                        self.drop(candidate)
                        evicted += 1
                    }
                }
            }
            return evicted
        }

        /// Removes an entry (eviction, expiry, `remove`).
        mutating func drop(_ key: Key) {
            guard let entry = self.entries.removeValue(forKey: key) else { return }
            self.bytes -= entry.cost
            if !entry.inMain { self.smallBytes -= entry.cost }
        }

        /// Keeps an evicted key as a ghost, as many ghosts as there are entries.
        mutating func remember(_ key: Key) {
            self.ghosts.insert(key)
            self.ghostOrder.push(key)
            while self.ghostOrder.count > max(64, self.entries.count), let old = self.ghostOrder.pop() {
                self.ghosts.remove(old)
            }
        }
    }

    final class ShardBox: Sendable {
        let state = Mutex(Shard())
    }

    /// Bounds on the TTLs of what is stored (the `cache` plugin's `min_ttl`, `max_ttl`, `max_negative_ttl`).
    public struct TTLLimits: Sendable, Equatable {
        public var minimum: UInt32
        public var maximum: UInt32
        public var maxNegative: UInt32
        public init(minimum: UInt32 = 0, maximum: UInt32 = 86400, maxNegative: UInt32 = 3600) {
            self.minimum = minimum
            self.maximum = maximum
            self.maxNegative = maxNegative
        }
    }

    public let maxBytes: Int
    public let ttlLimits: TTLLimits
    private let shards: [ShardBox]
    private let evictions = Atomic<Int>(0)
    /// The shards' bytes summed as they change, so the memory gauge reads one atomic instead of taking every lock.
    private let bytesHeld = Atomic<Int>(0)

    public init(maxBytes: Int = 64 << 20, shardCount: Int = 16, ttlLimits: TTLLimits = TTLLimits()) {
        self.maxBytes = maxBytes
        self.ttlLimits = ttlLimits
        self.shards = (0..<max(1, shardCount)).map { _ in ShardBox() }
    }

    private func shard(_ key: Key) -> ShardBox {
        // By name: all of a name's RRsets share a shard, and the name's hash is already known.
        self.shards[Int(UInt(bitPattern: key.nameHash) % UInt(self.shards.count))]
    }

    /// Runs `body` on the shard of `key` under its lock, keeping `bytesHeld` in step with the shard's bytes.
    private func withShard<Result: Sendable>(_ key: Key, _ body: (inout Shard) -> Result) -> Result {
        self.shard(key).state.withLock { shard -> Result in
            let before = shard.bytes
            defer { if shard.bytes != before { self.bytesHeld.add(shard.bytes - before, ordering: .relaxed) } }
            return body(&shard)
        }
    }

    /// The entry for `key`, with TTLs aged to `now`, or nil when absent or past its stale window.
    public func lookup(_ key: Key, now: UInt64) -> RRsetCacheHit? {
        self.withShard(key) { shard -> RRsetCacheHit? in
            guard var entry = shard.entries[key] else { return nil }
            if now >= entry.staleUntil {
                shard.drop(key)
                return nil
            }
            entry.frequency = min(entry.frequency + 1, 3)
            entry.hits += 1
            shard.entries[key] = entry
            let stale = now >= entry.expiresAt
            let remaining = stale ? 0 : UInt32((entry.expiresAt - now) / 1_000_000_000)
            let age = UInt32(min((now &- entry.storedAt) / 1_000_000_000, UInt64(UInt32.max)))
            return RRsetCacheHit(
                content: RRsetCache.aged(entry.content, by: age),
                trust: entry.trust,
                isStale: stale,
                remaining: remaining,
                originalTTL: UInt32((entry.expiresAt &- entry.storedAt) / 1_000_000_000),
                hits: entry.hits,
                staleUntil: entry.staleUntil
            )
        }
    }

    /// Stores `content` for `ttl` seconds (and `staleWindow` more for serve-stale), unless unexpired data of higher
    /// trust is there. Returns whether it was stored.
    @discardableResult
    public func store(
        _ key: Key,
        _ content: RRsetCacheContent,
        trust: Trust,
        ttl: UInt32,
        staleWindow: UInt32 = 0,
        now: UInt64
    ) -> Bool {
        let cost = RRsetCache.cost(of: content, key: key)
        let entry = Entry(
            content: content,
            trust: trust,
            storedAt: now,
            expiresAt: now &+ UInt64(ttl) * 1_000_000_000,
            staleUntil: now &+ (UInt64(ttl) + UInt64(staleWindow)) * 1_000_000_000,
            cost: cost
        )
        let budget = self.maxBytes / self.shards.count
        return self.withShard(key) { shard -> Bool in
            if let existing = shard.entries[key], existing.trust > trust && now < existing.expiresAt { return false }
            let evicted = shard.put(key, entry, budget: budget)
            if evicted > 0 { self.evictions.add(evicted, ordering: .relaxed) }
            return true
        }
    }

    public func remove(_ key: Key) {
        self.withShard(key) { $0.drop(key) }
    }

    /// Bytes held (the estimate `usage` reports), without locking: for a gauge updated per query.
    public var bytes: Int { self.bytesHeld.load(ordering: .relaxed) }

    /// Bytes held (an estimate: records' wire sizes plus a fixed overhead per entry), entries and evictions.
    public var usage: (bytes: Int, entries: Int, evictions: Int) {
        var bytes = 0
        var entries = 0
        for shard in self.shards {
            shard.state.withLock {
                bytes += $0.bytes
                entries += $0.entries.count
            }
        }
        return (bytes, entries, self.evictions.load(ordering: .relaxed))
    }

    static func cost(of content: RRsetCacheContent, key: Key) -> Int {
        func size(_ records: [Record]) -> Int {
            records.reduce(0) { $0 + 2 * ($1.name.wire.count + $1.rdata.wireBytes.count) + 160 }
        }
        // Per entry beyond the records: the key's name array, the dictionary slot, the entry, its place in a FIFO
        // queue and, after eviction, a ghost (calibrated with `bench/cachemiss.sh`'s bound run).
        let base = 480 + 2 * key.name.wire.count
        switch content {
        case .records(let records, let signatures): return base + size(records) + size(signatures ?? [])
        case .noData(let soa), .nxDomain(let soa): return base + size([soa])
        case .serverFailure: return base
        }
    }

    static func aged(_ content: RRsetCacheContent, by age: UInt32) -> RRsetCacheContent {
        func lower(_ records: [Record]) -> [Record] {
            records.map { record in
                var aged = record
                aged.ttl = record.ttl > age ? record.ttl - age : 0
                return aged
            }
        }
        switch content {
        case .records(let records, let signatures): return .records(lower(records), signatures: signatures.map(lower))
        case .noData(let soa): return .noData(soa: lower([soa])[0])
        case .nxDomain(let soa): return .nxDomain(soa: lower([soa])[0])
        case .serverFailure: return .serverFailure
        }
    }
}
