// PluginOptionsTests: options declared once: decoding into the defaults, the documentation lines and the README table
// that come from the same declaration.

import Foundation
import Pipeline
import Testing

@Suite struct PluginOptionsTests {
    enum Mode: String, Decodable, Sendable { case fast, careful }

    struct Limits: PluginOptions {
        var depth = 7
        var timeout = OptionDuration(seconds: 10)
        init() {}
        static let options: [PluginOption<Limits>] = [
            PluginOption("depth", \.depth, "integer", "lookups nested"),
            PluginOption("timeout", \.timeout, "duration", "per query"),
        ]
    }

    struct Options: PluginOptions {
        var names = ["."]
        var mode = Mode.fast
        var file: String? = nil
        var limits = Limits()
        init() {}
        static let options: [PluginOption<Options>] = [
            PluginOption("names", \.names, "[name]", "names served"),
            PluginOption("mode", \.mode, "fast|careful", "how"),
            PluginOption("file", \.file, "path", "where", default: "(none: in memory)"),
            PluginOption("limits", nested: \.limits),
        ]
    }

    @Test func absentKeysKeepTheirDefaultsAndPresentOnesAreRead() throws {
        let text = #"{"mode": "careful", "limits": {"timeout": "250ms"}}"#
        let options = try JSONDecoder().decode(Options.self, from: Data(text.utf8))
        #expect(options.names == ["."] && options.mode == .careful && options.file == nil)
        #expect(options.limits.depth == 7 && options.limits.timeout == OptionDuration(seconds: 0.25))
    }

    @Test func helpAndTableComeFromTheDeclarationWithDefaultsFromInit() {
        #expect(
            Options.help.map { "\($0.key) \($0.type) \($0.defaultValue) \($0.meaning)" } == [
                "names [name] [.] names served",
                "mode fast|careful fast how",
                "file path (none: in memory) where",
                "limits.depth integer 7 lookups nested",
                "limits.timeout duration 10s per query",
            ]
        )
        #expect(
            Options.markdownTable == """
                | key | type | default | meaning |
                |---|---|---|---|
                | `names` | [name] | `[.]` | names served |
                | `mode` | fast\\|careful | `fast` | how |
                | `file` | path | `(none: in memory)` | where |
                | `limits.depth` | integer | `7` | lookups nested |
                | `limits.timeout` | duration | `10s` | per query |
                """
        )
    }
}
