// UpstreamUDPPool: a pool of long-lived UDP sockets on kernel-random ports for one upstream, queries matched by ID.

import NIOCore
import NIOPosix
import Pipeline
import Synchronization

/// UDP sockets to one upstream, opened on first use and kept: a query goes out on a random one of them with a random
/// ID, so a forged answer has to guess both (RFC 5452 §4: a pool of random ports), without the cost of opening a
/// socket per query. Answers are matched by source address, ID and question.
final class UpstreamUDPPool: Sendable {
    struct Slot {
        var channel: (any Channel)? = nil
        var opening: EventLoopFuture<any Channel>? = nil
        var pending = PendingReplies<EventLoopPromise<[UInt8]>>()
    }

    /// Sockets per upstream and event loop.
    static let perLoop = 16

    let upstream: SocketAddress
    /// The group's loops: a query uses a socket of the loop it runs on, so it never hops between threads.
    let loops: [any EventLoop]
    let slots: [SlotBox]

    /// Mutexes cannot live in an array; each slot gets a small box.
    final class SlotBox: Sendable {
        let state = Mutex(Slot())
    }
    let rejected: @Sendable () -> Void

    init(upstream: SocketAddress, group: any EventLoopGroup, rejected: @escaping @Sendable () -> Void) {
        self.upstream = upstream
        self.loops = Array(group.makeIterator())
        self.slots = (0..<UpstreamUDPPool.perLoop * max(1, self.loops.count)).map { _ in SlotBox() }
        self.rejected = rejected
    }

    private func channel(_ index: Int) async throws -> any Channel {
        let future: EventLoopFuture<any Channel> = self.slots[index].state.withLock { slot in
            if let channel = slot.channel, channel.isActive { return channel.eventLoop.makeSucceededFuture(channel) }
            if let opening = slot.opening { return opening }
            let opening = DatagramBootstrap(group: self.loops[index / UpstreamUDPPool.perLoop])
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(PooledUDPHandler(pool: self, index: index))
                    }
                }
                .bind(to: self.upstream.protocol == .inet6 ? SocketAddress.anyIPv6 : SocketAddress.anyIPv4)
            slot.opening = opening
            return opening
        }
        do {
            let channel = try await future.get()
            self.slots[index].state.withLock { slot in
                slot.channel = channel
                slot.opening = nil
            }
            return channel
        } catch {
            self.slots[index].state.withLock { $0.opening = nil }
            throw UpstreamError.connection("\(error)")
        }
    }

    /// Sends `packet` on a random socket of the pool (under another ID if its own is taken there) and waits at most
    /// `timeout` for the answer.
    func exchange(_ packet: [UInt8], question: Question, timeout: TimeAmount) async throws -> [UInt8] {
        let loop = self.loops.firstIndex { $0.inEventLoop } ?? Int.random(in: 0..<self.loops.count)
        let index = loop * UpstreamUDPPool.perLoop + Int.random(in: 0..<UpstreamUDPPool.perLoop)
        let channel = try await self.channel(index)
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        var packet = packet
        let registered = self.slots[index].state.withLock { slot in
            slot.pending.register(&packet, question: question, promise) { UInt16.random(in: 0...UInt16.max) }
        }
        guard let id = registered else {
            promise.fail(UpstreamError.connection("no free query ID"))
            throw UpstreamError.connection("no free query ID")
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            self.slots[index].state.withLock { _ = $0.pending.remove(id: id) }
            promise.fail(UpstreamError.timeout)
        }
        var buffer = channel.allocator.buffer(capacity: packet.count)
        buffer.writeBytes(packet)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: self.upstream, data: buffer), promise: nil)
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    /// A datagram arrived on socket `index`.
    func received(_ bytes: [UInt8], from source: SocketAddress, on index: Int) {
        let promise =
            source == self.upstream ? self.slots[index].state.withLock { $0.pending.take(answeredBy: bytes) } : nil
        guard let promise else {
            self.rejected()
            return
        }
        promise.succeed(bytes)
    }

    /// Socket `index` reported an error (its queries fail now) or closed (the next query reopens it).
    func failed(_ index: Int, reason: String, closed: Bool) {
        let pending = self.slots[index].state.withLock { slot -> [EventLoopPromise<[UInt8]>] in
            if closed { slot.channel = nil }
            return slot.pending.removeAll()
        }
        for promise in pending { promise.fail(UpstreamError.connection(reason)) }
    }
}

final class PooledUDPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let pool: UpstreamUDPPool
    let index: Int

    init(pool: UpstreamUDPPool, index: Int) {
        self.pool = pool
        self.index = index
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        self.pool.received(Array(envelope.data.readableBytesView), from: envelope.remoteAddress, on: self.index)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors (port unreachable) arrive here on Linux: fail what is waiting on this socket, keep it open.
        self.pool.failed(self.index, reason: "\(error)", closed: false)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.pool.failed(self.index, reason: "socket closed", closed: true)
        context.fireChannelInactive()
    }
}
