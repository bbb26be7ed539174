// FilterServerTests: the filter plugin in a running server: response modes, groups by client address, CNAME
// cloaking through a real upstream, URL lists, the admin API, and reloads under load.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Pipeline
import Plugins
import SwiftletTestSupport
import Synchronization
import Testing

@testable import Host

@Suite(.serialized) struct FilterServerTests {
    static let token = "test-token-0123456789abcdef"

    /// A fresh directory with `files` written into it.
    func directory(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-filter-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return url
    }

    func ede(_ message: Message) -> ExtendedError? {
        for option in message.edns?.options ?? [] {
            if case .extendedError(let error) = option { return error }
        }
        return nil
    }

    /// Calls the admin API; returns the status and body.
    func api(
        _ server: TestServer,
        _ method: HTTPMethod,
        _ path: String,
        body: String? = nil,
        token: String? = FilterServerTests.token
    ) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(server.server.adminPort!)\(path)")
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    @Test func responseModes() async throws {
        let lists = try self.directory(["ads.txt": "||ads.example^\n"])
        let soa =
            "ads.example.\t60\tIN\tSOA\tblocked.swiftlet.invalid. hostmaster.swiftlet.invalid. 1 1800 900 604800 60"
        let cases: [(String, RecordType, ResponseCode, [String], [String])] = [
            ("null_ip", .a, .noError, ["ads.example.\t60\tIN\tA\t0.0.0.0"], []),
            ("null_ip", .aaaa, .noError, ["ads.example.\t60\tIN\tAAAA\t::"], []),
            ("null_ip", .txt, .noError, [], [soa]),
            ("nxdomain", .a, .nxDomain, [], [soa]),
            ("nodata", .a, .noError, [], [soa]),
            ("refused", .a, .refused, [], []),
            ("{ a: 192.0.2.7, aaaa: \"2001:db8::7\" }", .a, .noError, ["ads.example.\t60\tIN\tA\t192.0.2.7"], []),
            (
                "{ a: 192.0.2.7, aaaa: \"2001:db8::7\" }", .aaaa, .noError, ["ads.example.\t60\tIN\tAAAA\t2001:db8::7"],
                []
            ),
            ("{ a: 192.0.2.7 }", .aaaa, .noError, [], [soa]),
        ]
        for (mode, type, rcode, answers, authority) in cases {
            let plugins = """
                      - filter: { lists: [{ name: ads, source: \(lists.path)/ads.txt }], response: \(mode) }
                      - echo: {}
                """
            try await withServer(plugins: plugins) { server in
                let reply = try await server.ask(query("ads.example.", type))
                #expect(reply.responseCode == rcode, "\(mode) \(type)")
                #expect(reply.header.recursionAvailable && !reply.header.isAuthoritative)
                #expect(reply.answers.map(\.description) == answers, "\(mode) \(type)")
                #expect(reply.authorities.map(\.description) == authority, "\(mode) \(type)")
                #expect(
                    self.ede(reply)
                        == ExtendedError(infoCode: .blocked, extraText: "blocked by list ads: ||ads.example^")
                )
                // Without EDNS there is no room for the Extended DNS Error; the answer is the same.
                let plain = try await server.ask(query("ads.example.", type, edns: false))
                #expect(plain.responseCode == rcode && plain.edns == nil && plain.answers == reply.answers)
                // Names not on the list go on down the chain (echo puts the client's address in additional).
                let passed = try await server.ask(query("www.example.", .a))
                #expect(self.ede(passed) == nil && passed.additionals.first?.rdata == .a(IPv4Address(127, 0, 0, 1)))
            }
        }
    }

    @Test func groupsByClientAddressAreSeparateCacheViews() async throws {
        let lists = try self.directory([
            "ads.txt": "||ads.example^\n@@||ok.ads.example^\n",
            "adult.txt": "0.0.0.0 adult.example\n",
        ])
        let plugins = """
                  - filter:
                      lists: [{ name: ads, source: \(lists.path)/ads.txt }, { name: adult, source: \(lists.path)/adult.txt }]
                      groups:
                        - { name: default, lists: [ads] }
                        - { name: kids, clients: ["127.0.0.2/32"], lists: [ads, adult] }
                      allow: ["allowed.ads.example"]
                      block: ["||inline.example^"]
                  - echo: {}
            """
        try await withServer(plugins: plugins) { server in
            // The kids' answer is cached in their view first; the default group must never see it.
            for _ in 0..<2 {
                let kids = try await server.ask(query("adult.example.", .a), from: "127.0.0.2")
                #expect(kids.answers.map(\.rdata) == [.a(IPv4Address(0, 0, 0, 0))])
                #expect(
                    self.ede(kids)
                        == ExtendedError(
                            infoCode: .filtered,
                            extraText: "blocked by list adult: adult.example (group kids)"
                        )
                )
            }
            for _ in 0..<2 {
                let adults = try await server.ask(query("adult.example.", .a), from: "127.0.0.1")
                #expect(adults.additionals.first?.rdata == .a(IPv4Address(127, 0, 0, 1)) && self.ede(adults) == nil)
            }
            for source in ["127.0.0.1", "127.0.0.2"] {
                let ads = try await server.ask(query("x.ads.example.", .a), from: source)
                #expect(
                    self.ede(ads) == ExtendedError(infoCode: .blocked, extraText: "blocked by list ads: ||ads.example^")
                )
                let inline = try await server.ask(query("inline.example.", .a), from: source)
                #expect(self.ede(inline)?.extraText == "blocked by list custom: ||inline.example^")
                for allowed in ["ok.ads.example.", "allowed.ads.example."] {
                    let reply = try await server.ask(query(allowed, .a), from: source)
                    #expect(self.ede(reply) == nil && reply.additionals.first?.rdata == .a(IPv4Address(source)!))
                }
            }
        }
    }

    @Test func cnameCloakingIsBlockedThroughARealUpstream() async throws {
        let files = try self.directory([
            "example.org.zone": """
            $ORIGIN example.org.
            $TTL 300
            @      SOA ns1 hostmaster 1 3600 600 86400 60
            @      NS  ns1
            ns1    A   192.0.2.53
            cloak  CNAME tracker.adnet.example.
            clean  CNAME www
            www    A   192.0.2.1
            """,
            "ads.txt": "||adnet.example^\n",
        ])
        try await withServer(
            plugins: "      - zone: { zones: [{ origin: example.org., file: \(files.path)/example.org.zone }] }"
        ) {
            upstream in
            let plugins = """
                      - filter: { lists: [{ name: ads, source: \(files.path)/ads.txt }] }
                      - cache: {}
                      - forward: { to: ["\(upstream.address)"] }
                """
            try await withServer(plugins: plugins) { server in
                for _ in 0..<2 {
                    let cloaked = try await server.ask(query("cloak.example.org.", .a))
                    #expect(cloaked.answers.map(\.description) == ["cloak.example.org.\t60\tIN\tA\t0.0.0.0"])
                    #expect(
                        self.ede(cloaked)
                            == ExtendedError(
                                infoCode: .blocked,
                                extraText: "CNAME target tracker.adnet.example. blocked by list ads: ||adnet.example^"
                            )
                    )
                }
                let clean = try await server.ask(query("clean.example.org.", .a))
                #expect(
                    clean.answers.map(\.rdata) == [.cname(name("www.example.org.")), .a(IPv4Address(192, 0, 2, 1))]
                )
            }
        }
        // Switched off, the CNAME answer passes.
        try await withServer(
            plugins: "      - zone: { zones: [{ origin: example.org., file: \(files.path)/example.org.zone }] }"
        ) {
            upstream in
            let plugins = """
                      - filter: { lists: [{ name: ads, source: \(files.path)/ads.txt }], block_cname_targets: false }
                      - forward: { to: ["\(upstream.address)"] }
                """
            try await withServer(plugins: plugins) { server in
                let cloaked = try await server.ask(query("cloak.example.org.", .a))
                #expect(cloaked.answers.map(\.rdata) == [.cname(name("tracker.adnet.example."))])
            }
        }
    }

    @Test func urlListsAreFetchedRevalidatedAndKeptOnError() async throws {
        let http = try await TestHTTPServer()
        http.set(body: "||urlads.example^\n")
        let plugins = """
                  - filter: { lists: [{ name: remote, source: "\(http.url)", refresh: 1h }] }
                  - echo: {}
            """
        try await withServer(plugins: plugins, admin: true, token: Self.token) { server in
            let blocked = try await eventually {
                self.ede(try await server.ask(query("urlads.example.", .a))) != nil
            }
            #expect(blocked)
            // Unchanged: a conditional request gets 304 and the rules stay.
            var (status, body) = try await self.api(server, .POST, "/api/filters/cache/reload")
            #expect(status == 200 && body.contains("\"totalCachedRules\":1"))
            #expect(http.state.withLock { $0.notModified } == 1)
            // Changed: the new body replaces the rules.
            http.set(body: "||other.example^\n")
            (status, body) = try await self.api(server, .POST, "/api/filters/cache/reload")
            #expect(status == 200)
            #expect(self.ede(try await server.ask(query("urlads.example.", .a))) == nil)
            #expect(self.ede(try await server.ask(query("other.example.", .a))) != nil)
            // The server fails: keep_previous keeps the rules and reports the error.
            http.state.withLock {
                $0.status = 500
                $0.version += 1
            }
            (status, body) = try await self.api(server, .POST, "/api/filters/cache/reload")
            #expect(body.contains("kept the previous rules: remote failed to load"))
            #expect(body.contains("HTTP 500"))
            #expect(self.ede(try await server.ask(query("other.example.", .a))) != nil)
        }
        await http.stop()
    }

    @Test func unreadableListsFollowOnLoadError() async throws {
        let lists = try self.directory(["ok.txt": "||ok-list.example^\n"])
        for (mode, blocksEverything) in [("fail_open", false), ("fail_closed", true), ("keep_previous", false)] {
            let plugins = """
                      - filter:
                          lists: [{ name: ok, source: \(lists.path)/ok.txt }, { name: gone, source: \(lists.path)/missing.txt }]
                          on_load_error: \(mode)
                      - echo: {}
                """
            try await withServer(plugins: plugins) { server in
                let listed = try await server.ask(query("ok-list.example.", .a))
                #expect(self.ede(listed)?.infoCode == .blocked, "\(mode)")
                let other = try await server.ask(query("www.example.", .a))
                #expect((self.ede(other) != nil) == blocksEverything, "\(mode)")
            }
        }
    }

    @Test func adminAPI() async throws {
        let lists = try self.directory([
            "ads.txt": "||ads.example^\nnot a rule at all\n||fine.example^\n||x.example^$third-party\n"
        ])
        let plugins = """
                  - filter: { lists: [{ name: ads, source: \(lists.path)/ads.txt }] }
                  - echo: {}
            """
        try await withServer(plugins: plugins, admin: true, token: Self.token) { server in
            var (status, body) = try await self.api(server, .GET, "/api/filters/cache/stats", token: nil)
            #expect(status == 401 && body == #"{"error":"missing or wrong bearer token"}"#)
            (status, _) = try await self.api(server, .GET, "/api/filters/cache/stats", token: "wrong-token-0123456789")
            #expect(status == 401)
            (status, body) = try await self.api(server, .GET, "/api/filters/cache/stats")
            #expect(status == 200)
            let stats = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
            #expect(stats["totalCachedRules"] as? Int == 2 && stats["wildcardRulesCount"] as? Int == 2)
            #expect(stats["enabledListsCount"] as? Int == 1)
            #expect((stats["memoryBytes"] as? Int ?? 0) > 0)
            let listStats = (stats["lists"] as! [[String: Any]])[1]
            #expect(listStats["name"] as? String == "ads" && listStats["rules"] as? Int == 2)
            #expect(listStats["skippedLines"] as? Int == 2)
            #expect(
                listStats["skippedExamples"] as? [String] == [
                    "line 2: 'not' is neither a rule nor an address (rules hold no spaces)",
                    "line 4: modifier $third-party is not supported for DNS filtering",
                ]
            )

            (status, body) = try await self.api(
                server,
                .POST,
                "/api/filters/check",
                body: #"{"domain": "www.ads.example", "client_ip": "127.0.0.1"}"#
            )
            #expect(status == 200)
            #expect(
                body
                    == #"{"blocked":true,"group":"default","line":1,"list":"ads","reason":"blocked","rule":"||ads.example^"}"#
            )
            (status, body) = try await self.api(
                server,
                .POST,
                "/api/filters/check",
                body: #"{"domain": "free.example"}"#
            )
            #expect(body == #"{"blocked":false,"group":"default","reason":"not_filtered"}"#)
            (status, body) = try await self.api(server, .POST, "/api/filters/check", body: "{not json")
            #expect(status == 400 && body.contains("expected a JSON object"))
            (status, body) = try await self.api(server, .POST, "/api/filters/check", body: #"{"domain": "bad..name"}"#)
            #expect(status == 400 && body == #"{"error":"'bad..name' is not a domain name"}"#)
            (status, _) = try await self.api(server, .GET, "/api/filters/check")
            #expect(status == 405)
            (status, _) = try await self.api(server, .GET, "/api/nothing/here")
            #expect(status == 404)

            // Pause: blocking off (and the cached block answer gone), then back on.
            #expect(self.ede(try await server.ask(query("ads.example.", .a))) != nil)
            (status, body) = try await self.api(server, .POST, "/api/filters/pause", body: #"{"seconds": 300}"#)
            #expect(status == 200 && body == #"{"paused":true,"seconds":300}"#)
            let paused = try await server.ask(query("ads.example.", .a))
            #expect(self.ede(paused) == nil && paused.answers.isEmpty)
            (status, body) = try await self.api(server, .POST, "/api/filters/pause", body: #"{"seconds": -1}"#)
            #expect(status == 400)
            (status, body) = try await self.api(server, .DELETE, "/api/filters/pause")
            #expect(status == 200 && body == #"{"paused":false,"seconds":0}"#)
            #expect(self.ede(try await server.ask(query("ads.example.", .a))) != nil)

            // The OpenAPI document needs no token and is the one in the repository.
            (status, body) = try await self.api(server, .GET, "/api/openapi.json", token: nil)
            let file = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/openapi.json")
            let document = try String(contentsOf: file, encoding: .utf8)
            #expect(status == 200 && body == document)
        }
        // No token configured: the API is closed.
        try await withServer(plugins: plugins, admin: true) { server in
            let (status, body) = try await self.api(server, .GET, "/api/filters/cache/stats")
            #expect(status == 401 && body.contains("set admin.token"))
        }
    }

    @Test func reloadsUnderLoadLoseNoQuery() async throws {
        let lists = try self.directory(["ads.txt": (0..<20_000).map { "||n\($0).ads.example^" }.joined(separator: "\n")]
        )
        let plugins = """
                  - filter: { lists: [{ name: ads, source: \(lists.path)/ads.txt }] }
                  - echo: {}
            """
        try await withServer(plugins: plugins, workers: 2, admin: true, token: Self.token) { server in
            let client = DNSClient(server: server.address, timeout: 2)
            let done = Mutex(false)
            async let load: (lost: Int, servfail: Int, wrong: Int, sent: Int) = blocking {
                var result = (lost: 0, servfail: 0, wrong: 0, sent: 0)
                var id: UInt16 = 0
                while !done.withLock({ $0 }) && result.sent < 200_000 {
                    id &+= 1
                    let blockedName = id % 2 == 0
                    let qname = blockedName ? "n\(Int(id) % 20_000).ads.example." : "free\(id).example."
                    result.sent += 1
                    guard let reply = try? client.exchange(query(qname, .a, id: id)) else {
                        result.lost += 1
                        continue
                    }
                    if reply.responseCode == .servFail { result.servfail += 1 }
                    let isBlocked = reply.answers.first?.rdata == .a(IPv4Address(0, 0, 0, 0))
                    if isBlocked != blockedName { result.wrong += 1 }
                }
                return result
            }
            for _ in 0..<20 {
                let (status, _) = try await self.api(server, .POST, "/api/filters/cache/reload")
                #expect(status == 200)
            }
            done.withLock { $0 = true }
            let result = try await load
            #expect(result.sent > 100)
            #expect(result.lost == 0 && result.servfail == 0 && result.wrong == 0)
        }
    }

    @Test func badFilterOptionsAreNamed() {
        #expect(
            buildError(
                """
                servers:
                  - listen: ["127.0.0.1:0"]
                    plugins:
                      - filter: { lists: [{ name: a, source: x.txt }], groups: [{ name: kids, lists: [b] }] }
                """
            ) == "test.yaml:4:87: servers[0].plugins[0].filter.groups[0].lists[0]: no list named 'b' (lists: a)"
        )
        #expect(
            buildError(
                """
                servers:
                  - listen: ["127.0.0.1:0"]
                    plugins:
                      - filter: { response: blackhole }
                """
            ).contains("'blackhole' is not a response")
        )
        #expect(
            buildError(
                """
                servers:
                  - listen: ["127.0.0.1:0"]
                    plugins:
                      - filter: { block: ["||a.example^$third-party"] }
                """
            ).contains("filter.block[0]: '||a.example^$third-party': modifier $third-party is not supported")
        )
    }
}

extension FilterServerTests {
    /// A URL list's last good body is kept in the state directory: a restart with the list's server gone blocks what
    /// was blocked before, at once and without fetching; a reload with the same options keeps the body, ETag and
    /// schedule (nothing fetched again, the cached answers stay), and one with other options reads the kept body
    /// instead of fetching.
    @Test func urlListsSurviveRestartsAndReloadsWithoutTheNetwork() async throws {
        let http = try await TestHTTPServer()
        http.set(body: "||kept.example^\n")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-state-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let plugins = """
                  - filter: { lists: [{ name: remote, source: "\(http.url)", refresh: 1h }] }
                  - echo: {}
            """
        try await withServer(plugins: plugins, stateDirectory: state) { server in
            let done1 = try await eventually { self.ede(try await server.ask(query("kept.example.", .a))) != nil }
            #expect(done1)
            let files = try FileManager.default.contentsOfDirectory(atPath: state + "/filter")
            #expect(files.count == 2 && files.contains { $0.hasSuffix(".list") } && files.contains { $0.hasSuffix(".json") })
            let requests = http.state.withLock { $0.requests }
            #expect(requests == 1)
            // The same configuration again: nothing fetched, and the blocked answer still comes from the fast path.
            let hits = server.server.cache.statistics.hits
            try server.reload(server.text)
            #expect(self.ede(try await server.ask(query("kept.example.", .a))) != nil)
            #expect(server.server.cache.statistics.hits == hits + 1)
            // Other options (a TTL): a new engine, which reads the kept body; still nothing fetched (not due for 1h).
            try server.reload(server.text.replacingOccurrences(of: "refresh: 1h }]", with: "refresh: 1h }], ttl: 30"))
            let reloaded = try await server.ask(query("kept.example.", .a))
            #expect(self.ede(reloaded) != nil && reloaded.answers.allSatisfy { $0.ttl == 30 })
            #expect(http.state.withLock { $0.requests } == requests)
        }
        // The list's server is gone; a new process with the same state directory blocks from the kept body at once.
        await http.stop()
        try await withServer(plugins: plugins, stateDirectory: state) { server in
            let blocked = try await server.ask(query("kept.example.", .a))
            #expect(self.ede(blocked) != nil)
        }
    }

    /// Each URL list is fetched on its own `refresh`, and a revalidation that changes nothing (304) leaves the
    /// cached answers alone.
    @Test func eachListKeepsItsOwnRefreshAndA304InvalidatesNothing() async throws {
        let quick = try await TestHTTPServer()
        let slow = try await TestHTTPServer()
        quick.set(body: "||quick.example^\n")
        slow.set(body: "||slow.example^\n")
        let plugins = """
                  - filter:
                      lists:
                        - { name: quick, source: "\(quick.url)", refresh: 1s }
                        - { name: slow, source: "\(slow.url)", refresh: 1h }
                  - echo: {}
            """
        try await withServer(plugins: plugins) { server in
            let done2 = try await eventually { self.ede(try await server.ask(query("slow.example.", .a))) != nil }
            #expect(done2)
            #expect(self.ede(try await server.ask(query("quick.example.", .a))) != nil)
            let hits = server.server.cache.statistics.hits
            // Three revalidations of the quick list (304 each)...
            let done3 = await eventually(within: 15) { quick.state.withLock { $0.notModified } >= 3 }
            #expect(done3)
            // ...while the slow one was asked once; and the blocked answers are still in the fast path.
            #expect(slow.state.withLock { $0.requests } == 1)
            _ = try await server.ask(query("quick.example.", .a))
            _ = try await server.ask(query("slow.example.", .a))
            #expect(server.server.cache.statistics.hits == hits + 2)
        }
        await quick.stop()
        await slow.stop()
    }
}
