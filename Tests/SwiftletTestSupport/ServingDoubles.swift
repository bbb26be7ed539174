// ServingDoubles: a manual clock and a recording reply sink, to drive the serving loop (`Responder`) in-process.

import Pipeline
import Synchronization

/// A `ServerClock` that moves only when a test says so. `sleep` returns once `advance` has passed its deadline, or
/// throws when its task is cancelled; `sleepers` lets a test wait until a timer is armed before moving the time.
public final class ManualClock: ServerClock {
    private struct Sleeper {
        let id: Int
        let deadline: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var now: UInt64
        var sleepers: [Sleeper] = []
        /// Sleeps cancelled before their continuation was registered.
        var cancelled: Set<Int> = []
    }
    private let state: Mutex<State>
    private let nextID = Atomic<Int>(0)

    /// Starts at the host's monotonic time, so handlers that read `Clock.nanoseconds()` themselves agree with it.
    public init(start: UInt64 = Clock.nanoseconds()) { self.state = Mutex(State(now: start)) }

    public func now() -> UInt64 { self.state.withLock { $0.now } }

    public func sleep(for duration: Duration) async throws {
        let id = self.nextID.add(1, ordering: .relaxed).newValue
        let nanoseconds = UInt64(max(0, duration.nanoseconds))
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let due: Bool? = self.state.withLock { state in
                    if state.cancelled.remove(id) != nil { return false }
                    let deadline = state.now + nanoseconds
                    if deadline <= state.now { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                switch due {
                case true?: continuation.resume()
                case false?: continuation.resume(throwing: CancellationError())
                case nil: break
                }
            }
        } onCancel: {
            let sleeper = self.state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the time on and wakes every sleep whose deadline it passed.
    public func advance(by duration: Duration) {
        let nanoseconds = UInt64(max(0, duration.nanoseconds))
        let due = self.state.withLock { state -> [Sleeper] in
            state.now += nanoseconds
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Sleeps waiting for the time to move.
    public var sleepers: Int { self.state.withLock { $0.sleepers.count } }
}

/// A `ReplySink` that keeps every call: one entry per `send`, with that call's replies in order.
public final class RecordingSink: ReplySink {
    private let calls = Mutex<[[[UInt8]]]>([])
    /// Called inside `send`, before the call is recorded (to look at the world as the reply leaves).
    private let onSend: @Sendable ([[UInt8]]) -> Void

    public init(onSend: @escaping @Sendable ([[UInt8]]) -> Void = { _ in }) { self.onSend = onSend }

    public func send(_ replies: [[UInt8]]) {
        self.onSend(replies)
        self.calls.withLock { $0.append(replies) }
    }

    /// Every `send` so far.
    public var sent: [[[UInt8]]] { self.calls.withLock { $0 } }
}

/// A server block served in-process by the real serving loop (`Responder`), with no socket: plugins are set up into
/// it as the host does, and `ask` returns the reply a client would get, immediate or late.
public struct InProcessServer: Sendable {
    public let responder: Responder

    /// Serves what `builder` holds (guards, handlers, reply guards, observers, the RRset cache) for `zones`, with
    /// DNS cookies when given a secret.
    public init(
        _ builder: ChainBuilder,
        zones: [DomainName] = [.root],
        maxInFlight: Int = 1000,
        transport: Transport = .udp,
        clock: ManualClock = ManualClock(),
        cookies: ServerCookies? = nil
    ) throws {
        let block = ServerBlock(
            index: 0,
            zones: zones,
            guards: builder.guards,
            chain: try builder.build(),
            observers: builder.observers,
            maxUDPSize: 1232,
            maxInFlight: maxInFlight,
            rrsetCache: builder.rrsetCache,
            replyGuards: builder.replyGuards,
            cookies: cookies
        )
        self.responder = Responder(
            cache: MessageCache(maxBytes: 1 << 20, shardCount: 1),
            table: BlockTable(blocks: [block]),
            transport: transport,
            clock: clock
        )
    }

    /// Sets `plugin` up with `options` and `context` (which may carry an upstream service and a clock), as the host
    /// does for `- <plugin>: {…}`, and adds it to `builder`. Its metrics are named `test_<plugin>_…` whatever prefix
    /// the context had, as the host names them per plugin: two plugins' `requests_total` under one prefix, one with
    /// labels and one without, is a fatal error in the Prometheus registry the host tests bootstrap in this process.
    public static func add<P: Plugin>(
        _ plugin: P.Type,
        _ options: P.Options,
        context: PluginContext,
        to builder: inout ChainBuilder
    ) throws {
        var context = context
        context.metricsPrefix = "test_\(P.name)"
        builder.begin(plugin: P.name)
        try P.setup(options, context: context, into: &builder)
    }

    /// What `process` did with `packet` from `client`, and the immediate reply's octets (empty when there is none).
    /// A late reply goes to `sink`; the query's task runs on `executor`.
    public func process(
        _ packet: [UInt8],
        from client: Client = testClient,
        sink: RecordingSink = RecordingSink(),
        executor: any TaskExecutor = ServerExecutor.shared,
        worker: Int = 0
    ) -> (outcome: ProcessOutcome, reply: [UInt8]) {
        var reply = [UInt8](repeating: 0, count: 65535)
        let outcome = packet.withUnsafeBytes { packet in
            reply.withUnsafeMutableBytes { buffer in
                self.responder.process(packet: packet, client: client, reply: buffer, executor: executor, worker: worker) {
                    sink
                }
            }
        }
        guard case .reply(let length) = outcome else { return (outcome, []) }
        return (outcome, Array(reply[0..<length]))
    }

    /// The reply to `query` from `client`: the immediate one, or the first late one within `seconds`; nil when the
    /// server sends nothing.
    public func ask(_ query: Message, from client: Client = testClient, seconds: Double = 10) async throws -> Message? {
        let sink = RecordingSink()
        let (outcome, reply) = self.process(try query.encode().bytes, from: client, sink: sink)
        switch outcome {
        case .reply: return try Message(wire: reply)
        case .replies(let messages): return try messages.first.map { try Message(wire: $0) }
        case .none: return nil
        case .pending:
            guard await eventually(within: seconds, { !sink.sent.isEmpty }) else { return nil }
            return try sink.sent[0].first.map { try Message(wire: $0) }
        }
    }

    /// The fast path's answer to `packet` now, without entering the chain (nil on a miss).
    public func cached(_ packet: [UInt8]) -> [UInt8]? {
        var reply = [UInt8](repeating: 0, count: 4096)
        let table = self.responder.snapshot()
        let length = packet.withUnsafeBytes { packet -> Int in
            guard let request = try? RequestView(packet: packet), let block = table.block(for: request, in: packet)
            else { return 0 }
            return reply.withUnsafeMutableBytes { out in
                self.responder.cache.answer(
                    packet: packet,
                    request: request,
                    view: block.cacheView(0),
                    now: self.responder.clock.now(),
                    limit: 4096,
                    into: out
                )
            }
        }
        return length > 0 ? Array(reply[0..<length]) : nil
    }
}
