// RecursiveInternetTests: a fake Internet on 127.54.0.x port 53 (Swiftlet zone servers and a knotd), resolved by
// the recursive plugin, checked name by name, query by query, and against Debian's unbound on the same tree.

import Foundation
import Pipeline
import SwiftletTestSupport
import Synchronization
import Testing

@testable import Host
@testable import Plugins

/// `- count: { name: root }`: counts the queries a server receives (for the fake Internet's servers).
enum CountPlugin: Plugin {
    struct Options: Decodable, Sendable {
        var name: String
    }
    static let name = "count"
    static let summary = "test: counts queries"
    static let optionsHelp: [OptionHelp] = []
    static let counts = Mutex<[String: Int]>([:])

    static func setup(_ options: Options, context: PluginContext, into builder: inout ChainBuilder) throws {
        builder.add(CountHandler(name: options.name))
    }

    static func total(_ names: [String]) -> Int {
        CountPlugin.counts.withLock { counts in names.reduce(0) { $0 + (counts[$1] ?? 0) } }
    }
}

struct CountHandler: QueryHandler {
    let name: String
    func handle(_ query: inout Query) -> Verdict {
        CountPlugin.counts.withLock { $0[self.name, default: 0] += 1 }
        return .next
    }
}

/// The tree: the root (.1), `test.` (.2), `example.` (knotd, .3), six SLDs under each TLD (.4 and .5), and `oob.test.`
/// (.6) whose only name server is in `ext.example.` without glue. Every SLD has addresses, AAAA for half of them (the
/// rest NODATA), MX, `www` CNAME, a CNAME into the other TLD, a wildcard and a DNAME into the other TLD.
struct FakeInternet {
    static let prefix = "127.54.0"
    static let tlds = ["test", "example"]
    static let slds = 6
    let directory: URL
    var servers: [TestServer] = []
    var knot: KnotServer? = nil

    var hints: String { self.directory.appendingPathComponent("root.hints").path }

    static func zones() -> [(origin: String, server: Int, text: String)] {
        let p = FakeInternet.prefix
        let soa = "@ 3600 IN SOA ns1 hostmaster 1 3600 900 604800 300"
        var zones: [(String, Int, String)] = []
        zones.append(
            (
                ".", 1,
                """
                $TTL 3600
                . SOA a.root-servers.net. hostmaster.root-servers.net. 1 3600 900 604800 300
                . NS a.root-servers.net.
                a.root-servers.net. A \(p).1
                test. NS ns.nic.test.
                ns.nic.test. A \(p).2
                example. NS ns.nic.example.
                ns.nic.example. A \(p).3
                """
            )
        )
        for (t, tld) in FakeInternet.tlds.enumerated() {
            var text = "$ORIGIN \(tld).\n$TTL 3600\n\(soa)\n@ NS ns.nic\nns.nic A \(p).\(2 + t)\n"
            for n in 0..<FakeInternet.slds { text += "s\(n) NS ns1.s\(n)\nns1.s\(n) A \(p).\(4 + t)\n" }
            if tld == "test" {
                text += "oob NS ns.ext.example.\n"
            } else {
                text += "ext NS ns1.ext\nns1.ext A \(p).5\n"
            }
            zones.append((tld + ".", 2 + t, text))
            for n in 0..<FakeInternet.slds {
                let other = FakeInternet.tlds[1 - t]
                var sld = "$ORIGIN s\(n).\(tld).\n$TTL 3600\n\(soa)\n@ NS ns1\nns1 A \(p).\(4 + t)\n@ MX 10 mail\n"
                sld += "mail A 198.51.\(n).250\nwww CNAME h0\nc0 CNAME h1.s\((n + 1) % FakeInternet.slds).\(other).\n"
                sld += "*.wild A 192.0.2.\(n)\nalias DNAME s\(n).\(other).\n"
                for h in 0..<10 { sld += "h\(h) A 198.\(18 + t).\(n).\(h)\n" }
                for h in 0..<5 { sld += "h\(h) AAAA 2001:db8:\(t):\(n)::\(h)\n" }
                zones.append(("s\(n).\(tld).", 4 + t, sld))
            }
        }
        zones.append(
            ("ext.example.", 5, "$ORIGIN ext.example.\n$TTL 3600\n\(soa)\n@ NS ns1\nns1 A \(p).5\nns A \(p).6\n")
        )
        zones.append(("oob.test.", 6, "$ORIGIN oob.test.\n$TTL 3600\n\(soa)\n@ NS ns.ext.example.\nwww A 192.0.2.66\n"))
        return zones
    }

    /// The names asked: a few hundred, of every kind the tree has.
    static func questions() -> [(String, RecordType)] {
        var list: [(String, RecordType)] = []
        for tld in FakeInternet.tlds {
            for n in 0..<FakeInternet.slds {
                let zone = "s\(n).\(tld)."
                for h in 0..<10 { list.append(("h\(h).\(zone)", .a)) }
                for h in 3..<7 { list.append(("h\(h).\(zone)", .aaaa)) }
                list += [
                    (zone, .mx), ("www.\(zone)", .a), ("c0.\(zone)", .a), ("x.wild.\(zone)", .a),
                    ("h2.alias.\(zone)", .a), ("nx.\(zone)", .a), ("mail.\(zone)", .aaaa), (zone, .ns),
                ]
            }
        }
        list += [("www.oob.test.", .a), ("nothing.test.", .a), ("tld-that-is-not.", .a), ("test.", .soa)]
        return list
    }

    static func start() async throws -> FakeInternet {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-net-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var net = FakeInternet(directory: directory)
        try ". 3600000 NS a.root-servers.net.\na.root-servers.net. 3600000 A \(FakeInternet.prefix).1\n".write(
            toFile: net.hints,
            atomically: true,
            encoding: .utf8
        )
        var byServer: [Int: [(String, String)]] = [:]
        for zone in FakeInternet.zones() {
            let file = directory.appendingPathComponent("\(zone.origin == "." ? "root" : zone.origin)zone").path
            try zone.text.write(toFile: file, atomically: true, encoding: .utf8)
            byServer[zone.server, default: []].append((zone.origin, file))
        }
        do {
            for (server, zones) in byServer.sorted(by: { $0.key < $1.key }) {
                if server == 3 && KnotServer.available {
                    let zone = zones[0]
                    net.knot = try await blocking {
                        try KnotServer.start(zone: zone.1, origin: zone.0, host: "\(FakeInternet.prefix).3", port: 53)
                    }
                    continue
                }
                let list = zones.map { "{ origin: \"\($0.0)\", file: \($0.1) }" }.joined(separator: ", ")
                net.servers.append(
                    try await TestServer.start(
                        plugins: "      - count: { name: \"\(server)\" }\n      - zone: { zones: [\(list)] }",
                        listen: "\(FakeInternet.prefix).\(server):53",
                        plugins: Registry.builtIn + [CountPlugin.self]
                    )
                )
            }
        } catch {
            await net.stop()
            throw error
        }
        return net
    }

    /// Runs `body` with the tree up, and always takes it down.
    static func with(_ body: (FakeInternet) async throws -> Void) async throws {
        let net = try await FakeInternet.start()
        do { try await body(net) } catch {
            await net.stop()
            throw error
        }
        await net.stop()
    }

    /// Queries the Swiftlet servers of the tree received so far (knotd's are not counted).
    var queriesReceived: Int { CountPlugin.total(["1", "2", "3", "4", "5", "6"]) }

    func stop() async {
        for server in self.servers { await server.stop() }
        self.knot?.stop()
        try? FileManager.default.removeItem(at: self.directory)
    }
}

/// Debian's unbound as a plain iterator over the same tree (`shared/bench`'s settings).
struct UnboundResolver {
    let process: Process
    let directory: URL
    let port: UInt16

    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/unbound") }

    static func start(hints: String) throws -> UnboundResolver {
        let port = Binaries.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-unbound-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            server:
                interface: 127.0.0.1
                port: \(port)
                do-ip6: no
                do-daemonize: no
                username: ""
                chroot: ""
                directory: "\(directory.path)"
                pidfile: ""
                use-syslog: no
                verbosity: 0
                root-hints: "\(hints)"
                do-not-query-localhost: no
                module-config: "iterator"
                local-zone: "test." nodefault
                qname-minimisation: yes
                minimal-responses: yes
            remote-control:
                control-enable: no
            """
        let resolver = UnboundResolver(
            process: try UnboundServer.launch(config, in: directory),
            directory: directory,
            port: port
        )
        let client = DNSClient(server: resolver.address, timeout: 0.3)
        for _ in 0..<100 {
            if (try? client.exchange(query("localhost.", .a))) != nil { return resolver }
            usleep(100_000)
        }
        resolver.stop()
        throw DNSClientError.timeout
    }

    var address: ListenAddress { ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: self.port) }

    func stop() {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.directory)
    }
}

@Suite(.serialized) struct RecursiveInternetTests {
    /// A response as compared: RCODE, RA/AA, and each section as a set of records without TTLs (letter case folded).
    static func summary(_ message: Message) -> String {
        func set(_ records: [Record]) -> [String] {
            records.filter { $0.type != .opt }.map { record in
                var copy = record
                copy.ttl = 0
                return "\(copy)".lowercased()
            }.sorted()
        }
        return
            "\(message.responseCode) ra=\(message.header.recursionAvailable) aa=\(message.header.isAuthoritative) answer=\(set(message.answers)) authority=\(set(message.authorities))"
    }

    static func resolverConfig(_ net: FakeInternet) -> String {
        "      - cache: {}\n      - recursive: { root_hints: \(net.hints), allow_loopback: true, ipv6: off }"
    }

    @Test(.enabled(if: Tools.gate(KnotServer.available))) func resolvesTheTreeAndCachesIt() async throws {
        try Tools.require(KnotServer.available, "knotd")
        try await FakeInternet.with { net in try await self.resolvesTheTree(net) }
    }

    func resolvesTheTree(_ net: FakeInternet) async throws {
        try await withServer(
            plugins: RecursiveInternetTests.resolverConfig(net),
            types: Registry.builtIn + [CountPlugin.self]
        ) { server in
            // Explicit answers for each kind of name.
            func ask(_ name: String, _ type: RecordType) async throws -> Message {
                try await server.ask(query(name, type))
            }
            let a = try await ask("h3.s1.test.", .a)
            #expect(a.responseCode == .noError && a.header.recursionAvailable && !a.header.isAuthoritative)
            #expect(a.answers.map(\.description) == ["h3.s1.test.\t3600\tIN\tA\t198.18.1.3"])
            let cname = try await ask("c0.s2.test.", .a)
            #expect(
                Set(cname.answers.map(brief)) == ["c0.s2.test. cname h1.s3.example.", "h1.s3.example. a 198.19.3.1"]
            )
            let wildcard = try await ask("x.wild.s4.example.", .a)
            #expect(wildcard.answers.map(brief) == ["x.wild.s4.example. a 192.0.2.4"])
            let dname = try await ask("h2.alias.s0.test.", .a)
            #expect(
                Set(dname.answers.map(brief)) == [
                    "alias.s0.test. dname s0.example.", "h2.alias.s0.test. cname h2.s0.example.",
                    "h2.s0.example. a 198.19.0.2",
                ]
            )
            let oob = try await ask("www.oob.test.", .a)
            #expect(oob.answers.map(brief) == ["www.oob.test. a 192.0.2.66"])
            let nx = try await ask("nx.s5.example.", .a)
            #expect(nx.responseCode == .nxDomain && nx.answers.isEmpty && nx.authorities.map(\.type) == [.soa])
            let nodata = try await ask("h8.s5.example.", .aaaa)
            #expect(
                nodata.responseCode == .noError && nodata.answers.isEmpty && nodata.authorities.map(\.type) == [.soa]
            )
            // The whole list, cold: about one query per name once the TLDs' delegations are known.
            let questions = FakeInternet.questions()
            let before = net.queriesReceived
            for (name, type) in questions {
                let answer = try await ask(name, type)
                #expect(answer.responseCode != .servFail, "\(name) \(type)")
            }
            let cold = net.queriesReceived - before
            #expect(cold > 0 && cold <= 3 * questions.count, "queries for \(questions.count) names: \(cold)")
            // Warm: everything from the caches, not one query.
            let warmStart = net.queriesReceived
            for (name, type) in questions { _ = try await ask(name, type) }
            #expect(net.queriesReceived == warmStart)
            // Other classes are refused, and do not make the root lame for class IN.
            var chaos = query("version.bind.", .txt)
            chaos.questions[0].recordClass = .ch
            #expect(try await server.ask(chaos).responseCode == .refused)
            #expect(try await ask("another-missing-tld.", .a).responseCode == .nxDomain)
            // The question's case is the client's.
            let mixed = try await server.ask(query("H3.S1.Test.", .a))
            #expect(mixed.questions[0].name.description == "H3.S1.Test.")
        }
    }

    @Test(.enabled(if: Tools.gate(KnotServer.available && UnboundResolver.available))) func answersMatchUnbound() async throws {
        try Tools.require(KnotServer.available && UnboundResolver.available, "knotd and unbound")
        try await FakeInternet.with { net in try await self.compareWithUnbound(net) }
    }

    func compareWithUnbound(_ net: FakeInternet) async throws {
        let hints = net.hints
        let unbound = try await blocking { try UnboundResolver.start(hints: hints) }
        defer { unbound.stop() }
        let unboundClient = DNSClient(server: unbound.address, timeout: 3)
        try await withServer(plugins: RecursiveInternetTests.resolverConfig(net)) { server in
            var compared = 0
            for (name, type) in FakeInternet.questions() {
                let ours = try await server.ask(query(name, type))
                let theirs = try await blocking { try unboundClient.exchange(query(name, type)) }
                #expect(
                    RecursiveInternetTests.summary(ours) == RecursiveInternetTests.summary(theirs),
                    "\(name) \(type)"
                )
                compared += 1
            }
            #expect(compared > 200)
        }
    }
}

@Suite struct RecursiveConfigurationTests {
    static func chain(_ plugins: String) -> String {
        "servers:\n  - listen: [\"127.0.0.1:5399\"]\n    plugins:\n\(plugins)\n"
    }

    @Test func optionsAreCheckedWithClearErrors() {
        #expect(buildError(Self.chain("      - recursive: {}")) == "built")
        #expect(
            buildError(Self.chain("      - cache: {}\n      - recursive: { qname_minimisation: strict }")) == "built"
        )
        #expect(
            buildError(Self.chain("      - recursive: { limits: { depth: 0 } }")).contains(
                "limits.depth: must be from 1 to 64, not 0"
            )
        )
        #expect(buildError(Self.chain("      - recursive: { qname_minimisation: sometimes }")).contains("test.yaml:4:"))
        #expect(buildError(Self.chain("      - recursive: { limits: { hops: 3 } }")).contains("hops"))
        #expect(
            buildError(Self.chain("      - recursive: { root_hints: no-such.hints }")).contains(
                "root_hints: cannot read"
            )
        )
        // The cache stores what recursive learns, so it has to come first.
        #expect(buildError(Self.chain("      - recursive: {}\n      - cache: {}")).contains("cache"))
    }

    @Test func rootHintsFilesAreReadOrRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-hints-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.hints").path
        try ".\t3600000\tNS\tA.ROOT-SERVERS.NET.\nA.ROOT-SERVERS.NET.\t3600000\tA\t198.41.0.4\n".write(
            toFile: good,
            atomically: true,
            encoding: .utf8
        )
        let hints = try RootHints.load(path: good)
        #expect(hints.servers.map(\.name) == [name("a.root-servers.net.")])
        #expect(hints.servers[0].addresses == [IPAddress("198.41.0.4")!])
        let empty = directory.appendingPathComponent("empty.hints").path
        try ". 3600000 NS a.root-servers.net.\n".write(toFile: empty, atomically: true, encoding: .utf8)
        #expect(throws: PluginSetupError.self) { try RootHints.load(path: empty) }
        let broken = directory.appendingPathComponent("broken.hints").path
        try ". 3600000 NS\n".write(toFile: broken, atomically: true, encoding: .utf8)
        #expect(buildError(Self.chain("      - recursive: { root_hints: \(broken) }")).contains("broken.hints:1:"))
        #expect(RootHints.builtIn.servers.count == 13)
    }
}

// On the fake Internet's addresses, so in its serialized suite.
extension RecursiveInternetTests {
    /// `forward` for one domain and `recursive` for the rest, in one chain.
    @Test(.enabled(if: Tools.gate(KnotServer.available))) func forwardAndRecursiveShareAChain() async throws {
        try Tools.require(KnotServer.available, "knotd")
        let upstream = try FakeUpstream { query, _ in
            .reply(answer("\(query.questions[0].name) 60 IN A 192.0.2.53"))
        }
        defer { upstream.stop() }
        try await FakeInternet.with { net in
            try await withServer(
                plugins: """
                          - cache: {}
                          - forward: { to: ["\(upstream.address)"], zones: [corp.example.] }
                          - recursive: { root_hints: \(net.hints), allow_loopback: true, ipv6: off }
                    """
            ) { server in
                let forwarded = try await server.ask(query("intranet.corp.example.", .a))
                #expect(forwarded.answers.map(brief) == ["intranet.corp.example. a 192.0.2.53"])
                let resolved = try await server.ask(query("h1.s2.example.", .a))
                #expect(resolved.answers.map(brief) == ["h1.s2.example. a 198.19.2.1"])
                #expect(upstream.queries.udp == 1)
            }
        }
    }
}

// On the fake Internet's addresses, so in its serialized suite.
extension RecursiveInternetTests {
    /// A hostile upstream for `corp.example.` tries to take over recursion for `test.` (an NS set and glue in its
    /// authority and additional sections), to plant an out-of-zone CNAME target's address, and to deny a real zone
    /// through a CNAME into it with NXDOMAIN. None of it is stored: afterwards `recursive` resolves those names from
    /// the real tree, the attacker's server is never asked, and the planted records are never served for their names.
    @Test(.enabled(if: Tools.gate(KnotServer.available))) func aForwarderCannotPoisonTheCacheForRecursion() async throws {
        try Tools.require(KnotServer.available, "knotd")
        let evil = try FakeUpstream(host: "\(FakeInternet.prefix).66", port: 53) { query, _ in
            .reply(answer("\(query.questions[0].name) 86400 IN A 6.6.6.6"))
        }
        defer { evil.stop() }
        let corp = try FakeUpstream { query, _ in
            let name = query.questions[0].name.description
            var reply: Message
            switch name {
            case "a.corp.example.":
                reply = answer("a.corp.example. 60 IN A 10.0.0.1", authority: ["test. 86400 IN NS ns.evil.corp.example."])
                reply.additionals = [
                    rr("ns.evil.corp.example. 86400 IN A \(FakeInternet.prefix).66"),
                    rr("ns.nic.test. 86400 IN A \(FakeInternet.prefix).66"),
                    rr("a.root-servers.net. 86400 IN A \(FakeInternet.prefix).66"),
                ]
            case "b.corp.example.":
                reply = answer("b.corp.example. 60 IN CNAME h1.s1.test.", "h1.s1.test. 86400 IN A 6.6.6.6")
            case "c.corp.example.":
                reply = answer(
                    "c.corp.example. 60 IN CNAME s2.test.",
                    code: .nxDomain,
                    authority: ["test. 3600 IN SOA ns.nic.test. hostmaster.test. 1 3600 900 604800 3600"]
                )
            default:
                reply = answer(code: .nxDomain)
            }
            return .reply(reply)
        }
        defer { corp.stop() }
        try await FakeInternet.with { net in
            try await withServer(
                plugins: """
                          - cache: {}
                          - forward: { to: ["\(corp.address)"], zones: [corp.example.] }
                          - recursive: { root_hints: \(net.hints), allow_loopback: true, ipv6: off }
                    """
            ) { server in
                // The attacker's replies come first, into an empty cache.
                let first = try await server.ask(query("a.corp.example.", .a))
                #expect(first.answers.map(brief) == ["a.corp.example. a 10.0.0.1"])
                // The client is not handed the foreign delegation or glue either.
                #expect(first.authorities.isEmpty && first.additionals.isEmpty)
                let alias = try await server.ask(query("b.corp.example.", .a))
                #expect(alias.answers.map(brief) == ["b.corp.example. cname h1.s1.test.", "h1.s1.test. a 6.6.6.6"])
                #expect(try await server.ask(query("c.corp.example.", .a)).responseCode == .nxDomain)
                #expect(corp.queries.udp == 3)
                // Now the real tree: test.'s names from test.'s real servers.
                let h1 = try await server.ask(query("h1.s1.test.", .a))
                #expect(h1.responseCode == .noError && h1.answers.map(brief) == ["h1.s1.test. a 198.18.1.1"])
                let h3 = try await server.ask(query("h3.s0.test.", .a))
                #expect(h3.answers.map(brief) == ["h3.s0.test. a 198.18.0.3"])
                let apex = try await server.ask(query("s2.test.", .soa))
                #expect(apex.responseCode == .noError && apex.answers.map(\.type) == [.soa])
                let inside = try await server.ask(query("h0.s2.test.", .a))
                #expect(inside.answers.map(brief) == ["h0.s2.test. a 198.18.2.0"])
                #expect(evil.queries.udp == 0 && evil.queries.tcp == 0)
                // The RRset cache holds none of the planted data.
                let cache = server.server.rrsetCaches[0]
                let now = Clock.nanoseconds()
                if let ns = cache.lookup(RRsetCache.Key(name: name("test."), type: .ns), now: now),
                    case .records(let records, _) = ns.content
                {
                    #expect(records.map(brief) == ["test. ns ns.nic.test."])
                }
                #expect(cache.lookup(RRsetCache.Key(name: name("ns.evil.corp.example."), type: .a), now: now) == nil)
                #expect(cache.lookup(RRsetCache.Key(name: name("s2.test."), type: RecordType(0)), now: now) == nil)
            }
        }
    }
}
