// HostsOptions: the `hosts` plugin's options.

import Pipeline

/// Options of `- hosts: {…}`.
public struct HostsOptions: Decodable, Sendable {
    /// The hosts file. Default `/etc/hosts`; relative paths are relative to the configuration file.
    public var file: String
    /// TTL of the answers, in seconds. Default 3600.
    public var ttl: UInt32
    /// How often the file's modification time is checked; 0 turns polling off (SIGHUP still reloads). Default 5s.
    public var reloadInterval: OptionDuration
    /// When true (the default) names not in the file go to the next handler; when false they get NXDOMAIN.
    public var passesUnknownNames: Bool

    enum CodingKeys: String, CodingKey {
        case file, ttl
        case reloadInterval = "reload_interval"
        case passesUnknownNames = "fallthrough"
    }

    public init(
        file: String = "/etc/hosts",
        ttl: UInt32 = 3600,
        reloadInterval: OptionDuration = OptionDuration(seconds: 5),
        passesUnknownNames: Bool = true
    ) {
        self.file = file
        self.ttl = ttl
        self.reloadInterval = reloadInterval
        self.passesUnknownNames = passesUnknownNames
    }

    public init(from decoder: any Decoder) throws {
        let defaults = HostsOptions()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.file = try container.value(.file, default: defaults.file)
        self.ttl = try container.value(.ttl, default: defaults.ttl)
        self.reloadInterval = try container.value(.reloadInterval, default: defaults.reloadInterval)
        self.passesUnknownNames = try container.value(.passesUnknownNames, default: defaults.passesUnknownNames)
    }
}
