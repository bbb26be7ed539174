// Registry: the built-in plugins, in one table; each name lives on its type.

import Pipeline

/// The plugins this build knows. A custom server binary passes its own list (built-ins plus its plugins) to
/// `Swiftlet.main(plugins:)`; there is no registration side effect anywhere.
public enum Registry {
    public static let builtIn: [any Plugin.Type] = [
        ACLPlugin.self,
        RateLimitPlugin.self,
        LogPlugin.self,
        FilterPlugin.self,
        HostsPlugin.self,
        ZonePlugin.self,
        CachePlugin.self,
        ForwardPlugin.self,
        RecursivePlugin.self,
        EchoPlugin.self,
    ]
}
