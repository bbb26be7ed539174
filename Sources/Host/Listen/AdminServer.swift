// AdminServer: the admin HTTP listener: /health, /ready, /metrics (Prometheus text format).

import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import Synchronization

/// What the admin endpoints read from the running server.
final class AdminState: Sendable {
    let registry: PrometheusCollectorRegistry
    let ready = Atomic<Bool>(false)
    init(registry: PrometheusCollectorRegistry) { self.registry = registry }
}

final class AdminHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let state: AdminState
    private var head: HTTPRequestHead?

    init(state: AdminState) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let (status, type, body) = self.respond(head)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            headers.add(name: "Connection", value: "close")
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
    }

    func respond(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String, String) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "text/plain", "method not allowed\n")
        }
        switch path {
        case "/health": return (.ok, "text/plain", "ok\n")
        case "/ready":
            return self.state.ready.load(ordering: .acquiring)
                ? (.ok, "text/plain", "ready\n") : (.serviceUnavailable, "text/plain", "starting\n")
        case "/metrics":
            var output: [UInt8] = []
            self.state.registry.emit(into: &output)
            return (.ok, "text/plain; version=0.0.4", String(decoding: output, as: UTF8.self))
        default:
            return (.notFound, "text/plain", "not found: \(path)\n")
        }
    }
}

/// The admin listener.
struct AdminServer: Sendable {
    let channel: any Channel

    static func bind(address: ListenAddress, state: AdminState, group: any EventLoopGroup) async throws -> AdminServer {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(AdminHTTPHandler(state: state))
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
