// FilterRuleTests: list syntaxes, modifiers, precedence and group lists, on the compiled rule set.

import Pipeline
import SwiftletTestSupport
import Testing

@testable import FilterRuleEngine

/// A rule set from list texts (list 1, 2, … in order; list 0 is the inline rules).
func ruleSet(_ lists: String..., inline: [String] = []) -> (RuleSet, [SkippedLines]) {
    var builder = RuleSetBuilder(listNames: ["custom"] + lists.indices.map { "list\($0 + 1)" })
    var skipped = [builder.add(list: 0, rules: inline).skipped]
    for (index, text) in lists.enumerated() {
        skipped.append(
            Array(text.utf8).withUnsafeBufferPointer { builder.add(list: UInt16(index + 1), bytes: $0).skipped }
        )
    }
    return (builder.build(), skipped)
}

/// "blocked: RULE", "allowed: RULE" or "-".
func decide(
    _ set: RuleSet,
    _ qname: String,
    _ type: RecordType = .a,
    client: String = "127.0.0.1",
    group: String = "default",
    lists: UInt64 = ~0
) -> String {
    let context = MatchContext(type: type, client: IPAddress(client)!, groupName: group, lists: lists)
    guard let verdict = set.match(name(qname), context) else { return "-" }
    return (verdict.blocked ? "blocked: " : "allowed: ") + set.text(of: verdict.rule)
}

@Suite struct FilterRuleTests {
    @Test func hostsFilesPlainDomainsAndWildcards() {
        let (set, skipped) = ruleSet(
            """
            # hosts file header
            127.0.0.1 localhost
            127.0.0.1 localhost.localdomain
            127.0.0.1 LOCALHOST.LocalDomain
            0.0.0.0 0.0.0.0
            ::1 localhost ip6-localhost
            0.0.0.0 ads.example tracker.example   # two names
            127.0.0.1 loop.example
            :: v6null.example
            ::1 v6loop.example
            192.0.2.1 rewrite.example
            plain.example
            Upper.Example.
            *.wild.example
            ! adblock comment
            """
        )
        #expect(decide(set, "ads.example.") == "blocked: ads.example")
        #expect(decide(set, "TRACKER.example.") == "blocked: tracker.example")
        #expect(decide(set, "sub.ads.example.") == "-")  // hosts lines match the name only
        #expect(decide(set, "loop.example.") == "blocked: loop.example")
        #expect(decide(set, "v6null.example.") == "blocked: v6null.example")
        #expect(decide(set, "v6loop.example.") == "blocked: v6loop.example")
        #expect(decide(set, "localhost.") == "-")
        #expect(decide(set, "localhost.localdomain.") == "-")
        // In any letter case (the fast reader took upper-case spellings as block rules; found by the fuzzer).
        #expect(decide(set, "LocalHost.LOCALDOMAIN.") == "-")
        #expect(decide(set, "0.0.0.0.") == "-")
        #expect(decide(set, "rewrite.example.") == "-")
        #expect(decide(set, "plain.example.") == "blocked: plain.example")
        #expect(decide(set, "www.plain.example.") == "-")
        #expect(decide(set, "upper.example.") == "blocked: upper.example")
        #expect(decide(set, "a.wild.example.") == "blocked: *.wild.example")
        #expect(decide(set, "a.b.wild.example.") == "blocked: *.wild.example")
        #expect(decide(set, "wild.example.") == "-")
        #expect(skipped[1].count == 1)
        #expect(skipped[1].first.map(\.line) == [11])
        #expect(skipped[1].first.first?.reason.contains("192.0.2.1 is not a blocking address") == true)
    }

    @Test func adblockSyntax() {
        let (set, skipped) = ruleSet(
            """
            [Adblock Plus 2.0]
            ||ads.example^
            |exact.example^
            ||ad*.glob.example^
            tracker*.example
            /^track[0-9]+\\./
            /(^|\\.)beacon-(eu|us)\\.metrics\\.example$/
            @@||good.ads.example^
            example.org##.banner
            ||third.example^$third-party
            /(?=look)/
            ||bücher.example^
            """
        )
        #expect(decide(set, "ads.example.") == "blocked: ||ads.example^")
        #expect(decide(set, "x.y.ads.example.") == "blocked: ||ads.example^")
        #expect(decide(set, "bads.example.") == "-")
        #expect(decide(set, "exact.example.") == "blocked: exact.example")
        #expect(decide(set, "www.exact.example.") == "-")
        #expect(decide(set, "ad1.glob.example.") == "blocked: ||ad*.glob.example^")
        #expect(decide(set, "x.adserver.glob.example.") == "blocked: ||ad*.glob.example^")
        #expect(decide(set, "bad.glob.example.") == "-")
        #expect(decide(set, "tracker-eu.example.") == "blocked: tracker*.example")
        #expect(decide(set, "track12.cdn.example.") == "blocked: /^track[0-9]+\\./")
        #expect(decide(set, "tracking.cdn.net.") == "-")
        #expect(decide(set, "a.beacon-eu.metrics.example.") == "blocked: /(^|\\.)beacon-(eu|us)\\.metrics\\.example$/")
        #expect(decide(set, "beacon-us.metrics.example.") == "blocked: /(^|\\.)beacon-(eu|us)\\.metrics\\.example$/")
        #expect(decide(set, "beacon-uk.metrics.example.") == "-")
        #expect(decide(set, "good.ads.example.") == "allowed: @@||good.ads.example^")
        #expect(decide(set, "xn--bcher-kva.example.") == "blocked: ||xn--bcher-kva.example^")
        #expect(skipped[1].first.map(\.line) == [9, 10, 11])
        #expect(skipped[1].first.map(\.reason)[1] == "modifier $third-party is not supported for DNS filtering")
        #expect(
            skipped[1].first.map(\.reason)[2] == "regular expression: look-around and named groups are not supported"
        )
    }

    @Test func precedenceImportantExceptionsAndSpecificity() {
        let (set, _) = ruleSet(
            """
            ||example.com^
            ||ads.example.com^
            ||imp.example^$important
            @@||imp.example^
            ||both.example^$important
            @@||both.example^$important
            @@||allowed.example^
            ||deep.allowed.example^
            /regex-allowed/
            @@/^regex-allowed/
            """
        )
        #expect(decide(set, "x.ads.example.com.") == "blocked: ||ads.example.com^")
        #expect(decide(set, "www.example.com.") == "blocked: ||example.com^")
        #expect(decide(set, "imp.example.") == "blocked: ||imp.example^$important")
        #expect(decide(set, "both.example.") == "allowed: @@||both.example^$important")
        // An exception beats a block however specific the block is.
        #expect(decide(set, "deep.allowed.example.") == "allowed: @@||allowed.example^")
        #expect(decide(set, "regex-allowed.example.") == "allowed: @@/^regex-allowed/")
        #expect(decide(set, "x.regex-allowed.example.") == "blocked: /regex-allowed/")
    }

    @Test func modifiers() {
        let (set, skipped) = ruleSet(
            """
            ||v6only.example^$dnstype=AAAA
            ||notmx.example^$dnstype=~MX
            ||kids.example^$client=127.0.0.2
            ||notkids.example^$client=~127.0.0.2
            ||net.example^$client=10.0.0.0/8|127.0.0.0/24
            ||group.example^$client='kids'
            *$denyallow=com|org,dnstype=TXT
            ||bf.example^
            ||bf.example^$badfilter
            /badregex/
            /badregex/$badfilter
            ||x.example^$dnstype=BOGUS
            """
        )
        #expect(decide(set, "v6only.example.", .aaaa) == "blocked: ||v6only.example^$dnstype=AAAA")
        #expect(decide(set, "v6only.example.", .a) == "-")
        #expect(decide(set, "notmx.example.", .mx) == "-")
        #expect(decide(set, "notmx.example.", .a) == "blocked: ||notmx.example^$dnstype=~MX")
        #expect(decide(set, "kids.example.", client: "127.0.0.2") == "blocked: ||kids.example^$client=127.0.0.2")
        #expect(decide(set, "kids.example.", client: "127.0.0.1") == "-")
        #expect(decide(set, "notkids.example.", client: "127.0.0.2") == "-")
        #expect(decide(set, "notkids.example.", client: "127.0.0.1") == "blocked: ||notkids.example^$client=~127.0.0.2")
        #expect(decide(set, "net.example.", client: "127.0.0.9") != "-")
        #expect(decide(set, "net.example.", client: "::1") == "-")
        #expect(decide(set, "group.example.", group: "kids") == "blocked: ||group.example^$client='kids'")
        #expect(decide(set, "group.example.", group: "default") == "-")
        #expect(decide(set, "x.net.", .txt) == "blocked: *$denyallow=com|org,dnstype=TXT")
        #expect(decide(set, "x.com.", .txt) == "-")
        #expect(decide(set, "x.org.", .txt) == "-")
        #expect(decide(set, "x.net.", .a) == "-")
        #expect(decide(set, "bf.example.") == "-")
        #expect(decide(set, "badregex.example.") == "-")
        #expect(skipped[1].first.map(\.line) == [12])
    }

    @Test func groupsSeeOnlyTheirLists() {
        let (set, _) = ruleSet("||one.example^\n", "||two.example^\n", inline: ["||inline.example^"])
        let onlyFirst: UInt64 = 0b011
        #expect(decide(set, "one.example.", lists: onlyFirst) == "blocked: ||one.example^")
        #expect(decide(set, "two.example.", lists: onlyFirst) == "-")
        #expect(decide(set, "two.example.", lists: 0b111) == "blocked: ||two.example^")
        #expect(decide(set, "inline.example.", lists: 0b001) == "blocked: ||inline.example^")
        #expect(
            set.list(
                of: set.match(
                    name("two.example."),
                    .init(type: .a, client: IPAddress("::1")!, groupName: "", lists: ~0)
                )!.rule
            ) == "list2"
        )
    }

    @Test func punycode() {
        #expect(Punycode.toASCII("bücher.example") == "xn--bcher-kva.example")
        #expect(Punycode.toASCII("München.de") == "xn--mnchen-3ya.de")
        #expect(Punycode.toASCII("пример.испытание") == "xn--e1afmkfd.xn--80akhbyknj4f")
        #expect(Punycode.toASCII("例え.テスト") == "xn--r8jz45g.xn--zckzah")
    }

    @Test func nameTableGrowsAndFindsEveryName() {
        var table = NameTable(expectedNames: 1)
        for index in 0..<20_000 {
            name("n\(index).example.").wire.withUnsafeBytes {
                _ = table.add(name: $0, line: UInt32(index + 1), list: 1, flags: .exact)
            }
        }
        for index in stride(from: 0, to: 20_000, by: 97) {
            let found = name("N\(index).EXAMPLE.").wire.withUnsafeBytes {
                table.firstRule($0, from: 0, hash: NameTable.hash($0, from: 0))
            }
            #expect(found.map { table.rules[$0].line } == UInt32(index + 1))
        }
        let missing = name("n20000.example.").wire.withUnsafeBytes {
            table.firstRule($0, from: 0, hash: NameTable.hash($0, from: 0))
        }
        #expect(missing == nil)
    }
}

@Suite struct RandomListTests {
    /// Random lines (bytes from a rule-ish alphabet) never trap the parser or the builder, and every line is either
    /// a rule, a comment or a skipped line with a reason.
    @Test func randomLinesNeverTrap() {
        var generator = SeededGenerator(seed: 7)
        let alphabet = Array("abc.-_*|^$@/!#[]()?+{},=~0123456789:\\ \t'xn".utf8) + [0xC3, 0xBC, 0xFF, 0x00]
        var text: [UInt8] = []
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...40, using: &generator)
            for _ in 0..<length { text.append(alphabet.randomElement(using: &generator)!) }
            text.append(UInt8(ascii: "\n"))
        }
        var builder = RuleSetBuilder(listNames: ["custom", "random"])
        // Random wildcards make automata that blow up: the default budget is a second of release CPU (half a minute
        // of a debug build's, starving the parallel suite), a fiftieth of it reaches the same give-up path.
        builder.patternWorkBudget = PatternSet.workBudget / 50
        let result = text.withUnsafeBufferPointer { builder.add(list: 1, bytes: $0) }
        let set = builder.build()
        #expect(result.rules + result.skipped.count <= 2_000)
        #expect(result.skipped.first.allSatisfy { !$0.reason.isEmpty })
        _ = set.match(name("abc.example."), .init(type: .a, client: IPAddress("::1")!, groupName: "", lists: ~0))
    }
}

@Suite struct PatternSetTests {
    func matches(_ patterns: [String], _ text: String) -> [UInt32] {
        let nodes = patterns.enumerated().map { (try! PatternNode.parseRegex($0.element), UInt32($0.offset)) }
        let set = PatternSet(nodes.map { (node: $0.0, id: $0.1) })
        var found: [UInt32] = []
        Array(text.utf8).withUnsafeBufferPointer { buffer in set.matches(buffer) { found.append($0) } }
        return Array(Set(found)).sorted()
    }

    @Test func regexFeatures() {
        #expect(matches(["^ab{2,3}c$"], "abbc") == [0])
        #expect(matches(["^ab{2,3}c$"], "abbbbc") == [])
        #expect(matches(["^a[^0-9]z"], "abz") == [0])
        #expect(matches(["^a[^0-9]z"], "a1z") == [])
        #expect(matches(["\\d\\d"], "x12") == [0])
        #expect(matches(["(?:foo|bar)+baz$"], "xfoobarbaz") == [0])
        #expect(matches(["^[A-Z]+$"], "ABC") == [0])  // names match without regard to case
        #expect(matches(["x$", "^y", "q"], "yx") == [0, 1])
        #expect(matches(["a.c"], "a.c") == [0])
        #expect(matches(["^\\.$"], "x") == [])
        #expect(throws: PatternError.self) { try PatternNode.parseRegex("(a") }
        #expect(throws: PatternError.self) { try PatternNode.parseRegex("a)") }
        #expect(throws: PatternError.self) { try PatternNode.parseRegex("(a)\\1") }
        #expect(throws: PatternError.self) { try PatternNode.parseRegex("\\bword") }
        #expect(throws: PatternError.self) { try PatternNode.parseRegex("*a") }
        // Hostile patterns are refused before they cost stack or memory.
        #expect(throws: PatternError(message: "groups nested deeper than 32")) {
            try PatternNode.parseRegex(String(repeating: "(", count: 500) + "a" + String(repeating: ")", count: 500))
        }
        #expect(throws: PatternError(message: "too complex (over 20000 automaton states)")) {
            try PatternNode.parseRegex("((a{0,255}){0,255}){0,255}")
        }
        #expect(throws: PatternError(message: "longer than 1024 characters")) {
            try PatternNode.parseRegex(String(repeating: "a", count: 2000))
        }
    }

    @Test func manyPatternsSplitIntoBatchesAndAllStillMatch() {
        // Unanchored patterns with repeats blow up a single DFA; the set splits batches until each fits.
        let patterns = (0..<600).map { "p\($0)[a-z]*x[0-9]+q" }
        let nodes = patterns.enumerated().map { (node: try! PatternNode.parseRegex($0.element), id: UInt32($0.offset)) }
        let set = PatternSet(nodes, stateLimit: 2_000)
        #expect(set.patternCount == 600)
        #expect(set.automatonCount > 1)
        for index in [0, 137, 599] {
            var found: [UInt32] = []
            Array("zz.p\(index)abcx42q.example".utf8).withUnsafeBufferPointer { set.matches($0) { found.append($0) } }
            #expect(found.contains(UInt32(index)))
        }
    }
}

extension PatternSet {
    /// `matches(wire:)` for a name in presentation form.
    func matches(_ text: UnsafeBufferPointer<UInt8>, _ found: (UInt32) -> Void) {
        var wire: [UInt8] = []
        for label in text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            wire.append(UInt8(label.count))
            wire += label
        }
        wire.append(0)
        wire.withUnsafeBytes { self.matches(wire: $0, found) }
    }
}
