// RateLimitGuards: the per-client query limit (a guard, before the message cache) and response rate limiting (a
// reply guard, on every UDP reply, fast path included).

import Pipeline

/// ratelimit's guard, before the message cache: the per-client query limit (over the rate, dropped or refused), and
/// response rate limiting's first step (`warm`: the table set a NOERROR answer to this query would be counted in is
/// asked into the CPU cache, so the reply guard does not wait on memory; perf put nearly all of that lookup's time on
/// its first load). One guard for both, so the exemption and the client prefix are worked out once per query.
///
/// A class, as the reply guard below: the serving loop calls it through an existential on every query, and a struct
/// of this many references would be copied, each retained and released, at every call.
final class RateLimitGuard: Guard {
    /// The per-client query limit: its tables, rate, prefix lengths and action; nil when `client.qps` is 0.
    struct ClientLimit {
        let tables: RateTables
        let rate: Rate
        let ipv4Prefix: Int
        let ipv6Prefix: Int
        let action: RateLimitAction
    }

    let limit: ClientLimit?
    /// Response rate limiting, whose table set is warmed; nil when `responses.rate` is 0.
    let warm: ResponseRateGuard?
    let exempt: [IPPrefix]
    let metrics: RateLimitMetrics
    let logger: Logger

    init(limit: ClientLimit?, warm: ResponseRateGuard?, exempt: [IPPrefix], metrics: RateLimitMetrics, logger: Logger) {
        self.limit = limit
        self.warm = warm
        self.exempt = exempt
        self.metrics = metrics
        self.logger = logger
    }

    func check(_ request: RequestView?, client: Client, arrival: Arrival) -> GuardDecision {
        if !self.exempt.isEmpty && self.exempt.contains(where: { $0.contains(client.address) }) { return .allow }
        var prefix: ClientPrefix? = nil
        if let limit = self.limit {
            prefix = ClientPrefix(client.address, ipv4: limit.ipv4Prefix, ipv6: limit.ipv6Prefix)
        }
        if let warm = self.warm, let request, client.transport == .udp, !arrival.validServerCookie {
            // The same prefix when both limits use the same lengths (the defaults do).
            let rrlPrefix =
                prefix.flatMap { $0.length == UInt8($0.isIPv6 ? warm.ipv6Prefix : warm.ipv4Prefix) ? $0 : nil }
                ?? ClientPrefix(client.address, ipv4: warm.ipv4Prefix, ipv6: warm.ipv6Prefix)
            let key = rrlPrefix.key(
                kind: ResponseRateGuard.Bucket.answer.rawValue,
                bucket: ReplyBuckets.answerBucket(questionHash: request.nameHash, type: UInt64(request.type.rawValue))
            )
            warm.tables.shard(arrival.worker).prefetch(key)
        }
        guard let limit = self.limit, let prefix else { return .allow }
        return self.count(prefix, limit: limit, arrival: arrival)
    }

    /// Counts a query of `prefix` against the client limit.
    private func count(_ prefix: ClientPrefix, limit: ClientLimit, arrival: Arrival) -> GuardDecision {
        let shard = limit.tables.shard(arrival.worker)
        let (verdict, evicted, mayLog) = shard.table.withLock { table in
            let (verdict, evicted) = table.count(prefix.key(kind: 0, bucket: 0), prefix: prefix, now: arrival.now, rate: limit.rate)
            let logs = verdict.startsOrEnds || evicted != nil
            return (verdict, evicted, logs && table.mayLog(now: arrival.now))
        }
        if let evicted { self.stopped(evicted.prefix, limited: evicted.limited, mayLog: mayLog) }
        switch verdict {
        case .pass: return .allow
        case .passAfterLimit(let limited):
            self.stopped(prefix, limited: limited, mayLog: mayLog)
            return .allow
        case .limited(let count):
            if count == 1 {
                if mayLog {
                    self.logger.notice(
                        "rate limiting queries from \(prefix.description): over \(1_000_000_000 / limit.rate.interval) a second"
                    )
                } else {
                    self.metrics.logLinesSuppressed.increment()
                }
            }
            switch limit.action {
            case .drop:
                self.metrics.queriesDropped.increment()
                return .drop
            case .refused:
                self.metrics.queriesRefused.increment()
                return .refuse
            }
        }
    }

    private func stopped(_ prefix: ClientPrefix, limited: UInt32, mayLog: Bool) {
        guard mayLog else {
            self.metrics.logLinesSuppressed.increment()
            return
        }
        self.logger.notice("stopped rate limiting queries from \(prefix.description) after \(limited) over the limit")
    }
}

/// Response rate limiting as BIND and Knot do it: UDP replies per client prefix and bucket (an answer's name and
/// type, an NXDOMAIN's zone, any error), over the rate dropped, every `slip`-th sent empty and truncated instead.
final class ResponseRateGuard: ReplyGuard {
    /// A bucket: what kind of reply it counts.
    enum Bucket: UInt64, CaseIterable {
        case answer = 1
        case nxdomain = 2
        case error = 3

        var label: String {
            switch self {
            case .answer: return "answer"
            case .nxdomain: return "nxdomain"
            case .error: return "error"
            }
        }
    }

    let tables: RateTables
    let rate: Rate
    let slip: UInt32
    let ipv4Prefix: Int
    let ipv6Prefix: Int
    let exempt: [IPPrefix]
    let metrics: RateLimitMetrics
    let logger: Logger

    init(
        tables: RateTables,
        rate: Rate,
        slip: UInt32,
        ipv4Prefix: Int,
        ipv6Prefix: Int,
        exempt: [IPPrefix],
        metrics: RateLimitMetrics,
        logger: Logger
    ) {
        self.tables = tables
        self.rate = rate
        self.slip = slip
        self.ipv4Prefix = ipv4Prefix
        self.ipv6Prefix = ipv6Prefix
        self.exempt = exempt
        self.metrics = metrics
        self.logger = logger
    }

    func check(reply: UnsafeRawBufferPointer, client: Client, arrival: Arrival) -> ReplyDecision {
        // A TCP client has shown its address is its own; so has one that returned our server cookie (RFC 7873).
        guard client.transport == .udp, !arrival.validServerCookie else { return .send }
        if !self.exempt.isEmpty && self.exempt.contains(where: { $0.contains(client.address) }) { return .send }
        guard let (bucket, key) = ReplyBuckets.bucket(of: reply, questionHash: arrival.questionHash) else { return .send }
        let prefix = ClientPrefix(client.address, ipv4: self.ipv4Prefix, ipv6: self.ipv6Prefix)
        let shard = self.tables.shard(arrival.worker)
        let (verdict, evicted, mayLog) = shard.table.withLock { table in
            let (verdict, evicted) = table.count(
                prefix.key(kind: bucket.rawValue, bucket: key),
                prefix: prefix,
                now: arrival.now,
                rate: self.rate
            )
            let logs = verdict.startsOrEnds || evicted != nil
            return (verdict, evicted, logs && table.mayLog(now: arrival.now))
        }
        if let evicted { self.stopped(evicted.prefix, limited: evicted.limited, mayLog: mayLog) }
        switch verdict {
        case .pass: return .send
        case .passAfterLimit(let limited):
            self.stopped(prefix, limited: limited, mayLog: mayLog)
            return .send
        case .limited(let count):
            if count == 1 {
                if mayLog {
                    self.logger.notice(
                        "rate limiting \(bucket.label) responses to \(prefix.description): over \(1_000_000_000 / self.rate.interval) a second"
                    )
                } else {
                    self.metrics.logLinesSuppressed.increment()
                }
            }
            // The first limited response slips, then every slip-th.
            if self.slip > 0 && (count - 1) % self.slip == 0 {
                self.metrics.responsesSlipped[bucket]!.increment()
                return .slip
            }
            self.metrics.responsesDropped[bucket]!.increment()
            return .drop
        }
    }

    private func stopped(_ prefix: ClientPrefix, limited: UInt32, mayLog: Bool) {
        guard mayLog else {
            self.metrics.logLinesSuppressed.increment()
            return
        }
        self.logger.notice("stopped rate limiting responses to \(prefix.description) after \(limited) over the limit")
    }
}

/// What RRL counts a reply under, read from its octets.
enum ReplyBuckets {
    /// The reply's bucket and the key within it: an answer's (name, type), an NXDOMAIN's zone (the owner of the SOA
    /// in its authority section; the same for every name without one), nothing for errors. Nil for octets that
    /// are not a reply with a question.
    /// - Parameter questionHash: the request's `RequestView.nameHash` when known (not 0): the reply's question is
    ///   the request's, so an answer's key is made from it without reading the name again.
    static func bucket(of reply: UnsafeRawBufferPointer, questionHash: UInt64 = 0) -> (ResponseRateGuard.Bucket, UInt64)? {
        guard reply.count >= 12, reply[4] == 0, reply[5] == 1 else { return nil }
        let rcode = reply[3] & 0x0F
        guard rcode == 0 || rcode == 3 else { return (.error, 0) }
        if rcode == 0 && questionHash != 0 {
            // The type follows the name, which starts at 12 and is never compressed: skip its labels.
            var position = 12
            while position < reply.count && reply[position] != 0 && reply[position] & 0xC0 == 0 {
                position += 1 + Int(reply[position])
            }
            guard position + 3 <= reply.count else { return nil }
            let type = UInt64(reply[position + 1]) << 8 | UInt64(reply[position + 2])
            return (.answer, self.answerBucket(questionHash: questionHash, type: type))
        }
        guard let (nameHash, questionEnd) = self.nameHash(reply, at: 12) else { return nil }
        if rcode == 0 {
            let type = UInt64(reply[questionEnd - 4]) << 8 | UInt64(reply[questionEnd - 3])
            return (.answer, nameHash ^ type &* 0x9E37_79B9_7F4A_7C15)
        }
        return (.nxdomain, self.soaOwnerHash(reply, after: questionEnd) ?? 0)
    }

    /// An answer's bucket within its prefix: the question's name hash and type.
    static func answerBucket(questionHash: UInt64, type: UInt64) -> UInt64 { questionHash ^ type &* 0x9E37_79B9_7F4A_7C15 }

    /// FNV-1a of a name in `reply` at `offset`, lower-cased, following compression pointers (at most 64), and the
    /// offset just past the question when the name is the question's (+4 for its type and class).
    static func nameHash(_ reply: UnsafeRawBufferPointer, at offset: Int) -> (UInt64, Int)? {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var position = offset
        var end: Int? = nil
        var jumps = 0
        while true {
            guard position < reply.count else { return nil }
            let length = Int(reply[position])
            if length == 0 {
                let after = (end ?? position + 1) + 4
                return after <= reply.count ? (hash, after) : nil
            }
            if length & 0xC0 == 0xC0 {
                guard position + 1 < reply.count, jumps < 64 else { return nil }
                if end == nil { end = position + 2 }
                position = (length & 0x3F) << 8 | Int(reply[position + 1])
                jumps += 1
                continue
            }
            guard length & 0xC0 == 0, position + 1 + length <= reply.count else { return nil }
            hash = (hash ^ UInt64(length)) &* 0x100_0000_01b3
            for index in (position + 1)...(position + length) {
                hash = (hash ^ UInt64(DomainName.fold(reply[index]))) &* 0x100_0000_01b3
            }
            position += 1 + length
        }
    }

    /// The hash of the first authority record's owner when it is an SOA.
    static func soaOwnerHash(_ reply: UnsafeRawBufferPointer, after questionEnd: Int) -> UInt64? {
        let answers = Int(reply[6]) << 8 | Int(reply[7])
        var position = questionEnd
        for _ in 0..<answers {
            guard let (_, after) = self.nameHash(reply, at: position), after + 6 <= reply.count else { return nil }
            // `after` counted 4 octets of type and class; TTL (4) and RDLENGTH (2) follow.
            position = after + 6 + (Int(reply[after + 4]) << 8 | Int(reply[after + 5]))
        }
        guard reply[8] != 0 || reply[9] != 0, let (hash, after) = self.nameHash(reply, at: position),
            after <= reply.count
        else { return nil }
        let type = Int(reply[after - 4]) << 8 | Int(reply[after - 3])
        return type == Int(RecordType.soa.rawValue) ? hash : nil
    }
}
