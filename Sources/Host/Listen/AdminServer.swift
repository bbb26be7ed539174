// AdminServer: the admin HTTP listener: /health, /ready, /metrics (Prometheus text format), and /api/ for plugins.

import Foundation
import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Pipeline
import Plugins
import Prometheus
import Synchronization

/// What the admin endpoints read from the running server.
final class AdminState: Sendable {
    let registry: PrometheusCollectorRegistry
    let ready = Atomic<Bool>(false)
    /// The plugins' API endpoints of the serving chains (replaced on reload).
    let routes = Mutex<[AdminRoute]>([])
    let token: Mutex<String?>
    /// Brings the gauges of state read only when scraped (the message cache's size) up to date before /metrics.
    let beforeMetrics: @Sendable () -> Void

    init(registry: PrometheusCollectorRegistry, token: String? = nil, beforeMetrics: @escaping @Sendable () -> Void = {}) {
        self.registry = registry
        self.token = Mutex(token)
        self.beforeMetrics = beforeMetrics
    }
}

final class AdminHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Request bodies (JSON for the API) larger than this are refused.
    static let maxBodySize = 65_536

    let state: AdminState
    let requestTimeout: TimeAmount
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    private var deadline: Scheduled<Void>? = nil

    init(state: AdminState, requestTimeout: TimeAmount) {
        self.state = state
        self.requestTimeout = requestTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        // One request per connection (every response closes it): the whole request must arrive within the
        // timeout, so a client trickling header bytes cannot hold a connection.
        let channel = context.channel
        self.deadline = context.eventLoop.scheduleTask(in: self.requestTimeout) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.deadline?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
            self.tooLarge = false
        case .body(var buffer):
            if self.body.count + buffer.readableBytes > Self.maxBodySize {
                self.tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                self.body += bytes
            }
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.deadline?.cancel()
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            if path.hasPrefix("/api/") && path != "/api/openapi.json" {
                let response: AdminResponse
                if self.tooLarge {
                    response = AdminResponse.error(413, "request body over 64 KiB")
                } else if let refusal = self.authorize(head) {
                    response = refusal
                } else {
                    let routes = self.state.routes.withLock { $0 }
                    guard let route = routes.first(where: { $0.path == path && $0.method == head.method.rawValue })
                    else {
                        let allowed = routes.contains { $0.path == path }
                        let status = allowed ? 405 : 404
                        let message = allowed ? "method \(head.method.rawValue) not allowed" : "no endpoint \(path)"
                        self.write(context, head, AdminResponse.error(status, message))
                        return
                    }
                    let request = AdminRequest(method: head.method.rawValue, path: path, body: self.body)
                    let loop = context.eventLoop
                    let bound = NIOLoopBound((self, context), eventLoop: loop)
                    Task {
                        let response = await route.handler(request)
                        loop.execute {
                            let (handler, context) = bound.value
                            handler.write(context, head, response)
                        }
                    }
                    return
                }
                self.write(context, head, response)
                return
            }
            let (status, type, text) = self.respond(head, path: path)
            self.write(context, head, status: status, type: type, body: text)
        }
    }

    /// 401 unless the request carries `Authorization: Bearer <token>` with the configured token.
    private func authorize(_ head: HTTPRequestHead) -> AdminResponse? {
        guard let token = self.state.token.withLock({ $0 }) else {
            return AdminResponse.error(401, "the API is off: set admin.token or admin.token_file in the configuration")
        }
        let given = head.headers["Authorization"].first ?? ""
        guard given.hasPrefix("Bearer "), Self.constantTimeEqual(Array(given.utf8.dropFirst(7)), Array(token.utf8))
        else {
            return AdminResponse.error(401, "missing or wrong bearer token")
        }
        return nil
    }

    /// Compares without stopping at the first difference, so timing tells nothing about the token.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(lhs.count == rhs.count ? 0 : 1)
        for index in 0..<max(lhs.count, rhs.count) {
            difference |= (index < lhs.count ? lhs[index] : 0) ^ (index < rhs.count ? rhs[index] : 0)
        }
        return difference == 0
    }

    private func write(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ response: AdminResponse) {
        self.write(
            context,
            head,
            status: HTTPResponseStatus(statusCode: response.status),
            type: "application/json",
            body: response.body
        )
    }

    private func write(
        _ context: ChannelHandlerContext,
        _ head: HTTPRequestHead,
        status: HTTPResponseStatus,
        type: String,
        body: String
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        if status == .unauthorized { headers.add(name: "WWW-Authenticate", value: "Bearer realm=\"swiftlet\"") }
        context.write(
            Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil
        )
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    func respond(_ head: HTTPRequestHead, path: String) -> (HTTPResponseStatus, String, String) {
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "text/plain", "method not allowed\n")
        }
        switch path {
        case "/health": return (.ok, "text/plain", "ok\n")
        case "/ready":
            return self.state.ready.load(ordering: .acquiring)
                ? (.ok, "text/plain", "ready\n") : (.serviceUnavailable, "text/plain", "starting\n")
        case "/metrics":
            self.state.beforeMetrics()
            var output: [UInt8] = []
            self.state.registry.emit(into: &output)
            return (.ok, "text/plain; version=0.0.4", String(decoding: output, as: UTF8.self))
        case "/api/openapi.json":
            return (.ok, "application/json", AdminOpenAPI.document)
        default:
            return (.notFound, "text/plain", "not found: \(path)\n")
        }
    }
}

/// The admin listener.
struct AdminServer: Sendable {
    let channel: any Channel

    /// Connections open at once, in all and from one client address: the admin API is for a few operators and
    /// scrapers, and must not be a way to exhaust the process's descriptors.
    static let maxConnections = 64
    static let maxConnectionsPerClient = 16
    /// A request (head and body) must arrive within this after the connection opens.
    static let requestTimeout = TimeAmount.seconds(10)
    /// Request headers: 8 KiB a field, 16 KiB in all, 100 fields (nginx's and Hummingbird's order of magnitude; NIO's
    /// own defaults are 80 KiB and 65,534). Bodies: `AdminHTTPHandler.maxBodySize`.
    static var headerLimits: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = 8 * 1024
        limits.maxHeaderListSize = 16 * 1024
        limits.maxHeaderFieldCount = 100
        return limits
    }

    static func bind(
        address: ListenAddress,
        state: AdminState,
        group: any EventLoopGroup,
        requestTimeout: TimeAmount = AdminServer.requestTimeout
    ) async throws -> AdminServer {
        let connections = TCPListener.ConnectionCount()
        let refused = Counter(label: "swiftlet_admin_connections_refused_total")
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let client = channel.remoteAddress.flatMap(DNSTCPHandler.parse)?.0
                guard
                    connections.admit(
                        client,
                        limit: AdminServer.maxConnections,
                        perClientLimit: AdminServer.maxConnectionsPerClient
                    )
                else {
                    refused.increment()
                    return channel.close()
                }
                channel.closeFuture.whenComplete { _ in connections.release(client) }
                return channel.pipeline.configureHTTPServerPipeline(
                    withDecoderLimitConfiguration: AdminServer.headerLimits
                ).flatMap {
                    channel.pipeline.addHandler(AdminHTTPHandler(state: state, requestTimeout: requestTimeout))
                }
            }
        do {
            let channel = try await bootstrap.bind(host: address.address.description, port: Int(address.port)).get()
            return AdminServer(channel: channel)
        } catch {
            throw ListenError(address: address, transport: "http", reason: "\(error)")
        }
    }

    var boundPort: UInt16 { UInt16(self.channel.localAddress?.port ?? 0) }
}
