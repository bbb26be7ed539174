// ConfigError: what is wrong with a configuration, and exactly where (file:line:column and key path).

/// A configuration problem. `description` is the one line a user sees:
/// `swiftlet.yaml:4:7: servers[0].listen[1]: '127.0.0.1:99999' is not a host:port address`.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based; 0 when unknown (e.g. the whole file).
    public var line: Int
    public var column: Int
    /// Dotted key path with list indexes: `servers[0].plugins[2].hosts.ttl`.
    public var keyPath: String
    public var message: String

    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var text = self.file
        if self.line > 0 { text += ":\(self.line):\(self.column)" }
        text += ": "
        if !self.keyPath.isEmpty { text += "\(self.keyPath): " }
        return text + self.message
    }
}
