// MessageCache: the fast path's store of encoded answers, looked up straight from a received packet.

import Synchronization

/// Encoded answers keyed by (view, epoch, lower-cased question name, type, class, DO, CD, EDNS present), answered
/// without decoding the query or entering the chain (docs/ARCHITECTURE.md).
///
/// - A hit copies the stored bytes into the caller's buffer, patches the ID, copies the client's question name (its
///   letter case) over the stored one, and lowers every TTL by the entry's age. It compares the full key, never a
///   bare hash, takes one shard lock, and allocates nothing.
/// - Entries never hold TC=1 or SERVFAIL answers, expire at their smallest TTL, and are evicted by CLOCK
///   (second chance) when a shard passes its share of `maxBytes`.
/// - `bumpEpoch()` makes every stored entry unreachable at once, `bumpEpoch(group:)` those of one group of views (one
///   server block: a reload that changed its chain, a data reload); they age out under pressure.
///
/// - Complexity: lookup and store are O(1) expected; eviction sweeps at most a shard's slots.
public final class MessageCache: Sendable {
    private let budget: Atomic<Int>
    /// The byte budget of all shards together.
    public var maxBytes: Int { self.budget.load(ordering: .relaxed) }
    private let shards: [Shard]
    private let shardMask: Int
    /// One epoch per group of views (the top 4 bits of a view: the host's server block), so a reload or a data
    /// change in one block leaves the others' entries reachable.
    private let epochs: [EpochBox]

    final class EpochBox: Sendable {
        let value = Atomic<UInt32>(0)
    }

    /// The byte cost charged per entry on top of its answer and key (slot, arrays' headers, dictionary entry).
    /// Calibrated with `bench/cachemiss.sh`'s bound run: three heap arrays (name, answer, TTL offsets) with their
    /// malloc headers, the slot, and the bucket dictionary's share come to about this much beyond the octets.
    static let entryOverhead = 384
    /// Entries are not stored beyond this many seconds, whatever their TTLs say (RFC 2181 §8 bounds TTLs far higher).
    public static let maximumTTL: UInt32 = 86400 * 7

    /// - Parameters:
    ///   - maxBytes: the budget for all shards together.
    ///   - shardCount: rounded up to a power of two; more shards mean less lock contention between workers.
    public init(maxBytes: Int = 64 << 20, shardCount: Int = 16) {
        var count = 1
        while count < max(1, shardCount) { count <<= 1 }
        self.budget = Atomic(maxBytes)
        self.shardMask = count - 1
        self.shards = (0..<count).map { _ in Shard(budget: maxBytes / count) }
        self.epochs = (0..<MessageCache.viewGroups).map { _ in EpochBox() }
    }

    /// How many groups of views have an epoch of their own (views' top 4 bits).
    public static let viewGroups = 16

    /// The current epoch of `view`'s group; entries stored under another epoch never hit.
    public func epoch(view: UInt16) -> UInt32 {
        self.epochs[Int(view >> 12) & (MessageCache.viewGroups - 1)].value.load(ordering: .acquiring)
    }

    /// Makes every entry unreachable.
    public func bumpEpoch() {
        for box in self.epochs { box.value.add(1, ordering: .releasing) }
    }

    /// Makes the entries of the views whose top 4 bits are `group` unreachable (one server block's chain or data
    /// changed); the other groups' entries stay.
    public func bumpEpoch(group: Int) {
        self.epochs[group & (MessageCache.viewGroups - 1)].value.add(1, ordering: .releasing)
    }

    /// Flag bits of the key.
    struct Flags {
        static let dnssecOK: UInt8 = 1
        static let checkingDisabled: UInt8 = 2
        static let edns: UInt8 = 4
    }

    static func mix(nameHash: UInt64, type: UInt16, recordClass: UInt16, flags: UInt8, view: UInt16) -> UInt64 {
        var hash = nameHash ^ (UInt64(type) << 40 | UInt64(recordClass) << 24 | UInt64(flags) << 16 | UInt64(view))
        hash = (hash ^ (hash >> 33)) &* 0xff51_afd7_ed55_8ccd
        return hash ^ (hash >> 33)
    }

    /// Answers `packet` from the cache into `out`.
    ///
    /// - Parameters:
    ///   - packet: the received query; `request` must have been parsed from it and be a plain query.
    ///   - view: the view the guards chose.
    ///   - now: nanoseconds of the host's monotonic clock.
    ///   - limit: the largest reply the client accepts; a larger stored answer is a miss (the chain truncates).
    ///   - out: where the reply goes; at least `limit` octets.
    /// - Returns: the reply's length, or 0 on a miss.
    public func answer(
        packet: UnsafeRawBufferPointer,
        request: RequestView,
        view: UInt16,
        now: UInt64,
        limit: Int,
        into out: UnsafeMutableRawBufferPointer
    ) -> Int {
        var flags: UInt8 = request.hasEDNS ? Flags.edns : 0
        if request.dnssecOK { flags |= Flags.dnssecOK }
        if request.checkingDisabled { flags |= Flags.checkingDisabled }
        let hash = MessageCache.mix(
            nameHash: request.nameHash,
            type: request.type.rawValue,
            recordClass: request.recordClass.rawValue,
            flags: flags,
            view: view
        )
        let epoch = self.epoch(view: view)
        let shard = self.shards[Int(truncatingIfNeeded: hash) & self.shardMask]
        return shard.state.withLock { state in
            state.answer(
                hash: hash,
                packet: packet,
                request: request,
                flags: flags,
                view: view,
                epoch: epoch,
                now: now,
                limit: min(limit, out.count),
                out: out
            )
        }
    }

    /// Stores an encoded response for `request` (a decoded plain query).
    ///
    /// Refuses TC=1 and SERVFAIL answers, responses to queries with client-subnet options, and anything whose TTL
    /// (the smaller of `maxTTL` and the smallest record TTL) is zero.
    /// - Parameters:
    ///   - response: the encoded response as sent, question and OPT included.
    ///   - ttlOffsets: the offset of each record's TTL in `response` (`Message.Encoded.ttlOffsets`).
    ///   - minimumTTL: the smallest record TTL, nil when there are no records.
    ///   - maxTTL: the producer's cap (`Cacheability.upTo`).
    public func store(
        request: Message,
        view: UInt16,
        response: [UInt8],
        ttlOffsets: [Int],
        minimumTTL: UInt32?,
        maxTTL: UInt32,
        now: UInt64
    ) {
        guard let question = request.question, response.count >= Header.wireSize else { return }
        let responseFlags = UInt16(response[2]) << 8 | UInt16(response[3])
        let rcode = responseFlags & 0x000F
        guard responseFlags & 0x0200 == 0, rcode != ResponseCode.servFail.rawValue else { return }
        if let edns = request.edns, edns.option(.clientSubnet) != nil { return }
        let ttl = min(minimumTTL ?? maxTTL, maxTTL, MessageCache.maximumTTL)
        guard ttl > 0 else { return }
        var flags: UInt8 = request.edns != nil ? Flags.edns : 0
        if request.edns?.dnssecOK == true { flags |= Flags.dnssecOK }
        if request.header.checkingDisabled { flags |= Flags.checkingDisabled }
        let name = question.name.lowercased().wire
        let hash = MessageCache.mix(
            nameHash: question.name.foldedHash,
            type: question.type.rawValue,
            recordClass: question.recordClass.rawValue,
            flags: flags,
            view: view
        )
        let entry = Entry(
            hash: hash,
            name: name,
            type: question.type.rawValue,
            recordClass: question.recordClass.rawValue,
            flags: flags,
            view: view,
            epoch: self.epoch(view: view),
            response: response,
            ttlOffsets: ttlOffsets.map { UInt16($0) },
            insertedAt: now,
            expiresAt: now &+ UInt64(ttl) * 1_000_000_000
        )
        let shard = self.shards[Int(truncatingIfNeeded: hash) & self.shardMask]
        shard.state.withLock { $0.insert(entry) }
    }

    /// Counters over all shards.
    public struct Statistics: Sendable, Equatable {
        public var entries = 0
        public var bytes = 0
        public var hits = 0
        public var misses = 0
        public var evictions = 0
        public var expired = 0
    }

    public var statistics: Statistics {
        var total = Statistics()
        for shard in self.shards {
            shard.state.withLock { state in
                total.entries += state.count
                total.bytes += state.bytes
                total.hits += state.hits
                total.misses += state.misses
                total.evictions += state.evictions
                total.expired += state.expired
            }
        }
        return total
    }

    /// Changes the byte budget (the cache plugin's `max_size`); shards over it shrink as they next store.
    public func resize(maxBytes: Int) {
        self.budget.store(maxBytes, ordering: .relaxed)
        let share = maxBytes / self.shards.count
        for shard in self.shards { shard.state.withLock { $0.budget = share } }
    }

    /// Removes every entry.
    public func removeAll() {
        for shard in self.shards { shard.state.withLock { $0.removeAll() } }
    }
}

extension MessageCache {
    final class Shard: Sendable {
        let state: Mutex<ShardState>
        init(budget: Int) { self.state = Mutex(ShardState(budget: budget)) }
    }

    struct Entry {
        var hash: UInt64
        var name: [UInt8]
        var type: UInt16
        var recordClass: UInt16
        var flags: UInt8
        var view: UInt16
        var epoch: UInt32
        var response: [UInt8]
        var ttlOffsets: [UInt16]
        var insertedAt: UInt64
        var expiresAt: UInt64
        /// CLOCK's reference bit: set on a hit, cleared as the hand passes.
        var referenced = false
        /// The next slot with the same hash bucket, or -1.
        var next: Int32 = -1
        /// False for a free slot.
        var live = true

        /// A free slot's content.
        static let dead = Entry(
            hash: 0,
            name: [],
            type: 0,
            recordClass: 0,
            flags: 0,
            view: 0,
            epoch: 0,
            response: [],
            ttlOffsets: [],
            insertedAt: 0,
            expiresAt: 0,
            referenced: false,
            next: -1,
            live: false
        )

        var cost: Int { self.response.count + self.name.count + self.ttlOffsets.count * 2 + MessageCache.entryOverhead }
    }

    struct ShardState {
        var budget: Int
        /// Entries by slot; a dead slot (`live == false`) is on the free list. Not optionals, so a hit reads fields
        /// in place instead of copying an entry (and retaining its arrays).
        var slots: [Entry] = []
        var free: [Int32] = []
        var buckets: [UInt64: Int32] = [:]
        var hand = 0
        var count = 0
        var bytes = 0
        var hits = 0
        var misses = 0
        var evictions = 0
        var expired = 0

        init(budget: Int) { self.budget = budget }

        mutating func answer(
            hash: UInt64,
            packet: UnsafeRawBufferPointer,
            request: RequestView,
            flags: UInt8,
            view: UInt16,
            epoch: UInt32,
            now: UInt64,
            limit: Int,
            out: UnsafeMutableRawBufferPointer
        ) -> Int {
            guard var slot = self.buckets[hash] else {
                self.misses += 1
                return 0
            }
            while slot >= 0 {
                let index = Int(slot)
                if self.slots[index].type == request.type.rawValue
                    && self.slots[index].recordClass == request.recordClass.rawValue
                    && self.slots[index].flags == flags && self.slots[index].view == view
                    && self.slots[index].epoch == epoch
                    && ShardState.sameName(
                        self.slots[index].name,
                        packet,
                        at: request.nameOffset,
                        length: request.nameLength
                    )
                {
                    return self.reply(from: index, packet: packet, request: request, now: now, limit: limit, out: out)
                }
                slot = self.slots[index].next
            }
            self.misses += 1
            return 0
        }

        static func sameName(_ stored: [UInt8], _ packet: UnsafeRawBufferPointer, at offset: Int, length: Int) -> Bool {
            guard stored.count == length else { return false }
            return stored.withUnsafeBufferPointer { name in
                var index = 0
                while index < length {
                    if name[index] != DomainName.fold(packet[offset + index]) { return false }
                    index += 1
                }
                return true
            }
        }

        private mutating func reply(
            from index: Int,
            packet: UnsafeRawBufferPointer,
            request: RequestView,
            now: UInt64,
            limit: Int,
            out: UnsafeMutableRawBufferPointer
        ) -> Int {
            if now >= self.slots[index].expiresAt {
                self.expired += 1
                self.misses += 1
                self.remove(at: index)
                return 0
            }
            let length = self.slots[index].response.count
            guard length <= limit else {
                self.misses += 1
                return 0
            }
            self.hits += 1
            self.slots[index].referenced = true
            let age = UInt32(min((now &- self.slots[index].insertedAt) / 1_000_000_000, UInt64(UInt32.max)))
            self.slots[index].response.withUnsafeBytes { stored in
                out.baseAddress!.copyMemory(from: stored.baseAddress!, byteCount: length)
            }
            // The client's ID and spelling of the question; names compressed against it follow its case too.
            out[0] = packet[0]
            out[1] = packet[1]
            // RD and CD echo the query (RFC 1035 §4.1.1); the rest of the flags are the stored answer's.
            out[2] = (out[2] & ~0x01) | (packet[2] & 0x01)
            out[3] = (out[3] & ~0x10) | (packet[3] & 0x10)
            let nameOffset = request.nameOffset
            (out.baseAddress! + nameOffset).copyMemory(
                from: packet.baseAddress! + nameOffset,
                byteCount: request.nameLength
            )
            if age > 0 {
                self.slots[index].ttlOffsets.withUnsafeBufferPointer { offsets in
                    for offset in offsets {
                        let at = Int(offset)
                        let ttl =
                            UInt32(out[at]) << 24 | UInt32(out[at + 1]) << 16 | UInt32(out[at + 2]) << 8
                            | UInt32(out[at + 3])
                        let aged = ttl > age ? ttl - age : 0
                        out[at] = UInt8(aged >> 24)
                        out[at + 1] = UInt8(truncatingIfNeeded: aged >> 16)
                        out[at + 2] = UInt8(truncatingIfNeeded: aged >> 8)
                        out[at + 3] = UInt8(truncatingIfNeeded: aged)
                    }
                }
            }
            return length
        }

        mutating func insert(_ entry: Entry) {
            // Replace an entry with the same key.
            if var slot = self.buckets[entry.hash] {
                while slot >= 0 {
                    let index = Int(slot)
                    if self.slots[index].live, self.slots[index].type == entry.type,
                        self.slots[index].recordClass == entry.recordClass, self.slots[index].flags == entry.flags,
                        self.slots[index].view == entry.view, self.slots[index].name == entry.name
                    {
                        self.remove(at: index)
                        break
                    }
                    slot = self.slots[index].next
                }
            }
            let cost = entry.cost
            guard cost <= self.budget else { return }
            while self.bytes + cost > self.budget && self.count > 0 { self.evictOne() }
            var stored = entry
            stored.next = self.buckets[entry.hash] ?? -1
            let index: Int
            if let reused = self.free.popLast() {
                index = Int(reused)
                self.slots[index] = stored
            } else {
                index = self.slots.count
                self.slots.append(stored)
            }
            self.buckets[entry.hash] = Int32(index)
            self.count += 1
            self.bytes += cost
        }

        /// CLOCK: clear reference bits until an unreferenced entry comes under the hand, and evict it.
        mutating func evictOne() {
            guard !self.slots.isEmpty else { return }
            for _ in 0..<(2 * self.slots.count + 1) {
                if self.hand >= self.slots.count { self.hand = 0 }
                let index = self.hand
                self.hand += 1
                guard self.slots[index].live else { continue }
                if self.slots[index].referenced {
                    self.slots[index].referenced = false
                } else {
                    self.evictions += 1
                    self.remove(at: index)
                    return
                }
            }
        }

        mutating func remove(at index: Int) {
            guard self.slots[index].live else { return }
            let hash = self.slots[index].hash
            let next = self.slots[index].next
            // Unlink from the bucket chain.
            if let head = self.buckets[hash] {
                if Int(head) == index {
                    if next >= 0 { self.buckets[hash] = next } else { self.buckets[hash] = nil }
                } else {
                    var previous = Int(head)
                    while self.slots[previous].next >= 0 {
                        if Int(self.slots[previous].next) == index {
                            self.slots[previous].next = next
                            break
                        }
                        previous = Int(self.slots[previous].next)
                    }
                }
            }
            self.count -= 1
            self.bytes -= self.slots[index].cost
            self.slots[index] = Entry.dead
            self.free.append(Int32(index))
        }

        mutating func removeAll() {
            self.slots.removeAll()
            self.free.removeAll()
            self.buckets.removeAll()
            self.hand = 0
            self.count = 0
            self.bytes = 0
        }
    }
}
