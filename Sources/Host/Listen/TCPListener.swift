// TCPListener: DNS over TCP (RFC 7766) with SwiftNIO: 2-octet framing, pipelining, idle timeout, bounds; and DNS over
// TLS (RFC 7858), the same behind a TLS handler.

import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import Pipeline
import Plugins
import Synchronization

/// Sends a suspended query's replies on the connection, framed, from any thread.
struct TCPReplySink: ReplySink {
    let channel: any Channel
    let onSent: @Sendable () -> Void

    func send(_ replies: [[UInt8]]) {
        for reply in replies {
            var buffer = self.channel.allocator.buffer(capacity: reply.count + 2)
            buffer.writeInteger(UInt16(reply.count))
            buffer.writeBytes(reply)
            self.channel.write(buffer, promise: nil)
        }
        if !replies.isEmpty { self.channel.flush() }
        self.onSent()
    }
}

/// The bounds of one DNS-over-TCP connection.
struct TCPConnectionLimits: Sendable {
    /// No complete query for this long (and none in flight), or replies the client will not read for this long:
    /// the connection is closed (RFC 7766 §6.2.3).
    var idleTimeout: TimeAmount
    /// Queries waiting on a suspended chain at once (RFC 7766 §6.2.1.1 pipelining).
    var maxInFlight: Int
    /// Reply octets queued for a client that does not read, at most: past it the connection is closed.
    var maxQueuedBytes: Int
}

/// Counters of one TCP listener (labelled with its address, so each listener's are its own).
struct TCPMetrics: Sendable {
    let refusedGlobal: Counter
    let refusedPerClient: Counter
    let closedIdle: Counter
    let closedNotReading: Counter

    init(listen: ListenAddress) {
        func counter(_ name: String, _ reason: String) -> Counter {
            Counter(label: name, dimensions: [("listen", "\(listen)"), ("reason", reason)])
        }
        self.refusedGlobal = counter("swiftlet_tcp_connections_refused_total", "limit")
        self.refusedPerClient = counter("swiftlet_tcp_connections_refused_total", "per_client_limit")
        self.closedIdle = counter("swiftlet_tcp_connections_closed_total", "idle")
        self.closedNotReading = counter("swiftlet_tcp_connections_closed_total", "not_reading")
    }
}

/// Answers each framed query as it completes; pipelined queries may be answered out of order (RFC 7766 §6.2.1.1).
///
/// It frames the byte stream itself (not `ByteToMessageHandler`) so it can stop between two queries: a query is
/// taken only while the channel is writable and fewer than `maxInFlight` are suspended. A client that pipelines
/// queries and never reads its replies therefore fills one write buffer (the high water mark) and stops being read;
/// if it stays that way for the idle timeout, or late replies push the queue past `maxQueuedBytes`, it is closed.
/// The idle timer counts from the last complete query, so a client trickling bytes cannot hold a slot.
final class DNSTCPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let responder: Responder
    /// The connection's event loop as a task executor: its suspended queries run there.
    let executor: EventLoopTaskExecutor
    let limits: TCPConnectionLimits
    let metrics: TCPMetrics
    /// `.tcp`, or `.tls` behind a TLS handler.
    let transport: Transport
    /// Queries waiting on a suspended chain (touched on the event loop only).
    private var pending = 0
    /// Octets received and not yet taken as queries.
    private var received: ByteBuffer? = nil
    private var reply = [UInt8](repeating: 0, count: 65535)
    private var client: Client?
    private var idleTimer: Scheduled<Void>? = nil
    private var stallTimer: Scheduled<Void>? = nil
    private var context: ChannelHandlerContext? = nil

    init(
        responder: Responder,
        executor: EventLoopTaskExecutor,
        limits: TCPConnectionLimits,
        metrics: TCPMetrics,
        transport: Transport = .tcp
    ) {
        self.responder = responder
        self.executor = executor
        self.limits = limits
        self.metrics = metrics
        self.transport = transport
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.idleTimer?.cancel()
        self.stallTimer?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if let remote = context.remoteAddress, let (address, port) = DNSTCPHandler.parse(remote) {
            self.client = Client(address: address, port: port, transport: self.transport)
        }
        self.armIdleTimer(context: context)
        context.fireChannelActive()
    }

    /// The client a trusted proxy's PROXY header named (before any query of the connection is read).
    func proxied(_ address: IPAddress, _ port: UInt16) {
        self.client = Client(address: address, port: port, transport: self.transport)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        if self.received == nil {
            self.received = bytes
        } else {
            self.received!.writeBuffer(&bytes)
        }
        self.takeQueries(context: context)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.stallTimer?.cancel()
            self.stallTimer = nil
            self.takeQueries(context: context)
        } else if self.stallTimer == nil {
            // The client is not reading what we send: give it the idle timeout to start again.
            self.stallTimer = context.eventLoop.scheduleTask(in: self.limits.idleTimeout) { [self] in
                // Fired: a later stall arms a timer of its own (a timer left set would keep it from doing so).
                self.stallTimer = nil
                guard let context = self.context, !context.channel.isWritable else { return }
                self.metrics.closedNotReading.increment()
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Takes complete queries off the received octets while the client reads its replies and the in-flight bound
    /// allows, and reads more from the socket only then.
    private func takeQueries(context: ChannelHandlerContext) {
        while context.channel.isWritable, self.pending < self.limits.maxInFlight, var buffer = self.received,
            let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            buffer.readableBytes >= 2 + Int(length)
        {
            buffer.moveReaderIndex(forwardBy: 2)
            let query = buffer.readSlice(length: Int(length))!
            self.received = buffer.readableBytes == 0 ? nil : buffer
            self.armIdleTimer(context: context)
            self.answer(query, context: context)
        }
        if let buffer = self.received, buffer.readerIndex > 65536 {
            // Keep what is left, not the octets already taken.
            var compact = context.channel.allocator.buffer(capacity: buffer.readableBytes)
            compact.writeImmutableBuffer(buffer)
            self.received = compact
        }
        // More octets are read only while a whole query (and its length) could still be missing from them.
        let blocked = !context.channel.isWritable || self.pending >= self.limits.maxInFlight
        let buffered = self.received?.readableBytes ?? 0
        context.channel.setOption(ChannelOptions.autoRead, value: !blocked && buffered < 2 + 65535)
            .whenComplete { _ in }
    }

    private func answer(_ query: ByteBuffer, context: ChannelHandlerContext) {
        guard let client = self.client else { return }
        let channel = context.channel
        let loop = context.eventLoop
        let outcome = query.withUnsafeReadableBytes { packet in
            self.reply.withUnsafeMutableBytes { reply in
                self.responder.process(
                    packet: packet,
                    client: client,
                    reply: reply,
                    executor: self.executor,
                    worker: self.executor.index
                ) {
                    self.pending += 1
                    return TCPReplySink(channel: channel) { [self] in
                        loop.execute { self.lateReplySent() }
                    }
                }
            }
        }
        switch outcome {
        case .reply(let length):
            var out = channel.allocator.buffer(capacity: length + 2)
            out.writeInteger(UInt16(length))
            out.writeBytes(self.reply[0..<length])
            context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
        case .replies(let messages):
            for message in messages {
                var out = channel.allocator.buffer(capacity: message.count + 2)
                out.writeInteger(UInt16(message.count))
                out.writeBytes(message)
                context.write(Self.wrapOutboundOut(out), promise: nil)
            }
            context.flush()
        case .none, .pending:
            break
        }
    }

    /// A suspended query's reply went out: one fewer in flight. Late replies are written whatever the writability
    /// (their queries were taken already), so the queue is checked against its hard bound here.
    private func lateReplySent() {
        guard let context = self.context else { return }
        self.pending -= 1
        let queued = (try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0
        if queued > self.limits.maxQueuedBytes {
            self.metrics.closedNotReading.increment()
            context.close(promise: nil)
            return
        }
        self.takeQueries(context: context)
    }

    /// (Re)starts the idle timer from now: a complete query came in, or the connection opened.
    private func armIdleTimer(context: ChannelHandlerContext) {
        self.idleTimer?.cancel()
        self.idleTimer = context.eventLoop.scheduleTask(in: self.limits.idleTimeout) { [self] in
            guard let context = self.context else { return }
            if self.pending > 0 {
                // Still answering: idle only once nothing is in flight.
                self.armIdleTimer(context: context)
                return
            }
            // Not reading our replies, so not read from either: the stall timer, armed when writes backed up, closes
            // it and says why (both timers run the idle timeout, and which fired first decided the reason counted).
            // Idle time is counted again meanwhile, in case the writes drain and the client then goes quiet.
            if self.stallTimer != nil {
                self.armIdleTimer(context: context)
                return
            }
            // RFC 7766 §6.2.3: close idle connections; slow or half-open clients do not hold anything.
            self.metrics.closedIdle.increment()
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    static func parse(_ address: SocketAddress) -> (IPAddress, UInt16)? {
        guard let text = address.ipAddress, let ip = IPAddress(text), let port = address.port else { return nil }
        return (ip, UInt16(port))
    }
}

/// A listener of connections (TCP, TLS, HTTPS) on one address.
protocol ConnectionListener: Sendable {
    /// The port bound (the configured one, or the one chosen for port 0).
    var boundPort: UInt16 { get }
    /// Stops accepting; open connections close with the event loops.
    func close() async
}

/// A TCP listener on one address.
final class TCPListener: ConnectionListener {
    let channel: any Channel
    let connections: ConnectionCount

    /// Open connections, in all and per client address.
    final class ConnectionCount: Sendable {
        let open = Atomic<Int>(0)
        let perClient = Mutex<[IPAddress: Int]>([:])

        /// Why a connection was not admitted.
        enum Refusal { case limit, perClientLimit }

        /// Counts a new connection from `address`; false (and nothing counted) past either bound.
        func admit(_ address: IPAddress?, limit: Int, perClientLimit: Int, refused: (Refusal) -> Void = { _ in }) -> Bool {
            guard self.open.add(1, ordering: .relaxed).newValue <= limit else {
                self.open.subtract(1, ordering: .relaxed)
                refused(.limit)
                return false
            }
            guard let address else { return true }
            let admitted = self.perClient.withLock { table -> Bool in
                let count = table[address, default: 0]
                guard count < perClientLimit else { return false }
                table[address] = count + 1
                return true
            }
            if !admitted {
                self.open.subtract(1, ordering: .relaxed)
                refused(.perClientLimit)
            }
            return admitted
        }

        func release(_ address: IPAddress?) {
            self.open.subtract(1, ordering: .relaxed)
            guard let address else { return }
            self.perClient.withLock { table in
                let count = table[address, default: 1] - 1
                table[address] = count > 0 ? count : nil
            }
        }
    }

    static func bind(
        address: ListenAddress,
        responder: Responder,
        group: any EventLoopGroup,
        executors: EventLoopTaskExecutors,
        idleTimeout: Double,
        maxConnections: Int,
        maxConnectionsPerClient: Int,
        maxInFlight: Int,
        tls: TLSServerContext? = nil,
        proxyFrom: [IPPrefix] = []
    ) async throws -> TCPListener {
        let connections = ConnectionCount()
        let metrics = TCPMetrics(listen: address)
        let proxyMetrics = ProxyProtocolMetrics(listen: address)
        let transport: Transport = tls == nil ? .tcp : .tls
        let limits = TCPConnectionLimits(
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000)),
            maxInFlight: maxInFlight,
            // The high water mark, plus every in-flight query's largest possible reply.
            maxQueuedBytes: TCPListener.writeBufferHighWaterMark + maxInFlight * (65535 + 2)
        )
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let client = channel.remoteAddress.flatMap(DNSTCPHandler.parse)?.0
                let proxy = client.map { peer in proxyFrom.contains { $0.contains(peer) } } ?? false
                guard
                    connections.admit(
                        client,
                        limit: maxConnections,
                        // A load balancer carries many clients' connections: only the global bound holds it.
                        perClientLimit: proxy ? Int.max : maxConnectionsPerClient,
                        refused: { reason in
                            (reason == .limit ? metrics.refusedGlobal : metrics.refusedPerClient).increment()
                        }
                    )
                else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in connections.release(client) }
                return channel.eventLoop.makeCompletedFuture {
                    let handler = DNSTCPHandler(
                        responder: responder,
                        executor: executors.executor(for: channel.eventLoop),
                        limits: limits,
                        metrics: metrics,
                        transport: transport
                    )
                    // The PROXY header comes first, before TLS (the balancer sends it on the TCP connection).
                    if !proxyFrom.isEmpty {
                        try channel.pipeline.syncOperations.addHandler(
                            ProxyProtocolHandler(trusted: proxy, metrics: proxyMetrics) { handler.proxied($0, $1) }
                        )
                    }
                    // The context of the moment: a renewed certificate serves new connections, open ones keep theirs.
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current)) }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: false)
            .childChannelOption(
                ChannelOptions.writeBufferWaterMark,
                value: .init(low: TCPListener.writeBufferHighWaterMark / 2, high: TCPListener.writeBufferHighWaterMark)
            )
        let host = address.address.description
        do {
            let channel = try await bootstrap.bind(host: host, port: Int(address.port)).get()
            return TCPListener(channel: channel, connections: connections)
        } catch {
            throw ListenError(address: address, transport: "tcp", reason: "\(error)")
        }
    }

    /// Reply octets queued for one client before it counts as not reading (the channel turns unwritable).
    static let writeBufferHighWaterMark = 64 * 1024

    init(channel: any Channel, connections: ConnectionCount) {
        self.channel = channel
        self.connections = connections
    }

    var boundPort: UInt16 { UInt16(self.channel.localAddress?.port ?? 0) }

    func close() async { try? await self.channel.close() }
}
