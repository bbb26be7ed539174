// ACLPlugin: `- acl: { allow: [CIDR…] }`, access control by client address and query type.

import Pipeline

public enum ACLPlugin: Plugin {
    public static let name = "acl"
    public static let summary = "allows, refuses or drops queries by client prefix and query type, before the cache"

    public static func setup(_ options: ACLOptions, context: PluginContext, into builder: inout ChainBuilder) throws {
        var rules: [ACLGuard.CompiledRule] = []
        for (index, rule) in options.rules.enumerated() {
            rules.append(
                ACLGuard.CompiledRule(
                    action: rule.action,
                    prefixes: try PluginSetupError.prefixes(rule.net, option: "rules[\(index)].net"),
                    types: try types(rule.types, option: "rules[\(index)].types")
                )
            )
        }
        for (action, list, key) in [
            (ACLAction.drop, options.drop, "drop"), (.refuse, options.refuse, "refuse"),
            (.allow, options.allow, "allow"),
        ]
        where !list.isEmpty {
            rules.append(
                ACLGuard.CompiledRule(
                    action: action,
                    prefixes: try PluginSetupError.prefixes(list, option: key),
                    types: []
                )
            )
        }
        let fallback = options.default ?? (options.allow.isEmpty ? .allow : .refuse)
        builder.add(
            guard: ACLGuard(
                rules: rules,
                fallback: fallback,
                metrics: ACLMetrics(context)
            )
        )
    }

    static func types(_ texts: [String], option: String) throws -> [RecordType] {
        try texts.enumerated().map { index, text in
            guard let type = RecordType(mnemonic: text) else {
                throw PluginSetupError(
                    option: "\(option)[\(index)]",
                    "'\(text)' is not a record type like A, ANY or TYPE65"
                )
            }
            return type
        }
    }
}
