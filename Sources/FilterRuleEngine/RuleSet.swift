// RuleSet: every list's rules compiled into one immutable set; matching a name reads it without allocating.

import Pipeline

/// A client group compiled: its prefixes and the lists it uses as a bit mask (bit 0: the inline rules). Here, with
/// the rule set that matches against it, so the rules engine builds without the plugin's networking half.
package struct FilterGroup: Sendable {
    package var name: String
    package var prefixes: [IPPrefix]
    package var lists: UInt64

    package init(name: String, prefixes: [IPPrefix], lists: UInt64) {
        self.name = name
        self.prefixes = prefixes
        self.lists = lists
    }
}

/// A rule that is not a plain name: a regular expression, a glob, or one that matches every name.
package struct PatternRule: Sendable {
    package var list: UInt16
    package var line: UInt32
    package var flags: RuleFlags
    package var modifiers: RuleModifiers
    package var text: String
}

/// Which rule decided, and how.
package struct RuleReference: Sendable, Equatable {
    package enum Source: Sendable, Equatable {
        case name(Int)
        case pattern(Int)
    }
    package var source: Source
}

/// The decision for one name.
package struct FilterVerdict: Sendable, Equatable {
    /// True: block. False: an exception rule matched (the name is allowed, and the rule is the reason).
    package var blocked: Bool
    package var rule: RuleReference
}

/// Who is asking, for rules with `$client` and for the group's lists.
package struct MatchContext {
    package var type: RecordType
    package var client: IPAddress
    /// The client's group: its name (for `$client=name`) and the lists it uses (bit per list index).
    package var groupName: String
    package var lists: UInt64

    package init(type: RecordType, client: IPAddress, group: FilterGroup) {
        self.init(type: type, client: client, groupName: group.name, lists: group.lists)
    }

    package init(type: RecordType, client: IPAddress, groupName: String, lists: UInt64) {
        self.type = type
        self.client = client
        self.groupName = groupName
        self.lists = lists
    }

    /// Whether a rule with `modifiers` applies to this query for `name`.
    package func admits(_ modifiers: RuleModifiers, _ name: DomainName) -> Bool {
        modifiers.applies(name: name, type: self.type, client: self.client, group: self.groupName)
    }
}

/// A block list's lines that were skipped: the count and the first few with their reason.
package struct SkippedLines: Sendable {
    package static let kept = 20
    package var count = 0
    package var first: [(line: Int, reason: String)] = []

    package init() {}

    package mutating func add(_ line: Int, _ reason: String) {
        self.count += 1
        if self.first.count < Self.kept { self.first.append((line, reason)) }
    }
}

/// The compiled rules of every list. Built off the serving path, then swapped in whole.
package final class RuleSet: Sendable {
    package let table: FrozenNameTable
    package let patterns: PatternSet
    package let patternRules: [PatternRule]
    /// Indices of `patternRules` that match every name (checked without running the automata).
    package let universalRules: [Int]
    /// Name rules with modifiers: their modifiers and their text as written.
    package let modifiedRules: [Int: (modifiers: RuleModifiers, text: String)]
    /// List names by index; index 0 holds the inline `allow`/`block` rules.
    package let listNames: [String]
    /// Whether any pattern rule can block, and whether any can allow: a name the table did not decide runs the
    /// automata only when they could change the outcome.
    package let patternsMayBlock: Bool
    package let patternsMayAllow: Bool
    package let counts: Counts

    package struct Counts: Sendable, Equatable {
        /// Name rules for one name only (hosts lines, plain domains, `|name^`).
        package var domainRules = 0
        /// Name rules that cover subdomains (`||name^`, `*.name`) and `*` globs.
        package var wildcardRules = 0
        package var regexRules = 0
        /// Rules that match every name, narrowed by modifiers.
        var universalRules = 0
    }

    package var totalRules: Int { self.table.rules.count + self.patternRules.count }

    package init(
        table: NameTable,
        patterns: PatternSet,
        patternRules: [PatternRule],
        universalRules: [Int],
        modifiedRules: [Int: (modifiers: RuleModifiers, text: String)],
        listNames: [String],
        counts: Counts
    ) {
        self.table = FrozenNameTable(table)
        self.patterns = patterns
        self.patternRules = patternRules
        self.universalRules = universalRules
        self.modifiedRules = modifiedRules
        self.listNames = listNames
        self.counts = counts
        let active = patternRules.filter { !$0.flags.contains(.disabled) }
        self.patternsMayBlock = active.contains { !$0.flags.contains(.exception) }
        self.patternsMayAllow = active.contains { $0.flags.contains(.exception) }
    }

    package static let empty = RuleSet(
        table: NameTable(),
        patterns: PatternSet(),
        patternRules: [],
        universalRules: [],
        modifiedRules: [:],
        listNames: ["custom"],
        counts: Counts()
    )

    /// Bytes held by the compiled set.
    package var memoryBytes: Int {
        var bytes = self.table.memoryBytes + self.patterns.memoryBytes
        bytes += self.patternRules.capacity * MemoryLayout<PatternRule>.stride
        bytes += self.patternRules.reduce(0) { $0 + $1.text.utf8.count }
        bytes += self.modifiedRules.count * 128
        return bytes
    }

    /// Rank of a rule's kind: higher wins (AdGuard Home's precedence).
    @inline(__always) package static func rank(_ flags: RuleFlags) -> Int {
        (flags.contains(.important) ? 2 : 0) + (flags.contains(.exception) ? 1 : 0)
    }

    /// The decision for `name` (wire form, any case), or nil when no rule applies.
    ///
    /// Looks up every suffix of the name once (hashed in one backward pass); of the rules of the highest rank, the
    /// one of the longest name wins. The automata run only when they could outrank what the table found.
    package func match(_ name: DomainName, _ context: MatchContext) -> FilterVerdict? {
        var bestRank = -1
        var bestRule = RuleReference(source: .name(0))
        name.wire.withUnsafeBytes { wire in
            (bestRank, bestRule) = self.matchNames(wire, name, context)
            guard bestRank < 3 && (self.patternsMayAllow || (bestRank < 0 && self.patternsMayBlock)) else { return }
            func consider(_ index: Int) {
                let rule = self.patternRules[index]
                guard !rule.flags.contains(.disabled), context.lists & (1 << UInt64(rule.list)) != 0 else { return }
                let rank = Self.rank(rule.flags)
                guard rank > bestRank else { return }
                guard rule.modifiers.isEmpty || context.admits(rule.modifiers, name) else { return }
                bestRank = rank
                bestRule = RuleReference(source: .pattern(index))
            }
            for index in self.universalRules { consider(index) }
            if self.patterns.automatonCount > 0 {
                self.patterns.matches(wire: wire) { consider(Int($0)) }
            }
        }
        guard bestRank >= 0 else { return nil }
        return FilterVerdict(blocked: bestRank & 1 == 0, rule: bestRule)
    }

    /// The name-table part of `match`: the best rank and rule among the suffixes' rules (-1: none). A function of
    /// its own so its loop keeps the hash and position in registers (nothing here is captured by a closure).
    private func matchNames(
        _ wire: UnsafeRawBufferPointer,
        _ name: DomainName,
        _ context: MatchContext
    ) -> (Int, RuleReference) {
        var bestRank = -1
        var bestRule = RuleReference(source: .name(0))
        // Label starts as bits (a name has at most 255 octets), then one backward pass hashes every suffix.
        var labelStarts = InlineArray<4, UInt64>(repeating: 0)
        var position = 0
        while wire[position] != 0 {
            labelStarts[position >> 6] |= 1 << UInt64(position & 63)
            position += Int(wire[position]) + 1
        }
        let table = self.table.lookup
        var hash = NameTable.hashBasis
        var start = wire.count - 1
        while start >= 0 {
            hash = (hash ^ UInt64(DomainName.fold(wire[start]))) &* NameTable.hashPrime
            if labelStarts[start >> 6] & (1 << UInt64(start & 63)) != 0 {
                // Shortest suffix first: a longer one of the same rank replaces it (the most specific wins).
                let kind: RuleFlags = start == 0 ? .exact : .subdomains
                var next = table.firstRule(wire, from: start, hash: hash)
                while let rule = next {
                    let record = table.rules[rule]
                    next = record.next == 0 ? nil : Int(record.next) - 1
                    guard record.flags.contains(kind), !record.flags.contains(.disabled),
                        context.lists & (1 << UInt64(record.list)) != 0
                    else { continue }
                    let rank = Self.rank(record.flags)
                    guard rank >= bestRank else { continue }
                    if record.flags.contains(.modified) {
                        guard context.admits(self.modifiedRules[rule]!.modifiers, name) else { continue }
                    }
                    bestRank = rank
                    bestRule = RuleReference(source: .name(rule))
                }
            }
            start -= 1
        }
        return (bestRank, bestRule)
    }

    // MARK: Reporting

    /// The list a rule came from.
    package func list(of rule: RuleReference) -> String { self.listNames[self.listIndex(of: rule)] }

    /// The rule's modifiers beyond `$important`, if it has any.
    package func modifiers(of rule: RuleReference) -> RuleModifiers? {
        switch rule.source {
        case .name(let index): return self.modifiedRules[index]?.modifiers
        case .pattern(let index): return self.patternRules[index].modifiers
        }
    }

    package func listIndex(of rule: RuleReference) -> Int {
        switch rule.source {
        case .name(let index): return Int(self.table.rules[index].list)
        case .pattern(let index): return Int(self.patternRules[index].list)
        }
    }

    package func line(of rule: RuleReference) -> Int {
        switch rule.source {
        case .name(let index): return Int(self.table.rules[index].line)
        case .pattern(let index): return Int(self.patternRules[index].line)
        }
    }

    /// The rule as text: as written for rules with modifiers and patterns, in canonical form for name rules
    /// (`||name^`, `*.name`, `name`; a hosts line is shown as its name).
    package func text(of rule: RuleReference) -> String {
        switch rule.source {
        case .pattern(let index): return self.patternRules[index].text
        case .name(let index):
            if let modified = self.modifiedRules[index] { return modified.text }
            let record = self.table.rules[index]
            let name = (try? DomainName(wire: self.table.name(at: Int(record.nameOffset))))?.description ?? "."
            return Self.canonicalText(name: String(name.dropLast()), flags: record.flags)
        }
    }

    package static func canonicalText(name: String, flags: RuleFlags) -> String {
        var text = flags.contains(.exception) ? "@@" : ""
        if flags.contains(.subdomains) {
            text += flags.contains(.exact) ? "||\(name)^" : "*.\(name)"
        } else {
            text += name
        }
        if flags.contains(.important) { text += "$important" }
        return text
    }
}
