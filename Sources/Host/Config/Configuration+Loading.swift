// Configuration+Loading: reads the YAML strictly into the model, with the embedded default.

import Foundation
import Pipeline
// OptionDuration and PluginContext.resolve are Pipeline's; the fuzz build of this file gets them from a stand-in
// module `Plugins` instead (Fuzz/README.md), hence the import.
import Plugins
import Yams

extension Configuration {
    /// The configuration `swiftlet run` uses without `--config`: loopback only, hosts from /etc/hosts, and the
    /// admin listener on loopback.
    public static let embeddedDefault = """
        # Swiftlet's embedded default: serve /etc/hosts on loopback, port 5353, to loopback and private clients.
        servers:
          - listen: ["127.0.0.1:5353", "[::1]:5353"]
            zones: ["."]
            plugins:
              - acl: { allow: ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"] }
              - hosts: { file: /etc/hosts }
        admin:
          listen: 127.0.0.1:8053
        log: { level: info }
        """

    /// Reads and decodes a configuration file.
    /// - Throws: `ConfigError`.
    public static func load(path: String) throws -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: 0, column: 0, keyPath: "", message: "cannot read the file")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try Configuration.parse(String(decoding: data, as: UTF8.self), source: path, baseDirectory: base)
    }

    /// Decodes configuration text; `source` names it in errors.
    /// - Throws: `ConfigError`.
    public static func parse(_ text: String, source: String, baseDirectory: String = ".") throws -> Configuration {
        let decoder = ConfigDecoder(file: source)
        let root = try decoder.compose(text)
        let file = try decoder.decode(ConfigurationFile.self, from: root)
        var servers: [ServerBlockConfiguration] = []
        for (index, block) in file.servers.enumerated() {
            let path = ["servers", "[\(index)]"]
            let blockNode = ConfigDecoder.node(at: [SimpleKey("servers"), IndexKey(index)], in: root)
            var listen: [ListenAddress] = []
            for (position, text) in block.listen.enumerated() {
                guard let address = ListenAddress(text) else {
                    let node = ConfigDecoder.node(
                        at: [SimpleKey("servers"), IndexKey(index), SimpleKey("listen"), IndexKey(position)],
                        in: root
                    )
                    throw decoder.error(
                        "'\(text)' is not a listen address like 127.0.0.1:5353 or [::1]:5353",
                        at: node,
                        path: path + ["listen", "[\(position)]"]
                    )
                }
                listen.append(address)
            }
            guard !listen.isEmpty else {
                throw decoder.error(
                    "a server block needs at least one listen address",
                    at: blockNode,
                    path: path + ["listen"]
                )
            }
            var zones: [DomainName] = []
            for (position, text) in (block.zones ?? ["."]).enumerated() {
                guard let zone = try? DomainName(text) else {
                    let node = ConfigDecoder.node(
                        at: [SimpleKey("servers"), IndexKey(index), SimpleKey("zones"), IndexKey(position)],
                        in: root
                    )
                    throw decoder.error(
                        "'\(text)' is not a domain name",
                        at: node,
                        path: path + ["zones", "[\(position)]"]
                    )
                }
                zones.append(zone)
            }
            if let workers = block.workers, !(1...256).contains(workers) {
                throw decoder.error("workers must be between 1 and 256", at: blockNode, path: path + ["workers"])
            }
            let maxUDPSize = block.maxUDPSize ?? 1232
            guard (512...4096).contains(maxUDPSize) else {
                throw decoder.error(
                    "max_udp_size must be between 512 and 4096",
                    at: blockNode,
                    path: path + ["max_udp_size"]
                )
            }
            // The TCP bounds: each at least 1 (0 would refuse every connection or query without saying why).
            for (key, value, range) in [
                ("max_tcp_connections", block.maxTCPConnections, 1...1_000_000),
                ("max_tcp_connections_per_client", block.maxTCPConnectionsPerClient, 1...1_000_000),
                ("max_tcp_queries_per_connection", block.maxTCPQueriesPerConnection, 1...65535),
                ("max_in_flight", block.maxInFlight, 1...10_000_000),
            ] {
                if let value, !range.contains(value) {
                    let node = ConfigDecoder.node(
                        at: [SimpleKey("servers"), IndexKey(index), SimpleKey(key)],
                        in: root
                    )
                    throw decoder.error(
                        "\(key) must be between \(range.lowerBound) and \(range.upperBound), not \(value)",
                        at: node,
                        path: path + [key]
                    )
                }
            }
            if let idle = block.tcpIdleTimeout, idle.seconds <= 0 {
                throw decoder.error("tcp_idle_timeout must be more than 0", at: blockNode, path: path + ["tcp_idle_timeout"])
            }
            let cookies = try Self.cookies(block.cookies, decoder: decoder, root: root, index: index, path: path)
            let tls = try Self.tls(
                block.tls,
                plain: listen,
                decoder: decoder,
                root: root,
                index: index,
                path: path,
                baseDirectory: baseDirectory
            )
            let https = try Self.https(
                block.https,
                plain: listen,
                tls: tls,
                decoder: decoder,
                root: root,
                index: index,
                path: path,
                baseDirectory: baseDirectory
            )
            var proxyProtocol: [IPPrefix] = []
            for (position, text) in (block.proxyProtocol ?? []).enumerated() {
                guard let prefix = IPPrefix(text) else {
                    throw decoder.error(
                        "'\(text)' is not an address prefix like 10.0.0.0/8 or 2001:db8::/32",
                        at: ConfigDecoder.node(
                            at: [SimpleKey("servers"), IndexKey(index), SimpleKey("proxy_protocol"), IndexKey(position)],
                            in: root
                        ),
                        path: path + ["proxy_protocol", "[\(position)]"]
                    )
                }
                proxyProtocol.append(prefix)
            }
            var plugins: [PluginEntry] = []
            let pluginNodes: [Node]
            if case .sequence(let sequence)? = ConfigDecoder.node(
                at: [SimpleKey("servers"), IndexKey(index), SimpleKey("plugins")],
                in: root
            ) {
                pluginNodes = Array(sequence)
            } else {
                pluginNodes = []
            }
            for (position, node) in pluginNodes.enumerated() {
                let entryPath = path + ["plugins", "[\(position)]"]
                guard case .mapping(let mapping) = node, mapping.count == 1, let pair = mapping.first,
                    let name = pair.key.string
                else {
                    throw decoder.error(
                        "each plugin is a one-key mapping like '- hosts: { file: /etc/hosts }'",
                        at: node,
                        path: entryPath
                    )
                }
                plugins.append(
                    PluginEntry(name: name, options: pair.value, path: entryPath + [name], nameNode: pair.key)
                )
            }
            servers.append(
                ServerBlockConfiguration(
                    listen: listen,
                    zones: zones,
                    workers: block.workers,
                    maxUDPSize: maxUDPSize,
                    tcpIdleTimeout: block.tcpIdleTimeout?.seconds ?? 10,
                    maxTCPConnections: block.maxTCPConnections ?? 1000,
                    maxTCPConnectionsPerClient: block.maxTCPConnectionsPerClient ?? 16,
                    maxTCPQueriesPerConnection: block.maxTCPQueriesPerConnection ?? 100,
                    maxInFlight: block.maxInFlight ?? 10000,
                    cookies: cookies,
                    tls: tls,
                    https: https,
                    proxyProtocol: proxyProtocol,
                    plugins: plugins,
                    path: ConfigDecoder.render(path)
                )
            )
        }
        guard !servers.isEmpty else {
            throw decoder.error("at least one server block is needed under 'servers'", at: root, path: ["servers"])
        }
        // The message cache keeps blocks apart by the top 4 bits of its 16-bit view (`ServerBlock.cacheView`).
        guard servers.count <= 16 else {
            let node = ConfigDecoder.node(at: [SimpleKey("servers"), IndexKey(16)], in: root)
            throw decoder.error(
                "at most 16 server blocks (\(servers.count) given): the message cache keeps blocks apart in 4 bits",
                at: node,
                path: ["servers", "[16]"]
            )
        }
        var admin: AdminConfiguration? = nil
        if let adminFile = file.admin {
            guard let address = ListenAddress(adminFile.listen) else {
                let node = ConfigDecoder.node(at: [SimpleKey("admin"), SimpleKey("listen")], in: root)
                throw decoder.error(
                    "'\(adminFile.listen)' is not a listen address like 127.0.0.1:8053",
                    at: node,
                    path: ["admin", "listen"]
                )
            }
            var token = adminFile.token
            if let tokenFile = adminFile.tokenFile {
                let path = PluginContext.resolve(tokenFile, against: baseDirectory)
                guard let data = FileManager.default.contents(atPath: path),
                    let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
                    !text.isEmpty
                else {
                    let node = ConfigDecoder.node(at: [SimpleKey("admin"), SimpleKey("token_file")], in: root)
                    throw decoder.error("cannot read a token from '\(path)'", at: node, path: ["admin", "token_file"])
                }
                token = text
            }
            if let value = token, value.count < 16 {
                let node = ConfigDecoder.node(at: [SimpleKey("admin"), SimpleKey("token")], in: root)
                throw decoder.error("the API token must be at least 16 characters", at: node, path: ["admin", "token"])
            }
            let requestTimeout = adminFile.requestTimeout?.seconds ?? 10
            guard requestTimeout > 0 else {
                let node = ConfigDecoder.node(at: [SimpleKey("admin"), SimpleKey("request_timeout")], in: root)
                throw decoder.error("request_timeout must be more than 0", at: node, path: ["admin", "request_timeout"])
            }
            admin = AdminConfiguration(listen: address, token: token, requestTimeout: requestTimeout)
        }
        let level = file.log?.level ?? "info"
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(level) else {
            let node = ConfigDecoder.node(at: [SimpleKey("log"), SimpleKey("level")], in: root)
            throw decoder.error(
                "'\(level)' is not a log level (\(levels.joined(separator: ", ")))",
                at: node,
                path: ["log", "level"]
            )
        }
        return Configuration(
            servers: servers,
            admin: admin,
            log: LogConfiguration(level: level),
            source: source,
            baseDirectory: baseDirectory,
            stateDirectory: PluginContext.resolve(file.stateDir ?? "swiftlet-state", against: baseDirectory)
        )
    }
}

extension Configuration {
    /// A block's `cookies:` checked: secrets are 32 hexadecimal digits, the lifetime whole seconds up to a year.
    static func cookies(
        _ file: ConfigurationFile.Cookies?,
        decoder: ConfigDecoder,
        root: Node,
        index: Int,
        path: [String]
    ) throws -> CookieConfiguration {
        var cookies = CookieConfiguration()
        guard let file else { return cookies }
        func node(_ key: String) -> Node? {
            ConfigDecoder.node(at: [SimpleKey("servers"), IndexKey(index), SimpleKey("cookies"), SimpleKey(key)], in: root)
        }
        func secret(_ text: String?, key: String) throws -> [UInt8]? {
            guard let text else { return nil }
            guard let octets = Self.hexOctets(text), octets.count == 16 else {
                throw decoder.error(
                    "a cookie secret is 16 octets as 32 hexadecimal digits, not '\(text)'",
                    at: node(key),
                    path: path + ["cookies", key]
                )
            }
            return octets
        }
        cookies.enabled = file.enabled ?? true
        cookies.secret = try secret(file.secret, key: "secret")
        cookies.previousSecret = try secret(file.previousSecret, key: "previous_secret")
        if let lifetime = file.secretLifetime {
            guard lifetime.seconds <= 366 * 86400, lifetime.seconds == lifetime.seconds.rounded(),
                lifetime.seconds == 0 || lifetime.seconds >= 3600
            else {
                throw decoder.error(
                    "secret_lifetime must be 0 or whole seconds from 1h to 366d, not \(lifetime)",
                    at: node("secret_lifetime"),
                    path: path + ["cookies", "secret_lifetime"]
                )
            }
            cookies.secretLifetime = UInt32(lifetime.seconds)
        }
        return cookies
    }

    /// A block's `tls:` checked: its addresses parse and are not the block's plain ones, and the certificate and key
    /// load now (readable, the certificate valid today, the key its own), so `swiftlet check` finds what would keep
    /// the listener from starting.
    static func tls(
        _ file: ConfigurationFile.TLS?,
        plain: [ListenAddress],
        decoder: ConfigDecoder,
        root: Node,
        index: Int,
        path: [String],
        baseDirectory: String
    ) throws -> TLSListenConfiguration? {
        guard let file else { return nil }
        let section = EncryptedSection(key: "tls", decoder: decoder, root: root, index: index, path: path)
        let listen = try section.addresses(file.listen, plain: plain, protocolName: "DNS over TLS", example: "853")
        let (certificate, key) = try section.certificateAndKey(file.cert, file.key, baseDirectory: baseDirectory)
        return TLSListenConfiguration(listen: listen, certificate: certificate, key: key)
    }

    /// A block's `https:` checked like `tls:`; plain HTTP (no certificate) only when `plain: true` says so.
    static func https(
        _ file: ConfigurationFile.HTTPS?,
        plain: [ListenAddress],
        tls: TLSListenConfiguration?,
        decoder: ConfigDecoder,
        root: Node,
        index: Int,
        path: [String],
        baseDirectory: String
    ) throws -> HTTPSListenConfiguration? {
        guard let file else { return nil }
        let section = EncryptedSection(key: "https", decoder: decoder, root: root, index: index, path: path)
        let listen = try section.addresses(
            file.listen,
            plain: plain + (tls?.listen ?? []),
            protocolName: "DNS over HTTPS",
            example: "443"
        )
        var https = HTTPSListenConfiguration(listen: listen)
        if file.plain == true {
            // Behind a proxy that ends TLS: the certificate is the proxy's, so one here is a mistake.
            if file.cert != nil || file.key != nil {
                throw section.error(
                    "plain: true serves HTTP without TLS (behind a proxy that ends it); remove cert and key, or plain",
                    at: file.cert != nil ? "cert" : "key"
                )
            }
        } else {
            guard let cert = file.cert, let key = file.key else {
                throw section.error(
                    "https needs cert and key (PEM files); for plain HTTP behind a TLS-terminating proxy, say plain: true",
                    at: nil
                )
            }
            (https.certificate, https.key) = try section.certificateAndKey(cert, key, baseDirectory: baseDirectory)
        }
        if let requestPath = file.path {
            guard requestPath.hasPrefix("/"), !requestPath.contains("?"), !requestPath.contains("#"),
                requestPath.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
            else {
                throw section.error("path must be a URI path like /dns-query, not '\(requestPath)'", at: "path")
            }
            https.path = requestPath
        }
        if let streams = file.maxStreams {
            guard (1...10_000).contains(streams) else {
                throw section.error("max_streams must be between 1 and 10000, not \(streams)", at: "max_streams")
            }
            https.maxStreams = streams
        }
        return https
    }

    /// One block's `tls:` or `https:` section, for its checks and their messages.
    struct EncryptedSection {
        let key: String
        let decoder: ConfigDecoder
        let root: Node
        let index: Int
        let path: [String]

        func node(_ keys: [any CodingKey]) -> Node? {
            ConfigDecoder.node(at: [SimpleKey("servers"), IndexKey(self.index), SimpleKey(self.key)] + keys, in: self.root)
        }

        func error(_ message: String, at child: String?) -> ConfigError {
            let keys: [any CodingKey] = child.map { [SimpleKey($0)] } ?? []
            return self.decoder.error(message, at: self.node(keys), path: self.path + [self.key] + (child.map { [$0] } ?? []))
        }

        /// The `listen` list parsed; none may be one of `plain` (the block's other listeners on TCP).
        func addresses(_ texts: [String], plain: [ListenAddress], protocolName: String, example: String) throws
            -> [ListenAddress]
        {
            var listen: [ListenAddress] = []
            for (position, text) in texts.enumerated() {
                let at = self.node([SimpleKey("listen"), IndexKey(position)])
                let path = self.path + [self.key, "listen", "[\(position)]"]
                guard let address = ListenAddress(text) else {
                    throw self.decoder.error(
                        "'\(text)' is not a listen address like 127.0.0.1:\(example) or [::1]:\(example)",
                        at: at,
                        path: path
                    )
                }
                // Port 0 (tests: a free port each) cannot collide.
                guard address.port == 0 || !plain.contains(address) else {
                    throw self.decoder.error(
                        "\(text) is also another listen address of this block; \(protocolName) needs a TCP port of its own",
                        at: at,
                        path: path
                    )
                }
                listen.append(address)
            }
            guard !listen.isEmpty else {
                throw self.error("\(self.key) needs at least one listen address", at: "listen")
            }
            return listen
        }

        /// The PEM files' paths, resolved against the configuration's directory, after loading them as the listener
        /// will.
        func certificateAndKey(_ cert: String, _ key: String, baseDirectory: String) throws -> (String, String) {
            let certificate = PluginContext.resolve(cert, against: baseDirectory)
            let key = PluginContext.resolve(key, against: baseDirectory)
            // The files are loaded by the listener's own code (NIOSSL); the configuration fuzz target builds this
            // file without it, and checks only the configuration's shape.
            #if canImport(NIOSSL)
            do { _ = try TLSServerContext.load(certificate: certificate, key: key) } catch {
                throw self.error(error.message, at: error.message.hasPrefix("cannot read a PEM private key") ? "key" : "cert")
            }
            #endif
            return (certificate, key)
        }
    }

    /// `text` as octets when it is an even number of hexadecimal digits.
    static func hexOctets(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var octets: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else { return nil }
            octets.append(high << 4 | low)
        }
        return octets
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

struct SimpleKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ value: String) { self.stringValue = value }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// The file as decoded before validation; plugin options stay YAML.
struct ConfigurationFile: Decodable {
    struct Block: Decodable {
        var listen: [String]
        var zones: [String]?
        var workers: Int?
        var maxUDPSize: Int?
        var tcpIdleTimeout: OptionDuration?
        var maxTCPConnections: Int?
        var maxTCPConnectionsPerClient: Int?
        var maxTCPQueriesPerConnection: Int?
        var maxInFlight: Int?
        var cookies: Cookies?
        var tls: TLS?
        var https: HTTPS?
        var proxyProtocol: [String]?
        /// Checked for shape here; each entry is decoded by its plugin.
        var plugins: PluginList

        enum CodingKeys: String, CodingKey {
            case listen, zones, workers, plugins
            case maxUDPSize = "max_udp_size"
            case tcpIdleTimeout = "tcp_idle_timeout"
            case maxTCPConnections = "max_tcp_connections"
            case maxTCPConnectionsPerClient = "max_tcp_connections_per_client"
            case maxTCPQueriesPerConnection = "max_tcp_queries_per_connection"
            case maxInFlight = "max_in_flight"
            case cookies, tls, https
            case proxyProtocol = "proxy_protocol"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.listen = try container.decode([String].self, forKey: .listen)
            self.zones = try container.decodeIfPresent([String].self, forKey: .zones)
            self.workers = try container.decodeIfPresent(Int.self, forKey: .workers)
            self.maxUDPSize = try container.decodeIfPresent(Int.self, forKey: .maxUDPSize)
            self.tcpIdleTimeout = try container.decodeIfPresent(OptionDuration.self, forKey: .tcpIdleTimeout)
            self.maxTCPConnections = try container.decodeIfPresent(Int.self, forKey: .maxTCPConnections)
            self.maxTCPConnectionsPerClient = try container.decodeIfPresent(
                Int.self,
                forKey: .maxTCPConnectionsPerClient
            )
            self.maxTCPQueriesPerConnection = try container.decodeIfPresent(
                Int.self,
                forKey: .maxTCPQueriesPerConnection
            )
            self.maxInFlight = try container.decodeIfPresent(Int.self, forKey: .maxInFlight)
            self.cookies = try container.decodeIfPresent(Cookies.self, forKey: .cookies)
            self.tls = try container.decodeIfPresent(TLS.self, forKey: .tls)
            self.https = try container.decodeIfPresent(HTTPS.self, forKey: .https)
            self.proxyProtocol = try container.decodeIfPresent([String].self, forKey: .proxyProtocol)
            self.plugins = try container.decodeIfPresent(PluginList.self, forKey: .plugins) ?? PluginList()
        }
    }

    struct TLS: Decodable {
        var listen: [String]
        var cert: String
        var key: String
    }

    struct HTTPS: Decodable {
        var listen: [String]
        var cert: String?
        var key: String?
        var path: String?
        var plain: Bool?
        var maxStreams: Int?

        enum CodingKeys: String, CodingKey {
            case listen, cert, key, path, plain
            case maxStreams = "max_streams"
        }
    }

    struct Cookies: Decodable {
        var enabled: Bool?
        var secret: String?
        var previousSecret: String?
        var secretLifetime: OptionDuration?

        enum CodingKeys: String, CodingKey {
            case enabled, secret
            case previousSecret = "previous_secret"
            case secretLifetime = "secret_lifetime"
        }
    }

    /// Accepts any list; the entries are validated one by one with their plugin.
    struct PluginList: Decodable {
        init() {}
        init(from decoder: any Decoder) throws {
            // Only the shape: a list. Entries are read as raw YAML by Configuration.parse.
            var container = try decoder.unkeyedContainer()
            while !container.isAtEnd { _ = try container.superDecoder() }
        }
    }

    struct Admin: Decodable {
        var listen: String
        var token: String?
        var tokenFile: String?
        var requestTimeout: OptionDuration?

        enum CodingKeys: String, CodingKey {
            case listen, token
            case tokenFile = "token_file"
            case requestTimeout = "request_timeout"
        }
    }

    struct Log: Decodable {
        var level: String?
    }

    var servers: [Block]
    var admin: Admin?
    var log: Log?
    var stateDir: String?

    enum CodingKeys: String, CodingKey {
        case servers, admin, log
        case stateDir = "state_dir"
    }
}
