// FilterOptions: the `filter` plugin's options.

import FilterRuleEngine
import Pipeline

/// One block list: a file (relative to the configuration file) or an `http://` / `https://` URL.
public struct FilterListOption: Decodable, Sendable, Equatable {
    public var name: String
    public var source: String
    /// How often a URL list is fetched again (files are watched instead).
    public var refresh: OptionDuration

    enum CodingKeys: String, CodingKey { case name, source, refresh }

    public init(name: String, source: String, refresh: OptionDuration = OptionDuration(seconds: 86400)) {
        self.name = name
        self.source = source
        self.refresh = refresh
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        self.source = try container.decode(String.self, forKey: .source)
        self.refresh = try container.value(.refresh, default: OptionDuration(seconds: 86400))
    }

    var isURL: Bool { self.source.hasPrefix("http://") || self.source.hasPrefix("https://") }
}

/// A client group: who is in it (by address prefix) and which lists apply to it.
public struct FilterGroupOption: Decodable, Sendable, Equatable {
    public var name: String
    public var clients: [String]
    public var lists: [String]

    enum CodingKeys: String, CodingKey { case name, clients, lists }

    public init(name: String, clients: [String] = [], lists: [String]) {
        self.name = name
        self.clients = clients
        self.lists = lists
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        self.clients = try container.value(.clients, default: [])
        self.lists = try container.value(.lists, default: [])
    }
}

/// What a blocked query gets.
public enum FilterResponseOption: Decodable, Sendable, Equatable {
    /// 0.0.0.0 for A, :: for AAAA, NODATA (with a SOA) for other types.
    case nullIP
    /// NXDOMAIN with a SOA in authority (RFC 2308 negative caching).
    case nxDomain
    /// NOERROR, no answer, a SOA in authority.
    case noData
    /// REFUSED.
    case refused
    /// These addresses for A and AAAA (NODATA where one is missing), NODATA for other types.
    case addresses(a: IPv4Address?, aaaa: IPv6Address?)

    enum CodingKeys: String, CodingKey { case a, aaaa }

    public init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            switch text {
            case "null_ip": self = .nullIP
            case "nxdomain": self = .nxDomain
            case "nodata": self = .noData
            case "refused": self = .refused
            default:
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription:
                            "'\(text)' is not a response (null_ip, nxdomain, nodata, refused, or {a, aaaa})"
                    )
                )
            }
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let a = try container.decodeIfPresent(String.self, forKey: .a)
        let aaaa = try container.decodeIfPresent(String.self, forKey: .aaaa)
        var v4: IPv4Address? = nil
        var v6: IPv6Address? = nil
        if let a {
            guard let parsed = IPv4Address(a) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .a,
                    in: container,
                    debugDescription: "'\(a)' is not an IPv4 address"
                )
            }
            v4 = parsed
        }
        if let aaaa {
            guard let parsed = IPv6Address(aaaa) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .aaaa,
                    in: container,
                    debugDescription: "'\(aaaa)' is not an IPv6 address"
                )
            }
            v6 = parsed
        }
        self = .addresses(a: v4, aaaa: v6)
    }
}

/// What happens when a list cannot be read or fetched.
public enum FilterLoadErrorOption: String, Decodable, Sendable, CaseIterable {
    /// Keep serving the list's previous rules (none when it never loaded).
    case keepPrevious = "keep_previous"
    /// Serve without the list.
    case failOpen = "fail_open"
    /// Block every name for the groups that use the list until it loads.
    case failClosed = "fail_closed"
}

/// Options of `- filter: {…}`.
public struct FilterOptions: PluginOptions {
    public var lists: [FilterListOption] = []
    /// Inline exception rules; `@@` may be left out.
    public var allow: [String] = []
    /// Inline blocking rules.
    public var block: [String] = []
    public var groups: [FilterGroupOption] = []
    public var response: FilterResponseOption = .nullIP
    /// TTL of block answers and of their SOA, in seconds.
    public var ttl: UInt32 = 60
    public var blockCNAMETargets: Bool = true
    public var onLoadError: FilterLoadErrorOption = .keepPrevious
    /// How often list files are checked for changes; 0 turns watching off.
    public var reloadInterval: OptionDuration = OptionDuration(seconds: 5)
    /// The largest list accepted, in bytes (a URL that sends more is a load error).
    public var maxListSize: Int = 64 << 20
    /// Time allowed for fetching one URL list.
    public var fetchTimeout: OptionDuration = OptionDuration(seconds: 30)

    public init() {}

    public static let options: [PluginOption<FilterOptions>] = [
        PluginOption("lists", \.lists, "[{name, source, refresh}]", "block lists: files or http(s) URLs (refresh 24h)"),
        PluginOption("allow", \.allow, "[rule]", "inline exception rules (`@@` optional)"),
        PluginOption("block", \.block, "[rule]", "inline blocking rules"),
        PluginOption(
            "groups",
            \.groups,
            "[{name, clients, lists}]",
            "client prefixes → the lists they use",
            default: "one default group"
        ),
        PluginOption(
            "response",
            \.response,
            "null_ip|nxdomain|nodata|refused|{a, aaaa}",
            "what a blocked query gets",
            default: "null_ip"
        ),
        PluginOption("ttl", \.ttl, "seconds", "TTL of block answers and their SOA"),
        PluginOption("block_cname_targets", \.blockCNAMETargets, "bool", "block answers whose CNAME targets are blocked"),
        PluginOption("on_load_error", \.onLoadError, "keep_previous|fail_open|fail_closed", "a list that fails"),
        PluginOption(
            "reload_interval",
            \.reloadInterval,
            "duration",
            "how often list files are checked for changes; 0 disables"
        ),
        PluginOption("max_list_size", \.maxListSize, "bytes", "the largest list accepted"),
        PluginOption("fetch_timeout", \.fetchTimeout, "duration", "time allowed to fetch one URL list"),
    ]
}
