// ACLOptions: the `acl` plugin's options.

import Pipeline

/// What an access rule does with a matching query.
public enum ACLAction: String, Decodable, Sendable, CaseIterable {
    /// Let the query through.
    case allow
    /// Answer REFUSED (RFC 1035 §4.1.1) without running the chain.
    case refuse
    /// Send nothing.
    case drop
}

/// One ordered rule: an action for clients in `net` asking for one of `types` (all types when empty).
public struct ACLRule: Decodable, Sendable {
    public var action: ACLAction
    /// Client prefixes (`192.0.2.0/24`, `2001:db8::/32`, a bare address); empty matches every client.
    public var net: [String]
    /// Query types (`ANY`, `AXFR`, `TYPE65`); empty matches every type.
    public var types: [String]

    enum CodingKeys: String, CodingKey { case action, net, types }

    public init(action: ACLAction, net: [String] = [], types: [String] = []) {
        self.action = action
        self.net = net
        self.types = types
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.action = try container.decode(ACLAction.self, forKey: .action)
        self.net = try container.value(.net, default: [])
        self.types = try container.value(.types, default: [])
    }
}

/// Options of `- acl: {…}`. Evaluation: `rules` in order, then `drop`, `refuse` and `allow` lists, then `default`;
/// the first match decides.
public struct ACLOptions: PluginOptions {
    public var rules: [ACLRule] = []
    public var allow: [String] = []
    public var refuse: [String] = []
    public var drop: [String] = []
    /// What happens to a query nothing matched.
    public var `default`: ACLAction? = nil

    public init() {}

    public static let options: [PluginOption<ACLOptions>] = [
        PluginOption("rules", \.rules, "[{action, net, types}]", "ordered rules; first match wins"),
        PluginOption("allow", \.allow, "[prefix]", "clients let through (after rules, drop and refuse)"),
        PluginOption("refuse", \.refuse, "[prefix]", "clients answered REFUSED"),
        PluginOption("drop", \.drop, "[prefix]", "clients sent nothing"),
        PluginOption(
            "default",
            \.default,
            "allow|refuse|drop",
            "when nothing matches",
            default: "refuse if allow is set, else allow"
        ),
    ]
}
