// ConfigDecoder: a strict Decoder over a YAML node tree that knows where every value came from.

import Foundation
import Yams

/// Decodes `Decodable` types from YAML strictly: wrong types, unknown keys and bad values become `ConfigError`s
/// with the file, line, column and key path of the offending node.
///
/// Unknown keys are found after decoding: every mapping opened as a keyed container remembers which keys the type
/// asked for (`contains`/`decode`); any other key in it is unknown, and the error lists the asked-for keys as the
/// valid ones. Options types ask for every key they know (`decodeIfPresent` with defaults), so that list is complete.
public struct ConfigDecoder {
    public let file: String

    public init(file: String) { self.file = file }

    /// Parses YAML text into a node tree.
    /// - Throws: `ConfigError` with the parser's position.
    public func compose(_ text: String) throws -> Node {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(
                    file: self.file,
                    line: 0,
                    column: 0,
                    keyPath: "",
                    message: "the configuration is empty"
                )
            }
            return node
        } catch let error as YamlError {
            throw self.error(from: error)
        }
    }

    /// Decodes `T` from `node`, whose key path is `path`.
    public func decode<T: Decodable>(_ type: T.Type, from node: Node, path: [String] = []) throws -> T {
        let usage = KeyUsage()
        let decoder = NodeDecoder(node: node, path: path, usage: usage, config: self)
        let value: T
        do {
            value = try T(from: decoder)
        } catch let error as ConfigError {
            throw error
        } catch let error as DecodingError {
            throw self.error(from: error, root: node, path: path)
        }
        try usage.checkUnknownKeys(config: self)
        return value
    }

    func error(_ message: String, at node: Node?, path: [String]) -> ConfigError {
        ConfigError(
            file: self.file,
            line: node?.mark?.line ?? 0,
            column: node?.mark?.column ?? 0,
            keyPath: ConfigDecoder.render(path),
            message: message
        )
    }

    static func render(_ path: [String]) -> String {
        var text = ""
        for component in path {
            if component.hasPrefix("[") {
                text += component
            } else {
                text += text.isEmpty ? component : "." + component
            }
        }
        return text
    }

    private func error(from error: YamlError) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\($0.text) " } ?? ""
            return ConfigError(
                file: self.file,
                line: mark.line,
                column: mark.column,
                keyPath: "",
                message: "YAML: \(detail)\(problem)"
            )
        case .reader(let problem, let offset, _, let yaml):
            // libyaml's reader gives an octet offset (a control character, bad UTF-8): turned into line and column.
            let (line, column) = ConfigDecoder.position(ofOffset: offset ?? 0, in: yaml)
            return ConfigError(file: self.file, line: line, column: column, keyPath: "", message: "YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(
                file: self.file,
                line: context.mark.line,
                column: context.mark.column,
                keyPath: "",
                message: "duplicated keys: \(duplicates.joined(separator: ", "))"
            )
        default:
            return ConfigError(file: self.file, line: 0, column: 0, keyPath: "", message: "YAML: \(error)")
        }
    }

    /// The 1-based line and column of octet `offset` of `text` (the end of the text when past it).
    static func position(ofOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for (index, byte) in text.utf8.enumerated() {
            if index >= offset { break }
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return (line, column)
    }

    /// Maps a DecodingError's coding path back to the node it names, for its position.
    private func error(from error: DecodingError, root: Node, path: [String]) -> ConfigError {
        let context: DecodingError.Context
        let message: String
        switch error {
        case .typeMismatch(let type, let c):
            context = c
            message = "expected \(ConfigDecoder.describe(type))"
        case .valueNotFound(let type, let c):
            context = c
            message = "missing \(ConfigDecoder.describe(type))"
        case .keyNotFound(let key, let c):
            context = DecodingError.Context(codingPath: c.codingPath, debugDescription: c.debugDescription)
            let rendered = ConfigDecoder.render(path + c.codingPath.map(ConfigDecoder.component))
            // The mapping that lacks the key; a null one (`- ~`, a bare `-`) has no mark of its own, so the nearest
            // enclosing node that has one places the error.
            var mark = ConfigDecoder.node(at: c.codingPath, in: root)?.mark
            var enclosing = c.codingPath
            while mark == nil && !enclosing.isEmpty {
                enclosing.removeLast()
                mark = ConfigDecoder.node(at: enclosing, in: root)?.mark
            }
            return ConfigError(
                file: self.file,
                line: mark?.line ?? 1,
                column: mark?.column ?? 1,
                keyPath: rendered,
                message: "missing required key '\(key.stringValue)'"
            )
        case .dataCorrupted(let c):
            context = c
            message = c.debugDescription
        @unknown default:
            return ConfigError(
                file: self.file,
                line: 0,
                column: 0,
                keyPath: ConfigDecoder.render(path),
                message: "\(error)"
            )
        }
        let node = ConfigDecoder.node(at: context.codingPath, in: root)
        return self.error(
            message.isEmpty ? context.debugDescription : message,
            at: node,
            path: path + context.codingPath.map(ConfigDecoder.component)
        )
    }

    static func component(_ key: any CodingKey) -> String {
        if let index = key.intValue { return "[\(index)]" }
        return key.stringValue
    }

    static func node(at codingPath: [any CodingKey], in root: Node) -> Node? {
        var current: Node? = root
        for key in codingPath {
            switch current {
            case .mapping(let mapping)?:
                current = mapping.first(where: { $0.key.string == key.stringValue })?.value
            case .sequence(let sequence)?:
                guard let index = key.intValue, index < sequence.count else { return current }
                current = sequence[index]
            default:
                return current
            }
        }
        return current
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is UInt32.Type, is UInt16.Type, is UInt8.Type, is Int64.Type, is UInt64.Type, is UInt.Type:
            return "an integer"
        case is Double.Type: return "a number"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") { return "a mapping" }
            return "a mapping (\(name))"
        }
    }
}

/// The keys each keyed container asked for, to report the keys nobody asked for.
final class KeyUsage {
    struct Entry {
        var mapping: Node.Mapping
        var path: [String]
        var requested: Set<String>
    }
    var entries: [Entry] = []

    func register(_ mapping: Node.Mapping, path: [String]) -> Int {
        self.entries.append(Entry(mapping: mapping, path: path, requested: []))
        return self.entries.count - 1
    }

    func request(_ key: String, in index: Int) { self.entries[index].requested.insert(key) }

    func checkUnknownKeys(config: ConfigDecoder) throws {
        for entry in self.entries {
            for (key, _) in entry.mapping {
                guard let name = key.string, !entry.requested.contains(name) else { continue }
                let valid = entry.requested.sorted().joined(separator: ", ")
                let hint = valid.isEmpty ? "this mapping takes no keys" : "valid keys: \(valid)"
                throw config.error("unknown key '\(name)' (\(hint))", at: key, path: entry.path + [name])
            }
        }
    }
}

/// The Decoder itself: one node and the path that led to it.
struct NodeDecoder: Decoder {
    let node: Node
    let path: [String]
    let usage: KeyUsage
    let config: ConfigDecoder
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: Node, path: [String], usage: KeyUsage, config: ConfigDecoder, codingPath: [any CodingKey] = []) {
        self.node = node
        self.path = path
        self.usage = usage
        self.config = config
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let mapping) = self.node else {
            if self.node.isNullScalar {
                // `name:` with nothing after it means an empty mapping, i.e. all defaults.
                let empty = Node.Mapping([])
                let index = self.usage.register(empty, path: self.path)
                return KeyedDecodingContainer(NodeKeyedContainer<Key>(mapping: empty, decoder: self, usageIndex: index))
            }
            throw self.config.error(
                "expected a mapping of keys, found \(self.node.kindDescription)",
                at: self.node,
                path: self.path
            )
        }
        let index = self.usage.register(mapping, path: self.path)
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(mapping: mapping, decoder: self, usageIndex: index))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let sequence) = self.node else {
            if self.node.isNullScalar { return NodeUnkeyedContainer(nodes: [], decoder: self) }
            throw self.config.error(
                "expected a list, found \(self.node.kindDescription)",
                at: self.node,
                path: self.path
            )
        }
        return NodeUnkeyedContainer(nodes: Array(sequence), decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { NodeSingleValueContainer(decoder: self) }

    func child(_ node: Node, component: String, key: any CodingKey) -> NodeDecoder {
        NodeDecoder(
            node: node,
            path: self.path + [component],
            usage: self.usage,
            config: self.config,
            codingPath: self.codingPath + [key]
        )
    }

    func scalar<T>(_ type: T.Type, _ parse: (String) -> T?) throws -> T {
        guard case .scalar(let scalar) = self.node else {
            throw self.config.error(
                "expected \(ConfigDecoder.describe(type)), found \(self.node.kindDescription)",
                at: self.node,
                path: self.path
            )
        }
        guard let value = parse(scalar.string) else {
            throw self.config.error(
                "expected \(ConfigDecoder.describe(type)), found '\(scalar.string)'",
                at: self.node,
                path: self.path
            )
        }
        return value
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is String.Type:
            return try self.scalar(String.self) { $0 } as! T
        case is Bool.Type:
            return try self.scalar(Bool.self) {
                ["true": true, "false": false, "yes": true, "no": false, "on": true, "off": false][$0.lowercased()]
            } as! T
        case is Int.Type: return try self.scalar(Int.self) { Int($0) } as! T
        case is Int64.Type: return try self.scalar(Int64.self) { Int64($0) } as! T
        case is UInt.Type: return try self.scalar(UInt.self) { UInt($0) } as! T
        case is UInt64.Type: return try self.scalar(UInt64.self) { UInt64($0) } as! T
        case is UInt32.Type: return try self.scalar(UInt32.self) { UInt32($0) } as! T
        case is UInt16.Type: return try self.scalar(UInt16.self) { UInt16($0) } as! T
        case is UInt8.Type: return try self.scalar(UInt8.self) { UInt8($0) } as! T
        case is Double.Type: return try self.scalar(Double.self) { Double($0) } as! T
        default:
            return try T(from: self)
        }
    }
}

extension Node {
    var isNullScalar: Bool {
        guard case .scalar(let scalar) = self else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string) && scalar.style == .plain
    }

    var kindDescription: String {
        switch self {
        case .scalar(let scalar): return "'\(scalar.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let mapping: Node.Mapping
    let decoder: NodeDecoder
    let usageIndex: Int
    var codingPath: [any CodingKey] { self.decoder.codingPath }

    var allKeys: [Key] {
        self.mapping.compactMap { pair in pair.key.string.flatMap { Key(stringValue: $0) } }
    }

    func value(_ key: Key) -> Node? {
        self.decoder.usage.request(key.stringValue, in: self.usageIndex)
        return self.mapping.first(where: { $0.key.string == key.stringValue })?.value
    }

    func contains(_ key: Key) -> Bool { self.value(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { self.value(key)?.isNullScalar ?? true }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let node = self.value(key) else {
            // The decoder's own node carries the position (a null scalar standing for an empty mapping included).
            throw self.decoder.config.error(
                "missing required key '\(key.stringValue)'",
                at: self.decoder.node.mark == nil ? Node.mapping(self.mapping) : self.decoder.node,
                path: self.decoder.path
            )
        }
        return try self.decoder.child(node, component: key.stringValue, key: key).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try self.decoder.child(self.value(key) ?? Node("~"), component: key.stringValue, key: key).container(
            keyedBy: type
        )
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try self.decoder.child(self.value(key) ?? Node("~"), component: key.stringValue, key: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { self.decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        self.decoder.child(self.value(key) ?? Node("~"), component: key.stringValue, key: key)
    }
}

struct IndexKey: CodingKey {
    var stringValue: String { "[\(self.intValue!)]" }
    var intValue: Int?
    init(_ index: Int) { self.intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
    let nodes: [Node]
    let decoder: NodeDecoder
    var currentIndex = 0
    var codingPath: [any CodingKey] { self.decoder.codingPath }
    var count: Int? { self.nodes.count }
    var isAtEnd: Bool { self.currentIndex >= self.nodes.count }

    init(nodes: [Node], decoder: NodeDecoder) {
        self.nodes = nodes
        self.decoder = decoder
    }

    mutating func nextDecoder() throws -> NodeDecoder {
        guard !self.isAtEnd else {
            throw self.decoder.config.error("list ended early", at: self.decoder.node, path: self.decoder.path)
        }
        defer { self.currentIndex += 1 }
        return self.decoder.child(
            self.nodes[self.currentIndex],
            component: "[\(self.currentIndex)]",
            key: IndexKey(self.currentIndex)
        )
    }

    mutating func decodeNil() throws -> Bool {
        guard !self.isAtEnd, self.nodes[self.currentIndex].isNullScalar else { return false }
        self.currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try self.nextDecoder().decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws
        -> KeyedDecodingContainer<NestedKey>
    { try self.nextDecoder().container(keyedBy: type) }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try self.nextDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try self.nextDecoder() }
}

struct NodeSingleValueContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [any CodingKey] { self.decoder.codingPath }
    func decodeNil() -> Bool { self.decoder.node.isNullScalar }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try self.decoder.decodeValue(type) }
}
