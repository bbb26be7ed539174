// ParseFilterList: the libFuzzer target for the filter plugin's list reader. Built by Fuzz/run.sh from the rules
// engine, Sources/FilterRuleEngine (RuleParser, FilterRule, Punycode, RuleSetBuilder, NameTable, PatternSet,
// RuleSet, FilterRules: pure code, no I/O), and this file as one module, against Sources/Pipeline built as the
// module `Pipeline`.
//
// For every input, taken as a block list (any syntax the plugin reads, one rule a line):
//  1. `RuleParser.parse` of every line does not crash, and where the builder's fast path (`fastNames`) takes a
//     line it reads the same names with the same flags as `parse`.
//  2. Building a rule set from the list (`RuleSetBuilder`, as the plugin does, with `$badfilter` and the pattern
//     automata, on a smaller work budget: `fuzzWorkBudget`) does not crash.
//  3. Matching names against it does not crash, for several query types, clients and groups: every name a rule
//     names, one label below and above it, some fixed names, and the input's words that are names. A verdict names
//     a rule of this list on one of its lines, and the reporting of that rule (text, list, modifiers) does not
//     crash.
//
// A property that fails calls `fatalError` with what differed, so libFuzzer saves the input as a crash artifact.

import Pipeline

/// Names matched per input, at most.
let maxNames = 64
/// The automata's work budget here: 1/500 of the plugin's `PatternSet.workBudget`. The plugin's 100 M set-element
/// steps take about a second of CPU in a release build but 15 s with ASan and coverage (a 218-octet list did it),
/// past libFuzzer's 5 s timeout; 200 k take 0.2 s. Running out of budget is exercised all the more.
let fuzzWorkBudget = PatternSet.workBudget / 500

let fixedNames: [DomainName] = [".", "example.", "ads.example.net.", "www.example.com.", "xn--caf-dma.example."]
let contexts: [MatchContext] = [
    MatchContext(type: .a, client: IPAddress("127.0.0.1")!, groupName: "default", lists: ~0),
    MatchContext(type: .aaaa, client: IPAddress("2001:db8::1")!, groupName: "kids", lists: 0b10),
    MatchContext(type: .https, client: IPAddress("192.0.2.7")!, groupName: "", lists: ~0 << 1),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: data == nil ? 0 : size)
    checkList(bytes)
    return 0
}

func checkList(_ bytes: UnsafeBufferPointer<UInt8>) {
    // 1. Line by line, and the fast path against the general one.
    var names: [DomainName] = []
    var lineCount = 0
    var start = 0
    while start <= bytes.count {
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        lineCount += 1
        let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
        let parsed = RuleParser.parse(line)
        switch parsed {
        case .hostNames(let found): names += found
        case .rule(let rule): if case .name(let name) = rule.pattern { names.append(name) }
        case .nothing, .skipped: break
        }
        checkFastPath(line, parsed, bytes)
        start = end + 1
    }

    // 2. The rule set, as the plugin builds it: the list as list 1; list 0 (inline rules) stays empty.
    var builder = RuleSetBuilder(listNames: ["custom", "fuzz"], expectedRules: RuleSetBuilder.estimatedRules([Array(bytes)]))
    builder.patternWorkBudget = fuzzWorkBudget
    let (_, skipped) = builder.add(list: 1, bytes: bytes)
    guard skipped.first.allSatisfy({ $0.line >= 1 && $0.line <= lineCount }) else {
        fail("a skipped line outside the list: \(skipped.first.map(\.line)) of \(lineCount)", bytes)
    }
    let set = builder.build()
    _ = set.memoryBytes

    // 3. Matching.
    var candidates = fixedNames
    for name in names.prefix(maxNames / 2) {
        candidates.append(name)
        if let below = try? DomainName("fuzz." + name.description) { candidates.append(below) }
        if let above = name.parent { candidates.append(above) }
    }
    for word in words(bytes) where candidates.count < maxNames {
        if let name = try? DomainName(word) { candidates.append(name) }
    }
    for name in candidates.prefix(maxNames) {
        for context in contexts {
            guard let verdict = set.match(name, context) else { continue }
            let list = set.listIndex(of: verdict.rule)
            let line = set.line(of: verdict.rule)
            guard list == 1, line >= 1, line <= lineCount else {
                fail("\(name) matched a rule of list \(list) line \(line); the list has \(lineCount) lines", bytes)
            }
            _ = set.text(of: verdict.rule)
            _ = set.list(of: verdict.rule)
            _ = set.modifiers(of: verdict.rule)
        }
    }
}

/// Where `fastNames` takes a line, `parse` must read the same names with the same flags.
func checkFastPath(_ line: UnsafeBufferPointer<UInt8>, _ parsed: ParsedLine, _ bytes: UnsafeBufferPointer<UInt8>) {
    var wire: [UInt8] = []
    guard let flags = RuleParser.fastNames(line, into: &wire) else { return }
    var fast: [DomainName] = []
    var offset = 0
    while offset < wire.count {
        var next = offset
        while wire[next] != 0 { next += Int(wire[next]) + 1 }
        next += 1
        guard let name = try? DomainName(wire: Array(wire[offset..<next])) else {
            fail("fastNames wrote a name that does not decode: \(wire[offset..<next])", bytes, line)
        }
        fast.append(name)
        offset = next
    }
    let general: ([DomainName], RuleFlags)
    switch parsed {
    case .hostNames(let names): general = (names, [.exact, .hosts])
    case .rule(let rule):
        guard case .name(let name) = rule.pattern, rule.badfilterTarget == nil else {
            fail("fastNames read \(fast) \(flags.rawValue) but parse read a rule that is not a name", bytes, line)
        }
        general = ([name], rule.flags)
    case .nothing, .skipped:
        fail("fastNames read \(fast) \(flags.rawValue) but parse read \(parsed)", bytes, line)
    }
    guard fast == general.0, flags == general.1 else {
        fail("fastNames read \(fast) \(flags.rawValue) but parse read \(general.0) \(general.1.rawValue)", bytes, line)
    }
    for name in fast where name.wire != name.wire.map({ DomainName.fold($0) }) {
        fail("fastNames kept upper case in \(name)", bytes, line)
    }
}

/// The input's runs of name characters, as candidate names.
func words(_ bytes: UnsafeBufferPointer<UInt8>) -> [String] {
    var result: [String] = []
    var current: [UInt8] = []
    for byte in bytes {
        let isNameByte =
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        if isNameByte {
            current.append(byte)
        } else if !current.isEmpty {
            result.append(String(decoding: current, as: UTF8.self))
            current.removeAll(keepingCapacity: true)
            if result.count >= maxNames { return result }
        }
    }
    if !current.isEmpty { result.append(String(decoding: current, as: UTF8.self)) }
    return result
}

func fail(_ what: String, _ bytes: UnsafeBufferPointer<UInt8>, _ line: UnsafeBufferPointer<UInt8>? = nil) -> Never {
    let lineText = line.map { "\nline: \(String(decoding: $0, as: UTF8.self))" } ?? ""
    fatalError("\n\(what)\(lineText)\nlist (\(bytes.count) octets):\n\(String(decoding: bytes.prefix(2000), as: UTF8.self))")
}
