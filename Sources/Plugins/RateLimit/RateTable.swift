// RateTable: a fixed-size table of rate counters keyed by client prefix (and bucket), one per serving thread, with
// the generic cell rate algorithm's single time per entry.

import CSwiftletPrefetch
import Pipeline
import Synchronization

/// A client prefix: the address masked to the configured length, IPv4 in `low` (its 32 bits), IPv6 in both.
struct ClientPrefix: Equatable, Sendable {
    var high: UInt64
    var low: UInt64
    var isIPv6: Bool
    var length: UInt8

    init(_ address: IPAddress, ipv4: Int, ipv6: Int) {
        switch address.unmapped {
        case .v4(let v4):
            let mask: UInt32 = ipv4 == 0 ? 0 : ~UInt32(0) << UInt32(32 - ipv4)
            self.init(high: 0, low: UInt64(v4.rawValue & mask), isIPv6: false, length: UInt8(ipv4))
        case .v6(let v6):
            let highMask: UInt64 = ipv6 == 0 ? 0 : ipv6 >= 64 ? ~0 : ~UInt64(0) << UInt64(64 - ipv6)
            let lowMask: UInt64 = ipv6 <= 64 ? 0 : ipv6 == 128 ? ~0 : ~UInt64(0) << UInt64(128 - ipv6)
            self.init(high: v6.high & highMask, low: v6.low & lowMask, isIPv6: true, length: UInt8(ipv6))
        }
    }

    init(high: UInt64, low: UInt64, isIPv6: Bool, length: UInt8) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
        self.length = length
    }

    var description: String {
        let address: IPAddress =
            self.isIPv6
            ? .v6(IPv6Address(high: self.high, low: self.low)) : .v4(IPv4Address(rawValue: UInt32(truncatingIfNeeded: self.low)))
        return "\(address)/\(self.length)"
    }

    /// A 64-bit key for this prefix and `bucket` (0 for the prefix alone): never 0 (an empty slot's key), its lowest
    /// bit clear (the table's flag).
    func key(kind: UInt64, bucket: UInt64) -> UInt64 {
        var hash = kind &* 0x9E37_79B9_7F4A_7C15 ^ (self.isIPv6 ? 0x6A09_E667_F3BC_C908 : 0)
        @inline(__always) func mix(_ word: UInt64) {
            hash = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 31
        }
        mix(self.high)
        mix(self.low)
        mix(bucket)
        hash = (hash ^ hash >> 29) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 32
        hash &= ~1
        return hash == 0 ? 2 : hash
    }
}

/// The rate of one limit: an emission interval and how far ahead of now a prefix may run (GCRA, as ATM cell policing
/// and most token-bucket limiters do it with one time per entry instead of a count and a refill time).
struct Rate: Sendable {
    /// Nanoseconds one event costs.
    var interval: UInt64
    /// How far the entry's time may run ahead of now and the event still pass: (burst - 1) intervals.
    var tolerance: UInt64
    /// How far ahead an event that did not pass still pushes the entry's time (BIND's RRL `window`); 0: not at all.
    var debtLimit: UInt64

    init(perSecond: Int, burst: Int, window: UInt64 = 0) {
        self.interval = 1_000_000_000 / UInt64(max(1, perSecond))
        self.tolerance = self.interval * UInt64(max(1, burst) - 1)
        self.debtLimit = window
    }
}

/// What a table said of one event.
enum RateVerdict: Equatable {
    case pass
    /// Passed, and ended a run of `limited` events the prefix had had.
    case passAfterLimit(limited: UInt32)
    /// Over the rate: the `count`-th event in a row that did not pass.
    case limited(count: UInt32)

    /// The first limited event of a run, or the first pass after one: what a log line is written for.
    var startsOrEnds: Bool {
        switch self {
        case .pass: return false
        case .passAfterLimit: return true
        case .limited(let count): return count == 1
        }
    }
}

/// One serving thread's counters: `ways`-way sets of entries, a fixed number allocated once. A new key takes an
/// empty entry, else one whose time has passed (it would pass its next event anyway, so nothing is lost), else the
/// one with the earliest time: a flood of spoofed sources, each seen once, evicts itself long before it evicts a
/// prefix being limited, whose time is furthest ahead.
///
/// What every event reads and writes is a slot of 16 octets, so a set is one 64-octet cache line (the slots are
/// allocated on a cache-line boundary): a lookup costs one line whatever the table's size. What only logging needs
/// (the prefix, how many events in a row did not pass) is kept beside, read when a run of limited events starts or
/// ends.
struct RateTable {
    struct Slot {
        /// The key (never 0 for a used slot); its lowest bit says the entry is in a run of limited events.
        var key: UInt64 = 0
        /// The theoretical arrival time (GCRA): events pass while it is at most `tolerance` ahead of now.
        var time: UInt64 = 0
    }

    struct Entry {
        var prefix = ClientPrefix(high: 0, low: 0, isIPv6: false, length: 0)
        /// Events in a row that did not pass; 0 while passing.
        var limited: UInt32 = 0
    }

    /// The slots and entries, allocated once; touched only under the lock of the shard that holds the table.
    final class Storage: @unchecked Sendable {
        let slots: UnsafeMutablePointer<Slot>
        let entries: UnsafeMutablePointer<Entry>
        let count: Int

        init(count: Int) {
            self.count = count
            let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Slot>.stride, alignment: 64)
            self.slots = raw.bindMemory(to: Slot.self, capacity: count)
            self.slots.initialize(repeating: Slot(), count: count)
            self.entries = .allocate(capacity: count)
            self.entries.initialize(repeating: Entry(), count: count)
        }

        deinit {
            self.slots.deinitialize(count: self.count)
            UnsafeMutableRawPointer(self.slots).deallocate()
            self.entries.deinitialize(count: self.count)
            self.entries.deallocate()
        }
    }

    static let ways = 4
    private let storage: Storage
    private let setMask: Int
    /// Entries evicted while they still counted (the table is too small for the traffic).
    private(set) var evictions = 0
    /// The log lines this thread may still write (a GCRA time, like the entries').
    private var logTime: UInt64 = 0

    init(size: Int) {
        var sets = 1
        while sets * RateTable.ways < size { sets <<= 1 }
        self.storage = Storage(count: sets * RateTable.ways)
        self.setMask = sets - 1
    }

    var capacity: Int { self.storage.count }

    /// The slot for `key` (its lowest bit clear), made for `prefix` when missing; with the entry it evicted when that
    /// was in a run of limited events.
    private mutating func slot(_ key: UInt64, prefix: ClientPrefix, now: UInt64) -> (Int, evicted: Entry?) {
        let slots = self.storage.slots
        let base = RateTable.setStart(key, mask: self.setMask)
        var victim = base
        for index in base..<(base + RateTable.ways) {
            if slots[index].key & ~1 == key { return (index, nil) }
            if slots[index].time < slots[victim].time { victim = index }
        }
        let old = slots[victim]
        let evicted = old.key & 1 != 0 ? self.storage.entries[victim] : nil
        if old.key != 0 && old.time > now { self.evictions += 1 }
        slots[victim] = Slot(key: key, time: 0)
        self.storage.entries[victim] = Entry(prefix: prefix, limited: 0)
        return (victim, evicted)
    }

    /// The first slot of each set and the set mask, for `RateTables.Shard.prefetch`.
    var sets: (slots: UnsafeMutablePointer<Slot>, mask: Int) { (self.storage.slots, self.setMask) }

    /// The first slot of `key`'s set.
    static func setStart(_ key: UInt64, mask: Int) -> Int { (Int(truncatingIfNeeded: key >> 32) & mask) * RateTable.ways }

    /// Counts one event of `key` (from `ClientPrefix.key`) at `now` against `rate`.
    mutating func count(_ key: UInt64, prefix: ClientPrefix, now: UInt64, rate: Rate) -> (RateVerdict, evicted: Entry?) {
        let (index, evicted) = self.slot(key, prefix: prefix, now: now)
        let slots = self.storage.slots
        let time = max(slots[index].time, now)
        if time - now <= rate.tolerance {
            slots[index].time = time + rate.interval
            guard slots[index].key & 1 != 0 else { return (.pass, evicted) }
            slots[index].key &= ~1
            let limited = self.storage.entries[index].limited
            self.storage.entries[index].limited = 0
            return (.passAfterLimit(limited: limited), evicted)
        }
        if rate.debtLimit > 0 { slots[index].time = min(time + rate.interval, now + rate.debtLimit) }
        slots[index].key |= 1
        self.storage.entries[index].limited &+= 1
        return (.limited(count: self.storage.entries[index].limited), evicted)
    }

    /// Whether a log line may be written at `now`: ten at once, then one a second.
    mutating func mayLog(now: UInt64) -> Bool {
        let time = max(self.logTime, now)
        guard time - now <= 9 * 1_000_000_000 else { return false }
        self.logTime = time + 1_000_000_000
        return true
    }
}

/// The tables of one limit, one per serving thread, each behind its own lock: a thread takes only its own, so the
/// lock is never contended on the fast path (threads that share a number share a table, correctly).
final class RateTables: Sendable {
    final class Shard: @unchecked Sendable {
        let table: Mutex<RateTable>
        /// The table's slots and set mask, fixed at start, for `prefetch` (which reads nothing).
        private let slots: UnsafeMutablePointer<RateTable.Slot>
        private let mask: Int
        /// Keeps the next shard's lock off this one's cache line.
        private let padding: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

        init(size: Int) {
            let table = RateTable(size: size)
            (self.slots, self.mask) = table.sets
            self.table = Mutex(table)
        }

        /// Asks the CPU to bring `key`'s set into the cache, without the lock and without waiting: `count`, at the
        /// end of the same query, then finds the line there (a load, even unlocked, would be waited for when its
        /// value is used; under the lock, the lock's release waits for it). Reads nothing Swift sees.
        @inline(__always) func prefetch(_ key: UInt64) {
            swiftlet_prefetch(self.slots + RateTable.setStart(key, mask: self.mask))
        }
    }

    let shards: [Shard]

    init(threads: Int, size: Int) { self.shards = (0..<max(1, threads)).map { _ in Shard(size: size) } }

    func shard(_ worker: Int) -> Shard {
        // No division in the common case: a UDP worker's number is below the count.
        let index = worker >= 0 && worker < self.shards.count ? worker : (worker & Int.max) % self.shards.count
        return self.shards[index]
    }
}
