// CacheHandler: answers from the RRset cache, and fills it (and the fast path) from what later handlers answered.

import Metrics
import Pipeline

/// Answers a question from cached RRsets (following CNAME chains) or cached negative answers; otherwise passes the
/// query on and, in `finish`, stores what came back: RRsets by trust (RFC 2181 §5.4.1), negative answers for the
/// SOA's time (RFC 2308), SERVFAIL for 5 s (RFC 2308 §7.1). It marks what it answers or stores as cacheable, so
/// repeats are answered by the message cache without entering the chain. With `serve_stale`, a failed refresh is
/// answered from expired data with TTL 30 and Extended DNS Error 3 (RFC 8767).
final class CacheHandler: QueryHandler {
    let cache: RRsetCache
    let options: CacheOptions
    let hits: Counter
    let misses: Counter
    let staleAnswers: Counter
    let stores: Counter
    let prefetches: Counter
    let memory: Gauge

    /// CNAME links followed from cached data, at most (as the recursive limits: 11).
    static let maximumChain = 11
    /// How long a SERVFAIL is remembered, seconds (RFC 2308 §7.1 allows up to 5 minutes; resolvers use seconds).
    static let serverFailureTTL: UInt32 = 5
    /// The TTL of stale answers (RFC 8767 §4).
    static let staleTTL: UInt32 = 30

    init(cache: RRsetCache, options: CacheOptions, context: PluginContext) {
        self.cache = cache
        self.options = options
        self.hits = context.counter("requests_total", [("result", "hit")])
        self.misses = context.counter("requests_total", [("result", "miss")])
        self.staleAnswers = context.counter("stale_answers_total")
        self.stores = context.counter("stores_total")
        self.prefetches = context.counter("prefetches_total")
        self.memory = context.gauge("memory_bytes")
    }

    /// An answer assembled from the cache.
    struct Assembled {
        var responseCode: ResponseCode
        var answers: [Record]
        var authorities: [Record]
        var minimumTTL: UInt32
        var stale: Bool
        /// The final RRset's lookup: for the prefetch decision.
        var finalHit: RRsetCacheHit? = nil
    }

    func handle(_ query: inout Query) -> Verdict {
        let question = query.question
        guard !question.type.isMetaType else { return .next }
        let now = Clock.nanoseconds()
        let dnssecOK = query.request.edns?.dnssecOK ?? false
        if let failure = self.cache.lookup(
            RRsetCache.Key(name: question.name, type: question.type, recordClass: question.recordClass),
            now: now
        ),
            failure.content == .serverFailure, !failure.isStale
        {
            self.hits.increment()
            query.response = Message.response(to: query.request, responseCode: .servFail)
            query.response?.header.recursionAvailable = true
            query.answeredBy = CachePlugin.name
            return .answered
        }
        guard let assembled = self.assemble(question, dnssecOK: dnssecOK, now: now, allowStale: false) else {
            self.misses.increment()
            if self.options.serveStale.nanoseconds > 0,
                var stale = self.assemble(question, dnssecOK: dnssecOK, now: now, allowStale: true)
            {
                // RFC 8767 §5: try the upstreams, but answer the stale data if they take longer than the client
                // timeout; the refresh still completes and is stored.
                stale.answers = stale.answers.map(CacheHandler.staleRecord)
                stale.authorities = stale.authorities.map(CacheHandler.staleRecord)
                var response = Message.response(to: query.request, responseCode: stale.responseCode)
                response.header.recursionAvailable = true
                response.answers = stale.answers
                response.authorities = stale.authorities
                if response.edns != nil {
                    response.edns!.options = [.extendedError(ExtendedError(infoCode: .staleAnswer))]
                }
                query.lateFallback = (response, self.options.staleClientTimeout.duration)
            }
            return .next
        }
        self.hits.increment()
        self.respond(&query, with: assembled)
        if let prefetch = self.options.prefetch, let hit = assembled.finalHit, !assembled.stale {
            // The last `before_expiry` percent of the TTL: refresh popular entries behind the client's back, and keep
            // the fast path out of that window so the requests that trigger the refresh keep reaching us.
            let window = hit.originalTTL * prefetch.beforeExpiry / 100
            if hit.remaining <= window {
                if hit.hits >= prefetch.minHits {
                    query.refreshInBackground = true
                    self.prefetches.increment()
                }
                query.cacheability = .never
            } else {
                query.cacheability = .upTo(seconds: min(assembled.minimumTTL, hit.remaining - window))
            }
        }
        return .answered
    }

    private func respond(_ query: inout Query, with assembled: Assembled) {
        var response = Message.response(to: query.request, responseCode: assembled.responseCode)
        response.header.recursionAvailable = true
        response.answers = assembled.answers
        response.authorities = assembled.authorities
        if assembled.stale {
            response.edns?.options = [.extendedError(ExtendedError(infoCode: .staleAnswer))]
        }
        query.response = response
        query.answeredBy = CachePlugin.name
        query.cacheability = assembled.stale ? .never : .upTo(seconds: assembled.minimumTTL)
    }

    /// Builds the answer for `question` from cached data, or nil when something is missing.
    func assemble(_ question: Question, dnssecOK: Bool, now: UInt64, allowStale: Bool) -> Assembled? {
        var answers: [Record] = []
        var minimum = UInt32.max
        var stale = false
        var name = question.name
        func usable(_ hit: RRsetCacheHit) -> Bool { allowStale || !hit.isStale }
        for _ in 0...CacheHandler.maximumChain {
            if let nx = self.cache.lookup(
                RRsetCache.Key(name: name, type: RecordType(0), recordClass: question.recordClass),
                now: now
            ),
                usable(nx), case .nxDomain(let soa) = nx.content
            {
                stale = stale || nx.isStale
                return Assembled(
                    responseCode: .nxDomain,
                    answers: answers,
                    authorities: [soa],
                    minimumTTL: min(minimum, soa.ttl),
                    stale: stale
                )
            }
            if let hit = self.cache.lookup(
                RRsetCache.Key(name: name, type: question.type, recordClass: question.recordClass),
                now: now
            ),
                usable(hit), hit.trust >= .answerNonAuthoritative
            {
                stale = stale || hit.isStale
                switch hit.content {
                case .records(let records, let signatures):
                    if dnssecOK && signatures == nil { return nil }
                    answers += records.map { record in
                        var renamed = record
                        renamed.name = name
                        return renamed
                    }
                    if dnssecOK { answers += signatures ?? [] }
                    for record in records { minimum = min(minimum, record.ttl) }
                    return Assembled(
                        responseCode: .noError,
                        answers: answers,
                        authorities: [],
                        minimumTTL: minimum,
                        stale: stale,
                        finalHit: hit
                    )
                case .noData(let soa):
                    return Assembled(
                        responseCode: .noError,
                        answers: answers,
                        authorities: [soa],
                        minimumTTL: min(minimum, soa.ttl),
                        stale: stale
                    )
                case .nxDomain, .serverFailure:
                    return nil
                }
            }
            guard question.type != .cname,
                let hit = self.cache.lookup(
                    RRsetCache.Key(name: name, type: .cname, recordClass: question.recordClass),
                    now: now
                ),
                usable(hit), hit.trust >= .answerNonAuthoritative,
                case .records(let records, let signatures) = hit.content,
                let cname = records.first, case .cname(let target) = cname.rdata
            else { return nil }
            if dnssecOK && signatures == nil { return nil }
            stale = stale || hit.isStale
            var renamed = cname
            renamed.name = name
            answers.append(renamed)
            if dnssecOK { answers += signatures ?? [] }
            minimum = min(minimum, cname.ttl)
            name = target
        }
        return nil
    }

    func finish(_ query: inout Query) {
        guard query.answeredBy != CachePlugin.name, var response = query.response else { return }
        let now = Clock.nanoseconds()
        let question = query.question
        let dnssecOK = query.request.edns?.dnssecOK ?? false
        switch response.responseCode {
        case .noError, .nxDomain:
            self.clampTTLs(&response)
            self.store(response, question: question, dnssecOK: dnssecOK, now: now)
            query.response = response
            // Now the fast path may hold it: for the smallest TTL in it (the encoder takes the minimum).
            if let prefetch = self.options.prefetch {
                // Leave the prefetch window to the cache plugin (see `handle`).
                let ttls = (response.answers + response.authorities).map(\.ttl)
                let smallest = ttls.min() ?? 0
                query.cacheability = .upTo(seconds: smallest - smallest * prefetch.beforeExpiry / 100)
            } else {
                query.cacheability = .upTo(seconds: self.options.maxTTL)
            }
        case .servFail:
            if self.options.serveStale.nanoseconds > 0,
                var stale = self.assemble(question, dnssecOK: dnssecOK, now: now, allowStale: true)
            {
                // RFC 8767 §4: stale data with TTL 30, and no new attempt for 30 s.
                stale.answers = stale.answers.map(CacheHandler.staleRecord)
                stale.authorities = stale.authorities.map(CacheHandler.staleRecord)
                self.staleAnswers.increment()
                self.refreshStale(stale, question: question, dnssecOK: dnssecOK, now: now)
                stale.stale = true
                self.respond(&query, with: stale)
                query.answeredBy = "\(CachePlugin.name) (stale)"
                return
            }
            self.cache.store(
                RRsetCache.Key(name: question.name, type: question.type, recordClass: question.recordClass),
                .serverFailure,
                trust: .answerNonAuthoritative,
                ttl: CacheHandler.serverFailureTTL,
                now: now
            )
        default:
            break
        }
        self.memory.record(self.cache.usage.bytes)
    }

    /// A record of a stale answer as it is served: TTL at most 30, and 30 once expired (RFC 8767 §4).
    static func staleRecord(_ record: Record) -> Record {
        var stale = record
        stale.ttl = record.ttl == 0 ? CacheHandler.staleTTL : min(record.ttl, CacheHandler.staleTTL)
        return stale
    }

    /// Keeps stale data servable as fresh for 30 s, so failing upstreams are asked at most every 30 s (RFC 8767 §5).
    private func refreshStale(_ stale: Assembled, question: Question, dnssecOK: Bool, now: UInt64) {
        var response = Message(questions: [question])
        response.answers = stale.answers
        response.authorities = stale.authorities
        response.responseCode = stale.responseCode
        self.store(response, question: question, dnssecOK: dnssecOK, now: now)
    }

    /// `min_ttl`/`max_ttl` on every record, `max_negative_ttl` on the SOA of a negative answer.
    private func clampTTLs(_ response: inout Message) {
        let negative = response.answers.isEmpty || response.responseCode == .nxDomain
        func clamp(_ record: inout Record) {
            if negative && record.type == .soa {
                var ttl = record.ttl
                if case .soa(let soa) = record.rdata { ttl = min(ttl, soa.minimum) }
                record.ttl = min(ttl, self.options.maxNegativeTTL)
            } else {
                record.ttl = min(max(record.ttl, self.options.minTTL), self.options.maxTTL)
            }
        }
        for index in response.answers.indices { clamp(&response.answers[index]) }
        for index in response.authorities.indices { clamp(&response.authorities[index]) }
        for index in response.additionals.indices { clamp(&response.additionals[index]) }
    }

    /// Stores the RRsets of `response` and, for a negative answer, the proof.
    func store(_ response: Message, question: Question, dnssecOK: Bool, now: UInt64) {
        let authoritative = response.header.isAuthoritative
        let stale = UInt32(min(self.options.serveStale.seconds, Double(UInt32.max)))
        var storedAny = false
        func signatures(for owner: DomainName, _ type: RecordType, in records: [Record]) -> [Record]? {
            guard dnssecOK else { return nil }
            return records.filter { record in
                guard case .rrsig(let signature) = record.rdata else { return false }
                return signature.typeCovered == type && record.name == owner
            }
        }
        func storeSets(_ records: [Record], trust: Trust) {
            var index = 0
            while index < records.count {
                var end = index + 1
                while end < records.count && records[end].isSameRRset(as: records[index]) { end += 1 }
                let set = Array(records[index..<end])
                index = end
                guard set[0].type != .rrsig else { continue }
                let ttl = set.map(\.ttl).min() ?? 0
                let key = RRsetCache.Key(name: set[0].name, type: set[0].type, recordClass: set[0].recordClass)
                let content = RRsetCacheContent.records(
                    set,
                    signatures: signatures(for: set[0].name, set[0].type, in: records)
                )
                if self.cache.store(key, content, trust: trust, ttl: ttl, staleWindow: stale, now: now) {
                    storedAny = true
                }
            }
        }
        storeSets(response.answers, trust: authoritative ? .answerAuthoritative : .answerNonAuthoritative)
        storeSets(
            response.authorities.filter { $0.type == .ns || $0.type == .ds },
            trust: authoritative ? .authorityAuthoritative : .authorityNonAuthoritative
        )
        storeSets(response.additionals.filter { $0.type == .a || $0.type == .aaaa }, trust: .additional)
        // The name the negative answer is about: the end of the CNAME chain in the answer.
        var last = question.name
        for record in response.answers {
            if record.name == last, case .cname(let target) = record.rdata { last = target }
        }
        let hasData = response.answers.contains { $0.name == last && $0.type == question.type }
        if !hasData, let soa = response.authorities.first(where: { $0.type == .soa }) {
            let trust: Trust = authoritative ? .authorityAuthoritative : .authorityNonAuthoritative
            if response.responseCode == .nxDomain {
                self.cache.store(
                    RRsetCache.Key(name: last, type: RecordType(0), recordClass: question.recordClass),
                    .nxDomain(soa: soa),
                    trust: .answerAuthoritative,
                    ttl: soa.ttl,
                    staleWindow: stale,
                    now: now
                )
            } else {
                self.cache.store(
                    RRsetCache.Key(name: last, type: question.type, recordClass: question.recordClass),
                    .noData(soa: soa),
                    trust: max(trust, .answerNonAuthoritative),
                    ttl: soa.ttl,
                    staleWindow: stale,
                    now: now
                )
            }
            storedAny = true
        }
        if storedAny { self.stores.increment() }
    }
}
