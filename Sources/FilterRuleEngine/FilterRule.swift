// FilterRule: one line of a block list understood: what it matches, whether it blocks or allows, and its modifiers.

import Pipeline

/// Who a `$client=` value names.
package enum ClientSelector: Sendable, Equatable {
    case prefix(IPPrefix)
    /// A filter group's name (Swiftlet's stand-in for AdGuard Home's persistent client names).
    case group(String)
}

/// The modifiers of a rule beyond `$important` (which is a flag), AdGuard Home's DNS subset.
package struct RuleModifiers: Sendable, Equatable {
    /// `$client=`: the rule applies only to these clients…
    package var clients: [ClientSelector] = []
    /// …and never to these (`~`).
    package var excludedClients: [ClientSelector] = []
    /// `$dnstype=`: only these query types…
    package var types: [RecordType] = []
    /// …and never these (`~`).
    package var excludedTypes: [RecordType] = []
    /// `$denyallow=`: names (and their subdomains) the rule does not apply to, lower-case wire form.
    package var denyAllow: [DomainName] = []

    /// `$client` narrows the rule to some clients (its blocks are reported as Filtered, not Blocked).
    package var selectsClients: Bool { !self.clients.isEmpty || !self.excludedClients.isEmpty }

    package var isEmpty: Bool {
        self.clients.isEmpty && self.excludedClients.isEmpty && self.types.isEmpty && self.excludedTypes.isEmpty
            && self.denyAllow.isEmpty
    }

    /// Whether the rule applies to this query.
    package func applies(name: DomainName, type: RecordType, client: IPAddress, group: String) -> Bool {
        if !self.types.isEmpty && !self.types.contains(type) { return false }
        if self.excludedTypes.contains(type) { return false }
        func selects(_ selector: ClientSelector) -> Bool {
            switch selector {
            case .prefix(let prefix): return prefix.contains(client)
            case .group(let name): return name == group
            }
        }
        if !self.clients.isEmpty && !self.clients.contains(where: selects) { return false }
        if self.excludedClients.contains(where: selects) { return false }
        if self.denyAllow.contains(where: { name.isSubdomain(of: $0) }) { return false }
        return true
    }
}

/// What a rule's pattern matches.
package enum RulePattern: Sendable {
    /// A name, itself and/or below it (`RuleFlags.exact`, `.subdomains`), in lower-case wire form.
    case name(DomainName)
    /// A regular expression or `*` glob, compiled into the pattern automata.
    case pattern(PatternNode)
    /// Every name (`*$denyallow=…`, `$client=…` with no pattern).
    case everything
}

/// One parsed rule, before it goes into the rule set.
package struct ParsedRule: Sendable {
    package var pattern: RulePattern
    package var flags: RuleFlags
    package var modifiers: RuleModifiers
    /// `$badfilter`: this line switches off the rule written as `badfilterTarget`.
    package var badfilterTarget: String?
}

/// The outcome of reading one line.
package enum ParsedLine: Sendable {
    /// Blank, a comment or a header.
    case nothing
    case rule(ParsedRule)
    /// A hosts-file line: one exact blocking rule per name.
    case hostNames([DomainName])
    /// Not understood or not supported, and why.
    case skipped(String)
}
