// LogOptions: the `log` plugin's options.

import Pipeline

/// Options of `- log: {…}`.
public struct LogOptions: PluginOptions {
    /// `stdout` (default), `stderr`, or a file path (appended to; relative to the configuration file).
    public var output: String = "stdout"
    /// `common` (CoreDNS's default line), `json`, or a template with `{placeholders}` (see README).
    public var format: String = "common"

    public init() {}

    public static let options: [PluginOption<LogOptions>] = [
        PluginOption("output", \.output, "stdout|stderr|path", "where lines go (files are appended to)"),
        PluginOption("format", \.format, "common|json|template", "CoreDNS-style placeholders: {remote} {name} {rcode} …"),
    ]
}
