// ZoneOptions: the `zone` plugin's options.

import Pipeline

/// One served zone.
public struct ZoneSource: Decodable, Sendable {
    /// The zone's apex, e.g. `example.org.` (required).
    public var origin: String
    /// Its RFC 1035 master file; relative to the configuration file (required).
    public var file: String
    /// Client prefixes allowed to transfer the zone with AXFR over TCP.
    public var transferTo: [String]

    enum CodingKeys: String, CodingKey {
        case origin, file
        case transferTo = "transfer_to"
    }

    public init(origin: String, file: String, transferTo: [String] = []) {
        self.origin = origin
        self.file = file
        self.transferTo = transferTo
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.origin = try container.decode(String.self, forKey: .origin)
        self.file = try container.decode(String.self, forKey: .file)
        self.transferTo = try container.value(.transferTo, default: [])
    }
}

/// Options of `- zone: {…}`.
public struct ZoneOptions: PluginOptions {
    /// The zones this plugin serves. At least one.
    public var zones: [ZoneSource] = []
    /// How often the files' modification times are checked; 0 turns polling off (SIGHUP still reloads).
    public var reloadInterval: OptionDuration = OptionDuration(seconds: 30)

    public init() {}

    public static let options: [PluginOption<ZoneOptions>] = [
        PluginOption("zones", \.zones, "[{origin, file, transfer_to}]", "the zones and their master files", default: "(required)"),
        PluginOption("reload_interval", \.reloadInterval, "duration", "how often the files' mtimes are checked; 0 disables"),
    ]
}
