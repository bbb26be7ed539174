// TestHTTPServer: a loopback HTTP server with one mutable body and an ETag, for URL block lists.

import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Serves `body` at every path with `ETag: "v<version>"`; answers 304 to a matching If-None-Match. Counts requests.
final class TestHTTPServer: Sendable {
    struct State {
        var body = ""
        var version = 1
        var requests = 0
        var notModified = 0
        var status = 200
    }
    let state = Mutex(State())
    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup

    init() async throws {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let box = StateBox()
        self.channel = try await ServerBootstrap(group: self.group)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        box.server.withLock { $0 = self }
    }

    var port: Int { self.channel.localAddress?.port ?? 0 }
    var url: String { "http://127.0.0.1:\(self.port)/list.txt" }

    func set(body: String) {
        self.state.withLock {
            $0.body = body
            $0.version += 1
        }
    }

    func stop() async {
        try? await self.channel.close()
        try? await self.group.shutdownGracefully()
    }

    final class StateBox: Sendable {
        let server = Mutex<TestHTTPServer?>(nil)
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let box: StateBox
        var head: HTTPRequestHead?
        init(box: StateBox) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch Self.unwrapInboundIn(data) {
            case .head(let head): self.head = head
            case .body: break
            case .end:
                guard let head = self.head, let server = self.box.server.withLock({ $0 }) else { return }
                let (status, body, etag) = server.state.withLock { state -> (Int, String, String) in
                    state.requests += 1
                    let etag = "\"v\(state.version)\""
                    if head.headers["If-None-Match"].first == etag {
                        state.notModified += 1
                        return (304, "", etag)
                    }
                    return (state.status, state.body, etag)
                }
                var headers = HTTPHeaders()
                headers.add(name: "ETag", value: etag)
                headers.add(name: "Content-Length", value: String(body.utf8.count))
                headers.add(name: "Connection", value: "close")
                let responseHead = HTTPResponseHead(
                    version: head.version,
                    status: HTTPResponseStatus(statusCode: status),
                    headers: headers
                )
                context.write(Self.wrapOutboundOut(.head(responseHead)), promise: nil)
                var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
                buffer.writeString(body)
                context.write(Self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                let channel = context.channel
                context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
