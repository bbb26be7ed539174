// HostsOptions: the `hosts` plugin's options.

import Pipeline

/// Options of `- hosts: {…}`.
public struct HostsOptions: PluginOptions {
    /// The hosts file.
    public var file: String = "/etc/hosts"
    /// TTL of the answers, in seconds.
    public var ttl: UInt32 = 3600
    /// How often the file's modification time is checked; 0 turns polling off (SIGHUP still reloads).
    public var reloadInterval: OptionDuration = OptionDuration(seconds: 5)
    /// When true (the default) names not in the file go to the next handler; when false they get NXDOMAIN.
    public var passesUnknownNames: Bool = true

    public init() {}

    public static let options: [PluginOption<HostsOptions>] = [
        PluginOption("file", \.file, "path", "the hosts file (relative to the config file)"),
        PluginOption("ttl", \.ttl, "seconds", "TTL of the answers"),
        PluginOption("reload_interval", \.reloadInterval, "duration", "how often the file's mtime is checked; 0 disables"),
        PluginOption(
            "fallthrough",
            \.passesUnknownNames,
            "bool",
            "pass names not in the file to the next plugin (else NXDOMAIN)"
        ),
    ]
}
