// RootHints: where resolution starts before the root's NS set is primed (RFC 8109): built in, or a hints file.

import Foundation
import Pipeline

/// The root name servers and their addresses, used to prime the root NS set (RFC 8109 §3) and whenever the cache
/// has no root NS set.
struct RootHints: Sendable, Equatable {
    struct Server: Sendable, Equatable {
        var name: DomainName
        var addresses: [IPAddress]
    }

    var servers: [Server]

    /// IANA's root servers (named.root of 2024, b.root-servers.net at its 2023 addresses).
    static let builtIn: RootHints = {
        let table: [(String, String, String)] = [
            ("a", "198.41.0.4", "2001:503:ba3e::2:30"),
            ("b", "170.247.170.2", "2801:1b8:10::b"),
            ("c", "192.33.4.12", "2001:500:2::c"),
            ("d", "199.7.91.13", "2001:500:2d::d"),
            ("e", "192.203.230.10", "2001:500:a8::e"),
            ("f", "192.5.5.241", "2001:500:2f::f"),
            ("g", "192.112.36.4", "2001:500:12::d0d"),
            ("h", "198.97.190.53", "2001:500:1::53"),
            ("i", "192.36.148.17", "2001:7fe::53"),
            ("j", "192.58.128.30", "2001:503:c27::2:30"),
            ("k", "193.0.14.129", "2001:7fd::1"),
            ("l", "199.7.83.42", "2001:500:9f::42"),
            ("m", "202.12.27.33", "2001:dc3::35"),
        ]
        return RootHints(
            servers: table.map { letter, v4, v6 in
                Server(
                    name: try! DomainName("\(letter).root-servers.net."),
                    addresses: [IPAddress(v4)!, IPAddress(v6)!]
                )
            }
        )
    }()

    /// Reads a hints file: `. NS name` records and the names' A and AAAA records, in master-file syntax.
    static func load(path: String) throws -> RootHints {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PluginSetupError(option: "root_hints", "cannot read '\(path)': \(error.localizedDescription)")
        }
        let records: [Record]
        do { records = try ZoneFile.parse(file: text, path: path, origin: .root, defaultTTL: 3_600_000) } catch {
            throw PluginSetupError(option: "root_hints", "\(error)")
        }
        var servers: [Server] = []
        for record in records {
            guard record.name.isRoot, case .ns(let name) = record.rdata else { continue }
            let addresses = records.compactMap { $0.name == name ? $0.rdata.address : nil }
            servers.append(Server(name: name, addresses: addresses))
        }
        guard servers.contains(where: { !$0.addresses.isEmpty }) else {
            throw PluginSetupError(
                option: "root_hints",
                "'\(path)' names no root server with an address (it needs '. NS name' and 'name A address' lines)"
            )
        }
        return RootHints(servers: servers)
    }
}
