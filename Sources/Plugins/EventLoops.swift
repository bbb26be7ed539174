// EventLoops: the host's NIO event loops, offered to the built-in plugins as a service (PluginContext.services).

import NIOCore
import NIOPosix
import Pipeline

/// The event loops the host's TCP listeners run on, registered by the host for plugins that do NIO I/O of their own:
/// the filter's HTTP client (upstream DNS goes through `PluginContext.upstreams`). Pipeline's plugin API stays free
/// of NIO; a plugin that uses NIO asks for this.
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
