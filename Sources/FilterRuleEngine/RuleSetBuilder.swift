// RuleSetBuilder: reads lists line by line into a new RuleSet; `$badfilter` is applied once everything is read.

import Pipeline

package struct RuleSetBuilder {
    private var table: NameTable
    private var patternRules: [PatternRule] = []
    private var patternNodes: [(node: PatternNode, id: UInt32)] = []
    private var universal: [Int] = []
    private var modified: [Int: (modifiers: RuleModifiers, text: String)] = [:]
    /// `$badfilter` targets: the text of the rule each one switches off.
    private var badfilters: [String] = []
    private var counts = RuleSet.Counts()
    package let listNames: [String]

    /// - Parameter expectedRules: sizes the hash table up front so loading a big list never rehashes.
    /// Set-element steps the patterns' automata may take to build (`PatternSet.workBudget`).
    package var patternWorkBudget = PatternSet.workBudget

    package init(listNames: [String], expectedRules: Int = 1024) {
        self.listNames = listNames
        self.table = NameTable(expectedNames: expectedRules)
    }

    /// About how many rules `lists` hold: their lines, so the name table is sized once.
    package static func estimatedRules(_ lists: [[UInt8]?]) -> Int {
        var lines = 0
        for list in lists {
            guard let list else { continue }
            for byte in list where byte == UInt8(ascii: "\n") { lines += 1 }
        }
        return max(1024, lines + lists.count)
    }

    /// Adds every line of `bytes` as rules of list `list`. Returns how many rules it added and the skipped lines.
    package mutating func add(list: UInt16, bytes: UnsafeBufferPointer<UInt8>) -> (rules: Int, skipped: SkippedLines) {
        var skipped = SkippedLines()
        var rules = 0
        var lineNumber = 0
        var start = 0
        var scratch: [UInt8] = []
        scratch.reserveCapacity(512)
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
            lineNumber += 1
            let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
            scratch.removeAll(keepingCapacity: true)
            if let flags = RuleParser.fastNames(line, into: &scratch) {
                scratch.withUnsafeBytes { names in
                    var offset = 0
                    while offset < names.count {
                        var next = offset
                        while names[next] != 0 { next += Int(names[next]) + 1 }
                        next += 1
                        let name = UnsafeRawBufferPointer(rebasing: names[offset..<next])
                        if self.insert(name, flags: flags, list: list, line: lineNumber) != nil {
                            rules += 1
                        } else {
                            skipped.add(lineNumber, Self.fullMessage)
                        }
                        offset = next
                    }
                }
                start = end + 1
                continue
            }
            switch RuleParser.parse(line) {
            case .nothing: break
            case .skipped(let reason): skipped.add(lineNumber, reason)
            case .hostNames(let names):
                for name in names {
                    let added = name.wire.withUnsafeBytes {
                        self.insert($0, flags: [.exact, .hosts], list: list, line: lineNumber)
                    }
                    if added != nil {
                        rules += 1
                    } else {
                        skipped.add(lineNumber, Self.fullMessage)
                    }
                }
            case .rule(let rule):
                if self.add(rule, list: list, line: lineNumber, text: line) {
                    rules += 1
                } else {
                    skipped.add(lineNumber, Self.fullMessage)
                }
            }
            start = end + 1
        }
        return (rules, skipped)
    }

    /// Adds the inline rules of the configuration (one string each) to list `list`.
    package mutating func add(list: UInt16, rules: [String]) -> (rules: Int, skipped: SkippedLines) {
        var bytes: [UInt8] = []
        for rule in rules {
            bytes += rule.utf8
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes.withUnsafeBufferPointer { self.add(list: list, bytes: $0) }
    }

    /// Makes list `list` block every name (`on_load_error: fail_closed` for a list that could not be loaded).
    package mutating func blockEverything(list: UInt16, because reason: String) {
        self.universal.append(self.patternRules.count)
        self.patternRules.append(PatternRule(list: list, line: 0, flags: [], modifiers: RuleModifiers(), text: reason))
        self.counts.universalRules += 1
    }

    package static let fullMessage = "the rule set is full (\(NameTable.maxRules) name rules)"

    /// Adds a name rule to the table and counts it; nil when the table is full.
    private mutating func insert(_ name: UnsafeRawBufferPointer, flags: RuleFlags, list: UInt16, line: Int) -> Int? {
        guard let index = self.table.add(name: name, line: UInt32(line), list: list, flags: flags) else { return nil }
        if flags.contains(.subdomains) { self.counts.wildcardRules += 1 } else { self.counts.domainRules += 1 }
        return index
    }

    /// Adds one parsed rule; false when the name table is full.
    private mutating func add(_ rule: ParsedRule, list: UInt16, line: Int, text: UnsafeBufferPointer<UInt8>) -> Bool {
        if let target = rule.badfilterTarget {
            self.badfilters.append(target)
            return true
        }
        switch rule.pattern {
        case .name(let name):
            let added = name.wire.withUnsafeBytes { self.insert($0, flags: rule.flags, list: list, line: line) }
            guard let index = added else { return false }
            if rule.flags.contains(.modified) {
                self.modified[index] = (rule.modifiers, Self.trimmed(text))
            }
        case .pattern(let node):
            let index = self.patternRules.count
            let written = Self.trimmed(text)
            self.patternRules.append(
                PatternRule(list: list, line: UInt32(line), flags: rule.flags, modifiers: rule.modifiers, text: written)
            )
            self.patternNodes.append((node, UInt32(index)))
            if written.hasPrefix("/") || written.hasPrefix("@@/") {
                self.counts.regexRules += 1
            } else {
                self.counts.wildcardRules += 1
            }
        case .everything:
            self.universal.append(self.patternRules.count)
            self.patternRules.append(
                PatternRule(
                    list: list,
                    line: UInt32(line),
                    flags: rule.flags,
                    modifiers: rule.modifiers,
                    text: Self.trimmed(text)
                )
            )
            self.counts.universalRules += 1
        }
        return true
    }

    private static func trimmed(_ text: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: RuleParser.trimmed(text), as: UTF8.self)
    }

    /// Applies `$badfilter`, compiles the patterns, and freezes the set.
    package consuming func build() -> RuleSet {
        var disabledPatterns = Set<Int>()
        for target in self.badfilters {
            // A pattern or universal rule written exactly so.
            for (index, rule) in self.patternRules.enumerated() where rule.text == target {
                self.patternRules[index].flags.insert(.disabled)
                disabledPatterns.insert(index)
            }
            // A name rule: parse the target and switch off the rules of that name with the same meaning.
            let parsed = Array(target.utf8).withUnsafeBufferPointer { RuleParser.parse($0) }
            guard case .rule(let rule) = parsed, case .name(let name) = rule.pattern else { continue }
            name.wire.withUnsafeBytes { wire in
                guard var index = self.table.firstRule(wire, from: 0, hash: NameTable.hash(wire, from: 0)) else {
                    return
                }
                while true {
                    let record = self.table.rules[index]
                    let sameModifiers = self.modified[index]?.modifiers ?? RuleModifiers() == rule.modifiers
                    if record.flags.subtracting([.hosts, .disabled]) == rule.flags && sameModifiers {
                        self.table.setFlags(index, record.flags.union(.disabled))
                    }
                    if record.next == 0 { break }
                    index = Int(record.next) - 1
                }
            }
        }
        let nodes = self.patternNodes.filter { !disabledPatterns.contains(Int($0.id)) }
        let patterns = PatternSet(nodes, workBudget: self.patternWorkBudget)
        // Patterns the automata could not take (too many states, or the work budget spent) never match: switch
        // them off so the rule set says so, and let the caller report them.
        for id in patterns.dropped { self.patternRules[Int(id)].flags.insert(.disabled) }
        return RuleSet(
            table: self.table,
            patterns: patterns,
            patternRules: self.patternRules,
            universalRules: self.universal,
            modifiedRules: self.modified,
            listNames: self.listNames,
            counts: self.counts
        )
    }
}
