// Plugin: what a built-in or third-party plugin provides: a name, options, and a setup that adds to a chain.

import Synchronization

/// A plugin type: a YAML name, an options type, and a setup that contributes guards and handlers to a chain.
///
/// Options are `Decodable` with a default for every field, so `- name: {}` means all defaults; the host decodes
/// them strictly (unknown keys are errors naming file:line:column and the key path). `setup` validates what
/// decoding cannot (files, ranges, combinations) and throws `PluginSetupError` naming the option.
public protocol Plugin: Sendable {
    associatedtype Options: Decodable & Sendable
    /// The key in the YAML chain (`- hosts: {…}`).
    static var name: String { get }
    /// One line for `swiftlet plugins` and PLUGINS.md.
    static var summary: String { get }
    /// Each option's key, type, default and meaning, for `swiftlet plugins`.
    static var optionsHelp: [OptionHelp] { get }
    static func setup(_ options: Options, context: PluginContext, into builder: inout ChainBuilder) throws
}

/// One line of an option's documentation.
public struct OptionHelp: Sendable {
    public var key: String
    public var type: String
    public var defaultValue: String
    public var meaning: String
    public init(_ key: String, _ type: String, _ defaultValue: String, _ meaning: String) {
        self.key = key
        self.type = type
        self.defaultValue = defaultValue
        self.meaning = meaning
    }
}

/// A setup failure: which option (key path below the plugin) and why.
public struct PluginSetupError: Error, Equatable, Sendable, CustomStringConvertible {
    public var option: String
    public var message: String
    public init(option: String, _ message: String) {
        self.option = option
        self.message = message
    }
    public var description: String { "\(self.option): \(self.message)" }
}

/// Objects plugins keep across a reload: the previous build's, offered by key, and this build's, collected for the
/// next. The host keeps the collected ones only when the reload succeeds.
public final class PluginState: Sendable {
    private let previous: [String: any Sendable]
    private let kept = Mutex<[String: any Sendable]>([:])

    public init(previous: [String: any Sendable] = [:]) { self.previous = previous }

    /// The previous build's object under `key` when it has one of type `T`, else a new one; either way kept for the
    /// next build.
    public func retained<T: Sendable>(_ key: String, _ make: () throws -> T) rethrows -> T {
        let value = try (self.previous[key] as? T) ?? make()
        self.kept.withLock { $0[key] = value }
        return value
    }

    /// The previous build's object under `key`, if any.
    public func previous(_ key: String) -> (any Sendable)? { self.previous[key] }

    /// Keeps `value` under `key` for the next build, whatever was there.
    public func replace(_ key: String, with value: any Sendable) { self.kept.withLock { $0[key] = value } }

    /// What this build kept, for the next one.
    public var collected: [String: any Sendable] { self.kept.withLock { $0 } }
}

extension PluginSetupError {
    /// Address prefixes from option `option` (`acl.allow`, `zone` `transfer_to`, `filter` group clients), or the
    /// error naming the first bad one.
    public static func prefixes(_ texts: [String], option: String) throws(PluginSetupError) -> [IPPrefix] {
        var prefixes: [IPPrefix] = []
        for (index, text) in texts.enumerated() {
            guard let prefix = IPPrefix(text) else {
                throw PluginSetupError(
                    option: "\(option)[\(index)]",
                    "'\(text)' is not an address prefix like 192.0.2.0/24 or 2001:db8::/32 (host bits must be zero)"
                )
            }
            prefixes.append(prefix)
        }
        return prefixes
    }
}
