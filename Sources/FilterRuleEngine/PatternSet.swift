// PatternSet: the `/regex/` and `*`-glob rules of a rule set compiled into a few DFAs that each read a name once.

/// The alphabet patterns read: a name's octets folded into classes, plus the name's start and end, so `^` and `$`
/// are symbols like any other and one automaton handles anchored and unanchored patterns alike.
package enum PatternSymbol {
    /// a–z, 0–9, `-`, `_`, `.`, every other octet, start, end.
    package static let count = 42
    package static let dot: UInt8 = 38
    package static let other: UInt8 = 39
    package static let begin: UInt8 = 40
    package static let end: UInt8 = 41
    /// The octets of a name (everything but start and end), what `.` matches.
    package static let anyOctet: UInt64 = (1 << 40) - 1
    package static let all: UInt64 = (1 << 42) - 1

    /// Octet → symbol; upper-case letters fold to lower case (names match without regard to case).
    package static let classOf: [UInt8] = (0..<256).map { value in
        let byte = UInt8(value)
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return 26 + byte - UInt8(ascii: "0")
        case UInt8(ascii: "-"): return 36
        case UInt8(ascii: "_"): return 37
        case UInt8(ascii: "."): return dot
        default: return other
        }
    }
}

/// Why a pattern was not compiled.
package struct PatternError: Error, Equatable, CustomStringConvertible {
    package var message: String
    package var description: String { self.message }
}

/// A regular expression's syntax tree over `PatternSymbol`s.
package indirect enum PatternNode: Equatable, Sendable {
    case symbols(UInt64)
    case sequence([PatternNode])
    case choice([PatternNode])
    case repeated(PatternNode, min: Int, max: Int?)

    /// Parses the subset of POSIX ERE / PCRE that block lists use: literals, `.`, `[…]`, `\d \w \s` and their
    /// negations, groups `(…)` and `(?:…)`, `|`, `* + ? {m} {m,} {m,n}` (lazy forms read as greedy: only whether
    /// it matches counts), `^` and `$`. Back-references, look-around and word boundaries are refused.
    package static func parseRegex(_ source: String) throws(PatternError) -> PatternNode {
        // Bounds that keep a hostile list from exhausting the stack (nesting) or memory (repeats of repeats).
        guard source.utf8.count <= Self.maxSourceLength else {
            throw PatternError(message: "longer than \(Self.maxSourceLength) characters")
        }
        var parser = RegexParser(bytes: Array(source.utf8))
        let node = try parser.parseChoice()
        if parser.position < parser.bytes.count { throw PatternError(message: "unbalanced ')'") }
        guard node.estimatedStates <= Self.maxStates else {
            throw PatternError(message: "too complex (over \(Self.maxStates) automaton states)")
        }
        return node
    }

    package static let maxSourceLength = 1024
    package static let maxNesting = 32
    package static let maxStates = 20_000

    /// About how many NFA states the node compiles to (saturating), to refuse blow-ups before building them.
    package var estimatedStates: Int {
        func add(_ a: Int, _ b: Int) -> Int { a > Int.max / 4 || b > Int.max / 4 ? Int.max / 4 : a + b }
        func times(_ a: Int, _ b: Int) -> Int {
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            return overflow || product > Int.max / 4 ? Int.max / 4 : product
        }
        switch self {
        case .symbols: return 1
        case .sequence(let items): return items.reduce(1) { add($0, $1.estimatedStates) }
        case .choice(let branches): return branches.reduce(1) { add($0, $1.estimatedStates) }
        case .repeated(let inner, let min, let max):
            return add(times(inner.estimatedStates + 1, Swift.max(max ?? min + 1, 1)), 1)
        }
    }

    /// Converts an adblock-style pattern (`||ad*.example^`, `|ads.`, `tracker*`) to a node: `*` any octets, `^` the
    /// end of the name (a separator can only be the end inside a host name), `||` the start of a label, `|` the
    /// start or end of the name.
    package static func parseGlob(_ source: Substring) -> PatternNode {
        var items: [PatternNode] = []
        var bytes = Array(source.utf8)[...]
        if bytes.starts(with: "||".utf8) {
            items.append(.choice([.symbols(1 << PatternSymbol.begin), .symbols(1 << UInt64(PatternSymbol.dot))]))
            bytes = bytes.dropFirst(2)
        } else if bytes.first == UInt8(ascii: "|") {
            items.append(.symbols(1 << PatternSymbol.begin))
            bytes = bytes.dropFirst()
        }
        for (offset, byte) in zip(bytes.indices, bytes) {
            switch byte {
            case UInt8(ascii: "*"): items.append(.repeated(.symbols(PatternSymbol.anyOctet), min: 0, max: nil))
            case UInt8(ascii: "^"): items.append(.symbols(1 << PatternSymbol.end))
            case UInt8(ascii: "|") where offset == bytes.endIndex - 1: items.append(.symbols(1 << PatternSymbol.end))
            default: items.append(.symbols(1 << UInt64(PatternSymbol.classOf[Int(byte)])))
            }
        }
        return .sequence(items)
    }
}

private struct RegexParser {
    package let bytes: [UInt8]
    package var position = 0
    package var depth = 0

    package mutating func parseChoice() throws(PatternError) -> PatternNode {
        var branches = [try self.parseSequence()]
        while self.position < self.bytes.count && self.bytes[self.position] == UInt8(ascii: "|") {
            self.position += 1
            branches.append(try self.parseSequence())
        }
        return branches.count == 1 ? branches[0] : .choice(branches)
    }

    package mutating func parseSequence() throws(PatternError) -> PatternNode {
        var items: [PatternNode] = []
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            if byte == UInt8(ascii: "|") || byte == UInt8(ascii: ")") { break }
            var atom = try self.parseAtom()
            atom = try self.parseQuantifiers(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    package mutating func parseQuantifiers(_ atom: PatternNode) throws(PatternError) -> PatternNode {
        var atom = atom
        while self.position < self.bytes.count {
            let byte = self.bytes[self.position]
            let bounds: (Int, Int?)
            switch byte {
            case UInt8(ascii: "*"): bounds = (0, nil)
            case UInt8(ascii: "+"): bounds = (1, nil)
            case UInt8(ascii: "?"): bounds = (0, 1)
            case UInt8(ascii: "{"):
                guard let parsed = self.parseBraces() else { return atom }
                bounds = parsed
            default: return atom
            }
            if byte != UInt8(ascii: "{") { self.position += 1 }
            // A lazy or possessive marker changes which match is found, not whether one is.
            if self.position < self.bytes.count,
                self.bytes[self.position] == UInt8(ascii: "?") || self.bytes[self.position] == UInt8(ascii: "+")
            {
                self.position += 1
            }
            if let max = bounds.1, max < bounds.0 {
                throw PatternError(message: "repeat {\(bounds.0),\(max)} is empty")
            }
            if bounds.0 > 255 || (bounds.1 ?? 0) > 255 { throw PatternError(message: "repeat count over 255") }
            atom = .repeated(atom, min: bounds.0, max: bounds.1)
        }
        return atom
    }

    /// `{m}`, `{m,}`, `{m,n}`; nil (and no input taken) when the brace is a literal.
    package mutating func parseBraces() -> (Int, Int?)? {
        var cursor = self.position + 1
        func number() -> Int? {
            var value: Int? = nil
            while cursor < self.bytes.count, let digit = Int(exactly: self.bytes[cursor]), (48...57).contains(digit) {
                value = min(100_000, (value ?? 0) * 10 + digit - 48)
                cursor += 1
            }
            return value
        }
        guard let low = number() else { return nil }
        var high: Int? = low
        if cursor < self.bytes.count && self.bytes[cursor] == UInt8(ascii: ",") {
            cursor += 1
            high = number()
        }
        guard cursor < self.bytes.count && self.bytes[cursor] == UInt8(ascii: "}") else { return nil }
        self.position = cursor + 1
        return (low, high)
    }

    package mutating func parseAtom() throws(PatternError) -> PatternNode {
        let byte = self.bytes[self.position]
        self.position += 1
        switch byte {
        case UInt8(ascii: "("):
            self.depth += 1
            defer { self.depth -= 1 }
            guard self.depth <= PatternNode.maxNesting else {
                throw PatternError(message: "groups nested deeper than \(PatternNode.maxNesting)")
            }
            if self.position < self.bytes.count && self.bytes[self.position] == UInt8(ascii: "?") {
                guard self.position + 1 < self.bytes.count && self.bytes[self.position + 1] == UInt8(ascii: ":") else {
                    throw PatternError(message: "look-around and named groups are not supported")
                }
                self.position += 2
            }
            let inner = try self.parseChoice()
            guard self.position < self.bytes.count && self.bytes[self.position] == UInt8(ascii: ")") else {
                throw PatternError(message: "unbalanced '('")
            }
            self.position += 1
            return inner
        case UInt8(ascii: "["): return .symbols(try self.parseClass())
        case UInt8(ascii: "."): return .symbols(PatternSymbol.anyOctet)
        case UInt8(ascii: "^"): return .symbols(1 << PatternSymbol.begin)
        case UInt8(ascii: "$"): return .symbols(1 << PatternSymbol.end)
        case UInt8(ascii: "\\"): return .symbols(try self.parseEscape(inClass: false))
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            throw PatternError(message: "'\(Character(Unicode.Scalar(byte)))' has nothing to repeat")
        default: return .symbols(Self.literal(byte))
        }
    }

    package static func literal(_ byte: UInt8) -> UInt64 { 1 << UInt64(PatternSymbol.classOf[Int(byte)]) }

    package static func range(_ low: UInt8, _ high: UInt8) -> UInt64 {
        guard low <= high else { return 0 }
        var set: UInt64 = 0
        for byte in low...high { set |= literal(byte) }
        return set
    }

    package static let digits = range(48, 57)
    package static let word = range(97, 122) | digits | literal(UInt8(ascii: "_"))

    package mutating func parseEscape(inClass: Bool) throws(PatternError) -> UInt64 {
        guard self.position < self.bytes.count else { throw PatternError(message: "trailing backslash") }
        let byte = self.bytes[self.position]
        self.position += 1
        switch byte {
        case UInt8(ascii: "d"): return Self.digits
        case UInt8(ascii: "D"): return PatternSymbol.anyOctet & ~Self.digits
        case UInt8(ascii: "w"): return Self.word
        case UInt8(ascii: "W"): return PatternSymbol.anyOctet & ~Self.word
        // Host names hold no white space: \s matches nothing there, \S everything.
        case UInt8(ascii: "s"): return 1 << UInt64(PatternSymbol.other)
        case UInt8(ascii: "S"): return PatternSymbol.anyOctet
        case UInt8(ascii: "b"), UInt8(ascii: "B"), UInt8(ascii: "A"), UInt8(ascii: "z"), UInt8(ascii: "Z"):
            if inClass { return Self.literal(byte) }
            throw PatternError(message: "'\\\(Character(Unicode.Scalar(byte)))' (an assertion) is not supported")
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            throw PatternError(message: "back-references are not supported")
        default: return Self.literal(byte)
        }
    }

    package mutating func parseClass() throws(PatternError) -> UInt64 {
        var negated = false
        if self.position < self.bytes.count && self.bytes[self.position] == UInt8(ascii: "^") {
            negated = true
            self.position += 1
        }
        var set: UInt64 = 0
        var first = true
        while true {
            guard self.position < self.bytes.count else { throw PatternError(message: "unbalanced '['") }
            let byte = self.bytes[self.position]
            if byte == UInt8(ascii: "]") && !first {
                self.position += 1
                break
            }
            first = false
            self.position += 1
            if byte == UInt8(ascii: "\\") {
                set |= try self.parseEscape(inClass: true)
                continue
            }
            if self.position + 1 < self.bytes.count && self.bytes[self.position] == UInt8(ascii: "-")
                && self.bytes[self.position + 1] != UInt8(ascii: "]")
            {
                let high = self.bytes[self.position + 1]
                self.position += 2
                guard byte <= high else { throw PatternError(message: "range out of order in '[…]'") }
                // Letters fold to lower case, so [A-Z] means [a-z].
                set |= Self.range(byte, high)
                continue
            }
            set |= Self.literal(byte)
        }
        return negated ? PatternSymbol.anyOctet & ~set : set
    }
}

/// A set of patterns compiled to deterministic automata. Immutable once built; `matches` reads only arrays and
/// never allocates.
package struct PatternSet: Sendable {
    /// One DFA: `transitions[state * PatternSymbol.count + symbol]` is the next state, negated when that state
    /// accepts; state 0 is dead.
    package struct Automaton: Sendable {
        var transitions: [Int32]
        /// For each state, the range of `accepting` that lists the patterns a match ends at.
        var acceptStart: [Int32]
        var acceptCount: [UInt8]
        var accepting: [UInt32]
        var start: Int32
        /// True when every pattern is anchored at the start (`^`): back in the start state after the first symbol,
        /// nothing can match any more, so the walk stops.
        var idleIsDead: Bool
    }

    /// The automata, flattened into memory the storage owns (read without reference counting per query).
    private(set) var storage = AutomataStorage([])
    /// Patterns across every automaton.
    package private(set) var patternCount = 0
    package var automatonCount: Int { self.storage.headers.count }

    /// DFA states in one automaton, at most: a batch that grows past it is split in two.
    package static let stateLimit = 60_000
    /// Patterns tried in one automaton before the state limit decides.
    package static let batchSize = 2048

    package init() {}

    /// Compiles `patterns` (each with the caller's id) into as few automata as `stateLimit` allows.
    package init(
        _ patterns: [(node: PatternNode, id: UInt32)],
        stateLimit: Int = PatternSet.stateLimit,
        workBudget: Int = PatternSet.workBudget
    ) {
        var automata: [Automaton] = []
        defer { self.storage = AutomataStorage(automata) }
        var budget = workBudget
        var pending = patterns[...]
        while !pending.isEmpty && budget > 0 {
            var size = min(Self.batchSize, pending.count)
            while budget > 0 {
                if let automaton = Self.compile(pending.prefix(size), stateLimit: stateLimit, budget: &budget) {
                    automata.append(automaton)
                    self.patternCount += size
                    pending = pending.dropFirst(size)
                    break
                }
                if size == 1 {
                    // A single pattern over the limit: drop it rather than build an unbounded machine.
                    self.dropped.append(pending.first!.id)
                    pending = pending.dropFirst()
                    break
                }
                size /= 2
            }
        }
        // Out of budget (a list of pathological patterns): what is left is not compiled, and is reported.
        self.dropped += pending.map(\.id)
    }

    /// Ids of patterns that were not compiled: over the state limit alone, or past the work budget.
    package private(set) var dropped: [UInt32] = []

    /// Set-element steps the construction of one set may take (about a second of CPU at worst), so a hostile list
    /// cannot hold a load for minutes.
    package static let workBudget = 100_000_000

    /// Runs every automaton over `wire` (an uncompressed wire-form name, read as its presentation form without the
    /// final dot: label lengths after the first read as `.`) and calls `found` with each matching pattern's id.
    package func matches(wire: UnsafeRawBufferPointer, _ found: (UInt32) -> Void) {
        let storage = self.storage
        let classes = storage.classes
        for header in storage.headers {
            let table = storage.transitions.baseAddress! + header.transitionBase
            var state = Int(header.start)
            // Accepting states are stored negated, so the common step is one load and a sign test.
            @inline(__always) func step(_ symbol: UInt8) -> Bool {
                var next = Int(table[state * PatternSymbol.count + Int(symbol)])
                if next < 0 {
                    next = -next
                    let first = Int(storage.acceptStart[header.stateBase + next])
                    for index in first..<(first + Int(storage.acceptCount[header.stateBase + next])) {
                        found(storage.accepting[index])
                    }
                }
                state = next
                return next != 0
            }
            guard step(PatternSymbol.begin) else { continue }
            let start = Int(header.start)
            var index = 0
            var alive = true
            labels: while alive {
                let length = Int(wire[index])
                if length == 0 { break }
                if index > 0 && !step(PatternSymbol.dot) {
                    alive = false
                    break
                }
                for offset in (index + 1)...(index + length) {
                    if header.idleIsDead && state == start || !step(classes[Int(wire[offset])]) {
                        alive = false
                        break labels
                    }
                }
                index += length + 1
            }
            if alive { _ = step(PatternSymbol.end) }
        }
    }

    /// The memory the automata hold, in bytes.
    package var memoryBytes: Int { self.storage.memoryBytes }

    // MARK: Construction

    /// A Thompson NFA: symbol edges (at most one per state) and ε edges.
    private struct NFA {
        var symbols: [UInt64] = []
        var next: [Int32] = []
        var epsilon: [[Int32]] = []
        var accepts: [UInt32?] = []

        mutating func add(symbols: UInt64 = 0, next: Int32 = -1) -> Int32 {
            self.symbols.append(symbols)
            self.next.append(next)
            self.epsilon.append([])
            self.accepts.append(nil)
            return Int32(self.symbols.count - 1)
        }

        /// Compiles `node` so that it continues to `follow`; returns its entry state.
        mutating func compile(_ node: PatternNode, then follow: Int32) -> Int32 {
            switch node {
            case .symbols(let set): return self.add(symbols: set, next: follow)
            case .sequence(let items):
                var entry = follow
                for item in items.reversed() { entry = self.compile(item, then: entry) }
                if items.isEmpty {
                    let state = self.add()
                    self.epsilon[Int(state)] = [follow]
                    return state
                }
                return entry
            case .choice(let branches):
                let split = self.add()
                self.epsilon[Int(split)] = branches.map { self.compile($0, then: follow) }
                return split
            case .repeated(let inner, let min, let max):
                var entry = follow
                if let max {
                    for _ in 0..<(max - min) {
                        let split = self.add()
                        self.epsilon[Int(split)] = [self.compile(inner, then: entry), follow]
                        entry = split
                    }
                } else {
                    let loop = self.add()
                    self.epsilon[Int(loop)] = [self.compile(inner, then: loop), entry]
                    entry = loop
                }
                for _ in 0..<min { entry = self.compile(inner, then: entry) }
                return entry
            }
        }

        /// Appends the states `states` reach on the symbol `bit` (unmarked ones, outside `skip`), marking them.
        func move(
            _ states: [Int32],
            on bit: UInt64,
            into target: inout [Int32],
            marks: inout [UInt32],
            generation: UInt32,
            skip: [Bool]
        ) {
            for state in states where self.symbols[Int(state)] & bit != 0 {
                let next = self.next[Int(state)]
                if !skip[Int(next)] && marks[Int(next)] != generation {
                    marks[Int(next)] = generation
                    target.append(next)
                }
            }
        }

        /// Adds to `states` everything they reach by ε edges, except states in `skip` (the root's closure, which
        /// every DFA state holds implicitly).
        func closure(_ states: inout [Int32], marks: inout [UInt32], generation: UInt32, skip: [Bool]) {
            var stack = states
            while let state = stack.popLast() {
                for target in self.epsilon[Int(state)] where marks[Int(target)] != generation && !skip[Int(target)] {
                    marks[Int(target)] = generation
                    states.append(target)
                    stack.append(target)
                }
            }
        }
    }

    /// Subset construction; nil when the automaton would pass `stateLimit`.
    private static func compile(
        _ patterns: ArraySlice<(node: PatternNode, id: UInt32)>,
        stateLimit: Int,
        budget: inout Int
    ) -> Automaton? {
        var nfa = NFA()
        // The root loops on every symbol and enters every pattern: a match may start anywhere (`^` is a symbol).
        let root = nfa.add(symbols: PatternSymbol.all)
        nfa.next[Int(root)] = root
        var entries: [Int32] = []
        for pattern in patterns {
            let accept = nfa.add()
            nfa.accepts[Int(accept)] = pattern.id
            entries.append(nfa.compile(pattern.node, then: accept))
            if nfa.symbols.count > 200_000 { return nil }
        }
        nfa.epsilon[Int(root)] = entries
        // Every DFA state holds the root's closure R (the root loops on every symbol), so states are keyed by what
        // they hold beyond R, and R's moves are computed once per symbol.
        var marks = [UInt32](repeating: 0, count: nfa.symbols.count)
        var generation: UInt32 = 1
        var inRoot = [Bool](repeating: false, count: nfa.symbols.count)
        var rootSet: [Int32] = [root]
        inRoot[Int(root)] = true
        nfa.closure(&rootSet, marks: &marks, generation: generation, skip: inRoot)
        for state in rootSet { inRoot[Int(state)] = true }
        if rootSet.contains(where: { nfa.accepts[Int($0)] != nil }) { return nil }
        var rootMoves: [[Int32]] = []
        for symbol in 0..<PatternSymbol.count {
            let bit = UInt64(1) << UInt64(symbol)
            generation &+= 1
            var target: [Int32] = []
            nfa.move(rootSet, on: bit, into: &target, marks: &marks, generation: generation, skip: inRoot)
            nfa.closure(&target, marks: &marks, generation: generation, skip: inRoot)
            rootMoves.append(target)
        }

        // State 0 is dead (never reached while the root lives, kept so 0 can mean "none"); state 1 is R alone.
        var index: [[Int32]: Int32] = [[]: 1]
        var sets: [[Int32]] = [[], []]
        var transitions = [Int32](repeating: 0, count: 2 * PatternSymbol.count)
        var acceptStart: [Int32] = [0, 0]
        var acceptCount: [UInt8] = [0, 0]
        var accepting: [UInt32] = []
        var work = 1
        // Many symbols move a state the same way (every letter through `[a-z]+`): the states a symbol moves
        // (before closure) are its signature, and a repeated signature reuses the target already found.
        var targetBySignature: [[Int32]: Int32] = [:]
        while work < sets.count {
            let current = sets[work]
            budget -= PatternSymbol.count * (current.count + 1)
            if budget <= 0 { return nil }
            targetBySignature.removeAll(keepingCapacity: true)
            for symbol in 0..<PatternSymbol.count {
                // The name's start is only ever the first symbol: no other state needs a move on it.
                if symbol == Int(PatternSymbol.begin) && work != 1 { continue }
                let bit = UInt64(1) << UInt64(symbol)
                generation &+= 1
                var target = rootMoves[symbol]
                for state in target { marks[Int(state)] = generation }
                var added: [Int32] = []
                nfa.move(current, on: bit, into: &added, marks: &marks, generation: generation, skip: inRoot)
                // Root moves differ per symbol too, so they are part of the signature (as a marker index).
                var signature = added
                signature.append(-1 - Int32(symbol))
                if rootMoves[symbol].isEmpty { signature.removeLast() }
                if let known = targetBySignature[signature] {
                    transitions[work * PatternSymbol.count + symbol] = known
                    continue
                }
                nfa.closure(&added, marks: &marks, generation: generation, skip: inRoot)
                target += added
                target.sort()
                let id: Int32
                if let known = index[target] {
                    id = known
                } else {
                    guard sets.count < stateLimit else { return nil }
                    id = Int32(sets.count)
                    index[target] = id
                    sets.append(target)
                    transitions.append(contentsOf: repeatElement(0, count: PatternSymbol.count))
                    let accepted = target.compactMap { nfa.accepts[Int($0)] }
                    acceptStart.append(Int32(accepting.count))
                    acceptCount.append(UInt8(min(accepted.count, 255)))
                    accepting.append(contentsOf: accepted.prefix(255))
                }
                let encoded = acceptCount[Int(id)] > 0 ? -id : id
                transitions[work * PatternSymbol.count + symbol] = encoded
                targetBySignature[signature] = encoded
            }
            work += 1
        }
        return Automaton(
            transitions: transitions,
            acceptStart: acceptStart,
            acceptCount: acceptCount,
            accepting: accepting,
            start: 1,
            idleIsDead: rootMoves.indices.allSatisfy { $0 == Int(PatternSymbol.begin) || rootMoves[$0].isEmpty }
        )
    }
}

/// Every automaton of a pattern set in one block of memory: transitions, accepting lists and a header each. Owned
/// here and never changed after `init` (hence `@unchecked Sendable`), so a query reads plain pointers.
package final class AutomataStorage: @unchecked Sendable {
    package struct Header {
        /// Where the automaton's transition table starts in `transitions`.
        var transitionBase: Int
        /// Where its states start in `acceptStart` / `acceptCount`.
        var stateBase: Int
        var start: Int32
        var idleIsDead: Bool
    }

    package let headers: UnsafeBufferPointer<Header>
    package let transitions: UnsafeBufferPointer<Int32>
    package let acceptStart: UnsafeBufferPointer<Int32>
    package let acceptCount: UnsafeBufferPointer<UInt8>
    package let accepting: UnsafeBufferPointer<UInt32>
    /// `PatternSymbol.classOf`, copied so the walk reads no global.
    package let classes: UnsafeBufferPointer<UInt8>
    package let memoryBytes: Int

    package init(_ automata: [PatternSet.Automaton]) {
        var headers: [Header] = []
        var transitions: [Int32] = []
        var acceptStart: [Int32] = []
        var acceptCount: [UInt8] = []
        var accepting: [UInt32] = []
        for automaton in automata {
            headers.append(
                Header(
                    transitionBase: transitions.count,
                    stateBase: acceptStart.count,
                    start: automaton.start,
                    idleIsDead: automaton.idleIsDead
                )
            )
            let acceptingBase = Int32(accepting.count)
            transitions += automaton.transitions
            acceptStart += automaton.acceptStart.map { $0 + acceptingBase }
            acceptCount += automaton.acceptCount
            accepting += automaton.accepting
        }
        self.headers = .ownedCopy(of: headers)
        self.transitions = .ownedCopy(of: transitions)
        self.acceptStart = .ownedCopy(of: acceptStart)
        self.acceptCount = .ownedCopy(of: acceptCount)
        self.accepting = .ownedCopy(of: accepting)
        self.classes = .ownedCopy(of: PatternSymbol.classOf)
        self.memoryBytes = transitions.count * 4 + acceptStart.count * 5 + accepting.count * 4
    }

    deinit {
        UnsafeMutableBufferPointer(mutating: self.headers).deallocate()
        UnsafeMutableBufferPointer(mutating: self.transitions).deallocate()
        UnsafeMutableBufferPointer(mutating: self.acceptStart).deallocate()
        UnsafeMutableBufferPointer(mutating: self.acceptCount).deallocate()
        UnsafeMutableBufferPointer(mutating: self.accepting).deallocate()
        UnsafeMutableBufferPointer(mutating: self.classes).deallocate()
    }
}
