// UpstreamExchange: one query to one upstream over UDP (its own socket, a kernel-random port) or over TCP.

import NIOCore
import NIOPosix
import Pipeline
import Synchronization

/// Checks that `reply` answers our query: a response, our ID, and the same question (RFC 5452 §9.1). The source
/// address and port are checked by the transport (UDP: the envelope's remote address; TCP: the connection).
func isReply(_ reply: [UInt8], id: UInt16, question: Question) -> Bool {
    guard reply.count >= Header.wireSize, reply[2] & 0x80 != 0,
        UInt16(reply[0]) << 8 | UInt16(reply[1]) == id
    else { return false }
    return reply.withUnsafeBytes { bytes in
        guard let view = try? RequestView(packet: bytes), view.questionCount == 1, view.type == question.type,
            view.recordClass == question.recordClass, view.nameLength == question.name.wire.count
        else { return false }
        let wire = question.name.wire
        for index in 0..<view.nameLength
        where DomainName.fold(bytes[view.nameOffset + index]) != DomainName.fold(wire[index]) {
            return false
        }
        return true
    }
}

/// Collects the one datagram that answers our query; everything else (other sources, other IDs, other questions)
/// is dropped and counted.
final class UDPReplyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let upstream: SocketAddress
    let id: UInt16
    let question: Question
    let promise: EventLoopPromise<[UInt8]>
    let rejected: @Sendable () -> Void

    init(
        upstream: SocketAddress,
        id: UInt16,
        question: Question,
        promise: EventLoopPromise<[UInt8]>,
        rejected: @escaping @Sendable () -> Void
    ) {
        self.upstream = upstream
        self.id = id
        self.question = question
        self.promise = promise
        self.rejected = rejected
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        guard envelope.remoteAddress == self.upstream, isReply(bytes, id: self.id, question: self.question) else {
            self.rejected()
            return
        }
        self.promise.succeed(bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP port unreachable and the like: the upstream is not there.
        self.promise.fail(UpstreamError.connection("\(error)"))
    }
}

enum UpstreamExchange {
    /// Sends `packet` (whose ID is `id`) over a fresh UDP socket and waits at most `timeout` for the answer.
    static func udp(
        _ packet: [UInt8],
        id: UInt16,
        question: Question,
        to upstream: SocketAddress,
        timeout: TimeAmount,
        group: any EventLoopGroup,
        rejected: @escaping @Sendable () -> Void
    ) async throws -> [UInt8] {
        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: [UInt8].self)
        let handler = UDPReplyHandler(
            upstream: upstream,
            id: id,
            question: question,
            promise: promise,
            rejected: rejected
        )
        let bindHost = upstream.protocol == .inet6 ? "::" : "0.0.0.0"
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
                }
                .bind(host: bindHost, port: 0).get()
        } catch {
            // Nothing will answer the promise now (the event loops may be shutting down): settle it before leaving.
            promise.fail(UpstreamError.connection("\(error)"))
            throw UpstreamError.connection("\(error)")
        }
        let timer = eventLoop.scheduleTask(in: timeout) { promise.fail(UpstreamError.timeout) }
        var buffer = channel.allocator.buffer(capacity: packet.count)
        buffer.writeBytes(packet)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: upstream, data: buffer), promise: nil)
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}
