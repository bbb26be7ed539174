// ForwardHandler: sends cache misses to upstream resolvers, with coalescing, retries, health and spoofing checks.

import Pipeline
import Synchronization

/// What a resolution through the upstreams gave.
enum ForwardResult: Sendable {
    case answer(Message)
    /// No upstream answered within the deadline (or all are down): SERVFAIL with this Extended DNS Error.
    case failure(ExtendedError)
    /// `max_concurrent` resolutions were in flight: REFUSED (docs/ARCHITECTURE.md: past a bound the server sheds), for
    /// the query that found the bound reached and every identical one that joined it.
    case shed
}

/// Forwards the questions it is given (its zones, minus `except`) to the upstreams; everything else goes on down the
/// chain. `handle` only decides; the exchange happens in `resume`, off the worker thread.
final class ForwardHandler: QueryHandler {
    let upstreams: [Upstream]
    /// The host's upstream I/O for this instance (its sockets and connections).
    let client: any UpstreamExchange
    let zones: [DomainName]
    let except: [DomainName]
    let policy: ForwardPolicy
    let timeout: Duration
    let deadline: UInt64
    let maxFails: Int
    /// Random letter case in the questions sent, checked in the answers (`use_0x20`).
    let use0x20: Bool
    let metrics: ForwardMetrics
    /// Upstream resolutions at once (`max_concurrent`).
    let inFlight: InFlightLimit
    let nextIndex = Atomic<Int>(0)
    /// Identical questions in flight share one resolution (keyed by lower-cased name, type, class, DO, CD).
    let coalescing = Mutex<[CoalescingKey: [CheckedContinuation<ForwardResult?, Never>]]>([:])

    /// A query's part in coalescing: the first one for a key resolves, the others get its result.
    enum CoalescingRole {
        case leader
        case follower(ForwardResult)
    }

    /// Joins the resolution in flight for `key`, or becomes the one that does it.
    func coalesce(_ key: CoalescingKey) async -> CoalescingRole {
        let leads = self.coalescing.withLock { table -> Bool in
            if table[key] != nil { return false }
            table[key] = []
            return true
        }
        if leads { return .leader }
        let result: ForwardResult? = await withCheckedContinuation { continuation in
            let joined = self.coalescing.withLock { table -> Bool in
                guard table[key] != nil else { return false }
                table[key]!.append(continuation)
                return true
            }
            // The leader finished in between: nil, and we try again (likely leading this time).
            if !joined { continuation.resume(returning: nil) }
        }
        guard let result else { return await self.coalesce(key) }
        return .follower(result)
    }

    /// Hands the leader's result to every follower and closes the key.
    func finishCoalescing(_ key: CoalescingKey, with result: ForwardResult) {
        let waiting = self.coalescing.withLock { $0.removeValue(forKey: key) ?? [] }
        for continuation in waiting { continuation.resume(returning: result) }
    }

    struct CoalescingKey: Hashable {
        var name: DomainName
        var type: RecordType
        var recordClass: RecordClass
        var dnssecOK: Bool
        var checkingDisabled: Bool
    }

    init(
        upstreams: [Upstream],
        client: any UpstreamExchange,
        zones: [DomainName],
        except: [DomainName],
        options: ForwardOptions,
        metrics: ForwardMetrics
    ) {
        self.upstreams = upstreams
        self.client = client
        self.zones = zones
        self.except = except
        self.policy = options.policy
        self.timeout = options.timeout.duration
        self.deadline = options.deadline.nanoseconds
        self.maxFails = options.maxFails
        self.use0x20 = options.use0x20
        self.inFlight = InFlightLimit(maximum: options.maxConcurrent)
        self.metrics = metrics
    }

    func handle(_ query: inout Query) -> Verdict {
        let name = query.question.name
        guard let zone = self.zone(of: name), !self.except.contains(where: { name.isSubdomain(of: $0) }) else {
            return .next
        }
        // ANY over UDP is what reflection attacks ask: RFC 8482's small answer, without asking anyone.
        if query.isANYOverUDP {
            query.answerMinimalANY(by: ForwardPlugin.name)
            return .answered
        }
        // The upstreams speak for this zone only: the cache keeps nothing of their reply outside it.
        query.bailiwick = zone
        return .suspend
    }

    /// The most specific of this entry's zones that holds `name`, or nil when none does.
    func zone(of name: DomainName) -> DomainName? {
        var best: DomainName? = nil
        for zone in self.zones where name.isSubdomain(of: zone) {
            if best == nil || zone.labelCount > best!.labelCount { best = zone }
        }
        return best
    }

    func resume(_ query: inout Query) async -> Verdict {
        self.metrics.requests.increment()
        let request = query.request
        let key = CoalescingKey(
            name: query.question.name,
            type: query.question.type,
            recordClass: query.question.recordClass,
            dnssecOK: request.edns?.dnssecOK ?? false,
            checkingDisabled: request.header.checkingDisabled
        )
        let result: ForwardResult
        switch await self.coalesce(key) {
        case .follower(let shared):
            self.metrics.coalesced.increment()
            result = shared
        case .leader:
            guard self.inFlight.enter() else {
                result = .shed
                self.finishCoalescing(key, with: result)
                break
            }
            // The leader resolves on its own task (keeping the server's executor); followers wait for its result.
            result = await self.resolve(request, on: query.executor)
            self.inFlight.leave()
            self.finishCoalescing(key, with: result)
        }
        switch result {
        case .answer(let upstream):
            query.response = ForwardHandler.clientResponse(from: upstream, to: request, zone: query.bailiwick ?? .root)
        case .failure(let error):
            self.metrics.failures.increment()
            var response = Message.response(to: request, responseCode: .servFail)
            response.header.recursionAvailable = true
            response.edns?.options = [.extendedError(error)]
            query.response = response
        case .shed:
            // REFUSED, which the cache does not store: the next query finds the bound free again.
            self.metrics.shed.increment()
            query.response = Message.response(to: request, responseCode: .refused)
            query.logNote = "forward: max_concurrent reached"
        }
        query.answeredBy = ForwardPlugin.name
        // The cache plugin, when present, decides what may be stored; forward alone caches nothing.
        query.cacheability = .never
        return .answered
    }

    /// The upstream's answer addressed to our client: its ID, its question spelling, its RD and CD, and our OPT
    /// (payload size, the client's DO) keeping only the upstream's Extended DNS Errors. For a `zone` below the root,
    /// the authority and additional sections keep only what the zone's servers may say (`ReplyScrubber`), so a
    /// downstream resolver cannot be handed another zone's delegation through us; the answer section is the
    /// upstream's, for the question it was asked (the cache stores only its part inside the zone).
    static func clientResponse(from upstream: Message, to request: Message, zone: DomainName = .root) -> Message {
        var response = upstream
        if !zone.isRoot {
            let question = request.questions[0]
            let scrubbed = ReplyScrubber(
                zone: zone,
                name: question.name,
                type: question.type,
                maximumChain: RRsetCache.maximumStoredChain
            ).scrub(upstream).message
            response.authorities = scrubbed.authorities
            response.additionals = scrubbed.additionals
        }
        response.header.id = request.header.id
        response.header.recursionDesired = request.header.recursionDesired
        response.header.checkingDisabled = request.header.checkingDisabled
        response.questions = request.questions
        let code = upstream.responseCode
        if let clientEDNS = request.edns {
            var edns = EDNS()
            edns.dnssecOK = clientEDNS.dnssecOK
            edns.options = upstream.edns?.options.filter { $0.code == .extendedError } ?? []
            response.edns = edns
        } else {
            response.edns = nil
        }
        response.responseCode = code
        return response
    }

    /// Tries upstreams in policy order until one answers or the deadline passes, on `executor` (the query's).
    func resolve(_ request: Message, on executor: (any TaskExecutor)?) async -> ForwardResult {
        let started = Clock.nanoseconds()
        let candidates = self.order()
        guard !candidates.isEmpty else {
            return .failure(ExtendedError(infoCode: .noReachableAuthority, extraText: "all upstreams are down"))
        }
        var outgoing = Message.query(
            request.questions[0].name,
            request.questions[0].type,
            recordClass: request.questions[0].recordClass,
            recursionDesired: true,
            edns: EDNS()
        )
        outgoing.edns?.dnssecOK = request.edns?.dnssecOK ?? false
        outgoing.header.checkingDisabled = request.header.checkingDisabled
        var lastError = ExtendedError(infoCode: .networkError, extraText: "no upstream answered")
        var fallback: Message? = nil
        for upstream in candidates {
            let elapsed = Clock.nanoseconds() &- started
            guard elapsed < self.deadline else { break }
            let remaining = Duration.nanoseconds(Int64(self.deadline - elapsed))
            let timeout = min(self.timeout, remaining)
            do {
                // The upstream service gives each try a fresh random ID (RFC 5452 §4.3).
                let answer = try await self.exchange(outgoing, with: upstream, timeout: timeout, on: executor)
                // SERVFAIL and REFUSED say this upstream cannot help: try the next, keep it as a last resort.
                if answer.responseCode == .servFail || answer.responseCode == .refused {
                    fallback = answer
                    continue
                }
                return .answer(answer)
            } catch {
                self.metrics.upstreamErrors.increment()
                if upstream.failed(maxFails: self.maxFails) { self.metrics.markedDown.increment() }
                lastError = ExtendedError(
                    infoCode: .networkError,
                    extraText: "\(upstream.name): \(UpstreamError.describe(error))"
                )
            }
        }
        if let fallback { return .answer(fallback) }
        return .failure(lastError)
    }

    /// One try with one upstream: UDP first (TCP after a truncated answer), or TCP for `tcp://` upstreams. With
    /// `use_0x20` the question goes out in random letter case and only an answer echoing it exactly is taken.
    func exchange(
        _ query: Message,
        with upstream: Upstream,
        timeout: Duration,
        on executor: (any TaskExecutor)?
    ) async throws -> Message {
        var query = query
        let exactCase = self.use0x20
        let asked = query.questions[0].name
        if exactCase { query.questions[0].name = asked.withRandomCase() }
        let packet = try query.wire
        let question = query.questions[0]
        let started = Clock.nanoseconds()
        self.metrics.upstreamQueries.increment()
        var bytes = try await self.client.exchange(
            packet,
            question: question,
            exactCase: exactCase,
            with: upstream.server,
            timeout: timeout,
            on: executor
        )
        if upstream.server.transport == .udp && bytes.count >= 3 && bytes[2] & 0x02 != 0 {
            // TC: the same question again over TCP (RFC 7766 §5), in what is left of this try's timeout.
            self.metrics.truncatedRetries.increment()
            let left = timeout - .nanoseconds(Int64(Clock.nanoseconds() &- started))
            guard left > .zero else { throw UpstreamError.timeout }
            bytes = try await self.client.exchange(
                packet,
                question: question,
                exactCase: exactCase,
                with: upstream.server.over(.tcp),
                timeout: left,
                on: executor
            )
        }
        guard var message = try? Message(wire: bytes) else {
            self.metrics.rejectedReplies.increment()
            throw UpstreamError.malformed
        }
        if exactCase {
            // Records owned by the question's name get back the spelling we were asked in, not the random one sent.
            for index in message.answers.indices where message.answers[index].name == asked {
                message.answers[index].name = asked
            }
        }
        upstream.succeeded(after: Double(Clock.nanoseconds() &- started) / 1000)
        return message
    }

    /// Healthy upstreams in the policy's order; empty when every upstream is down.
    func order() -> [Upstream] {
        // One upstream (the common case): its own array, shared rather than filtered into a new one per query.
        if self.upstreams.count == 1 { return self.upstreams[0].isDown ? [] : self.upstreams }
        let healthy = self.upstreams.filter { !$0.isDown }
        guard !healthy.isEmpty else { return [] }
        switch self.policy {
        case .sequential:
            return healthy
        case .random:
            return healthy.shuffled()
        case .roundRobin:
            let start = self.nextIndex.add(1, ordering: .relaxed).oldValue % healthy.count
            return Array(healthy[start...] + healthy[..<start])
        case .fastest:
            var sorted = healthy.sorted { $0.smoothedRTT < $1.smoothedRTT }
            // Explore: one query in twenty goes to another upstream first, so its RTT stays current.
            if sorted.count > 1 && UInt8.random(in: 0..<20) == 0 { sorted.swapAt(0, Int.random(in: 1..<sorted.count)) }
            return sorted
        }
    }

    /// Probes each down upstream with `. NS` every `interval` until it answers (it is then up again).
    func healthChecks(interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            for upstream in self.upstreams where upstream.isDown {
                var probe = Message.query(.root, .ns, id: UInt16.random(in: 0...UInt16.max), recursionDesired: true)
                probe.edns = EDNS()
                _ = try? await self.exchange(probe, with: upstream, timeout: .seconds(1), on: nil)
            }
        }
    }
}
