// Responder: the serving loop every transport calls: guards, the fast path, decode, the chain with suspend and
// resume, finish in reverse, encode to the client's size, the message-cache fill after the reply, serve-stale's
// fallback race and prefetch's background refresh. Transports (Host's UDP worker and TCP listener, later DoT and
// DoH) are socket glue around `process`; tests drive it in-process with a fake sink and a manual clock.

import Logging
import Synchronization

/// Where the replies to a suspended query go when they are ready.
public protocol ReplySink: Sendable {
    /// Called exactly once per suspended query: with its replies in order (one, or a zone transfer's several),
    /// or with none when the chain dropped it, so a transport can count what it still awaits.
    func send(_ replies: [[UInt8]])
}

/// What became of a packet right away.
public enum ProcessOutcome: Equatable, Sendable {
    /// A reply of this many octets is in the reply buffer.
    case reply(Int)
    /// Several messages to send in order (TCP only: a zone transfer).
    case replies([[UInt8]])
    /// Nothing is to be sent.
    case none
    /// A handler suspended; the reply goes to the sink later.
    case pending
}

/// One listen address's serving, for one transport: the current block table (swapped on reload), the shared message
/// cache, and the front-door counters. `process` is called on UDP worker threads and TCP event loops alike.
public final class Responder: Sendable {
    public let cache: MessageCache
    private let table: Mutex<BlockTable>
    private let tableGeneration = Atomic<Int>(0)
    public let metrics: ServerMetrics
    public let logger: Logger
    public let transport: Transport
    /// The time queries are stamped with and serve-stale's fallback waits on (a manual one in tests).
    public let clock: any ServerClock
    /// Where work that belongs to no client runs: serve-stale's fallback timers and prefetch refreshes.
    let background: any TaskExecutor

    public init(
        cache: MessageCache,
        table: BlockTable,
        transport: Transport,
        logger: Logger = Logger(label: "swiftlet"),
        clock: any ServerClock = MonotonicClock(),
        background: any TaskExecutor = ServerExecutor.shared
    ) {
        self.cache = cache
        self.table = Mutex(table)
        self.metrics = ServerMetrics(transport: transport.rawValue)
        self.logger = logger
        self.transport = transport
        self.clock = clock
        self.background = background
    }

    public func replace(_ table: BlockTable) {
        self.table.withLock { $0 = table }
        self.tableGeneration.add(1, ordering: .releasing)
    }

    /// Processes one query.
    /// - Parameters:
    ///   - packet: the query's octets.
    ///   - client: who sent it (view 0; guards pick the view).
    ///   - reply: where an immediate reply is written; at least 65535 octets for TCP, the worker's buffer for UDP.
    ///   - executor: where the query's task runs if a handler suspends (the transport's own thread or event loop,
    ///     where its upstream sockets are read too).
    ///   - worker: the serving thread's number (`Arrival.worker`), for guards that keep counts per thread.
    ///   - sink: called only when a handler suspends, to get where the late reply goes.
    public func process(
        packet: UnsafeRawBufferPointer,
        client: Client,
        reply: UnsafeMutableRawBufferPointer,
        executor: any TaskExecutor,
        worker: Int = 0,
        sink: () -> any ReplySink
    ) -> ProcessOutcome {
        var tally = FrontDoorTally()
        let outcome = self.process(
            packet: packet,
            client: client,
            reply: reply,
            table: self.snapshot(),
            now: self.clock.now(),
            tally: &tally,
            worker: worker,
            executor: executor,
            sink: sink
        )
        tally.flush(into: self.metrics)
        return outcome
    }

    /// The current block table (a reload replaces it).
    public func snapshot() -> BlockTable { self.table.withLock { $0 } }

    /// Bumped by every `replace`, so a worker can keep its own snapshot and refresh it only when this changes.
    public var generation: Int { self.tableGeneration.load(ordering: .acquiring) }

    /// Processes one query against a table snapshot and a time the caller read once per batch; counts go to `tally`,
    /// which the caller flushes into the metrics once per batch (docs/ARCHITECTURE.md: the fast path takes no
    /// per-packet lock).
    public func process(
        packet: UnsafeRawBufferPointer,
        client: Client,
        reply: UnsafeMutableRawBufferPointer,
        table: BlockTable,
        now: UInt64,
        tally: inout FrontDoorTally,
        worker: Int = 0,
        executor: any TaskExecutor,
        sink: () -> any ReplySink
    ) -> ProcessOutcome {
        tally.queries += 1
        var arrival = Arrival(worker: worker, now: now)
        guard let request = try? RequestView(packet: packet) else {
            self.metrics.malformed.increment()
            // A guard may still keep an unwanted client from getting even an error back.
            if let first = table.entries.first?.block,
                first.guards.contains(where: { $0.check(nil, client: client, arrival: arrival) != .allow })
            {
                self.metrics.dropped.increment()
                return .none
            }
            // An opcode we do not implement is NOTIMP even without a question (RFC 8906 §8, the EDNS compliance
            // tests' header-only `opcode` check, as Knot and BIND answer); a QUERY we cannot read is FORMERR.
            let opcode = packet.count >= Header.wireSize ? (packet[2] >> 3) & 0x0F : 0
            if opcode != Opcode.query.rawValue {
                self.metrics.notImplemented.increment()
                return self.headerOnlyError(packet, .notImp, reply: reply)
            }
            return self.headerOnlyError(packet, .formErr, reply: reply)
        }
        // Never answer a response: that is how reflection loops start.
        if request.flags & 0x8000 != 0 {
            self.metrics.dropped.increment()
            return .none
        }
        guard let block = table.block(for: request, in: packet) else {
            return self.errorWithQuestion(packet, request, .refused, reply: reply)
        }
        arrival.questionHash = request.nameHash
        var cookie = CookieCheck.absent
        if let cookies = block.cookies, request.cookieOffset > 0 {
            cookie = cookies.check(request, packet: packet, client: client.address, now: now)
            arrival.validServerCookie = cookie.state == .valid
            tally.cookies[cookie.state == .valid ? 0 : cookie.state == .clientOnly ? 1 : 2] += 1
        }
        var client = client
        let sending = Sending(
            block: block,
            arrival: arrival,
            cookie: cookie,
            optDO: request.hasEDNS ? request.dnssecOK : nil,
            pads: request.hasPadding && self.transport.isEncrypted
        )
        for index in block.guards.indices {
            switch block.guards[index].check(request, client: client, arrival: arrival) {
            case .allow: continue
            case .view(let view): client.view = view
            case .refuse:
                return self.finish(self.errorWithQuestion(packet, request, .refused, reply: reply), reply, client, sending)
            case .drop:
                self.metrics.dropped.increment()
                return .none
            }
        }
        // Room for the server cookie, added to the OPT record once the reply is made.
        let limit =
            (self.transport == .udp
                ? min(request.clientPayloadLimit, block.maxUDPSize, reply.count) : Message.maximumSize)
            - (cookie.wantsCookie ? ServerCookies.optionSize : 0)
        if request.isPlainQuery && !request.hasClientSubnet {
            let length = self.cache.answer(
                packet: packet,
                request: request,
                view: block.cacheView(client.view),
                now: now,
                limit: limit,
                into: reply
            )
            if length > 0 {
                tally.hits += 1
                tally.rcodes[Int(reply[3] & 0x0F)] += 1
                let outcome = self.finish(.reply(length), reply, client, sending)
                if case .reply(let length) = outcome, !block.observers.isEmpty {
                    let sent = UnsafeRawBufferPointer(rebasing: reply[0..<length])
                    for observer in block.observers {
                        observer.observe(
                            request: request,
                            packet: packet,
                            reply: sent,
                            client: client,
                            receivedAt: now,
                            now: self.clock.now()
                        )
                    }
                }
                return outcome
            }
        }
        return self.finish(
            self.slowPath(
                packet: packet,
                request: request,
                block: block,
                client: client,
                sending: sending,
                limit: limit,
                now: now,
                reply: reply,
                executor: executor,
                sink: sink
            ),
            reply,
            client,
            sending
        )
    }

    /// What the steps after the answer need to know of the query: its block (reply guards, cookies), how it
    /// arrived, its cookie, and whether it had EDNS (with DO).
    struct Sending: Sendable {
        var block: ServerBlock
        var arrival: Arrival
        var cookie: CookieCheck
        /// Nil when the query had no OPT record; its DO bit when it had.
        var optDO: Bool?
        /// Pad the reply (RFC 8467): the query was padded and came over an encrypted transport.
        var pads: Bool
    }

    /// The last steps before a reply leaves, on whichever path made it: the block's reply guards (which may drop it
    /// or have an empty one sent instead), then the server cookie. Returns the reply's new length, or nil to send
    /// nothing.
    private func finish(
        _ length: Int,
        reply: UnsafeMutableRawBufferPointer,
        client: Client,
        sending: Sending
    ) -> Int? {
        var length = length
        guards: for replyGuard in sending.block.replyGuards {
            switch replyGuard.check(
                reply: UnsafeRawBufferPointer(rebasing: reply[0..<length]),
                client: client,
                arrival: sending.arrival
            ) {
            case .send: continue
            case .drop:
                self.metrics.dropped.increment()
                return nil
            case .slip:
                // A client that sent a cookie but not a valid server cookie learns one from BADCOOKIE (RFC 7873
                // §5.2.3) and is exempt when it asks again; any other gets TC=1 and may retry over TCP.
                let badCookie = sending.cookie.state == .clientOnly || sending.cookie.state == .invalid
                guard
                    let emptied = ReplyRewrite.empty(
                        reply,
                        length: length,
                        truncated: !badCookie,
                        responseCode: badCookie ? .badCookie : nil,
                        optDO: sending.optDO
                    )
                else { return nil }
                length = emptied
                break guards
            }
        }
        if sending.cookie.wantsCookie, let cookies = sending.block.cookies {
            let serverCookie = cookies.serverCookie(for: sending.cookie, client: client.address, now: sending.arrival.now)
            length = ReplyRewrite.appendCookie(
                to: reply,
                length: length,
                clientCookie: sending.cookie.clientCookie,
                serverCookie: serverCookie
            )
        }
        // Last: the padding covers the whole reply, cookie included.
        if sending.pads { length = ReplyRewrite.pad(reply, length: length) }
        return length
    }

    private func finish(
        _ outcome: ProcessOutcome,
        _ reply: UnsafeMutableRawBufferPointer,
        _ client: Client,
        _ sending: Sending
    ) -> ProcessOutcome {
        guard case .reply(let length) = outcome,
            !sending.block.replyGuards.isEmpty || sending.cookie.wantsCookie || sending.pads
        else { return outcome }
        return self.finish(length, reply: reply, client: client, sending: sending).map { .reply($0) } ?? .none
    }

    /// `finish` for a suspended query's replies (one over UDP; a zone transfer's several over TCP get no cookie and
    /// are not rate limited), at the time they are ready.
    private func finish(_ replies: [[UInt8]], client: Client, sending: Sending) -> [[UInt8]] {
        guard replies.count == 1, !sending.block.replyGuards.isEmpty || sending.cookie.wantsCookie || sending.pads
        else { return replies }
        var sending = sending
        sending.arrival.now = self.clock.now()
        // Room for an OPT record, a cookie and padding beyond the reply.
        var bytes = replies[0] + [UInt8](repeating: 0, count: 11 + ServerCookies.optionSize + ReplyRewrite.paddingBlock + 4)
        let length = bytes.withUnsafeMutableBytes {
            self.finish(replies[0].count, reply: $0, client: client, sending: sending)
        }
        guard let length else { return [] }
        bytes.removeSubrange(length...)
        return [bytes]
    }

    private func slowPath(
        packet: UnsafeRawBufferPointer,
        request: RequestView,
        block: ServerBlock,
        client: Client,
        sending: Sending,
        limit: Int,
        now: UInt64,
        reply: UnsafeMutableRawBufferPointer,
        executor: any TaskExecutor,
        sink: () -> any ReplySink
    ) -> ProcessOutcome {
        let message: Message
        do {
            message = try Message(bytes: packet)
        } catch {
            self.metrics.malformed.increment()
            self.logger.debug("malformed query from \(client.address): \(error)")
            return self.errorWithQuestion(packet, request, .formErr, reply: reply)
        }
        guard message.header.opcode == .query else {
            self.metrics.notImplemented.increment()
            return self.errorWithQuestion(packet, request, .notImp, reply: reply)
        }
        guard message.questions.count == 1 else {
            return self.errorWithQuestion(packet, request, .formErr, reply: reply)
        }
        if let edns = message.edns, edns.version > 0 {
            // RFC 6891 §6.1.3: BADVERS, with our OPT saying which version we do speak.
            var response = Message.response(to: message)
            response.edns?.version = 0
            response.responseCode = .badVers
            return self.write(self.encodeReply(response, maxSize: limit).bytes, into: reply)
        }
        var query = Query(request: message, client: client, receivedAt: now, maxResponseSize: limit)
        query.requestSize = packet.count
        let stop = block.chain.run(&query)
        if stop.verdict == .suspend {
            guard block.inFlight.enter() else {
                self.metrics.shed.increment()
                query.response = Message.response(to: message, responseCode: .refused)
                block.chain.finish(&query, after: stop)
                let bytes = self.encode(&query, block: block, verdict: .answered)
                query.runAfterReply()
                return self.write(bytes, into: reply)
            }
            let target = sink()
            query.executor = executor
            let owned = query
            // The task runs on the transport's executor. Over UDP it also starts at once, on the worker's own
            // thread (its reactor polls the upstream sockets too), so the upstream query leaves before the worker
            // reads its next packet; over TCP it is queued on the connection's event loop, which is in the middle
            // of reading and must see `.pending` before the reply can come.
            let work: @Sendable () async -> Void = {
                var query = owned
                // A handler may have left a fallback for a slow chain (serve-stale's client timeout, RFC 8767 §5):
                // it goes to the client after its delay unless the chain finished first; the chain completes anyway.
                // Only a query with a fallback races two senders; the others need no flag.
                let late = query.lateFallback == nil ? nil : OnceFlag()
                var timer: Task<Void, Never>? = nil
                if let fallback = query.lateFallback {
                    var bytes = fallback.response
                    bytes.header.id = query.request.header.id
                    let encoded = self.encodeReply(bytes, maxSize: query.maxResponseSize).bytes
                    timer = Task(executorPreference: self.background) {
                        try? await self.clock.sleep(for: fallback.after)
                        if !Task.isCancelled && late?.claim() != false {
                            target.send(self.finish([encoded], client: client, sending: sending))
                        }
                    }
                }
                let final = await block.chain.resume(&query, from: stop)
                timer?.cancel()
                block.inFlight.leave()
                let replies = self.complete(&query, block: block, stop: final)
                if late?.claim() != false { target.send(self.finish(replies, client: client, sending: sending)) }
                query.runAfterReply()
            }
            if self.transport == .udp {
                Task.immediate(executorPreference: executor, operation: work)
            } else {
                Task(executorPreference: executor, operation: work)
            }
            return .pending
        }
        let messages = self.complete(&query, block: block, stop: stop)
        query.runAfterReply()
        if messages.count > 1 && self.transport.carriesSeveralMessages { return .replies(messages) }
        return messages.first.map { self.write($0, into: reply) } ?? .none
    }

    /// Finish hooks, then the replies' octets (none when nothing is to be sent), then the message cache.
    private func complete(_ query: inout Query, block: ServerBlock, stop: Chain.Stop) -> [[UInt8]] {
        if stop.verdict == .answered && query.response == nil {
            // A handler said it answered but built nothing: a plugin bug, surfaced as SERVFAIL.
            query.response = Message.response(to: query.request, responseCode: .servFail)
            query.cacheability = .never
        }
        if stop.verdict == .next && query.response == nil {
            // Nothing in the chain claimed the name.
            query.response = Message.response(to: query.request, responseCode: .refused)
        }
        block.chain.finish(&query, after: stop)
        if stop.verdict == .drop {
            self.metrics.dropped.increment()
            return []
        }
        let first = self.encode(&query, block: block, verdict: stop.verdict)
        if query.refreshInBackground && stop.verdict == .answered && !query.isRefresh {
            self.refresh(query, block: block, from: stop.index)
        }
        guard self.transport.carriesSeveralMessages, !query.additionalResponses.isEmpty else { return first.isEmpty ? [] : [first] }
        return [first] + query.additionalResponses.map { self.encodeReply($0, maxSize: Message.maximumSize).bytes }
    }

    /// Runs the handlers after `index` again for `answered`'s question in the background (cache prefetch), then
    /// `finish` back down to `index`, and stores the fresh answer in the message cache. Nothing is sent.
    private func refresh(_ answered: Query, block: ServerBlock, from index: Int) {
        guard index + 1 < block.chain.handlers.count else { return }
        var fresh = Query(
            request: answered.request,
            client: answered.client,
            receivedAt: self.clock.now(),
            maxResponseSize: answered.maxResponseSize
        )
        fresh.isRefresh = true
        let owned = fresh
        Task(executorPreference: self.background) {
            var query = owned
            var stop = block.chain.run(&query, from: index + 1)
            if stop.verdict == .suspend { stop = await block.chain.resume(&query, from: stop) }
            block.chain.finish(&query, after: stop, downTo: index)
            if stop.verdict == .answered { _ = self.encode(&query, block: block, verdict: stop.verdict) }
            query.runAfterReply()
        }
    }

    private func encode(_ query: inout Query, block: ServerBlock, verdict: Verdict) -> [UInt8] {
        guard let response = query.response else { return [] }
        let encoded = self.encodeReply(response, maxSize: query.maxResponseSize)
        if !query.isRefresh { self.metrics.countResponse(flagsLow: UInt8(encoded.bytes[3] & 0x0F)) }
        // A full answer to ANY (allowed over TCP and TLS, RFC 8482 §4.4) must not reach UDP clients from the message
        // cache.
        let fullANY = query.question.type == .any && self.transport.isStream
        if case .upTo(let seconds) = query.cacheability, !encoded.truncated, !fullANY {
            // After the reply, like the handlers' stores.
            let (request, view, receivedAt) = (query.request, block.cacheView(query.client.view), query.receivedAt)
            query.afterReply.append {
                self.cache.store(
                    request: request,
                    view: view,
                    response: encoded.bytes,
                    ttlOffsets: encoded.ttlOffsets,
                    minimumTTL: encoded.minimumTTL,
                    maxTTL: seconds,
                    now: receivedAt
                )
            }
        }
        return encoded.bytes
    }

    /// `message` encoded, or a SERVFAIL in its place when it cannot be (a plugin built a record too large for the
    /// wire): logged and counted, never a trap.
    private func encodeReply(_ message: Message, maxSize: Int) -> Message.Encoded {
        let (encoded, failure) = message.encodeReply(maxSize: maxSize)
        if let failure {
            self.metrics.unencodable.increment()
            self.logger.error("cannot encode the response to \(message.questions.first?.name.description ?? "?"): \(failure); sent SERVFAIL")
        }
        return encoded
    }

    private func write(_ bytes: [UInt8], into reply: UnsafeMutableRawBufferPointer) -> ProcessOutcome {
        guard bytes.count <= reply.count else { return .none }
        bytes.withUnsafeBytes { reply.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return .reply(bytes.count)
    }

    /// A reply of only the header (ID, opcode, RD echoed) with `code`: for packets whose question cannot be read.
    /// Packets shorter than a header, or that are responses, get nothing.
    private func headerOnlyError(
        _ packet: UnsafeRawBufferPointer,
        _ code: ResponseCode,
        reply: UnsafeMutableRawBufferPointer
    )
        -> ProcessOutcome
    {
        guard packet.count >= Header.wireSize, packet[2] & 0x80 == 0 else {
            self.metrics.dropped.increment()
            return .none
        }
        reply[0] = packet[0]
        reply[1] = packet[1]
        reply[2] = 0x80 | (packet[2] & 0x79)
        reply[3] = code.headerBits
        for index in 4..<12 { reply[index] = 0 }
        self.metrics.countResponse(flagsLow: code.headerBits)
        return .reply(Header.wireSize)
    }

    /// A reply with the header and the question echoed (the client's own bytes) and `code`, no records.
    private func errorWithQuestion(
        _ packet: UnsafeRawBufferPointer,
        _ request: RequestView,
        _ code: ResponseCode,
        reply: UnsafeMutableRawBufferPointer
    ) -> ProcessOutcome {
        var length = request.questionEnd
        // RFC 6891 §7: answer with OPT when the query had one, unless the OPT itself was the problem.
        let withOPT = request.hasEDNS && code != .formErr
        guard length + (withOPT ? 11 : 0) <= reply.count else { return .none }
        reply.baseAddress!.copyMemory(from: packet.baseAddress!, byteCount: length)
        reply[2] = 0x80 | (packet[2] & 0x79)
        reply[3] = (packet[3] & 0x10) | code.headerBits
        reply[4] = 0
        reply[5] = 1
        for index in 6..<12 { reply[index] = 0 }
        if withOPT {
            let opt: [UInt8] = [
                0, 0, 41, UInt8(EDNS.defaultPayloadSize >> 8), UInt8(EDNS.defaultPayloadSize & 0xFF),
                0, 0, request.dnssecOK ? 0x80 : 0, 0, 0, 0,
            ]
            for (index, byte) in opt.enumerated() { reply[length + index] = byte }
            length += 11
            reply[11] = 1
        }
        self.metrics.countResponse(flagsLow: code.headerBits)
        return .reply(length)
    }
}

/// Front-door counts of one batch, added to the shared counters once per batch instead of once per packet.
public struct FrontDoorTally {
    var queries = 0
    var hits = 0
    /// Queries with a valid server cookie, a client cookie alone, an invalid server cookie.
    var cookies = InlineArray<3, Int>(repeating: 0)
    /// Fast-path answers by the low 4 bits of their RCODE.
    var rcodes = InlineArray<16, Int>(repeating: 0)

    public init() {}

    public func flush(into metrics: ServerMetrics) {
        if self.queries > 0 { metrics.queries.increment(by: Int64(self.queries)) }
        if self.hits > 0 { metrics.fastPathHits.increment(by: Int64(self.hits)) }
        for state in 0..<3 where self.cookies[state] > 0 { metrics.cookies[state].increment(by: Int64(self.cookies[state])) }
        for code in 0..<16 where self.rcodes[code] > 0 {
            metrics.responses[code].increment(by: Int64(self.rcodes[code]))
        }
    }
}

/// Set once by whichever comes first: the chain's reply or a late fallback.
final class OnceFlag: Sendable {
    private let taken = Atomic<Bool>(false)
    /// True for the first caller only.
    func claim() -> Bool { !self.taken.exchange(true, ordering: .acquiringAndReleasing) }
}

extension Query {
    /// Runs, in order, the work `finish` steps and the encoder left for after the reply was sent (cache stores).
    mutating func runAfterReply() {
        guard !self.afterReply.isEmpty else { return }
        let work = self.afterReply
        self.afterReply = []
        for step in work { step() }
    }
}
