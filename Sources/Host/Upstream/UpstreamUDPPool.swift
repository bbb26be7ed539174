// UpstreamUDPPool: a pool of long-lived UDP sockets on kernel-random ports for one upstream, queries matched by ID.

import NIOCore
import NIOPosix
import Pipeline
import Synchronization

/// UDP sockets to one upstream, opened on first use: a query goes out on a random one of them with a random ID, so a
/// forged answer has to guess both (RFC 5452 §4: a pool of random ports), without the cost of opening a socket per
/// query. Sockets rotate (`PortRotation`): one past its queries or age takes no new query, is closed once what it
/// carries is answered or timed out, and a fresh one on a new kernel-random port takes its place. Answers are matched
/// by source address, ID and question.
final class UpstreamUDPPool: Sendable {
    /// One socket, the queries waiting on it, and how much it has been used.
    final class PooledSocket: Sendable {
        struct State {
            var channel: (any Channel)? = nil
            var pending = PendingReplies<EventLoopPromise<[UInt8]>>()
            var sent = 0
            var retired = false
        }
        let opened = Clock.nanoseconds()
        let state = Mutex(State())

        /// Closes the socket if it is retired and nothing waits on it.
        func closeIfDone() {
            let channel = self.state.withLock { state -> (any Channel)? in
                guard state.retired, state.pending.isEmpty else { return nil }
                defer { state.channel = nil }
                return state.channel
            }
            channel?.close(promise: nil)
        }
    }

    struct Slot {
        var socket: PooledSocket? = nil
        var opening: EventLoopFuture<PooledSocket>? = nil
    }

    /// Sockets per upstream and event loop.
    static let perLoop = 16

    let upstream: SocketAddress
    let rotation: PortRotation
    /// The group's loops: a query uses a socket of the loop it runs on, so it never hops between threads.
    let loops: [any EventLoop]
    let slots: [SlotBox]

    /// Mutexes cannot live in an array; each slot gets a small box.
    final class SlotBox: Sendable {
        let state = Mutex(Slot())
    }
    let rejected: @Sendable () -> Void

    init(
        upstream: SocketAddress,
        group: any EventLoopGroup,
        rotation: PortRotation = PortRotation(),
        rejected: @escaping @Sendable () -> Void
    ) {
        self.upstream = upstream
        self.rotation = rotation
        self.loops = Array(group.makeIterator())
        self.slots = (0..<UpstreamUDPPool.perLoop * max(1, self.loops.count)).map { _ in SlotBox() }
        self.rejected = rejected
    }

    /// The socket at `index` for one more query: the current one, or a new one when there is none or it is due.
    private func socket(_ index: Int) async throws -> PooledSocket {
        let now = Clock.nanoseconds()
        var retiring: PooledSocket? = nil
        let future: EventLoopFuture<PooledSocket> = self.slots[index].state.withLock { slot in
            if let socket = slot.socket {
                let (usable, sent) = socket.state.withLock { ($0.channel?.isActive ?? false, $0.sent) }
                if usable && !self.rotation.isDue(sent: sent, opened: socket.opened, now: now) {
                    return self.loops[index / UpstreamUDPPool.perLoop].makeSucceededFuture(socket)
                }
                socket.state.withLock { $0.retired = true }
                retiring = socket
                slot.socket = nil
            }
            if let opening = slot.opening { return opening }
            let socket = PooledSocket()
            let opening = DatagramBootstrap(group: self.loops[index / UpstreamUDPPool.perLoop])
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(PooledUDPHandler(pool: self, socket: socket))
                    }
                }
                .bind(to: self.upstream.protocol == .inet6 ? SocketAddress.anyIPv6 : SocketAddress.anyIPv4)
                .map { channel -> PooledSocket in
                    socket.state.withLock { $0.channel = channel }
                    return socket
                }
            slot.opening = opening
            return opening
        }
        retiring?.closeIfDone()
        do {
            let socket = try await future.get()
            self.slots[index].state.withLock { slot in
                if slot.opening != nil {
                    slot.socket = socket
                    slot.opening = nil
                }
            }
            return socket
        } catch {
            self.slots[index].state.withLock { $0.opening = nil }
            throw UpstreamError.connection("\(error)")
        }
    }

    /// Sends `packet` on a random socket of the pool (under another ID if its own is taken there) and waits at most
    /// `timeout` for the answer; with `exactCase`, only an answer that spells the question as we did (0x20) counts.
    func exchange(
        _ packet: [UInt8],
        question: Question,
        exactCase: Bool = false,
        timeout: TimeAmount
    ) async throws -> [UInt8] {
        let loop = self.loops.firstIndex { $0.inEventLoop } ?? Int.random(in: 0..<self.loops.count)
        let index = loop * UpstreamUDPPool.perLoop + Int.random(in: 0..<UpstreamUDPPool.perLoop)
        let socket = try await self.socket(index)
        var packet = packet
        let (channel, id, promise) = socket.state.withLock { state -> ((any Channel)?, UInt16?, EventLoopPromise<[UInt8]>?) in
            guard let channel = state.channel else { return (nil, nil, nil) }
            let promise = channel.eventLoop.makePromise(of: [UInt8].self)
            let id = state.pending.register(&packet, question: question, exactCase: exactCase, promise) {
                UInt16.random(in: 0...UInt16.max)
            }
            if id != nil { state.sent += 1 }
            return (channel, id, promise)
        }
        guard let channel, let id, let promise else {
            promise?.fail(UpstreamError.connection("no free query ID"))
            throw UpstreamError.connection(channel == nil ? "socket closed" : "no free query ID")
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            _ = socket.state.withLock { $0.pending.remove(id: id) }
            promise.fail(UpstreamError.timeout)
            socket.closeIfDone()
        }
        var buffer = channel.allocator.buffer(capacity: packet.count)
        buffer.writeBytes(packet)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: self.upstream, data: buffer), promise: nil)
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    /// A datagram arrived on `socket`.
    func received(_ bytes: [UInt8], from source: SocketAddress, on socket: PooledSocket) {
        let promise = source == self.upstream ? socket.state.withLock { $0.pending.take(answeredBy: bytes) } : nil
        guard let promise else {
            self.rejected()
            return
        }
        promise.succeed(bytes)
        socket.closeIfDone()
    }

    /// `socket` reported an error (its queries fail now) or closed (the slot opens a new one for the next query).
    func failed(_ socket: PooledSocket, reason: String, closed: Bool) {
        let pending = socket.state.withLock { state -> [EventLoopPromise<[UInt8]>] in
            if closed { state.channel = nil }
            return state.pending.removeAll()
        }
        for promise in pending { promise.fail(UpstreamError.connection(reason)) }
        socket.closeIfDone()
    }
}

final class PooledUDPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let pool: UpstreamUDPPool
    let socket: UpstreamUDPPool.PooledSocket

    init(pool: UpstreamUDPPool, socket: UpstreamUDPPool.PooledSocket) {
        self.pool = pool
        self.socket = socket
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        self.pool.received(Array(envelope.data.readableBytesView), from: envelope.remoteAddress, on: self.socket)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors (port unreachable) arrive here on Linux: fail what is waiting on this socket, keep it open.
        self.pool.failed(self.socket, reason: "\(error)", closed: false)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pool.failed(self.socket, reason: "socket closed", closed: true)
        context.fireChannelInactive()
    }
}
