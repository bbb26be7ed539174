// ScriptedUpstreams: scripted upstream servers in-process, as an `UpstreamExchange`: a plugin under test (recursive's
// resolver, forward) asks them through the same interface it asks the host's sockets, and no socket is opened.

import Pipeline
import Synchronization

/// Servers by address, each answering from a script (the same `FakeAction`s as `FakeUpstream`). An exchange gets
/// what a connected socket would: the first reply that answers the query (ID, question, letter case when asked),
/// after the script's delay; a reply that does not, or one sent from another address or port, is counted as
/// rejected and the exchange goes on waiting, until its timeout. A server that is not there, or drops the query,
/// leaves the exchange waiting for its whole timeout, in real time, like the network would.
///
/// It is also the `UpstreamService` of a plugin context, handing itself out as every client, so a plugin's own setup
/// (`forward`'s, `recursive`'s) wires it in.
public final class ScriptedUpstreams: UpstreamExchange, UpstreamService {
    public typealias Script = @Sendable (Message, Transport) -> FakeAction

    private let scripts: Mutex<[IPAddress: Script]> = Mutex([:])
    private let counts: Mutex<[IPAddress: (udp: Int, tcp: Int)]> = Mutex([:])
    private let rejectedCount = Atomic<Int>(0)

    public init() {}

    /// Answers queries to `address` (any port) with `script`.
    public func serve(_ address: String, _ script: @escaping Script) {
        guard let address = IPAddress(address) else { fatalError("bad address in test: \(address)") }
        self.scripts.withLock { $0[address] = script }
    }

    /// The queries `address` received so far, by transport.
    public func queries(_ address: String) -> (udp: Int, tcp: Int) {
        guard let address = IPAddress(address) else { return (0, 0) }
        return self.counts.withLock { $0[address] ?? (0, 0) }
    }

    public func client(_ options: UpstreamClientOptions) throws -> any UpstreamExchange { self }

    /// Replies turned away (not answering what was asked, or from elsewhere).
    public var rejected: Int { self.rejectedCount.load(ordering: .relaxed) }

    public func exchange(
        _ packet: [UInt8],
        question: Question,
        exactCase: Bool,
        with server: UpstreamServer,
        timeout: Duration,
        on executor: (any TaskExecutor)?
    ) async throws -> [UInt8] {
        let id = UInt16.random(in: 0...UInt16.max)
        var packet = packet
        packet.setMessageID(id)
        guard let query = try? Message(wire: packet) else { throw UpstreamError.malformed }
        guard let script = self.scripts.withLock({ $0[server.address] }) else {
            return try await Self.timeOut(after: timeout)
        }
        let transport: Transport = server.transport == .udp ? .udp : .tcp
        self.counts.withLock { counts in
            var count = counts[server.address] ?? (0, 0)
            if transport == .udp { count.udp += 1 } else { count.tcp += 1 }
            counts[server.address] = count
        }
        let started = ContinuousClock.now
        for (delay, bytes) in Self.sent(script(query, transport), for: query) {
            if let delay {
                let waited = ContinuousClock.now - started
                guard waited + delay < timeout else { return try await Self.timeOut(after: timeout - waited) }
                try await Task.sleep(for: delay)
            }
            guard let bytes, isReply(bytes, id: id, question: question, exactCase: exactCase) else {
                self.rejectedCount.add(1, ordering: .relaxed)
                continue
            }
            return bytes
        }
        return try await Self.timeOut(after: timeout - (ContinuousClock.now - started))
    }

    /// The datagrams `action` sends, in order, each after its delay; nil for one sent from another address or port.
    static func sent(_ action: FakeAction, for query: Message) -> [(Duration?, [UInt8]?)] {
        switch action {
        case .reply(let message): return [(nil, FakeUpstream.bytes(message, for: query))]
        case .raw(let bytes): return [(nil, bytes)]
        case .sequence(let actions): return actions.flatMap { Self.sent($0, for: query) }
        case .delay(let seconds, let message):
            return [(.milliseconds(Int64(seconds * 1000)), FakeUpstream.bytes(message, for: query))]
        case .drop: return []
        case .fromOtherPort, .fromOtherAddress: return [(nil, nil)]
        }
    }

    private static func timeOut(after duration: Duration) async throws -> [UInt8] {
        if duration > .zero { try await Task.sleep(for: duration) }
        throw UpstreamError.timeout
    }
}

/// A root server on `prefix`.1 for resolver tests: it answers `. NS a.root.` (glue `prefix`.1) and refers everything
/// else to `test.`, served by `ns.test.` on `prefix`.2. The same script runs in-process (`ScriptedUpstreams.serve`)
/// or on a socket (`FakeUpstream`).
public func testRoot(_ prefix: String) -> @Sendable (Message, Transport) -> FakeAction {
    { query, _ in
        var reply = Message(header: Header(flags: 0x8000))
        if query.questions[0].name.isRoot {
            reply.header.isAuthoritative = true
            reply.answers = [rr(". 3600 NS a.root.")]
            reply.additionals = [rr("a.root. 3600 A \(prefix).1")]
        } else {
            reply.authorities = [rr("test. 3600 NS ns.test.")]
            reply.additionals = [rr("ns.test. 3600 A \(prefix).2")]
        }
        return .reply(reply)
    }
}
