// LogOptions: the `log` plugin's options.

import Pipeline

/// Options of `- log: {…}`.
public struct LogOptions: Decodable, Sendable {
    /// `stdout` (default), `stderr`, or a file path (appended to; relative to the configuration file).
    public var output: String
    /// `common` (CoreDNS's default line), `json`, or a template with `{placeholders}` (see README).
    public var format: String

    enum CodingKeys: String, CodingKey { case output, format }

    public init(output: String = "stdout", format: String = "common") {
        self.output = output
        self.format = format
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.output = try container.value(.output, default: "stdout")
        self.format = try container.value(.format, default: "common")
    }
}
