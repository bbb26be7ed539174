// EventLoops: the host's NIO event loops, offered to the built-in plugins as a service (PluginContext.services).

import NIOCore
import NIOPosix
import Pipeline

/// The event loops the host's TCP listeners run on, registered by the host for the built-in plugins' own I/O:
/// forward's TCP/TLS connections and pooled UDP sockets off the UDP workers, recursive's name-server sockets off the
/// workers, the filter's HTTP client. Pipeline's plugin API stays free of NIO; a plugin that uses NIO asks for this.
public struct EventLoops: Sendable {
    public let group: any EventLoopGroup
    public init(_ group: any EventLoopGroup) { self.group = group }
}

extension PluginContext {
    /// The host's event loops, or NIO's shared group when the host registered none (tests, tools).
    var eventLoopGroup: any EventLoopGroup {
        self.services.get(EventLoops.self)?.group ?? MultiThreadedEventLoopGroup.singleton
    }
}
