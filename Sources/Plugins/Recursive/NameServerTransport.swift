// NameServerTransport: one query to one authoritative server, over a fresh UDP socket (TCP after truncation).

import Glibc
import NIOCore
import NIOPosix
import Pipeline
import SwiftletIO

/// Sends queries to name servers. Each UDP query gets its own socket on a kernel-chosen random port, connected to the
/// server, so a forged answer must guess the port as well as the ID and the 0x20 case of the name (RFC 5452 §9.2);
/// datagrams from anyone else, or with another ID or question, are counted and ignored while the real answer is
/// awaited. Truncated answers are asked again over TCP (a connection per exchange: it is rare).
struct NameServerTransport: Sendable {
    let group: any EventLoopGroup
    /// Called for each datagram that is not the answer (forgery, late answer to an earlier try).
    let rejected: @Sendable () -> Void
    /// The port name servers are asked on (root hints and NS records carry no port).
    var port = 53

    /// Sends `packet` over UDP and waits at most `timeout` for the answer to it.
    func udp(
        _ packet: [UInt8],
        to address: IPAddress,
        id: UInt16,
        question: Question,
        timeout: TimeAmount
    ) async throws -> [UInt8] {
        let remote = try self.socketAddress(address)
        // On a UDP worker, its reactor polls the socket and the task stays on the worker's thread.
        if let reactor = Reactor.current {
            return try await self.udp(packet, to: remote, id: id, question: question, timeout: timeout, on: reactor)
        }
        let local = address.isIPv6 ? SocketAddress.anyIPv6 : SocketAddress.anyIPv4
        // The loop this task runs on (a suspended TCP query runs on its connection's loop), so nothing hops threads.
        let loop = self.group.any()
        let promise = loop.makePromise(of: [UInt8].self)
        let handler = AnswerCatcher(
            remote: remote,
            id: id,
            question: question,
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

    /// `udp` on a UDP worker's reactor: the socket is opened, read and closed on the worker's thread.
    private func udp(
        _ packet: [UInt8],
        to remote: SocketAddress,
        id: UInt16,
        question: Question,
        timeout: TimeAmount,
        on reactor: Reactor
    ) async throws -> [UInt8] {
        let query = ReactorQuery(reactor: reactor)
        let rejected = self.rejected
        return try await withCheckedThrowingContinuation { continuation in
            query.continuation = continuation
            do {
                let socket = try remote.withSockAddr { address, length in
                    try ReactorDatagramSocket(
                        server: address,
                        length: socklen_t(length),
                        connected: true,
                        reactor: reactor,
                        received: { datagram in
                            let bytes = Array(datagram)
                            guard isReply(bytes, id: id, question: question, exactCase: true) else {
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
                query.timer = reactor.schedule(after: timeout.nanoseconds) {
                    query.finish(.failure(UpstreamError.timeout))
                }
                try socket.send(packet)
            } catch {
                query.finish(.failure(UpstreamError.connection("\(error)")))
            }
        }
    }

    /// Sends `packet` over a new TCP connection and waits at most `timeout` for the answer.
    func tcp(
        _ packet: [UInt8],
        to address: IPAddress,
        question: Question,
        timeout: TimeAmount
    ) async throws -> [UInt8] {
        let connection = UpstreamTCPConnection(address: try self.socketAddress(address), group: self.group)
        defer { connection.close() }
        return try await connection.exchange(packet, question: question, timeout: timeout, exactCase: true)
    }

    private func socketAddress(_ address: IPAddress) throws -> SocketAddress {
        do { return try SocketAddress(ipAddress: "\(address)", port: self.port) } catch {
            throw UpstreamError.connection("bad address \(address)")
        }
    }
}

extension IPAddress {
    var isIPv6: Bool {
        if case .v6 = self { return true }
        return false
    }
}

/// Completes the query's promise with the first datagram that is its answer: from the server's address and port,
/// with our ID and our question, letter case included.
final class AnswerCatcher: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let remote: SocketAddress
    let id: UInt16
    let question: Question
    let promise: EventLoopPromise<[UInt8]>
    let rejected: @Sendable () -> Void

    init(
        remote: SocketAddress,
        id: UInt16,
        question: Question,
        promise: EventLoopPromise<[UInt8]>,
        rejected: @escaping @Sendable () -> Void
    ) {
        self.remote = remote
        self.id = id
        self.question = question
        self.promise = promise
        self.rejected = rejected
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        guard envelope.remoteAddress == self.remote,
            isReply(bytes, id: self.id, question: self.question, exactCase: true)
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
