// NameServerTransport: one query to one authoritative server, over a fresh UDP socket (TCP after truncation).

import NIOCore
import NIOPosix
import Pipeline

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
        let local = address.isIPv6 ? SocketAddress.anyIPv6 : SocketAddress.anyIPv4
        // The loop this task runs on (suspended queries run on the server's loops), so nothing hops threads.
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

    /// Sends `packet` over a new TCP connection and waits at most `timeout` for the answer.
    func tcp(
        _ packet: [UInt8],
        to address: IPAddress,
        id: UInt16,
        question: Question,
        timeout: TimeAmount
    ) async throws -> [UInt8] {
        let connection = UpstreamTCPConnection(address: try self.socketAddress(address), group: self.group)
        defer { connection.close() }
        return try await connection.exchange(packet, id: id, question: question, timeout: timeout, exactCase: true)
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
