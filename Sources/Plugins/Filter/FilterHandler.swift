// FilterHandler: answers blocked names, checks CNAME targets of answers from later handlers, and the group guard.

import FilterRuleEngine
import Pipeline

/// Puts each client in its filter group's cache view before the message cache (docs/ARCHITECTURE.md): a blocked answer
/// cached for one group is never served to another.
struct FilterGroupGuard: Guard {
    let engine: FilterEngine

    func check(_ request: RequestView?, client: Client, arrival: Arrival) -> GuardDecision {
        .view(UInt16(self.engine.groupIndex(of: client.address)))
    }
}

struct FilterHandler: QueryHandler {
    static let pluginName = "filter"
    /// The SOA of synthesised negative answers: names under `.invalid` (RFC 6761 §6.4) so it points nowhere.
    static let soaMname: DomainName = "blocked.swiftlet.invalid."
    static let soaRname: DomainName = "hostmaster.swiftlet.invalid."

    let engine: FilterEngine
    var metrics: FilterMetrics { self.engine.metrics }

    init(engine: FilterEngine) { self.engine = engine }

    func group(_ query: Query) -> FilterGroup {
        let index = Int(query.client.view)
        return index < self.engine.groups.count
            ? self.engine.groups[index] : self.engine.groups[self.engine.groupIndex(of: query.client.address)]
    }

    func handle(_ query: inout Query) -> Verdict {
        if self.engine.pauseRemaining(now: query.receivedAt == 0 ? Clock.nanoseconds() : query.receivedAt) > 0 {
            return .next
        }
        let group = self.group(query)
        let ruleSet = self.engine.ruleSet
        let context = MatchContext(type: query.question.type, client: query.client.address, group: group)
        guard let verdict = ruleSet.match(query.question.name, context) else { return .next }
        if !verdict.blocked {
            self.metrics.allowed.increment()
            query.logNote = "allowed by \(Self.describe(verdict.rule, in: ruleSet))"
            return .next
        }
        self.metrics.blocked.increment()
        query.response = self.blockResponse(for: query, rule: verdict.rule, in: ruleSet, group: group, via: nil)
        query.cacheability = .upTo(seconds: self.engine.options.ttl)
        query.answeredBy = Self.pluginName
        query.logNote = "blocked by \(Self.describe(verdict.rule, in: ruleSet))"
        return .answered
    }

    func finish(_ query: inout Query) {
        guard query.answeredBy != Self.pluginName, let response = query.response else { return }
        let remaining = self.engine.pauseRemaining()
        if remaining > 0 {
            // Answers given while paused must not outlive the pause in the fast path.
            if case .upTo(let seconds) = query.cacheability {
                query.cacheability = .upTo(seconds: min(seconds, remaining))
            }
            return
        }
        guard self.engine.options.blockCNAMETargets else { return }
        // CNAME cloaking: a tracker hidden behind a CNAME of a first-party name is blocked by its target.
        let group = self.group(query)
        let ruleSet = self.engine.ruleSet
        let context = MatchContext(type: query.question.type, client: query.client.address, group: group)
        for record in response.answers {
            guard case .cname(let target) = record.rdata else { continue }
            guard let verdict = ruleSet.match(target, context), verdict.blocked else { continue }
            self.metrics.cnameBlocked.increment()
            query.response = self.blockResponse(for: query, rule: verdict.rule, in: ruleSet, group: group, via: target)
            query.cacheability = .upTo(seconds: self.engine.options.ttl)
            query.logNote = "blocked CNAME target \(target) by \(Self.describe(verdict.rule, in: ruleSet))"
            return
        }
    }

    /// `||ads.example^ (ads:12)`.
    static func describe(_ rule: RuleReference, in ruleSet: RuleSet) -> String {
        "\(ruleSet.text(of: rule)) (\(ruleSet.list(of: rule)):\(ruleSet.line(of: rule)))"
    }

    /// The configured block answer, with a synthesised SOA for negative answers and an Extended DNS Error
    /// (RFC 8914: 15 Blocked; 17 Filtered when the rule applies to this client's group only) naming the list.
    func blockResponse(
        for query: Query,
        rule: RuleReference,
        in ruleSet: RuleSet,
        group: FilterGroup,
        via target: DomainName?
    ) -> Message {
        let options = self.engine.options
        let question = query.question
        var response = Message.response(to: query.request)
        response.header.recursionAvailable = true
        var address: RData? = nil
        switch options.response {
        case .refused: response.responseCode = .refused
        case .nxDomain: response.responseCode = .nxDomain
        case .noData: break
        case .nullIP:
            if question.type == .a { address = .a(IPv4Address(rawValue: 0)) }
            if question.type == .aaaa { address = .aaaa(IPv6Address(high: 0, low: 0)) }
        case .addresses(let v4, let v6):
            if question.type == .a, let v4 { address = .a(v4) }
            if question.type == .aaaa, let v6 { address = .aaaa(v6) }
        }
        if let address {
            response.answers = [Record(name: question.name, ttl: options.ttl, rdata: address)]
        } else if response.responseCode != .refused {
            let soa = SOA(
                mname: Self.soaMname,
                rname: Self.soaRname,
                serial: 1,
                refresh: 1800,
                retry: 900,
                expire: 604_800,
                minimum: options.ttl
            )
            response.authorities = [Record(name: question.name, ttl: options.ttl, rdata: .soa(soa))]
        }
        if response.edns != nil {
            // A list some group does not use, or a `$client` rule, filters for this client's group only.
            let listBit = UInt64(1) << UInt64(ruleSet.listIndex(of: rule))
            let groupRule =
                ruleSet.modifiers(of: rule)?.selectsClients == true || self.engine.listsOfEveryGroup & listBit == 0
            var text = "blocked by list \(ruleSet.list(of: rule)): \(ruleSet.text(of: rule))"
            if let target { text = "CNAME target \(target) " + text }
            if groupRule { text += " (group \(group.name))" }
            response.edns?.options = [
                .extendedError(ExtendedError(infoCode: groupRule ? .filtered : .blocked, extraText: text))
            ]
        }
        return response
    }
}
