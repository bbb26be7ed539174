// PluginOptions: a plugin's options, each declared once (key, where its value goes, documented type, meaning), from
// which decoding, strict unknown-key errors, `swiftlet plugins` and the README's option table all come. The default is the value `init()` gives, so it cannot drift from what the code does.

/// A plugin's options type: every option at its default after `init()`, and its table.
///
/// ```swift
/// struct GreetingOptions: PluginOptions {
///     var text = "hello"
///     init() {}
///     static let options: [PluginOption<Self>] = [PluginOption("text", \.text, "string", "the TXT text")]
/// }
/// ```
/// Decoding reads the table's keys into `init()`'s value; the host's strict decoder reports any other key as
/// unknown, with file:line:column and the key path.
public protocol PluginOptions: Decodable, Sendable {
    /// Every option at its default.
    init()
    /// The options, in the order they are documented.
    static var options: [PluginOption<Self>] { get }
}

extension PluginOptions {
    public init(from decoder: any Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: OptionKey.self)
        for option in Self.options { try option.decode(&self, container) }
    }

    /// One line of documentation per option, the default taken from `init()`; a nested mapping's options each get
    /// a line of their own (`limits.depth`).
    public static var help: [OptionHelp] {
        let defaults = Self()
        return Self.options.flatMap { option in
            option.nested ?? [OptionHelp(option.key, option.type, option.defaultText(defaults), option.meaning)]
        }
    }

    /// The option table as the plugin READMEs have it (a test holds each README to this).
    public static var markdownTable: String {
        var lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
        // A `|` inside a cell (`allow|refuse|drop`) would end it.
        func cell(_ text: String) -> String { text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|") }
        for line in Self.help {
            lines.append(
                "| `\(line.key)` | \(cell(line.type)) | `\(cell(line.defaultValue))` | \(cell(line.meaning)) |"
            )
        }
        return lines.joined(separator: "\n")
    }
}

extension Plugin where Options: PluginOptions {
    public static var optionsHelp: [OptionHelp] { Options.help }
}

/// A key of an options mapping, as written in the configuration.
public struct OptionKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(_ key: String) { self.stringValue = key }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

/// One option of `Root`: its key, where its value goes, its documented type and meaning.
public struct PluginOption<Root>: Sendable {
    public let key: String
    /// The type as documented: `integer`, `seconds`, `duration`, `bool`, `string`, a list or a mapping's shape.
    public let type: String
    public let meaning: String
    let decode: @Sendable (inout Root, KeyedDecodingContainer<OptionKey>) throws -> Void
    let defaultText: @Sendable (Root) -> String
    /// The lines of a nested mapping's options, keys prefixed with this one's.
    let nested: [OptionHelp]?

    /// - Parameters:
    ///   - default: the default as documented, when the value's own text would not read well (an optional that is
    ///     off, a default that depends on other options); otherwise the text of `init()`'s value. Checks across
    ///     options and of ranges stay in the plugin's `setup`, which names the option in its `PluginSetupError`.
    public init<Value: Decodable & Sendable>(
        _ key: String,
        _ path: any WritableKeyPath<Root, Value> & Sendable,
        _ type: String,
        _ meaning: String,
        default documented: String? = nil
    ) {
        self.key = key
        self.type = type
        self.meaning = meaning
        self.decode = { root, container in
            guard let value = try container.decodeIfPresent(Value.self, forKey: OptionKey(key)) else { return }
            root[keyPath: path] = value
        }
        self.defaultText = { root in documented ?? PluginOption.text(of: root[keyPath: path]) }
        self.nested = nil
    }

    /// An option whose value is a mapping of options of its own (`limits: { depth: 5 }`), documented key by key as
    /// `limits.depth`; keys left out keep their defaults.
    public init<Value: PluginOptions>(_ key: String, nested path: any WritableKeyPath<Root, Value> & Sendable) {
        self.key = key
        self.type = "mapping"
        self.meaning = ""
        self.decode = { root, container in
            guard let value = try container.decodeIfPresent(Value.self, forKey: OptionKey(key)) else { return }
            root[keyPath: path] = value
        }
        self.defaultText = { _ in "" }
        self.nested = Value.help.map { OptionHelp("\(key).\($0.key)", $0.type, $0.defaultValue, $0.meaning) }
    }

    /// A value as the documentation writes it: raw values for enums, `[a, b]` for lists, `none` for an absent one.
    static func text(of value: Any) -> String {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return "none" }
            return PluginOption.text(of: wrapped)
        }
        if let raw = value as? any RawRepresentable, let text = raw.rawValue as? String { return text }
        if mirror.displayStyle == .collection {
            return "[" + mirror.children.map { PluginOption.text(of: $0.value) }.joined(separator: ", ") + "]"
        }
        return "\(value)"
    }
}
