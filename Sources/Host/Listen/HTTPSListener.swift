// HTTPSListener: DNS over HTTPS (RFC 8484) with SwiftNIO: HTTP/2 (ALPN h2, swift-nio-http2) or HTTP/1.1 inside TLS,
// or plain HTTP/1.1 behind a proxy that ends TLS. Each request's DNS message goes through the same Responder as UDP
// and TCP (guards, the message-cache fast path, the chain); the connection bounds and idle timeout are TCP's.

import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Pipeline
import Plugins

/// Counters of one DNS-over-HTTPS listener: its responses by HTTP status.
struct HTTPSMetrics: Sendable {
    private let byStatus: [UInt: Counter]
    private let other: Counter

    static let statuses: [UInt] = [200, 400, 403, 404, 405, 413, 415]

    init(listen: ListenAddress) {
        func counter(_ status: String) -> Counter {
            Counter(label: "swiftlet_https_responses_total", dimensions: [("listen", "\(listen)"), ("status", status)])
        }
        self.byStatus = Dictionary(uniqueKeysWithValues: Self.statuses.map { ($0, counter("\($0)")) })
        self.other = counter("other")
    }

    func count(_ status: HTTPResponseStatus) { (self.byStatus[status.code] ?? self.other).increment() }
}

/// What every connection of one listener shares.
struct DoHService: Sendable {
    let responder: Responder
    let path: String
    let metrics: HTTPSMetrics
    let tcpMetrics: TCPMetrics
    let idleTimeout: TimeAmount
}

/// One connection's state, touched on its event loop only: shared by its HTTP/2 streams (or its one HTTP/1.1 request
/// at a time), so the reply buffer is allocated once per connection and the idle timer sees every stream.
final class DoHConnection: @unchecked Sendable {
    let service: DoHService
    /// The TCP peer, or the client a trusted proxy's PROXY header named.
    var client: Client
    let executor: EventLoopTaskExecutor
    let channel: any Channel
    /// Where immediate replies are written (a request's answer is copied out before the next request runs).
    var reply = [UInt8](repeating: 0, count: Message.maximumSize)
    /// Requests read whose response is not sent yet.
    private var open = 0
    private var idleTimer: Scheduled<Void>? = nil

    init(service: DoHService, client: Client, executor: EventLoopTaskExecutor, channel: any Channel) {
        self.service = service
        self.client = client
        self.executor = executor
        self.channel = channel
    }

    /// A whole request arrived: it is being answered, and the connection is not idle.
    func requestBegan() {
        self.open += 1
        self.armIdleTimer()
    }

    func responseSent() { self.open -= 1 }

    /// (Re)starts the idle timer: no complete request for the idle timeout, and none being answered, closes the
    /// connection (RFC 7766 §6.2.3's rule for TCP, applied to HTTP; a client trickling header octets holds nothing).
    func armIdleTimer() {
        self.idleTimer?.cancel()
        self.idleTimer = self.channel.eventLoop.scheduleTask(in: self.service.idleTimeout) { [self] in
            if self.open > 0 {
                self.armIdleTimer()
                return
            }
            self.service.tcpMetrics.closedIdle.increment()
            self.channel.close(promise: nil)
        }
    }

    func closed() { self.idleTimer?.cancel() }
}

/// Cancels the connection's idle timer when it closes.
final class DoHConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let connection: DoHConnection
    init(connection: DoHConnection) { self.connection = connection }

    func channelInactive(context: ChannelHandlerContext) {
        self.connection.closed()
        context.fireChannelInactive()
    }
}

/// Sends a suspended query's reply as the HTTP response, on the connection's event loop.
struct DoHReplySink: ReplySink {
    let loop: any EventLoop
    let deliver: @Sendable ([UInt8]?) -> Void

    func send(_ replies: [[UInt8]]) {
        let first = replies.first
        self.loop.execute { self.deliver(first) }
    }
}

/// Answers the HTTP requests of one HTTP/2 stream or one HTTP/1.1 connection (NIOHTTP1's pipelining handler hands it
/// one request at a time there).
final class DoHRequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let connection: DoHConnection
    private var head: HTTPRequestHead? = nil
    private var body: [UInt8] = []
    /// The request carried more than a DNS message can have: its octets are not kept.
    private var tooLarge = false
    private var context: ChannelHandlerContext? = nil

    init(connection: DoHConnection) { self.connection = connection }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
            let declared = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
            self.tooLarge = declared > Message.maximumSize
        case .body(let part):
            guard !self.tooLarge else { return }
            if self.body.count + part.readableBytes > Message.maximumSize {
                self.tooLarge = true
                self.body = []
            } else {
                self.body += part.readableBytesView
            }
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.connection.requestBegan()
            self.answer(head, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let request = DoHRequest.parse(
            method: head.method,
            uri: head.uri,
            contentType: head.headers.first(name: "content-type"),
            body: self.tooLarge ? nil : self.body,
            path: self.connection.service.path
        )
        self.body = []
        let (packet, json): ([UInt8], Bool)
        switch request {
        case .rejected(let status, let reason):
            return self.respond(head, status: status, type: "text/plain", body: Array((reason + "\n").utf8))
        case .wire(let octets): (packet, json) = (octets, false)
        case .json(let octets): (packet, json) = (octets, true)
        }
        let connection = self.connection
        let loop = context.eventLoop
        let outcome = packet.withUnsafeBytes { packet in
            connection.reply.withUnsafeMutableBytes { reply in
                connection.service.responder.process(
                    packet: packet,
                    client: connection.client,
                    reply: reply,
                    executor: connection.executor,
                    worker: connection.executor.index
                ) {
                    DoHReplySink(loop: loop) { [self] reply in self.reply(head, reply, json: json) }
                }
            }
        }
        switch outcome {
        case .reply(let length): self.reply(head, Array(connection.reply[0..<length]), json: json)
        case .replies(let messages): self.reply(head, messages.first, json: json)
        case .none: self.reply(head, nil, json: json)
        case .pending: break
        }
    }

    /// The response for a DNS reply; none (the query was dropped by a guard or the chain) is 403.
    private func reply(_ head: HTTPRequestHead, _ reply: [UInt8]?, json: Bool) {
        guard let reply, let message = try? Message(wire: reply) else {
            return self.respond(head, status: .forbidden, type: "text/plain", body: Array("the server did not answer this query\n".utf8))
        }
        let maxAge = DoHResponse.freshness(message)
        self.respond(
            head,
            status: .ok,
            type: json ? DoHRequest.jsonType : DoHRequest.messageType,
            body: json ? DoHResponse.json(message) : reply,
            cacheControl: "max-age=\(maxAge)"
        )
    }

    private func respond(
        _ request: HTTPRequestHead,
        status: HTTPResponseStatus,
        type: String,
        body: [UInt8],
        cacheControl: String? = nil
    ) {
        self.connection.responseSent()
        self.connection.service.metrics.count(status)
        guard let context = self.context else { return }
        var headers = HTTPHeaders([("content-type", type), ("content-length", "\(body.count)")])
        if let cacheControl { headers.add(name: "cache-control", value: cacheControl) }
        if status == .methodNotAllowed { headers.add(name: "allow", value: "GET, POST") }
        // HTTP/1.1 keeps the connection unless the client asked otherwise; HTTP/2 has no Connection header.
        let closing = request.version.major == 1 && !request.isKeepAlive
        if closing { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: status, headers: headers)
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            if closing { channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// A DNS-over-HTTPS listener on one address.
final class HTTPSListener: ConnectionListener {
    let channel: any Channel
    let connections: TCPListener.ConnectionCount

    /// HTTP/2 settings sent to clients: at most `maxStreams` requests at once, header lists of at most 16 KiB (a DoH
    /// GET's is well under 1 KiB).
    static func settings(maxStreams: Int) -> HTTP2Settings {
        [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: maxStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 16 * 1024),
            HTTP2Setting(parameter: .initialWindowSize, value: 65535),
        ]
    }

    static func bind(
        address: ListenAddress,
        responder: Responder,
        group: any EventLoopGroup,
        executors: EventLoopTaskExecutors,
        tls: TLSServerContext?,
        path: String,
        maxStreams: Int,
        idleTimeout: Double,
        maxConnections: Int,
        maxConnectionsPerClient: Int,
        proxyFrom: [IPPrefix] = []
    ) async throws -> HTTPSListener {
        let connections = TCPListener.ConnectionCount()
        let tcpMetrics = TCPMetrics(listen: address)
        let proxyMetrics = ProxyProtocolMetrics(listen: address)
        let service = DoHService(
            responder: responder,
            path: path,
            metrics: HTTPSMetrics(listen: address),
            tcpMetrics: tcpMetrics,
            idleTimeout: .milliseconds(Int64(idleTimeout * 1000))
        )
        var http2 = NIOHTTP2Handler.ConnectionConfiguration()
        http2.initialSettings = Self.settings(maxStreams: maxStreams)
        let streams = NIOHTTP2Handler.StreamConfiguration()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let peer = channel.remoteAddress.flatMap(DNSTCPHandler.parse)
                let proxy = peer.map { peer in proxyFrom.contains { $0.contains(peer.0) } } ?? false
                guard
                    connections.admit(
                        peer?.0,
                        limit: maxConnections,
                        // A load balancer carries many clients' connections: only the global bound holds it.
                        perClientLimit: proxy ? Int.max : maxConnectionsPerClient,
                        refused: { reason in
                            (reason == .limit ? tcpMetrics.refusedGlobal : tcpMetrics.refusedPerClient).increment()
                        }
                    ), let peer
                else {
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in connections.release(peer.0) }
                let connection = DoHConnection(
                    service: service,
                    client: Client(address: peer.0, port: peer.1, transport: .https),
                    executor: executors.executor(for: channel.eventLoop),
                    channel: channel
                )
                connection.armIdleTimer()
                let requests: NIOChannelInitializer = { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DoHRequestHandler(connection: connection))
                    }
                }
                do {
                    try channel.pipeline.syncOperations.addHandler(DoHConnectionCloser(connection: connection))
                    // The PROXY header comes first, before TLS (the balancer sends it on the TCP connection).
                    if !proxyFrom.isEmpty {
                        try channel.pipeline.syncOperations.addHandler(
                            ProxyProtocolHandler(trusted: proxy, metrics: proxyMetrics) { address, port in
                                connection.client = Client(address: address, port: port, transport: .https)
                            }
                        )
                    }
                    guard let tls else {
                        // Plain HTTP/1.1, configured explicitly (`plain: true`) for a proxy that ends TLS.
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        return requests(channel)
                    }
                    // The context of the moment: a renewed certificate serves new connections, open ones keep theirs.
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current))
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return channel.configureCommonHTTPServerPipeline(
                    connectionConfiguration: http2,
                    streamConfiguration: streams,
                    configurator: requests
                )
            }
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: false)
        do {
            let channel = try await bootstrap.bind(host: address.address.description, port: Int(address.port)).get()
            return HTTPSListener(channel: channel, connections: connections)
        } catch {
            throw ListenError(address: address, transport: tls == nil ? "http" : "https", reason: "\(error)")
        }
    }

    init(channel: any Channel, connections: TCPListener.ConnectionCount) {
        self.channel = channel
        self.connections = connections
    }

    var boundPort: UInt16 { UInt16(self.channel.localAddress?.port ?? 0) }

    func close() async { try? await self.channel.close() }
}
