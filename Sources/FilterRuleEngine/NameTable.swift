// NameTable: the rule set's names, interned once in one byte arena and found by an open-addressing hash table.

import Pipeline

/// What a name rule says, as bits.
package struct RuleFlags: OptionSet, Sendable, Hashable {
    package let rawValue: UInt8
    package init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Matches the name itself.
    package static let exact = RuleFlags(rawValue: 1 << 0)
    /// Matches every name below it.
    package static let subdomains = RuleFlags(rawValue: 1 << 1)
    /// `@@`: an exception (allow) rule.
    package static let exception = RuleFlags(rawValue: 1 << 2)
    /// `$important`.
    package static let important = RuleFlags(rawValue: 1 << 3)
    /// Has modifiers beyond `$important`, kept in the rule set's side table.
    package static let modified = RuleFlags(rawValue: 1 << 4)
    /// From a hosts-file line (`0.0.0.0 name`).
    package static let hosts = RuleFlags(rawValue: 1 << 5)
    /// Switched off by a `$badfilter` rule.
    package static let disabled = RuleFlags(rawValue: 1 << 6)
}

/// One rule of a name: which list and line it came from, and the next rule of the same name.
package struct NameRule: Sendable {
    /// Offset of the name (uncompressed wire form, lower case) in the arena.
    package var nameOffset: UInt32
    /// The list's line number (1-based).
    package var line: UInt32
    /// The next rule of the same name plus one; 0 ends the chain.
    package var next: UInt32
    package var list: UInt16
    package var flags: RuleFlags
}

/// Names in wire form and the rules that name them. About 50–60 bytes per rule: the name's octets, a 16-byte
/// record and 4-byte hash slots at most 70% full. At most `maxRules` rules.
package struct NameTable: Sendable {
    /// Open addressing, linear probing. A slot is 0 when empty, else `hash8 << 24 | (rule index + 1)`: the 8 tag
    /// bits tell most mismatches apart without touching the arena.
    private(set) var slots: [UInt32]
    private(set) var arena: [UInt8] = []
    private(set) var rules: [NameRule] = []
    private(set) var nameCount = 0
    private var mask: Int

    package init(expectedNames: Int = 16) {
        var capacity = 16
        while capacity * 7 < expectedNames * 10 { capacity *= 2 }
        self.slots = [UInt32](repeating: 0, count: capacity)
        self.mask = capacity - 1
        // Room up front (about 24 octets a name), so a big list is not copied again and again as it grows;
        // the frozen copy (`FrozenNameTable`) holds only what was used.
        self.rules.reserveCapacity(expectedNames)
        self.arena.reserveCapacity(expectedNames * 24)
    }

    /// Rules a table holds at most (24 bits of rule index in a slot).
    package static let maxRules = (1 << 24) - 2

    /// The slot tag of a hash: its top 8 bits, placed above the index bits.
    @inline(__always) package static func tag(_ hash: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: hash >> 56) << 24 }

    package static let hashBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    package static let hashPrime: UInt64 = 0x100_0000_01b3

    /// FNV-1a over the folded octets of `bytes[start...]`, read from the end backwards: a lookup of every suffix of a
    /// name then hashes each octet once, in one backward pass (`RuleSet.match`).
    @inline(__always)
    package static func hash(_ bytes: UnsafeRawBufferPointer, from start: Int) -> UInt64 {
        var hash = Self.hashBasis
        var index = bytes.count - 1
        while index >= start {
            hash = (hash ^ UInt64(DomainName.fold(bytes[index]))) &* Self.hashPrime
            index -= 1
        }
        return hash
    }

    /// Adds a rule for `name` (wire form, any case; the arena keeps it lower-cased). Returns the rule's index, or
    /// nil when the table is full.
    @discardableResult
    package mutating func add(name: UnsafeRawBufferPointer, line: UInt32, list: UInt16, flags: RuleFlags) -> Int? {
        guard self.rules.count < Self.maxRules else { return nil }
        if (self.nameCount + 1) * 10 > self.slots.count * 7 { self.grow() }
        let hash = Self.hash(name, from: 0)
        let (found, slot) = self.withLookup { $0.probe(name, from: 0, hash: hash) }
        if let head = found {
            let index = self.rules.count
            self.rules.append(
                NameRule(
                    nameOffset: self.rules[head].nameOffset,
                    line: line,
                    next: self.rules[head].next,
                    list: list,
                    flags: flags
                )
            )
            self.rules[head].next = UInt32(index + 1)
            return index
        }
        let offset = UInt32(self.arena.count)
        let from = self.arena.count
        self.arena.append(contentsOf: name)
        self.arena.withUnsafeMutableBufferPointer { arena in
            for index in from..<arena.count { arena[index] = DomainName.fold(arena[index]) }
        }
        let index = self.rules.count
        self.rules.append(NameRule(nameOffset: offset, line: line, next: 0, list: list, flags: flags))
        self.slots[slot] = Self.tag(hash) | UInt32(index + 1)
        self.nameCount += 1
        return index
    }

    package mutating func setFlags(_ index: Int, _ flags: RuleFlags) { self.rules[index].flags = flags }

    /// The first rule of the name `name[from...]` (a suffix of a wire-form name), or nil.
    package func firstRule(_ name: UnsafeRawBufferPointer, from start: Int, hash: UInt64) -> Int? {
        self.withLookup { $0.firstRule(name, from: start, hash: hash) }
    }

    /// The table's arrays as buffers, so a lookup of several suffixes retains nothing per probe.
    package struct Lookup {
        let slots: UnsafeBufferPointer<UInt32>
        let arena: UnsafeBufferPointer<UInt8>
        let rules: UnsafeBufferPointer<NameRule>
        let mask: Int

        @inline(__always)
        func firstRule(_ name: UnsafeRawBufferPointer, from start: Int, hash: UInt64) -> Int? {
            self.probe(name, from: start, hash: hash).head
        }

        /// The first rule of the name, or nil and the empty slot where the name would go.
        @inline(__always)
        func probe(_ name: UnsafeRawBufferPointer, from start: Int, hash: UInt64) -> (head: Int?, slot: Int) {
            let tag = NameTable.tag(hash)
            var slot = Int(truncatingIfNeeded: hash) & self.mask
            while true {
                let entry = self.slots[slot]
                if entry == 0 { return (nil, slot) }
                if entry & 0xFF00_0000 == tag {
                    let head = Int(entry & 0x00FF_FFFF) - 1
                    if self.nameEquals(at: Int(self.rules[head].nameOffset), name, from: start) { return (head, slot) }
                }
                slot = (slot + 1) & self.mask
            }
        }

        /// The wire-form name stored at `offset`.
        func name(at offset: Int) -> [UInt8] {
            var end = offset
            while self.arena[end] != 0 { end += Int(self.arena[end]) + 1 }
            return Array(self.arena[offset...end])
        }

        @inline(__always)
        func nameEquals(at offset: Int, _ name: UnsafeRawBufferPointer, from start: Int) -> Bool {
            let length = name.count - start
            guard offset + length <= self.arena.count else { return false }
            for index in 0..<length where self.arena[offset + index] != DomainName.fold(name[start + index]) {
                return false
            }
            return true
        }
    }

    package func withLookup<Result>(_ body: (Lookup) -> Result) -> Result {
        self.slots.withUnsafeBufferPointer { slots in
            self.arena.withUnsafeBufferPointer { arena in
                self.rules.withUnsafeBufferPointer { rules in
                    body(Lookup(slots: slots, arena: arena, rules: rules, mask: self.mask))
                }
            }
        }
    }

    /// The wire-form name stored at `offset`.
    package func name(at offset: Int) -> [UInt8] { self.withLookup { $0.name(at: offset) } }

    private mutating func grow() {
        let old = self.slots
        self.slots = [UInt32](repeating: 0, count: old.count * 2)
        self.mask = self.slots.count - 1
        for entry in old where entry != 0 {
            let head = Int(entry & 0x00FF_FFFF) - 1
            let name = self.name(at: Int(self.rules[head].nameOffset))
            let hash = name.withUnsafeBytes { Self.hash($0, from: 0) }
            var slot = Int(truncatingIfNeeded: hash) & self.mask
            while self.slots[slot] != 0 { slot = (slot + 1) & self.mask }
            self.slots[slot] = entry
        }
    }

}

/// A loaded table's arrays copied into memory this object owns, read through plain pointers: lookups do no
/// reference counting (arrays held in a struct inside a class are retained on every access, a third of a miss's
/// time). Immutable after `init`, hence `@unchecked Sendable`.
package final class FrozenNameTable: @unchecked Sendable {
    package let lookup: NameTable.Lookup
    package let memoryBytes: Int

    package init(_ table: NameTable) {
        self.lookup = NameTable.Lookup(
            slots: .ownedCopy(of: table.slots),
            arena: .ownedCopy(of: table.arena),
            rules: .ownedCopy(of: table.rules),
            mask: table.slots.count - 1
        )
        self.memoryBytes =
            table.slots.count * 4 + table.arena.count + table.rules.count * MemoryLayout<NameRule>.stride
    }

    deinit {
        UnsafeMutableBufferPointer(mutating: self.lookup.slots).deallocate()
        UnsafeMutableBufferPointer(mutating: self.lookup.arena).deallocate()
        UnsafeMutableBufferPointer(mutating: self.lookup.rules).deallocate()
    }

    package var rules: UnsafeBufferPointer<NameRule> { self.lookup.rules }

    /// The wire-form name stored at `offset`.
    package func name(at offset: Int) -> [UInt8] { self.lookup.name(at: offset) }
}

package extension UnsafeBufferPointer {
    /// A copy of `array` in memory the caller owns and must deallocate (frozen rule-set storage).
    static func ownedCopy(of array: [Element]) -> UnsafeBufferPointer<Element> {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: Swift.max(1, array.count))
        _ = buffer.initialize(from: array)
        return UnsafeBufferPointer(rebasing: buffer[0..<array.count])
    }
}
