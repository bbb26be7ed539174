// ConnectedDatagram: one query on a UDP socket of its own, connected to the server, on a fresh kernel-random port
// (the per-query datagrams of `UpstreamClientOptions`, which recursive uses).

import Glibc
import NIOCore
import NIOPosix
import Pipeline
import SwiftletIO

/// Each query gets its own socket on a kernel-chosen random port, connected to the server, so a forged answer must
/// guess the port as well as the ID and the 0x20 case of the name (RFC 5452 §9.2); datagrams from anyone else, or
/// with another ID or question, are counted and ignored while the real answer is awaited.
struct ConnectedDatagram: Sendable {
    /// The query, its ID already in place.
    let packet: [UInt8]
    let remote: SocketAddress
    let id: UInt16
    let question: Question
    let exactCase: Bool
    let timeout: TimeAmount
    /// Called for each datagram that reaches the socket and is not the answer.
    let rejected: @Sendable () -> Void

    /// Sends the query from a socket opened on `loop`, and waits at most `timeout` for the answer.
    func exchange(on loop: any EventLoop) async throws -> [UInt8] {
        let (packet, remote, timeout) = (self.packet, self.remote, self.timeout)
        let local = remote.protocol == .inet6 ? SocketAddress.anyIPv6 : SocketAddress.anyIPv4
        let promise = loop.makePromise(of: [UInt8].self)
        let handler = AnswerCatcher(
            remote: remote,
            id: self.id,
            question: self.question,
            exactCase: self.exactCase,
            promise: promise,
            rejected: self.rejected
        )
        // One chain of futures on the event loop: open, connect, send, and the answer (or the timeout), then close;
        // the task awaits once. (Awaiting the channel first and writing from the task costs two more thread hops.)
        let bound = DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .bind(to: local)
        bound.whenFailure { promise.fail(UpstreamError.connection("\($0)")) }
        let answer = bound.flatMap { channel -> EventLoopFuture<[UInt8]> in
            let timer = loop.scheduleTask(in: timeout) { promise.fail(UpstreamError.timeout) }
            var buffer = channel.allocator.buffer(capacity: packet.count)
            buffer.writeBytes(packet)
            let envelope = AddressedEnvelope(remoteAddress: remote, data: buffer)
            channel.connect(to: remote)
                .flatMap { channel.writeAndFlush(envelope) }
                .whenFailure { promise.fail(UpstreamError.connection("\($0)")) }
            return promise.futureResult.always { _ in
                timer.cancel()
                channel.close(promise: nil)
            }
        }
        do { return try await answer.get() } catch let error as UpstreamError { throw error } catch {
            throw UpstreamError.connection("\(error)")
        }
    }

    /// `exchange` on a UDP worker's reactor: the socket is opened, read and closed on the worker's thread.
    func exchange(on reactor: Reactor) async throws -> [UInt8] {
        let (id, question, exactCase, rejected) = (self.id, self.question, self.exactCase, self.rejected)
        let query = ReactorQuery(reactor: reactor)
        return try await withCheckedThrowingContinuation { continuation in
            query.continuation = continuation
            do {
                let socket = try self.remote.withSockAddr { address, length in
                    try ReactorDatagramSocket(
                        server: address,
                        length: socklen_t(length),
                        connected: true,
                        reactor: reactor,
                        received: { datagram in
                            let bytes = Array(datagram)
                            guard isReply(bytes, id: id, question: question, exactCase: exactCase) else {
                                rejected()
                                return
                            }
                            query.finish(.success(bytes))
                        },
                        foreign: rejected,
                        failed: { query.finish(.failure(UpstreamError.connection("\($0)"))) }
                    )
                }
                query.socket = socket
                query.timer = reactor.schedule(after: self.timeout.nanoseconds) {
                    query.finish(.failure(UpstreamError.timeout))
                }
                try socket.send(self.packet)
            } catch {
                query.finish(.failure(UpstreamError.connection("\(error)")))
            }
        }
    }
}

/// Completes the query's promise with the first datagram that is its answer: from the server's address and port,
/// with our ID and our question (letter case included when `exactCase`).
final class AnswerCatcher: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let remote: SocketAddress
    let id: UInt16
    let question: Question
    let exactCase: Bool
    let promise: EventLoopPromise<[UInt8]>
    let rejected: @Sendable () -> Void

    init(
        remote: SocketAddress,
        id: UInt16,
        question: Question,
        exactCase: Bool,
        promise: EventLoopPromise<[UInt8]>,
        rejected: @escaping @Sendable () -> Void
    ) {
        self.remote = remote
        self.id = id
        self.question = question
        self.exactCase = exactCase
        self.promise = promise
        self.rejected = rejected
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        guard envelope.remoteAddress == self.remote,
            isReply(bytes, id: self.id, question: self.question, exactCase: self.exactCase)
        else {
            self.rejected()
            return
        }
        self.promise.succeed(bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable arrives here on a connected socket: the server is not there.
        self.promise.fail(UpstreamError.connection("\(error)"))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.promise.fail(UpstreamError.connection("socket closed"))
        context.fireChannelInactive()
    }
}

/// One query on its own socket of a UDP worker's reactor: the first datagram that is its answer completes it, as does
/// its timeout or a socket error; completing closes the socket. Used on the reactor's thread only.
final class ReactorQuery {
    unowned let reactor: Reactor
    var continuation: CheckedContinuation<[UInt8], any Error>? = nil
    var socket: ReactorDatagramSocket? = nil
    var timer: Reactor.Timer? = nil

    init(reactor: Reactor) { self.reactor = reactor }

    func finish(_ result: Result<[UInt8], any Error>) {
        guard let continuation = self.continuation else { return }
        self.continuation = nil
        if let timer = self.timer { self.reactor.cancel(timer) }
        self.socket?.close()
        self.socket = nil
        continuation.resume(with: result)
    }
}
