// FilterRules: the compiled rules of block lists as a public value, for tools and benchmarks outside a server.

import Pipeline

/// Block lists compiled exactly as the `filter` plugin compiles them, with every list applying to every client.
public struct FilterRules: Sendable {
    package let set: RuleSet

    /// Compiles `lists` (name and text of each, in any syntax the plugin reads).
    public init(lists: [(name: String, text: [UInt8])]) {
        var builder = RuleSetBuilder(
            listNames: ["custom"] + lists.map(\.name),
            expectedRules: RuleSetBuilder.estimatedRules(lists.map(\.text))
        )
        for (index, list) in lists.enumerated() {
            _ = list.text.withUnsafeBufferPointer { builder.add(list: UInt16(index + 1), bytes: $0) }
        }
        self.set = builder.build()
    }

    /// Rules compiled (skipped lines not counted).
    public var ruleCount: Int { self.set.totalRules }
    /// Bytes the compiled set holds.
    public var memoryBytes: Int { self.set.memoryBytes }
    /// Automata the regular-expression and glob rules were compiled into.
    public var automatonCount: Int { self.set.patterns.automatonCount }

    /// true: blocked; false: an exception rule allows the name; nil: no rule applies.
    public func isBlocked(_ name: DomainName, type: RecordType = .a, client: IPAddress) -> Bool? {
        self.set.match(name, MatchContext(type: type, client: client, groupName: "", lists: ~0))?.blocked
    }
}
