// TCPListener: DNS over TCP (RFC 7766) with SwiftNIO: 2-octet framing, pipelining, idle timeout, bounds.

import Logging
import Metrics
import NIOCore
import NIOPosix
import Pipeline
import Plugins
import Synchronization

/// Sends a late reply on the connection, framed, from any thread.
struct TCPReplySink: ReplySink {
    let channel: any Channel
    let onSent: @Sendable () -> Void

    func send(_ reply: [UInt8]) {
        var buffer = self.channel.allocator.buffer(capacity: reply.count + 2)
        buffer.writeInteger(UInt16(reply.count))
        buffer.writeBytes(reply)
        self.channel.writeAndFlush(buffer, promise: nil)
        self.onSent()
    }
}

/// Answers each framed query as it completes; pipelined queries may be answered out of order (RFC 7766 §6.2.1.1).
final class DNSTCPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let processor: QueryProcessor
    let maxInFlight: Int
    /// Queries waiting on a suspended chain; past `maxInFlight` the connection stops reading until some finish.
    let pending = Atomic<Int>(0)
    private var reply = [UInt8](repeating: 0, count: 65535)
    private var client: Client?

    init(processor: QueryProcessor, maxInFlight: Int) {
        self.processor = processor
        self.maxInFlight = maxInFlight
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.remoteAddress, let (address, port) = DNSTCPHandler.parse(remote) {
            self.client = Client(address: address, port: port, transport: .tcp)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = Self.unwrapInboundIn(data)
        guard let client = self.client else { return }
        let channel = context.channel
        let outcome = buffer.withUnsafeReadableBytes { packet in
            self.reply.withUnsafeMutableBytes { reply in
                self.processor.process(packet: packet, client: client, reply: reply) {
                    let count = self.pending.add(1, ordering: .relaxed).newValue
                    if count >= self.maxInFlight {
                        channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
                    }
                    return TCPReplySink(channel: channel) { [self] in
                        let left = self.pending.subtract(1, ordering: .relaxed).newValue
                        if left == self.maxInFlight - 1 {
                            channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                        }
                    }
                }
            }
        }
        switch outcome {
        case .reply(let length):
            var out = context.channel.allocator.buffer(capacity: length + 2)
            out.writeInteger(UInt16(length))
            out.writeBytes(self.reply[0..<length])
            context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
        case .replies(let messages):
            for message in messages {
                var out = context.channel.allocator.buffer(capacity: message.count + 2)
                out.writeInteger(UInt16(message.count))
                out.writeBytes(message)
                context.write(Self.wrapOutboundOut(out), promise: nil)
            }
            context.flush()
        case .none, .pending:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            // RFC 7766 §6.2.3: close idle connections; slow or half-open clients do not hold anything.
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    static func parse(_ address: SocketAddress) -> (IPAddress, UInt16)? {
        guard let text = address.ipAddress, let ip = IPAddress(text), let port = address.port else { return nil }
        return (ip, UInt16(port))
    }
}

/// A TCP listener on one address.
final class TCPListener: Sendable {
    let channel: any Channel
    let connections: ConnectionCount

    final class ConnectionCount: Sendable {
        let open = Atomic<Int>(0)
    }

    static func bind(
        address: ListenAddress,
        processor: QueryProcessor,
        group: any EventLoopGroup,
        idleTimeout: Double,
        maxConnections: Int,
        maxInFlight: Int
    ) async throws -> TCPListener {
        let connections = ConnectionCount()
        let refused = Counter(label: "swiftlet_tcp_connections_refused_total")
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard connections.open.add(1, ordering: .relaxed).newValue <= maxConnections else {
                    connections.open.subtract(1, ordering: .relaxed)
                    refused.increment()
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in connections.open.subtract(1, ordering: .relaxed) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        IdleStateHandler(readTimeout: .milliseconds(Int64(idleTimeout * 1000)))
                    )
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        DNSTCPHandler(processor: processor, maxInFlight: maxInFlight)
                    )
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: false)
        let host = address.address.description
        do {
            let channel = try await bootstrap.bind(host: host, port: Int(address.port)).get()
            return TCPListener(channel: channel, connections: connections)
        } catch {
            throw ListenError(address: address, transport: "tcp", reason: "\(error)")
        }
    }

    init(channel: any Channel, connections: ConnectionCount) {
        self.channel = channel
        self.connections = connections
    }

    var boundPort: UInt16 { UInt16(self.channel.localAddress?.port ?? 0) }

    func close() async { try? await self.channel.close() }
}
