// RRsetCache+Answer: answers built from cached RRsets (CNAME chains, negative entries), and what is worth storing.

/// An answer built from cached data for one question.
public struct CachedAnswer: Sendable, Equatable {
    public var responseCode: ResponseCode
    /// The CNAME chain followed and, when complete, the final RRset (and its signatures when DNSSEC OK).
    public var answers: [Record]
    /// The SOA of a negative answer.
    public var authorities: [Record]
    /// The smallest TTL in it.
    public var minimumTTL: UInt32
    /// True when some of it is past its TTL (served under RFC 8767 only).
    public var stale: Bool
    /// When the stale window of the first of its RRsets to leave it ends (nanoseconds; `UInt64.max` when empty).
    public var staleUntil: UInt64 = .max
    /// The final RRset's lookup: for the prefetch decision.
    public var finalHit: RRsetCacheHit?
    /// Where the cache ran out: the target of the last CNAME followed, whose data is not cached. Nil when the answer
    /// is complete.
    public var pending: DomainName?
}

extension RRsetCache {
    /// The answer to `question` from cached data of answer trust (glue and referral NS sets are never answers), following
    /// CNAMEs up to `maximumChain` links; nil when nothing about the question's name is cached. When a chain is cached
    /// but its end is not, the result has `pending` set to the name still to be resolved. A remembered failure of the
    /// question itself is a SERVFAIL result. Each RRset on the way is looked up once (one hit counted).
    public func answer(
        _ question: Question,
        dnssecOK: Bool,
        now: UInt64,
        allowStale: Bool,
        maximumChain: Int = 11
    ) -> CachedAnswer? {
        var answers: [Record] = []
        var minimum = UInt32.max
        var stale = false
        var staleUntil = UInt64.max
        var name = question.name
        func usable(_ hit: RRsetCacheHit) -> Bool { allowStale || !hit.isStale }
        /// Notes that `hit` is part of the answer.
        func uses(_ hit: RRsetCacheHit) {
            stale = stale || hit.isStale
            staleUntil = min(staleUntil, hit.staleUntil)
        }
        /// The chain so far, ending in `soa`'s negative answer, `finalHit`'s records or (`pending`) nothing yet.
        func finished(
            _ code: ResponseCode,
            soa: Record? = nil,
            finalHit: RRsetCacheHit? = nil,
            pending: DomainName? = nil
        ) -> CachedAnswer {
            CachedAnswer(
                responseCode: code,
                answers: answers,
                authorities: soa.map { [$0] } ?? [],
                minimumTTL: min(minimum, soa?.ttl ?? .max),
                stale: stale,
                staleUntil: staleUntil,
                finalHit: finalHit,
                pending: pending
            )
        }
        func partial() -> CachedAnswer? { answers.isEmpty ? nil : finished(.noError, pending: name) }
        for _ in 0...maximumChain {
            let nameKey = Key(name: name, type: RecordType(0), recordClass: question.recordClass)
            if let nx = self.lookup(nameKey, now: now), usable(nx), case .nxDomain(let soa) = nx.content {
                uses(nx)
                return finished(.nxDomain, soa: soa)
            }
            let key = nameKey.with(type: question.type)
            if let hit = self.lookup(key, now: now), usable(hit), hit.trust >= .answerNonAuthoritative {
                uses(hit)
                switch hit.content {
                case .records(let records, let signatures):
                    if dnssecOK && signatures == nil { return partial() }
                    answers += records.map { record in
                        var renamed = record
                        renamed.name = name
                        return renamed
                    }
                    if dnssecOK { answers += signatures ?? [] }
                    for record in records { minimum = min(minimum, record.ttl) }
                    return finished(.noError, finalHit: hit)
                case .noData(let soa):
                    return finished(.noError, soa: soa)
                case .serverFailure where answers.isEmpty && !hit.isStale:
                    // A recent failure to resolve the question itself (RFC 2308 §7).
                    return CachedAnswer(
                        responseCode: .servFail,
                        answers: [],
                        authorities: [],
                        minimumTTL: 0,
                        stale: false
                    )
                case .nxDomain, .serverFailure:
                    return partial()
                }
            }
            guard question.type != .cname,
                let hit = self.lookup(nameKey.with(type: .cname), now: now),
                usable(hit), hit.trust >= .answerNonAuthoritative,
                case .records(let records, let signatures) = hit.content,
                let cname = records.first, case .cname(let target) = cname.rdata
            else { return partial() }
            if dnssecOK && signatures == nil { return partial() }
            uses(hit)
            var renamed = cname
            renamed.name = name
            answers.append(renamed)
            if dnssecOK { answers += signatures ?? [] }
            minimum = min(minimum, cname.ttl)
            name = target
        }
        return nil
    }

    /// `min_ttl`/`max_ttl` on every record, and `max_negative_ttl` (and the SOA's MINIMUM, RFC 2308 §5) on the SOA of
    /// a negative answer.
    public func clampTTLs(_ response: inout Message) {
        let negative = response.answers.isEmpty || response.responseCode == .nxDomain
        let limits = self.ttlLimits
        func clamp(_ record: inout Record) {
            if negative && record.type == .soa {
                var ttl = record.ttl
                if case .soa(let soa) = record.rdata { ttl = min(ttl, soa.minimum) }
                record.ttl = min(ttl, limits.maxNegative)
            } else {
                record.ttl = min(max(record.ttl, limits.minimum), limits.maximum)
            }
        }
        for index in response.answers.indices { clamp(&response.answers[index]) }
        for index in response.authorities.indices { clamp(&response.authorities[index]) }
        for index in response.additionals.indices { clamp(&response.additionals[index]) }
    }
}

extension Array where Element == Record {
    /// The records grouped into RRsets (same owner, type and class, RFC 2181 §5), in order of first appearance.
    /// Linear in the records (a hostile reply of thousands of records costs no more than reading it).
    public func groupedIntoRRsets() -> [[Record]] {
        var sets: [[Record]] = []
        var positions: [RRsetCache.Key: Int] = [:]
        for record in self {
            let owner = RRsetCache.Key(name: record.name, type: record.type, recordClass: record.recordClass)
            if let position = positions[owner] {
                sets[position].append(record)
            } else {
                positions[owner] = sets.count
                sets.append([record])
            }
        }
        return sets
    }
}

extension RRsetCache {
    /// CNAME and DNAME links a stored reply's answer chain may have, at most (the recursive limits: 11).
    public static let maximumStoredChain = 11

    /// Stores what `response` (to `question`) says, by section and trust (RFC 2181 §5.4.1): answer RRsets, the
    /// authority's NS and DS sets, the additional section's addresses as glue, and for a negative answer the SOA
    /// under the name at the end of the CNAME chain (RFC 2308 §5). RRSIGs are kept with the RRsets they cover when
    /// `dnssecOK`. Returns whether anything was stored.
    ///
    /// With `bailiwick`, the reply was relayed by a server that speaks only for that zone (a forwarder): it is
    /// scrubbed for the zone first (`ReplyScrubber`: the answer chain inside it, nothing else), its delegations and
    /// glue are not stored at all (a resolver must never start from a forwarder's NS set), and a negative answer is
    /// stored only for a name inside the zone.
    @discardableResult
    public func store(
        _ response: Message,
        question: Question,
        dnssecOK: Bool,
        staleWindow: UInt32 = 0,
        now: UInt64,
        bailiwick: DomainName? = nil
    ) -> Bool {
        var response = response
        if let bailiwick {
            response =
                ReplyScrubber(
                    zone: bailiwick,
                    name: question.name,
                    type: question.type,
                    maximumChain: RRsetCache.maximumStoredChain
                ).scrub(response).message
        }
        let authoritative = response.header.isAuthoritative
        var storedAny = false
        func signatures(for owner: DomainName, _ type: RecordType, in records: [Record]) -> [Record]? {
            guard dnssecOK else { return nil }
            return records.filter { record in
                guard case .rrsig(let signature) = record.rdata else { return false }
                return signature.typeCovered == type && record.name == owner
            }
        }
        func storeSets(_ records: [Record], trust: Trust) {
            for set in records.groupedIntoRRsets() {
                guard set[0].type != .rrsig else { continue }
                let ttl = set.map(\.ttl).min() ?? 0
                let key = Key(name: set[0].name, type: set[0].type, recordClass: set[0].recordClass)
                let content = RRsetCacheContent.records(
                    set,
                    signatures: signatures(for: set[0].name, set[0].type, in: records)
                )
                if self.store(key, content, trust: trust, ttl: ttl, staleWindow: staleWindow, now: now) {
                    storedAny = true
                }
            }
        }
        storeSets(response.answers, trust: authoritative ? .answerAuthoritative : .answerNonAuthoritative)
        if bailiwick == nil {
            storeSets(
                response.authorities.filter { $0.type == .ns || $0.type == .ds },
                trust: authoritative ? .authorityAuthoritative : .authorityNonAuthoritative
            )
            storeSets(response.additionals.filter { $0.type == .a || $0.type == .aaaa }, trust: .additional)
        }
        // The name the negative answer is about: the end of the CNAME chain in the answer.
        var last = question.name
        for record in response.answers {
            if record.name == last, case .cname(let target) = record.rdata { last = target }
        }
        let hasData = response.answers.contains { $0.name == last && $0.type == question.type }
        if !hasData, bailiwick.map({ last.isSubdomain(of: $0) }) ?? true,
            // The SOA of a zone that holds the name: another zone's SOA proves nothing about it.
            let soa = response.authorities.first(where: { $0.type == .soa && last.isSubdomain(of: $0.name) })
        {
            // The trust the reply earns: authoritative only when the server said so (AA), so a forwarder's or a
            // non-authoritative server's denial never outranks the zone's own data.
            if response.responseCode == .nxDomain {
                self.store(
                    Key(name: last, type: RecordType(0), recordClass: question.recordClass),
                    .nxDomain(soa: soa),
                    trust: authoritative ? .answerAuthoritative : .answerNonAuthoritative,
                    ttl: soa.ttl,
                    staleWindow: staleWindow,
                    now: now
                )
            } else {
                self.store(
                    Key(name: last, type: question.type, recordClass: question.recordClass),
                    .noData(soa: soa),
                    trust: authoritative ? .authorityAuthoritative : .answerNonAuthoritative,
                    ttl: soa.ttl,
                    staleWindow: staleWindow,
                    now: now
                )
            }
            storedAny = true
        }
        return storedAny
    }
}
