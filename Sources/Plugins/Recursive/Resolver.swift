// Resolver: iterative resolution from the closest known delegation down (RFC 1034 §5.3.3), with the limits.

import Pipeline
import Synchronization

/// What a resolution gave: the response code, the answer (the full CNAME/DNAME chain) and the negative proof (SOA);
/// on SERVFAIL, the Extended DNS Error saying why.
struct Resolution: Sendable, Equatable {
    var responseCode: ResponseCode
    var answers: [Record] = []
    var authorities: [Record] = []
    var error: ExtendedError? = nil

    static func failure(_ code: ExtendedError.InfoCode, _ text: String) -> Resolution {
        Resolution(responseCode: .servFail, error: ExtendedError(infoCode: code, extraText: text))
    }

    /// A SERVFAIL for a limit: EDE 0 (Other) naming the limit, as Unbound and Knot Resolver report them.
    static func limit(_ text: String) -> Resolution { .failure(.other, text) }
}

/// The work one client query may still cause, shared by every fetch it starts (name-server lookups included).
final class RequestBudget: Sendable {
    let limit: Int
    let deadline: UInt64
    private let sent = Atomic<Int>(0)

    init(limit: Int, deadline: UInt64) {
        self.limit = limit
        self.deadline = deadline
    }

    /// Takes one upstream query from the budget; false when it is spent.
    func spend() -> Bool { self.sent.add(1, ordering: .relaxed).newValue <= self.limit }
}

/// Where a fetch stands in its client query: the budget, the questions it is nested in (what cycle detection
/// compares; `Question` compares names without regard to case), and how deep.
struct FetchContext: Sendable {
    var budget: RequestBudget
    var ancestry: [Question]
    var depth: Int
    /// The executor the client query runs on, for the upstream service (its exchanges stay on that thread).
    var executor: (any TaskExecutor)? = nil
}

/// A zone cut: the zone and its name servers.
struct Delegation: Sendable {
    var zone: DomainName
    var servers: [DomainName]
}

/// Resolves questions by asking authoritative servers, starting at the closest delegation in the shared RRset cache
/// (primed from the root hints), following referrals, CNAMEs and DNAMEs, and looking up name-server addresses it
/// lacks. Everything it learns is scrubbed (`ReplyScrubber`) and stored in the RRset cache at its trust; what it
/// learns about servers goes to the `InfrastructureCache`. Identical questions in flight share one fetch.
final class Resolver: Sendable {
    let cache: RRsetCache
    let infrastructure: InfrastructureCache
    let hints: RootHints
    let options: RecursiveOptions
    let useIPv6: Bool
    /// The host's upstream I/O: a connected socket on a fresh random port per UDP query, a connection per TCP one.
    let upstreams: any UpstreamExchange
    /// The port name servers are asked on (root hints and NS records carry none; tests move it).
    let port: UInt16
    let metrics: RecursiveMetrics
    let clock: @Sendable () -> UInt64
    /// The questions being resolved, with the fetches waiting for each.
    let inFlight = Mutex<[Question: Waiting]>([:])

    /// NS names of one delegation whose addresses are looked up, at most (Unbound and BIND use 13 or fewer).
    static let maximumServerNames = 13
    /// Addresses used per NS name and type, at most: a hostile zone can give a name thousands, and every one
    /// would be a target to order and try (Unbound bounds its target list the same way).
    static let maximumAddressesPerServerName = 8
    /// NXDOMAIN answers tolerated while looking up one delegation's NS names (NXNSAttack, Unbound's MAX_TARGET_NX).
    static let maximumMissingServerNames = 5
    /// NS names looked up at once.
    static let parallelServerLookups = 4
    /// Minimised queries per fetch before the rest of the name is shown at once (RFC 9156 §2.3 MAX_MINIMISE_COUNT).
    static let maximumMinimisedQueries = 10
    /// Rounds of new tries for servers that timed out, after every address of a delegation was tried once.
    static let timeoutRetries = 1
    /// The EDNS payload size we advertise (DNS flag day 2020).
    static let payloadSize: UInt16 = 1232

    /// Fetches waiting for another's result, with the timers that stop them waiting past their deadline.
    struct Waiting {
        var nextTicket = 0
        var waiters: [Int: (CheckedContinuation<JoinOutcome, Never>, Task<Void, Never>?)] = [:]
    }

    init(
        cache: RRsetCache,
        infrastructure: InfrastructureCache = InfrastructureCache(),
        hints: RootHints,
        options: RecursiveOptions,
        useIPv6: Bool,
        upstreams: any UpstreamExchange,
        port: UInt16 = 53,
        metrics: RecursiveMetrics,
        clock: @escaping @Sendable () -> UInt64 = Clock.nanoseconds
    ) {
        self.cache = cache
        self.infrastructure = infrastructure
        self.hints = hints
        self.options = options
        self.useIPv6 = useIPv6
        self.upstreams = upstreams
        self.port = port
        self.metrics = metrics
        self.clock = clock
    }

    var limits: RecursiveLimits { self.options.limits }

    // MARK: Fetches

    /// Resolves a client's question, with the request budget and deadline of `limits`, its exchanges on `executor`
    /// (the client query's).
    func resolve(clientQuestion question: Question, on executor: (any TaskExecutor)? = nil) async -> Resolution {
        let budget = RequestBudget(
            limit: self.limits.queriesPerRequest,
            deadline: self.clock() &+ self.limits.timeout.nanoseconds
        )
        return await self.resolve(
            question,
            context: FetchContext(budget: budget, ancestry: [], depth: 0, executor: executor)
        )
    }

    /// Resolves `question` for a client query (`ancestry` empty) or for a fetch that needs it (a name server's
    /// address), sharing the work with an identical fetch in flight.
    func resolve(_ question: Question, context: FetchContext) async -> Resolution {
        let key = question
        if context.ancestry.contains(key) {
            // The question depends on itself (NS names that need each other, tsuNAME).
            return .limit("name server cycle: \(key.name) \(key.type) needs itself")
        }
        var inner = context
        inner.ancestry.append(key)
        while true {
            let leads = self.inFlight.withLock { table -> Bool in
                if table[key] != nil { return false }
                table[key] = Waiting()
                return true
            }
            if leads {
                let resolution = await self.fetch(question, context: inner)
                let waiting = self.inFlight.withLock { $0.removeValue(forKey: key) }
                for (continuation, timer) in waiting?.waiters.values ?? [:].values {
                    timer?.cancel()
                    continuation.resume(returning: .result(resolution))
                }
                return resolution
            }
            switch await self.join(key, until: context.budget.deadline) {
            case .result(let resolution):
                self.metrics.coalesced.increment()
                return resolution
            case .timedOut:
                return .failure(
                    .noReachableAuthority,
                    "timed out waiting for the resolution of \(key.name) \(key.type) (limit timeout)"
                )
            case .finishedBefore:
                continue
            }
        }
    }

    enum JoinOutcome {
        case result(Resolution)
        case timedOut
        case finishedBefore
    }

    /// Waits for the fetch in flight for `key`, at most until `deadline` (so fetches that wait on each other across
    /// client queries cannot hang).
    private func join(_ key: Question, until deadline: UInt64) async -> JoinOutcome {
        let now = self.clock()
        let wait = Int64(min(deadline > now ? deadline - now : 0, UInt64(Int64.max)))
        return await withCheckedContinuation { (continuation: CheckedContinuation<JoinOutcome, Never>) in
            let ticket = self.inFlight.withLock { table -> Int? in
                guard table[key] != nil else { return nil }
                let ticket = table[key]!.nextTicket
                table[key]!.nextTicket += 1
                table[key]!.waiters[ticket] = (continuation, nil)
                return ticket
            }
            guard let ticket else {
                continuation.resume(returning: .finishedBefore)
                return
            }
            let timer = Task {
                try? await Task.sleep(for: .nanoseconds(wait))
                guard !Task.isCancelled else { return }
                let waiter = self.inFlight.withLock { table in table[key]?.waiters.removeValue(forKey: ticket) }
                waiter?.0.resume(returning: .timedOut)
            }
            self.inFlight.withLock { table in
                if table[key]?.waiters[ticket] != nil { table[key]!.waiters[ticket]!.1 = timer }
            }
        }
    }

    /// One question, from the cache where it can and from the servers where it must, following the CNAME and DNAME
    /// chain across zones up to `cname_chain` links.
    func fetch(_ question: Question, context: FetchContext) async -> Resolution {
        var chain: [Record] = []
        var name = question.name
        var links = 0
        func cnames(_ records: [Record]) -> Int { records.count { $0.type == .cname } }
        while true {
            let current = Question(name: name, type: question.type, recordClass: question.recordClass)
            let cached = self.cache.answer(
                current,
                dnssecOK: false,
                now: self.clock(),
                allowStale: false,
                maximumChain: self.limits.cnameChain - links
            )
            if let cached, cached.responseCode != .servFail {
                guard let pending = cached.pending else {
                    return Resolution(
                        responseCode: cached.responseCode,
                        answers: chain + cached.answers,
                        authorities: cached.authorities
                    )
                }
                // The chain is cached up to `pending`: resolve from there.
                links += cnames(cached.answers)
                chain += cached.answers
                name = pending
            } else {
                switch await self.iterate(current, context: context) {
                case .answer(let records):
                    return Resolution(responseCode: .noError, answers: chain + records)
                case .negative(let code, let records, let soa):
                    return Resolution(
                        responseCode: code,
                        answers: chain + records,
                        authorities: soa.map { [$0] } ?? []
                    )
                case .failure(let resolution):
                    return resolution
                case .alias(let records, let target):
                    links += cnames(records)
                    chain += records
                    if chain.contains(where: { $0.type == .cname && $0.name == target }) {
                        return .limit("CNAME loop at \(target)")
                    }
                    name = target
                }
            }
            if links > self.limits.cnameChain {
                return .limit("CNAME chain longer than \(self.limits.cnameChain) (limit cname_chain)")
            }
        }
    }

    /// What asking a zone's servers about one name gave.
    enum Step {
        /// The data, after the aliases that led to it in the zone.
        case answer([Record])
        /// NXDOMAIN or NODATA, with the aliases before it and the SOA when the server sent one.
        case negative(ResponseCode, [Record], Record?)
        /// Aliases leading out of the zone: resolve `target` next.
        case alias([Record], DomainName)
        case failure(Resolution)
    }

    /// Walks down from the closest known delegation to the servers of `question`'s zone and asks them.
    func iterate(_ question: Question, context: FetchContext) async -> Step {
        let name = question.name
        // The parent's side holds a DS set (RFC 4035 §3.1.4.1): start above the name.
        let start = question.type == .ds ? (name.parent ?? name) : name
        var delegation = await self.closestDelegation(for: start, priming: name.isRoot && question.type == .ns, context)
        var sent = 0
        var minimise = self.options.qnameMinimisation != .off && question.type != .ds
        var exposed = delegation.zone.labelCount + 1
        var minimised = 0
        while true {
            let now = self.clock()
            if now >= context.budget.deadline {
                return .failure(
                    .failure(.noReachableAuthority, "no answer within \(self.limits.timeout) (limit timeout)")
                )
            }
            if self.infrastructure.isFailing(delegation.zone, now: now) {
                return .failure(
                    .failure(
                        .noReachableAuthority,
                        "the servers of \(delegation.zone) failed recently (cached failure)"
                    )
                )
            }
            let isMinimised = minimise && exposed < name.labelCount
            let asked =
                isMinimised
                ? Question(name: name.suffix(labels: exposed), type: .a, recordClass: question.recordClass) : question
            let outcome = await self.ask(asked, of: delegation, minimised: isMinimised, sent: &sent, context: context)
            // RFC 9156 §3 (relaxed): a server that fails the minimised question may still answer the full one (or
            // refer it), as Unbound falls back on any failure; a limit met ends the resolution either way.
            // (Decided by a function of its own: the same test inline in the switch crashed the 6.3.1 optimiser.)
            if Resolver.retriesInFull(outcome, minimised: isMinimised, mode: self.options.qnameMinimisation) {
                minimise = false
                continue
            }
            let reply: Message
            switch outcome {
            case .reply(let message): reply = message
            case .failed(let resolution): return .failure(resolution)
            }
            let scrubbed = ReplyScrubber(
                zone: delegation.zone,
                name: asked.name,
                type: asked.type,
                maximumChain: self.limits.cnameChain
            ).scrub(reply)
            if scrubbed.dropped > 0 { self.metrics.scrubbedRecords.increment(by: scrubbed.dropped) }
            var message = scrubbed.message
            self.cache.clampTTLs(&message)
            let remember = { _ = self.cache.store(message, question: asked, dnssecOK: false, now: self.clock()) }
            if let cut = Resolver.referral(in: message, zone: delegation.zone, name: asked.name) {
                // A referral's NS set is the parent's word, at referral trust even when AA was (wrongly) set, so the
                // child's own authoritative NS set can still replace it.
                message.header.isAuthoritative = false
                _ = self.cache.store(message, question: asked, dnssecOK: false, now: self.clock())
                delegation = cut
                exposed = cut.zone.labelCount + 1
                continue
            }
            if isMinimised {
                if message.responseCode == .nxDomain {
                    if self.options.qnameMinimisation == .strict {
                        // Nothing exists below a name that does not exist (RFC 8020).
                        remember()
                        return .negative(.nxDomain, [], message.authorities.first { $0.type == .soa })
                    }
                    minimise = false
                    continue
                }
                if scrubbed.chain.count > 1 {
                    // An alias on the way down: the name below it cannot exist there; ask for the full name.
                    minimise = false
                    continue
                }
                // The name exists in this zone and is not a cut: show one more label.
                exposed += 1
                minimised += 1
                if minimised >= Resolver.maximumMinimisedQueries { minimise = false }
                continue
            }
            remember()
            return Resolver.classify(
                message,
                aliases: scrubbed.aliases,
                end: scrubbed.chain.last ?? question.name,
                question: question,
                zone: delegation.zone
            )
        }
    }

    /// Whether a failed minimised query is asked again with the full name: in relaxed mode, unless a limit ended it.
    static func retriesInFull(_ outcome: AskOutcome, minimised: Bool, mode: QNameMinimisation) -> Bool {
        guard minimised, mode == .relaxed, case .failed(let resolution) = outcome else { return false }
        guard let error = resolution.error else { return true }
        return error.infoCode != .other
    }

    /// The delegation below `zone` towards `name` in a (scrubbed) reply: an NS set whose owner is under `zone` and at
    /// or above `name`, in a reply with no answer and no SOA. Whatever AA says: some servers set it on referrals, and
    /// taking one for an empty authoritative answer would deny every name below the cut.
    static func referral(in message: Message, zone: DomainName, name: DomainName) -> Delegation? {
        guard message.answers.isEmpty, message.responseCode == .noError,
            !message.authorities.contains(where: { $0.type == .soa })
        else {
            return nil
        }
        let cuts = message.authorities.filter { $0.type == .ns && $0.name != zone && name.isSubdomain(of: $0.name) }
        guard let owner = cuts.max(by: { $0.name.labelCount < $1.name.labelCount })?.name else { return nil }
        let servers = cuts.compactMap { record -> DomainName? in
            guard record.name == owner, case .ns(let server) = record.rdata else { return nil }
            return server
        }
        return Delegation(zone: owner, servers: servers)
    }

    /// What an answer from the zone's server says about `question`, given the aliases the scrubber followed to `end`.
    static func classify(
        _ message: Message,
        aliases: [Record],
        end: DomainName,
        question: Question,
        zone: DomainName
    ) -> Step {
        let data = message.answers.filter {
            $0.name == end && ($0.type == question.type || question.type == .any) && $0.type != .rrsig
        }
        if !data.isEmpty { return .answer(aliases + data) }
        let soa = message.authorities.first { $0.type == .soa }
        if end == question.name {
            return .negative(message.responseCode == .nxDomain ? .nxDomain : .noError, [], soa)
        }
        // The chain leaves the name: the server speaks for the end only when it is in its zone and it said so.
        if end.isSubdomain(of: zone) && message.header.isAuthoritative
            && (message.responseCode == .nxDomain || soa != nil)
        {
            return .negative(message.responseCode == .nxDomain ? .nxDomain : .noError, aliases, soa)
        }
        return .alias(aliases, end)
    }

    // MARK: Delegations and servers

    /// The deepest zone cut at or above `name` whose NS set is cached; the root from the hints when none is, after
    /// priming the root's NS set (RFC 8109) unless this is the priming query.
    func closestDelegation(for name: DomainName, priming: Bool, _ context: FetchContext) async -> Delegation {
        if let cached = self.cachedDelegation(for: name) { return cached }
        if !priming {
            _ = await self.resolve(Question(name: .root, type: .ns), context: context)
            if let primed = self.cachedDelegation(for: .root) { return primed }
        }
        // The hints' addresses, as glue (they are never answers), where the cache has none.
        let now = self.clock()
        for server in self.hints.servers {
            let records = server.addresses.map { Record(name: server.name, ttl: 86400, rdata: RData(address: $0)) }
            for set in records.groupedIntoRRsets() {
                let key = RRsetCache.Key(name: server.name, type: set[0].type)
                guard self.cache.lookup(key, now: now) == nil else { continue }
                self.cache.store(key, .records(set, signatures: nil), trust: .additional, ttl: 86400, now: now)
            }
        }
        return Delegation(zone: .root, servers: self.hints.servers.map(\.name))
    }

    private func cachedDelegation(for name: DomainName) -> Delegation? {
        let now = self.clock()
        var candidate: DomainName? = name
        while let zone = candidate {
            if let hit = self.cache.lookup(RRsetCache.Key(name: zone, type: .ns), now: now), !hit.isStale,
                case .records(let records, _) = hit.content
            {
                let servers = records.compactMap { record -> DomainName? in
                    if case .ns(let server) = record.rdata { return server }
                    return nil
                }
                if !servers.isEmpty { return Delegation(zone: zone, servers: servers) }
            }
            candidate = zone.parent
        }
        return nil
    }

    /// The usable addresses of a delegation's servers known now, best first, and the NS names with none known.
    func addresses(of delegation: Delegation) -> (addresses: [IPAddress], unknown: [DomainName]) {
        let now = self.clock()
        var found: [IPAddress] = []
        var unknown: [DomainName] = []
        let types: [RecordType] = self.useIPv6 ? [.a, .aaaa] : [.a]
        for server in delegation.servers.prefix(Resolver.maximumServerNames) {
            var known = false
            for type in types {
                guard let hit = self.cache.lookup(RRsetCache.Key(name: server, type: type), now: now), !hit.isStale
                else { continue }
                known = true
                if case .records(let records, _) = hit.content {
                    found += records.lazy.compactMap(\.rdata.address).prefix(Resolver.maximumAddressesPerServerName)
                }
            }
            if !known,
                self.cache.lookup(RRsetCache.Key(name: server, type: RecordType(0)), now: now) == nil
            {
                unknown.append(server)
            }
        }
        let usable = found.filter { address in
            self.mayQuery(address) && !self.infrastructure.isLame(address, zone: delegation.zone, now: now)
        }
        // Linear, whatever the zone sends (a set, not a search of what is kept so far).
        var seen: Set<IPAddress> = []
        let unique = usable.filter { seen.insert($0).inserted }
        return (self.infrastructure.order(unique, now: now), unknown)
    }

    /// Whether `address` may be sent queries: never unspecified, multicast or broadcast addresses, and loopback
    /// only when `allow_loopback` is set (a delegation to 127.0.0.1 would make us query ourselves).
    func mayQuery(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let v4):
            let first = v4.rawValue >> 24
            if first == 0 || first >= 224 { return false }
            if first == 127 { return self.options.allowLoopback }
            return true
        case .v6(let v6):
            if v6.high == 0 && v6.low == 0 { return false }
            if v6.high >> 56 == 0xFF { return false }
            if v6.high == 0 && v6.low == 1 { return self.options.allowLoopback }
            if v6.high == 0 && v6.low >> 32 == 0xFFFF {
                return self.mayQuery(.v4(IPv4Address(rawValue: UInt32(truncatingIfNeeded: v6.low))))
            }
            return self.useIPv6
        }
    }

    enum AskOutcome {
        case reply(Message)
        case failed(Resolution)
    }

    /// Asks the delegation's servers, best first, until one gives a usable reply; looks up the addresses of NS names
    /// without any known when the known ones are exhausted. A `minimised` question's refusal says nothing about the
    /// zone (the server may just mishandle the shortened name): it is not remembered as lameness.
    func ask(
        _ question: Question,
        of delegation: Delegation,
        minimised: Bool = false,
        sent: inout Int,
        context: FetchContext
    ) async
        -> AskOutcome
    {
        var tried: Set<IPAddress> = []
        var looked: Set<DomainName> = []
        var missingNames = 0
        var lastProblem = "no address for any name server"
        var limitMet: Resolution? = nil
        var timedOut: Set<IPAddress> = []
        var retries = 0
        /// A server answered, with SERVFAIL or the like: the failure is this question's, not the zone's.
        var questionFailed = false
        while true {
            let (addresses, unknown) = self.addresses(of: delegation)
            for address in addresses where !tried.contains(address) {
                tried.insert(address)
                guard context.budget.spend() else {
                    self.metrics.limitsHit.increment()
                    return .failed(
                        .limit("\(self.limits.queriesPerRequest) upstream queries sent (limit queries_per_request)")
                    )
                }
                sent += 1
                guard sent <= self.limits.queriesPerFetch else {
                    self.metrics.limitsHit.increment()
                    return .failed(
                        .limit(
                            "\(self.limits.queriesPerFetch) queries sent for \(question.name) (limit queries_per_fetch)"
                        )
                    )
                }
                guard self.clock() < context.budget.deadline else { break }
                let reply: Message
                do {
                    reply = try await self.exchange(
                        question,
                        with: address,
                        deadline: context.budget.deadline,
                        on: context.executor
                    )
                } catch
                {
                    lastProblem = "\(address): \(UpstreamError.describe(error))"
                    if case UpstreamError.timeout = error { timedOut.insert(address) }
                    continue
                }
                if let problem = Resolver.unusable(reply, zone: delegation.zone, name: question.name) {
                    lastProblem = "\(address) \(problem.reason) for \(delegation.zone)"
                    // Try the next server; remember lameness only when the server said it does not serve the zone.
                    guard problem.isLame, !minimised else {
                        questionFailed = true
                        continue
                    }
                    self.metrics.lameServers.increment()
                    self.infrastructure.markLame(address, zone: delegation.zone, now: self.clock())
                    continue
                }
                self.infrastructure.recordSuccess(delegation.zone)
                return .reply(reply)
            }
            let pending = unknown.filter { !looked.contains($0) }
            guard self.clock() < context.budget.deadline else { break }
            if pending.isEmpty {
                // Every address tried: those that only timed out get one more try, with their backed-off timeout
                // (a lost datagram should not fail the zone; Unbound retries too).
                guard retries < Resolver.timeoutRetries, !timedOut.isEmpty else { break }
                retries += 1
                tried.subtract(timedOut)
                timedOut = []
                continue
            }
            // Known addresses are exhausted: look up the NS names that have none, a few at a time.
            // Never more lookups than NXDOMAINs may still come (NXNSAttack: at most 5 per delegation).
            let allowed = min(Resolver.parallelServerLookups, Resolver.maximumMissingServerNames - missingNames)
            let batch = Array(pending.prefix(allowed))
            looked.formUnion(batch)
            guard context.depth < self.limits.depth else {
                self.metrics.limitsHit.increment()
                return .failed(
                    .limit(
                        "name server lookups nested \(self.limits.depth) deep for \(delegation.zone) (limit depth)"
                    )
                )
            }
            let results = await self.lookUpAddresses(of: batch, context: context)
            for result in results {
                if result.responseCode == .nxDomain { missingNames += 1 }
                // A limit met on the way (depth, a cycle, the request's budget) is the reason, if nothing else works.
                if let error = result.error, error.infoCode == .other { limitMet = result }
            }
            if missingNames >= Resolver.maximumMissingServerNames {
                self.metrics.limitsHit.increment()
                self.infrastructure.recordFailure(delegation.zone, now: self.clock())
                return .failed(
                    .limit(
                        "\(missingNames) name server names of \(delegation.zone) do not exist (NXNS limit \(Resolver.maximumMissingServerNames))"
                    )
                )
            }
        }
        // RFC 9520 §3: the zone's servers are avoided for a while when none could be reached; a question they
        // answered with SERVFAIL is remembered by the cache plugin (RFC 2308 §7), not held against the zone.
        if !questionFailed { self.infrastructure.recordFailure(delegation.zone, now: self.clock()) }
        if let limitMet { return .failed(limitMet) }
        return .failed(.failure(.noReachableAuthority, "no server of \(delegation.zone) answered: \(lastProblem)"))
    }

    /// Resolves the addresses of `names` in parallel; one resolution per name (the A lookup's, else the AAAA's).
    private func lookUpAddresses(of names: [DomainName], context: FetchContext) async -> [Resolution] {
        let types: [RecordType] = self.useIPv6 ? [.a, .aaaa] : [.a]
        let nested = FetchContext(
            budget: context.budget,
            ancestry: context.ancestry,
            depth: context.depth + 1,
            executor: context.executor
        )
        return await withTaskGroup(of: (Int, Resolution).self) { group in
            for (index, server) in names.enumerated() {
                for type in types {
                    group.addTask {
                        (index, await self.resolve(Question(name: server, type: type), context: nested))
                    }
                }
            }
            var byName = [Resolution?](repeating: nil, count: names.count)
            for await (index, resolution) in group where byName[index]?.answers.isEmpty ?? true {
                byName[index] = resolution
            }
            return byName.compactMap { $0 }
        }
    }

    /// Why a reply cannot be used as the zone's answer.
    struct Unusable {
        var reason: String
        /// True when it says the server does not serve the zone (REFUSED, NOTAUTH, a non-authoritative non-answer,
        /// an upward referral): remembered as lame. SERVFAIL, FORMERR and the like may concern only this name.
        var isLame: Bool
    }

    /// Why `reply` cannot be used as the zone's answer (RFC 1034 §5.3.3 step 4), or nil when it can.
    static func unusable(_ reply: Message, zone: DomainName, name: DomainName) -> Unusable? {
        switch reply.responseCode {
        case .noError, .nxDomain: break
        case .refused, .notAuth: return Unusable(reason: "answered \(reply.responseCode)", isLame: true)
        default: return Unusable(reason: "answered \(reply.responseCode)", isLame: false)
        }
        if reply.header.isAuthoritative { return nil }
        if reply.answers.contains(where: { $0.name == name }) { return nil }
        if reply.authorities.contains(where: { $0.type == .ns && $0.name != zone && name.isSubdomain(of: $0.name) }),
            reply.authorities.allSatisfy({ $0.type != .ns || $0.name.isSubdomain(of: zone) })
        {
            return nil
        }
        if reply.responseCode == .nxDomain && reply.authorities.contains(where: { $0.type == .soa }) { return nil }
        if reply.authorities.contains(where: { $0.type == .ns }) {
            return Unusable(reason: "sent an upward or sideways referral", isLame: true)
        }
        return Unusable(reason: "is not authoritative", isLame: true)
    }

    // MARK: One query

    /// Sends one non-recursive query about `question` to `address` (random ID, fresh random port, 0x20 case, EDNS
    /// 1232 unless the server is known to need none) and returns its answer; TCP when it comes truncated.
    func exchange(
        _ question: Question,
        with address: IPAddress,
        deadline: UInt64,
        on executor: (any TaskExecutor)?
    ) async throws -> Message {
        let now = self.clock()
        let withEDNS = !self.infrastructure.needsNoEDNS(address, now: now)
        let name = self.options.use0x20 ? question.name.withRandomCase() : question.name
        var edns: EDNS? = nil
        if withEDNS { edns = EDNS(udpPayloadSize: Resolver.payloadSize) }
        let query = Message.query(
            name,
            question.type,
            recordClass: question.recordClass,
            recursionDesired: false,
            edns: edns
        )
        let sentQuestion = query.questions[0]
        let remaining = deadline > now ? Double(deadline - now) / 1e6 : 0
        let milliseconds = min(self.infrastructure.timeout(for: address, now: now), remaining)
        let timeout = Duration.nanoseconds(Int64(milliseconds * 1e6))
        let server = UpstreamServer(address: address, port: self.port)
        self.metrics.upstreamQueries.increment()
        let started = self.clock()
        var bytes: [UInt8]
        do {
            // The upstream service gives it a random ID and a socket of its own on a random port.
            bytes = try await self.upstreams.exchange(
                try query.wire,
                question: sentQuestion,
                exactCase: true,
                with: server,
                timeout: timeout,
                on: executor
            )
        } catch UpstreamError.timeout {
            self.metrics.timeouts.increment()
            self.infrastructure.timedOut(address, now: self.clock())
            throw UpstreamError.timeout
        }
        self.infrastructure.answered(address, after: Double(self.clock() &- started) / 1e6, now: self.clock())
        if bytes.count >= 3 && bytes[2] & 0x02 != 0 {
            // Truncated: the same question over TCP (RFC 7766 §5), given at least a second.
            self.metrics.tcpRetries.increment()
            let tcpTimeout = Duration.nanoseconds(Int64(max(milliseconds, 1000) * 1e6))
            bytes = try await self.upstreams.exchange(
                try query.wire,
                question: sentQuestion,
                exactCase: true,
                with: server.over(.tcp),
                timeout: tcpTimeout,
                on: executor
            )
        }
        guard let message = try? Message(wire: bytes) else {
            self.metrics.rejectedReplies.increment()
            throw UpstreamError.malformed
        }
        if withEDNS && (message.responseCode == .formErr || message.responseCode == .notImp) && message.edns == nil {
            // It does not know EDNS (RFC 6891 §7): remember, and ask again without.
            self.metrics.ednsFallbacks.increment()
            self.infrastructure.markWithoutEDNS(address, now: self.clock())
            return try await self.exchange(question, with: address, deadline: deadline, on: executor)
        }
        return message
    }
}
