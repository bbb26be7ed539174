// ConfigTests: strict decoding, exact error text with file:line:column and key path, and the example files.

import Foundation
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing
import Yams

@testable import Host

@Suite struct ConfigTests {

    func error(_ text: String, base: String = fixturesDirectory.path) -> String { buildError(text, base: base) }

    @Test func validConfigurationDecodes() throws {
        let configuration = try Configuration.parse(
            """
            servers:
              - listen: ["127.0.0.1:5353", "[::1]:5353"]
                zones: ["example.org.", "."]
                workers: 2
                max_udp_size: 1400
                tcp_idle_timeout: 5s
                plugins:
                  - acl: { allow: ["127.0.0.0/8"] }
                  - hosts: { file: hosts/example.hosts, ttl: 60 }
            admin: { listen: "127.0.0.1:8053" }
            log: { level: debug }
            """,
            source: "test.yaml"
        )
        let block = configuration.servers[0]
        #expect(block.listen == [ListenAddress("127.0.0.1:5353")!, ListenAddress("[::1]:5353")!])
        #expect(block.zones == [name("example.org."), .root])
        #expect(block.workers == 2 && block.maxUDPSize == 1400 && block.tcpIdleTimeout == 5)
        #expect(block.plugins.map(\.name) == ["acl", "hosts"])
        #expect(configuration.admin?.listen == ListenAddress("127.0.0.1:8053"))
        #expect(configuration.log.level == "debug")
    }

    @Test(arguments: [
        (
            "unknown top-level key",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\nbogus: 1\n",
            "test.yaml:3:1: bogus: unknown key 'bogus' (valid keys: admin, log, servers, state_dir)"
        ),
        (
            "unknown block key",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    listne: []\n",
            "test.yaml:3:5: servers[0].listne: unknown key 'listne' (valid keys: cookies, https, listen, max_in_flight, max_tcp_connections, max_tcp_connections_per_client, max_tcp_queries_per_connection, max_udp_size, plugins, proxy_protocol, tcp_idle_timeout, tls, workers, zones)"
        ),
        (
            "a cookie secret that is not 16 octets",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    cookies: { secret: abcd }\n",
            "test.yaml:3:24: servers[0].cookies.secret: a cookie secret is 16 octets as 32 hexadecimal digits, not 'abcd'"
        ),
        (
            "a cookie secret lifetime under an hour",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    cookies: { secret_lifetime: 5m }\n",
            "test.yaml:3:33: servers[0].cookies.secret_lifetime: secret_lifetime must be 0 or whole seconds from 1h to 366d, not 300s"
        ),
        (
            "an unknown cookies key",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    cookies: { secrit: x }\n",
            "test.yaml:3:16: servers[0].cookies.secrit: unknown key 'secrit' (valid keys: enabled, previous_secret, secret, secret_lifetime)"
        ),
        (
            "a duration too long for its type (found by the fuzzer: 2^64 ns trapped)",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    tcp_idle_timeout: 1e20\n",
            "test.yaml:3:23: servers[0].tcp_idle_timeout: a duration must be at most 100 years"
        ),
        (
            "a control character (libyaml's reader error, found by the fuzzer without a position)",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    zones: [\"a\u{01}\"]\n",
            "test.yaml:3:15: YAML: control characters are not allowed"
        ),
        (
            "a null server block (found by the fuzzer without a position)",
            "servers: [~]\n",
            "test.yaml:1:11: servers[0]: missing required key 'listen'"
        ),
        (
            "a TCP bound of 0",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    max_tcp_connections_per_client: 0\n",
            "test.yaml:3:37: servers[0].max_tcp_connections_per_client: max_tcp_connections_per_client must be between 1 and 1000000, not 0"
        ),
        (
            "a negative in-flight bound",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    max_tcp_queries_per_connection: -1\n",
            "test.yaml:3:37: servers[0].max_tcp_queries_per_connection: max_tcp_queries_per_connection must be between 1 and 65535, not -1"
        ),
        (
            "bad listen address",
            "servers:\n  - listen: [\"127.0.0.1:99999\"]\n",
            "test.yaml:2:14: servers[0].listen[0]: '127.0.0.1:99999' is not a listen address like 127.0.0.1:5353 or [::1]:5353"
        ),
        (
            "wrong type",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    workers: many\n",
            "test.yaml:3:14: servers[0].workers: expected an integer, found 'many'"
        ),
        (
            "missing listen",
            "servers:\n  - zones: [\".\"]\n",
            "test.yaml:2:5: servers[0]: missing required key 'listen'"
        ),
        (
            "unknown plugin",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    plugins:\n      - hostz: {}\n",
            "test.yaml:4:9: servers[0].plugins[0].hostz: unknown plugin 'hostz' (known: acl, cache, echo, filter, forward, hosts, log, ratelimit, recursive, zone)"
        ),
        (
            "unknown plugin option",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    plugins:\n      - hosts: { file: hosts/example.hosts, tll: 5 }\n",
            "test.yaml:4:45: servers[0].plugins[0].hosts.tll: unknown key 'tll' (valid keys: fallthrough, file, reload_interval, ttl)"
        ),
        (
            "bad plugin option value",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    plugins:\n      - acl: { allow: [\"10.0.0.0/8\", \"300.0.0.0/8\"] }\n",
            "test.yaml:4:38: servers[0].plugins[0].acl.allow[1]: '300.0.0.0/8' is not an address prefix like 192.0.2.0/24 or 2001:db8::/32 (host bits must be zero)"
        ),
        (
            "plugin entry not a one-key mapping",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    plugins:\n      - hosts\n",
            "test.yaml:4:9: servers[0].plugins[0]: each plugin is a one-key mapping like '- hosts: { file: /etc/hosts }'"
        ),
        (
            "missing hosts file",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    plugins:\n      - hosts: { file: nowhere.hosts }\n",
            "test.yaml:4:24: servers[0].plugins[0].hosts.file: cannot read '\(fixturesDirectory.path)/nowhere.hosts'"
        ),
        (
            "bad duration",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\n    plugins:\n      - hosts: { file: hosts/example.hosts, reload_interval: soon }\n",
            "test.yaml:4:62: servers[0].plugins[0].hosts.reload_interval: 'soon' is not a duration (like 250ms, 30s, 5m, 1h)"
        ),
        (
            "YAML syntax",
            "servers:\n  - listen: [\"127.0.0.1:1\"\n",
            "test.yaml:3:1: YAML: while parsing a flow sequence did not find expected ',' or ']'"
        ),
        (
            "bad log level",
            "servers:\n  - listen: [\"127.0.0.1:1\"]\nlog: { level: loud }\n",
            "test.yaml:3:15: log.level: 'loud' is not a log level (trace, debug, info, notice, warning, error, critical)"
        ),
    ])
    func badConfigurationGivesExactError(_ row: (String, String, String)) {
        #expect(self.error(row.1) == row.2, "\(row.0)")
    }

    /// Every fenced yaml block in the README, PLUGINS.md and the plugin READMEs, and Corefile.example.yaml, build.
    @Test func documentedConfigurationsBuild() throws {
        let root = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
        var documents = ["README.md", "PLUGINS.md"].map { root.appendingPathComponent($0) }
        let pluginsFolder = root.appendingPathComponent("Sources/Plugins")
        for folder in try FileManager.default.contentsOfDirectory(atPath: pluginsFolder.path) {
            let readme = pluginsFolder.appendingPathComponent(folder).appendingPathComponent("README.md")
            if FileManager.default.fileExists(atPath: readme.path) { documents.append(readme) }
        }
        var checked = 0
        for document in documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            for block in ConfigTests.fencedYAML(text) where block.contains("servers:") {
                let configuration = try Configuration.parse(
                    block,
                    source: document.lastPathComponent,
                    baseDirectory: fixturesDirectory.path
                )
                _ = try ChainFactory.build(
                    configuration,
                    plugins: Registry.builtIn,
                    logger: .init(label: "test"),
                    invalidate: { _ in }
                )
                checked += 1
            }
        }
        let example = try Configuration.load(path: root.appendingPathComponent("Corefile.example.yaml").path)
        _ = example
        #expect(checked >= 3)
    }

    /// Hickory's reject test: an unknown key injected into every mapping of the example configuration is an error
    /// that names that key.
    @Test func unknownKeyAtEveryLevelIsRejected() throws {
        let root = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Corefile.example.yaml"), encoding: .utf8)
        let node = try #require(try Yams.compose(yaml: text))
        var paths: [[Int]] = []
        ConfigTests.mappingPaths(node, [], into: &paths)
        #expect(paths.count >= 8)
        for path in paths {
            let mutated = ConfigTests.inject(node, path)
            let yaml = try Yams.serialize(node: mutated)
            // Relative paths in the example are relative to the repository root, where it lives.
            let message = self.error(yaml, base: root.path)
            // A key added to a plugin entry makes it a two-key mapping, which has its own message.
            #expect(
                message.contains("unknown key 'swiftlet_bogus_key'") || message.contains("one-key mapping"),
                "\(path): \(message)"
            )
        }
    }

    static func fencedYAML(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.trimmingCharacters(in: .whitespaces) == "```yaml" {
                current = []
            } else if current != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// Paths (child indexes) of every mapping in the tree, except plugin options' free-form insides are included too.
    static func mappingPaths(_ node: Node, _ path: [Int], into paths: inout [[Int]]) {
        switch node {
        case .mapping(let mapping):
            paths.append(path)
            for (index, pair) in mapping.enumerated() { mappingPaths(pair.value, path + [index], into: &paths) }
        case .sequence(let sequence):
            for (index, child) in sequence.enumerated() { mappingPaths(child, path + [index], into: &paths) }
        default: break
        }
    }

    static func inject(_ node: Node, _ path: [Int]) -> Node {
        switch node {
        case .mapping(var mapping):
            if path.isEmpty {
                mapping[Node("swiftlet_bogus_key")] = Node("1")
                return .mapping(mapping)
            }
            var pairs = Array(mapping)
            pairs[path[0]].value = inject(pairs[path[0]].value, Array(path.dropFirst()))
            return .mapping(Node.Mapping(pairs.map { ($0.key, $0.value) }, mapping.tag, mapping.style, mapping.mark))
        case .sequence(var sequence):
            sequence[path[0]] = inject(sequence[path[0]], Array(path.dropFirst()))
            return .sequence(sequence)
        default:
            return node
        }
    }
}

/// Every registered plugin has a README with the sections every plugin README has, and a row in PLUGINS.md.
@Suite struct PluginDocumentationTests {
    @Test(arguments: Registry.builtIn.map { $0.name })
    func pluginHasReadmeWithEverySection(_ plugin: String) throws {
        let root = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
        let folders = try FileManager.default.contentsOfDirectory(
            atPath: root.appendingPathComponent("Sources/Plugins").path
        )
        let folder = try #require(folders.first { $0.lowercased() == plugin.lowercased() }, "no folder for \(plugin)")
        let readme = try String(
            contentsOf: root.appendingPathComponent("Sources/Plugins/\(folder)/README.md"),
            encoding: .utf8
        )
        for section in ["## Name", "## Description", "## Syntax", "## Examples", "## Metrics", "## See Also"] {
            #expect(readme.contains("\n\(section)\n"), "\(plugin) README lacks \(section)")
        }
        #expect(readme.contains("*\(plugin)* — "), "\(plugin) README lacks its one-line name")
        let index = try String(contentsOf: root.appendingPathComponent("PLUGINS.md"), encoding: .utf8)
        #expect(
            index.contains("| [\(plugin)](Sources/Plugins/\(folder)/README.md) |"),
            "\(plugin) missing from PLUGINS.md"
        )
    }

    /// The README's option table is the one the plugin's options declare (key, type, default from `init()`, meaning):
    /// options are written once, in the code. On a difference the expected table is printed, to paste.
    @Test(arguments: Registry.builtIn.map { $0.name })
    func readmeOptionTableIsTheDeclaredOne(_ plugin: String) throws {
        let type = try #require(Registry.builtIn.first { $0.name == plugin })
        let table = PluginDocumentationTests.table(type)
        let declared = try #require(table, "\(plugin)'s options are not PluginOptions")
        let root = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
        let folders = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources/Plugins").path)
        let folder = try #require(folders.first { $0.lowercased() == plugin.lowercased() })
        let readme = try String(
            contentsOf: root.appendingPathComponent("Sources/Plugins/\(folder)/README.md"),
            encoding: .utf8
        )
        let lines = readme.components(separatedBy: "\n")
        let written: String
        if let header = lines.firstIndex(of: "| key | type | default | meaning |") {
            written = lines[header...].prefix { $0.hasPrefix("|") }.joined(separator: "\n")
        } else {
            written = "(no option table)"
        }
        let expected = declared.isEmpty ? "(no option table)" : declared
        #expect(written == expected, "\(plugin) README's option table; expected:\n\(expected)\n")
    }

    /// The markdown option table of `plugin`'s options (empty when it has none); nil when they are not declared
    /// as `PluginOptions`.
    static func table<P: Plugin>(_ plugin: P.Type) -> String? {
        guard let options = P.Options.self as? any PluginOptions.Type else { return nil }
        return options.help.isEmpty ? "" : options.markdownTable
    }
}

/// Limits that come from how the message cache keys views (4 bits of block, 12 bits of guard view).
@Suite struct CacheViewLimitTests {
    @Test func seventeenServerBlocksAreRefused() {
        let block = "  - listen: [\"127.0.0.1:5399\"]\n    plugins:\n      - echo: {}\n"
        let sixteen = "servers:\n" + String(repeating: block, count: 16)
        #expect(buildError(sixteen) == "built")
        let seventeen = "servers:\n" + String(repeating: block, count: 17)
        #expect(
            buildError(seventeen)
                == "test.yaml:50:5: servers[16]: at most 16 server blocks (17 given): the message cache keeps blocks apart in 4 bits"
        )
    }

    @Test func filterGroupsFitTheViewBits() {
        let groups = (0..<4096).map { "{ name: g\($0), lists: [ads] }" }.joined(separator: ", ")
        let yaml = """
            servers:
              - listen: ["127.0.0.1:5399"]
                plugins:
                  - filter: { lists: [{ name: ads, source: filter/ads.txt }], groups: [\(groups)] }
            """
        #expect(buildError(yaml).contains("groups: at most 4095 groups (4096 given)"))
    }
}
