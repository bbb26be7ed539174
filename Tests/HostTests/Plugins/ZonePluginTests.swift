// ZonePluginTests: the zone plugin in a running server: chain order, AXFR rules, reload on change, bad files.

import Foundation
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@testable import Host

@Suite(.serialized) struct ZonePluginTests {
    static let zone =
        "      - zone: { zones: [{ origin: example.org., file: zones/example.org.zone, transfer_to: [\"127.0.0.0/8\"] }] }"

    @Test func namesOutsideTheZonesGoToTheNextPlugin() async throws {
        try await withServer(plugins: ZonePluginTests.zone + "\n      - hosts: { file: hosts/example.hosts }") {
            server in
            let inZone = try await server.ask(query("www.example.org.", .a))
            #expect(inZone.header.isAuthoritative && inZone.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 80))])
            // `www.` is not in example.org.: the hosts plugin answers it.
            #expect(try await server.ask(query("www.", .a)).answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1))])
            let nx = try await server.ask(query("nope.example.org.", .a))
            #expect(nx.responseCode == .nxDomain && nx.authorities.map(\.type) == [.soa])
        }
    }

    @Test func answersAreServedFromTheFastPathAfterTheFirst() async throws {
        try await withServer(plugins: ZonePluginTests.zone) { server in
            let first = try await server.raw(query("mail.example.org.", .aaaa, id: 1).wire)
            let hits = server.server.cache.statistics.hits
            let second = try await server.raw(query("mail.example.org.", .aaaa, id: 1).wire)
            #expect(server.server.cache.statistics.hits == hits + 1)
            #expect(try TestServer.sameReplyAged(first, second))
        }
    }

    @Test func transferIsRefusedOverUDPAndToOthers() async throws {
        try await withServer(plugins: ZonePluginTests.zone) { server in
            #expect(try await server.ask(query("example.org.", .axfr)).responseCode == .refused)
            let records = try await blocking { try transfer("example.org.", from: server.address) }
            #expect(records.first?.type == .soa && records.last?.type == .soa && records.count > 60)
        }
        let closed = "      - zone: { zones: [{ origin: example.org., file: zones/example.org.zone }] }"
        try await withServer(plugins: closed) { server in
            let records = try await blocking { try transfer("example.org.", from: server.address) }
            #expect(records.isEmpty)
        }
    }

    @Test func bigZoneTransferSpansSeveralMessages() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-zone-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var text =
            "$ORIGIN big.example.\n$TTL 300\n@ SOA ns.big.example. h.big.example. 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n"
        for index in 0..<3000 { text += "h\(index) A 198.51.\(index / 256).\(index % 256)\n" }
        try text.write(to: directory.appendingPathComponent("big.zone"), atomically: true, encoding: .utf8)
        let plugins =
            "      - zone: { zones: [{ origin: big.example., file: \(directory.path)/big.zone, transfer_to: [\"127.0.0.1\"] }] }"
        try await withServer(plugins: plugins) { server in
            let records = try await blocking { try transfer("big.example.", from: server.address) }
            #expect(records.count == 3000 + 4)
            #expect(Set(records.filter { $0.type == .a }.map(\.name)).count == 3001)
        }
    }

    @Test func changedZoneFileIsReloadedAndABrokenOneKeepsTheOldZone() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-zone-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("test.zone")
        func write(serial: Int, address: String) throws {
            try """
            $ORIGIN reload.example.
            $TTL 300
            @ SOA ns.reload.example. h.reload.example. \(serial) 2 3 4 5
            @ NS ns.example.net.
            www A \(address)
            """.write(to: file, atomically: true, encoding: .utf8)
        }
        try write(serial: 1, address: "192.0.2.1")
        let plugins =
            "      - zone: { zones: [{ origin: reload.example., file: \(file.path) }], reload_interval: 100ms }"
        try await withServer(plugins: plugins, admin: true) { server in
            #expect(
                try await server.ask(query("www.reload.example.", .a)).answers.map(\.rdata) == [
                    .a(IPv4Address(192, 0, 2, 1))
                ]
            )
            let failed = "server=\"0\",result=\"error\""
            let failuresBefore = try await server.counter("swiftlet_zone_reloads_total", labels: failed)
            try write(serial: 2, address: "192.0.2.2")
            var answer: [RData] = []
            for _ in 0..<50 where answer != [.a(IPv4Address(192, 0, 2, 2))] {
                try await Task.sleep(for: .milliseconds(100))
                answer = try await server.ask(query("www.reload.example.", .a)).answers.map(\.rdata)
            }
            #expect(answer == [.a(IPv4Address(192, 0, 2, 2))])
            try "$ORIGIN reload.example.\n@ SOA broken".write(to: file, atomically: true, encoding: .utf8)
            // The failed reload is counted; then the previous zone is still the one answering.
            #expect(
                try await eventually {
                    try await server.counter("swiftlet_zone_reloads_total", labels: failed) > failuresBefore
                }
            )
            #expect(
                try await server.ask(query("www.reload.example.", .a)).answers.map(\.rdata) == [
                    .a(IPv4Address(192, 0, 2, 2))
                ]
            )
        }
    }

    @Test func brokenZoneFileIsAConfigErrorWithItsPosition() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-zone-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "$TTL 300\n@ SOA ns.x.example. h.x.example. 1 2 3 4 5\n@ NS ns.example.net.\nwww A 192.0.2\n"
            .write(to: directory.appendingPathComponent("x.zone"), atomically: true, encoding: .utf8)
        let text =
            "servers:\n  - listen: [\"127.0.0.1:0\"]\n    plugins:\n      - zone: { zones: [{ origin: x.example., file: x.zone }] }\n"
        #expect(
            buildError(text, base: directory.path)
                == "test.yaml:4:53: servers[0].plugins[0].zone.zones[0].file: \(directory.path)/x.zone:4:7: bad IPv4 address '192.0.2'"
        )
    }
}
