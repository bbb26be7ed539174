// CacheHandler: answers from the RRset cache, and fills it (and the fast path) from what later handlers answered.

import Pipeline

/// Answers a question from cached RRsets (following CNAME chains) or cached negative answers; otherwise passes the
/// query on and, in `finish`, stores what came back: RRsets by trust (RFC 2181 §5.4.1), negative answers for the
/// SOA's time (RFC 2308), SERVFAIL for 5 s (RFC 2308 §7.1). It marks what it answers or stores as cacheable, so
/// repeats are answered by the message cache without entering the chain. With `serve_stale`, a failed refresh is
/// answered from expired data with TTL 30 and Extended DNS Error 3 (RFC 8767).
final class CacheHandler: QueryHandler {
    let cache: RRsetCache
    let options: CacheOptions
    let metrics: CacheMetrics
    /// What the stored RRsets age by (the context's clock).
    let clock: any ServerClock

    /// CNAME links followed from cached data, at most (as the recursive limits: 11).
    static let maximumChain = 11
    /// How long a SERVFAIL is remembered, seconds (RFC 2308 §7.1 allows up to 5 minutes; resolvers use seconds).
    static let serverFailureTTL: UInt32 = 5
    /// The TTL of stale answers (RFC 8767 §4).
    static let staleTTL: UInt32 = 30

    init(cache: RRsetCache, options: CacheOptions, context: PluginContext) {
        self.cache = cache
        self.options = options
        self.metrics = CacheMetrics(context)
        self.clock = context.clock
    }

    func handle(_ query: inout Query) -> Verdict {
        let question = query.question
        guard !question.type.isMetaType else { return .next }
        let now = self.clock.now()
        let dnssecOK = query.request.edns?.dnssecOK ?? false
        var cached = self.cache.answer(
            question,
            dnssecOK: dnssecOK,
            now: now,
            allowStale: false,
            maximumChain: CacheHandler.maximumChain
        )
        if cached?.responseCode == .servFail {
            // A remembered failure may be a validation failure upstream, which a CD=1 client asked to get past: for
            // it, a miss.
            guard query.request.header.checkingDisabled else {
                self.metrics.hits.increment()
                query.response = Message.response(to: query.request, responseCode: .servFail)
                query.response?.header.recursionAvailable = true
                query.answeredBy = CachePlugin.name
                return .answered
            }
            cached = nil
        }
        guard let assembled = cached, assembled.pending == nil else {
            self.metrics.misses.increment()
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
        self.metrics.hits.increment()
        self.respond(&query, with: assembled)
        if let prefetch = self.options.prefetch, let hit = assembled.finalHit, !assembled.stale {
            // The last `before_expiry` percent of the TTL: refresh popular entries behind the client's back, and keep
            // the fast path out of that window so the requests that trigger the refresh keep reaching us.
            let window = hit.originalTTL * prefetch.beforeExpiry / 100
            if hit.remaining <= window {
                if hit.hits >= prefetch.minHits {
                    query.refreshInBackground = true
                    self.metrics.prefetches.increment()
                }
                query.cacheability = .never
            } else {
                query.cacheability = .upTo(seconds: min(assembled.minimumTTL, hit.remaining - window))
            }
        }
        return .answered
    }

    private func respond(_ query: inout Query, with assembled: CachedAnswer) {
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

    /// The complete answer to `question` from cached data (stale data allowed or not), or nil when something is
    /// missing.
    func assemble(_ question: Question, dnssecOK: Bool, now: UInt64, allowStale: Bool) -> CachedAnswer? {
        guard
            let answer = self.cache.answer(
                question,
                dnssecOK: dnssecOK,
                now: now,
                allowStale: allowStale,
                maximumChain: CacheHandler.maximumChain
            ), answer.pending == nil, answer.responseCode != .servFail
        else { return nil }
        return answer
    }

    func finish(_ query: inout Query) {
        guard query.answeredBy != CachePlugin.name, var response = query.response else { return }
        let now = self.clock.now()
        let question = query.question
        let dnssecOK = query.request.edns?.dnssecOK ?? false
        // With CD=1 the upstream did not validate (RFC 4035 §3.2.2): its answer may hold data a validating upstream
        // would refuse, so its RRsets (and failures) are not kept where CD=0 queries read them. The message cache
        // keeps CD=1 answers apart by its key.
        let unvalidated = query.request.header.checkingDisabled
        switch response.responseCode {
        case .noError, .nxDomain:
            // RFC 2308 §5: a negative answer without an SOA is not cached at all (nothing bounds its lifetime).
            if response.answers.isEmpty && !response.authorities.contains(where: { $0.type == .soa }) {
                query.cacheability = .never
                return
            }
            // `response` is then the only holder of the records, so clamping their TTLs rewrites them in place.
            query.response = nil
            self.cache.clampTTLs(&response)
            // The RRsets go in once the client has its reply: the reply is already final.
            let stored = response
            let bailiwick = query.bailiwick
            if !unvalidated {
                query.afterReply.append {
                    self.store(stored, question: question, dnssecOK: dnssecOK, now: now, bailiwick: bailiwick)
                    self.metrics.memory.record(self.cache.bytes)
                }
            }
            query.response = response
            // Now the fast path may hold it: for the smallest TTL in it (the encoder takes the minimum).
            if let prefetch = self.options.prefetch {
                // Leave the prefetch window to the cache plugin (see `handle`).
                // The smallest TTL of both sections, 0 when they are empty (no joined copy of them per miss).
                let answers = response.answers.lazy.map(\.ttl).min()
                let authorities = response.authorities.lazy.map(\.ttl).min()
                let smallest = min(answers ?? authorities ?? 0, authorities ?? answers ?? 0)
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
                self.metrics.staleAnswers.increment()
                self.refreshStale(stale, question: question, dnssecOK: dnssecOK, now: now)
                stale.stale = true
                self.respond(&query, with: stale)
                query.answeredBy = "\(CachePlugin.name) (stale)"
                return
            }
            guard !unvalidated else { return }
            self.cache.store(
                RRsetCache.Key(name: question.name, type: question.type, recordClass: question.recordClass),
                .serverFailure,
                trust: .answerNonAuthoritative,
                ttl: CacheHandler.serverFailureTTL,
                now: now
            )
            self.metrics.memory.record(self.cache.bytes)
        default:
            break
        }
    }

    /// A record of a stale answer as it is served: TTL at most 30, and 30 once expired (RFC 8767 §4).
    static func staleRecord(_ record: Record) -> Record {
        var stale = record
        stale.ttl = record.ttl == 0 ? CacheHandler.staleTTL : min(record.ttl, CacheHandler.staleTTL)
        return stale
    }

    /// Keeps stale data servable as fresh for 30 s, so failing upstreams are asked at most every 30 s (RFC 8767 §5).
    /// The stale window still ends where it did: the data is stored again for 30 s or what is left of the window if
    /// less, with the rest of the window after that, so a long outage cannot keep stale data alive past
    /// `serve_stale`.
    private func refreshStale(_ stale: CachedAnswer, question: Question, dnssecOK: Bool, now: UInt64) {
        let left = stale.staleUntil > now ? (stale.staleUntil - now) / 1_000_000_000 : 0
        guard left > 0 else { return }
        let ttl = UInt32(min(left, UInt64(CacheHandler.staleTTL)))
        func bounded(_ record: Record) -> Record {
            var record = record
            record.ttl = min(record.ttl, ttl)
            return record
        }
        var response = Message(questions: [question])
        response.answers = stale.answers.map(bounded)
        response.authorities = stale.authorities.map(bounded)
        response.responseCode = stale.responseCode
        let window = UInt32(min(left - UInt64(ttl), UInt64(UInt32.max)))
        self.store(response, question: question, dnssecOK: dnssecOK, staleWindow: window, now: now)
    }

    /// Stores the RRsets of `response` and, for a negative answer, the proof, servable stale for `staleWindow`
    /// seconds past their TTLs (`serve_stale` when nil); only what `bailiwick` may speak for when a forwarder relayed
    /// it (`Query.bailiwick`).
    func store(
        _ response: Message,
        question: Question,
        dnssecOK: Bool,
        staleWindow: UInt32? = nil,
        now: UInt64,
        bailiwick: DomainName? = nil
    ) {
        let stale = staleWindow ?? UInt32(min(self.options.serveStale.seconds, Double(UInt32.max)))
        if self.cache.store(
            response,
            question: question,
            dnssecOK: dnssecOK,
            staleWindow: stale,
            now: now,
            bailiwick: bailiwick
        ) {
            self.metrics.stores.increment()
        }
    }
}
