// ZoneInteropTests: the same zone file served by knotd and by Swiftlet's zone plugin gives the same answers.

import Foundation
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@testable import Host

/// A knotd on a loopback port serving Tests/Fixtures/zones/example.org.zone, stopped by `stop()`.
struct KnotServer {
    let process: Process
    let directory: URL
    var host = "127.0.0.1"
    let port: UInt16

    static let available =
        Binaries.tool("knotd") != nil || FileManager.default.isExecutableFile(atPath: "/usr/sbin/knotd")

    static func start(
        zone: String,
        origin: String = "example.org.",
        host: String = "127.0.0.1",
        port fixedPort: UInt16? = nil,
        cookies: Bool = false
    ) throws -> KnotServer {
        let port = fixedPort ?? Binaries.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-knot-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("db"),
            withIntermediateDirectories: true
        )
        let config = """
            server:
                rundir: "\(directory.path)"
                listen: \(host)@\(port)
            log:
              - target: stderr
                any: error
            database:
                storage: "\(directory.path)/db"
            acl:
              - id: local-transfer
                address: 127.0.0.0/8
                action: transfer
            template:
              - id: default
                storage: "\(directory.path)"
                zonefile-sync: -1
                zonefile-load: whole
                journal-content: none\(cookies ? "\n    global-module: mod-cookies" : "")
            zone:
              - domain: \(origin)
                file: "\(zone)"
                acl: local-transfer
            """
        try config.write(to: directory.appendingPathComponent("knot.conf"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.tool("knotd") ?? "/usr/sbin/knotd")
        process.arguments = ["-c", directory.appendingPathComponent("knot.conf").path]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let server = KnotServer(process: process, directory: directory, host: host, port: port)
        let client = DNSClient(server: server.address, timeout: 0.3)
        for _ in 0..<100 {
            if (try? client.exchange(query(origin, .soa)))?.answers.count == 1 { return server }
            usleep(100_000)
        }
        server.stop()
        throw DNSClientError.timeout
    }

    var address: ListenAddress { ListenAddress(address: IPAddress(self.host)!, port: self.port) }

    func stop() {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.directory)
    }
}

/// Reads a whole zone transfer (messages until the closing SOA) over TCP.
func transfer(_ zone: String, from server: ListenAddress) throws -> [Record] {
    var (address, length) = SocketAddresses.make(server)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var time = timeval(tv_sec: 3, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
    }
    try DNSClient.sendAll(fd, TestServer.framed(query(zone, .axfr, edns: false).wire))
    var records: [Record] = []
    var soaCount = 0
    while soaCount < 2 {
        let message = try TestServer.readFramed(fd)
        guard message.responseCode == .noError else { return [] }
        for record in message.answers {
            if record.type == .soa { soaCount += 1 }
            records.append(record)
        }
    }
    return records
}

@Suite(.serialized) struct ZoneInteropTests {
    static let zoneFile = fixturesDirectory.appendingPathComponent("zones/example.org.zone").path

    /// Queries covering every rule: positive answers with additional processing, NXDOMAIN, NODATA, wildcard, empty
    /// non-terminal, delegation with glue, DS at the cut, CNAME chase, out-of-zone CNAME, DNAME (in and out of
    /// zone), ANY and a large RRset.
    static let questions: [(String, RecordType)] = [
        ("example.org.", .soa), ("example.org.", .ns), ("example.org.", .mx), ("example.org.", .a),
        ("example.org.", .txt), ("example.org.", .caa), ("example.org.", .dnskey), ("www.example.org.", .https),
        ("_443._tcp.www.example.org.", .tlsa), ("_sip._tcp.example.org.", .srv), ("sip.example.org.", .naptr),
        ("svc.example.org.", .svcb), ("nope.example.org.", .a), ("www.example.org.", .mx),
        ("a.b.wild.example.org.", .a),
        ("x.wild.example.org.", .txt), ("x.wild.example.org.", .mx), ("new.example.org.", .a), ("sub.example.org.", .a),
        ("host.sub.example.org.", .aaaa), ("sub.example.org.", .ds), ("sub.example.org.", .ns),
        ("alias.example.org.", .a),
        ("ext.example.org.", .a), ("www.old.example.org.", .a), ("x.dname.example.org.", .a),
        ("old.example.org.", .dname),
        ("big.example.org.", .txt), ("WwW.ExAmPlE.OrG.", .a), ("ptr.example.org.", .ptr),
        ("example.org.", RecordType(65280)), ("example.org.", .any),
    ]

    /// Where the RFCs allow a choice and knotd chose differently, with why our answer is also right.
    static let allowedDifferences: [String: String] = [
        "example.org. ANY":
            "RFC 8482 §4.1/§4.2 allow one RRset or a synthesised HINFO; knotd sends its first RRset (A), we send HINFO"
    ]

    static func summary(_ message: Message) -> [String] {
        var lines = [
            "rcode \(message.responseCode)", "aa \(message.header.isAuthoritative)", "tc \(message.header.isTruncated)",
        ]
        lines += message.answers.map { "answer " + $0.description.lowercased() }.sorted()
        lines += message.authorities.map { "authority " + $0.description.lowercased() }.sorted()
        lines += message.additionals.map { "additional " + $0.description.lowercased() }.sorted()
        return lines
    }

    @Test(.enabled(if: Tools.gate(KnotServer.available))) func answersMatchKnotd() async throws {
        try Tools.require(KnotServer.available, "knotd")
        let knot = try await blocking { try KnotServer.start(zone: ZoneInteropTests.zoneFile) }
        defer { knot.stop() }
        let plugins =
            "      - zone: { zones: [{ origin: example.org., file: zones/example.org.zone, transfer_to: [\"127.0.0.0/8\"] }] }"
        try await withServer(plugins: plugins) { server in
            let knotClient = DNSClient(server: knot.address, timeout: 2)
            let ours = server.client
            var compared = 0
            for (text, type) in ZoneInteropTests.questions {
                let request = query(text, type, id: 99)
                let (theirs, mine) = try await blocking {
                    (try knotClient.exchange(request), try ours.exchange(request))
                }
                if ZoneInteropTests.allowedDifferences["\(text) \(type)"] != nil {
                    // Both give exactly one RRset, authoritatively.
                    #expect(Set(mine.answers.map(\.type)).count == 1 && Set(theirs.answers.map(\.type)).count == 1)
                    #expect(mine.header.isAuthoritative && theirs.header.isAuthoritative)
                } else {
                    #expect(ZoneInteropTests.summary(mine) == ZoneInteropTests.summary(theirs), "\(text) \(type)")
                }
                compared += 1
            }
            #expect(compared == ZoneInteropTests.questions.count)
            // AXFR: the same records (the SOA opens and closes both).
            let (theirs, mine) = try await blocking {
                (try transfer("example.org.", from: knot.address), try transfer("example.org.", from: server.address))
            }
            #expect(Set(mine.map(\.description)) == Set(theirs.map(\.description)))
            #expect(mine.count == theirs.count)
            #expect(mine.first?.type == .soa && mine.last?.type == .soa)
        }
    }
}

/// forward + cache in front of knotd: the answers are knotd's records and RCODE, and repeats come from the cache
/// with TTLs no higher than knotd gave.
@Suite(.serialized) struct ForwardToKnotTests {
    @Test(.enabled(if: Tools.gate(KnotServer.available))) func answersEqualTheUpstreamsAndRepeatsComeFromTheCache() async throws {
        try Tools.require(KnotServer.available, "knotd")
        let knot = try await blocking { try KnotServer.start(zone: ZoneInteropTests.zoneFile) }
        defer { knot.stop() }
        let plugins = "      - cache: {}\n      - forward: { to: [\"127.0.0.1:\(knot.port)\"] }"
        try await withServer(plugins: plugins) { server in
            let knotClient = DNSClient(server: knot.address, timeout: 2)
            let questions: [(String, RecordType)] = [
                ("example.org.", .mx), ("www.example.org.", .a), ("alias.example.org.", .a), ("nope.example.org.", .a),
                ("www.example.org.", .mx), ("a.b.wild.example.org.", .txt), ("big.example.org.", .txt),
                ("_sip._tcp.example.org.", .srv),
            ]
            for (text, type) in questions {
                let request = query(text, type, id: 7)
                let direct = try await blocking { try knotClient.exchange(request) }
                let forwarded = try await server.ask(request)
                #expect(forwarded.responseCode == direct.responseCode, "\(text) \(type)")
                #expect(Set(forwarded.answers) == Set(direct.answers), "\(text) \(type)")
                #expect(Set(forwarded.authorities) == Set(direct.authorities), "\(text) \(type)")
                // From the cache: the same records, TTLs at most the upstream's.
                server.server.cache.removeAll()
                let cached = try await server.ask(request)
                #expect(cached.responseCode == direct.responseCode, "\(text) \(type)")
                #expect(Set(cached.answers.map(\.rdata)) == Set(direct.answers.map(\.rdata)), "\(text) \(type)")
                #expect(
                    zip(
                        cached.answers.sorted { $0.description < $1.description },
                        direct.answers.sorted { $0.description < $1.description }
                    ).allSatisfy { $0.ttl <= $1.ttl }
                )
            }
        }
    }
}
