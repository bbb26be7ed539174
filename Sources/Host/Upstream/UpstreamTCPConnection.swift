// UpstreamTCPConnection: one reused TCP connection to an upstream, with pipelined queries matched by ID.

import NIOCore
import NIOPosix
import NIOSSL
import Pipeline
import Synchronization

/// A lazily opened, reused TCP connection (RFC 7766 §6.2.1: pipelining, out-of-order answers). Queries in flight
/// are matched to answers by ID and question; a closed connection fails them all and the next query reconnects.
final class UpstreamTCPConnection: Sendable {
    struct State {
        var channel: (any Channel)? = nil
        var connecting: EventLoopFuture<any Channel>? = nil
        var pending = PendingReplies<EventLoopPromise<[UInt8]>>()
        /// Why the connection is closing (a TLS handshake failure, say), for the failed queries' errors.
        var closingReason: String? = nil
    }

    let address: SocketAddress
    let group: any EventLoopGroup
    /// For DNS over TLS: the client context (trust roots) and the name the certificate must carry.
    let tls: NIOSSLContext?
    let serverName: String?
    let state = Mutex(State())

    init(address: SocketAddress, group: any EventLoopGroup, tls: NIOSSLContext? = nil, serverName: String? = nil) {
        self.address = address
        self.group = group
        self.tls = tls
        self.serverName = serverName
    }

    /// The connection, opened if needed (the connection attempt gives up after `timeout`, 2 s at the most).
    private func channel(timeout: TimeAmount) async throws -> any Channel {
        let future: EventLoopFuture<any Channel> = self.state.withLock { state in
            if let channel = state.channel, channel.isActive { return channel.eventLoop.makeSucceededFuture(channel) }
            if let connecting = state.connecting { return connecting }
            let connecting = ClientBootstrap(group: self.group)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(min(timeout, .seconds(2)))
                .channelInitializer { [tls = self.tls, serverName = self.serverName] channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            // RFC 7858 §3.2 / RFC 8310: the certificate must be valid for the configured name.
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tls, serverHostname: serverName)
                            )
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSFrameDecoder()))
                        try channel.pipeline.syncOperations.addHandler(UpstreamTCPHandler(connection: self))
                    }
                }
                .connect(to: self.address)
            state.connecting = connecting
            return connecting
        }
        do {
            let channel = try await future.get()
            self.state.withLock { state in
                state.channel = channel
                state.connecting = nil
            }
            return channel
        } catch {
            self.state.withLock { $0.connecting = nil }
            throw UpstreamError.connection("\(error)")
        }
    }

    /// Sends `packet` (under another ID if its own is in flight on the connection) and waits at most `timeout` for the
    /// answer.
    func exchange(
        _ packet: [UInt8],
        question: Question,
        timeout: TimeAmount,
        exactCase: Bool = false
    ) async throws -> [UInt8] {
        // The try's timeout covers opening the connection (or the TLS handshake) too: a dead `tcp://` upstream must not
        // hold a query past its timeout and deadline.
        let started = NIODeadline.now()
        let channel = try await self.channel(timeout: timeout)
        let remaining = timeout - (NIODeadline.now() - started)
        guard remaining > .zero else { throw UpstreamError.timeout }
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        var packet = packet
        let added = self.state.withLock { state in
            state.pending.register(&packet, question: question, exactCase: exactCase, promise) {
                UInt16.random(in: 0...UInt16.max)
            }
        }
        guard let id = added else {
            promise.fail(UpstreamError.connection("no free query ID"))
            throw UpstreamError.connection("no free query ID")
        }
        let timer = channel.eventLoop.scheduleTask(in: remaining) {
            self.state.withLock { _ = $0.pending.remove(id: id) }
            promise.fail(UpstreamError.timeout)
        }
        var buffer = channel.allocator.buffer(capacity: packet.count + 2)
        buffer.writeInteger(UInt16(packet.count))
        buffer.writeBytes(packet)
        channel.writeAndFlush(buffer, promise: nil)
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    /// Called by the handler for each framed message.
    func received(_ bytes: [UInt8]) {
        self.state.withLock { $0.pending.take(answeredBy: bytes) }?.succeed(bytes)
    }

    /// Called when the connection closes: every query in flight fails, the next one reconnects.
    func closed() {
        let (pending, reason) = self.state.withLock { state -> ([EventLoopPromise<[UInt8]>], String) in
            defer {
                state.channel = nil
                state.closingReason = nil
            }
            return (state.pending.removeAll(), state.closingReason ?? "connection closed")
        }
        for promise in pending { promise.fail(UpstreamError.connection(reason)) }
    }

    /// Closes the connection (queries in flight fail); a later query would open a new one.
    func close() {
        let channel = self.state.withLock { $0.channel }
        channel?.close(promise: nil)
    }

    /// Remembers why the connection is about to close.
    func failed(_ error: any Error) { self.state.withLock { $0.closingReason = "\(error)" } }
}

final class UpstreamTCPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let connection: UpstreamTCPConnection

    init(connection: UpstreamTCPConnection) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.connection.received(Array(Self.unwrapInboundIn(data).readableBytesView))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.connection.closed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.connection.failed(error)
        context.close(promise: nil)
    }
}
