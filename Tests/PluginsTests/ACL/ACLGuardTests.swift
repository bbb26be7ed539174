// ACLGuardTests: first match wins across rules, drop/refuse/allow lists and the default.

import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct ACLGuardTests {
    func compile(_ options: ACLOptions) throws -> any Guard {
        var builder = ChainBuilder()
        builder.begin(plugin: "acl")
        try ACLPlugin.setup(
            options,
            context: PluginContext(logger: .init(label: "test"), metricsPrefix: "test_acl"),
            into: &builder
        )
        return builder.guards[0]
    }

    func decide(_ check: any Guard, _ address: String, _ type: RecordType = .a) throws -> GuardDecision {
        let packet = try query("example.org.", type).wire
        let client = Client(address: IPAddress(address)!, port: 1, transport: .udp)
        return try packet.withUnsafeBytes { check.check(try RequestView(packet: $0), client: client, arrival: Arrival(now: 0)) }
    }

    @Test func allowListRefusesEveryoneElse() throws {
        let check = try self.compile(ACLOptions().with { $0.allow = ["127.0.0.0/8", "::1/128"] })
        #expect(try self.decide(check, "127.0.0.53") == .allow)
        #expect(try self.decide(check, "::1") == .allow)
        #expect(try self.decide(check, "::ffff:127.0.0.1") == .allow)
        #expect(try self.decide(check, "192.0.2.1") == .refuse)
        #expect(try self.decide(check, "2001:db8::1") == .refuse)
    }

    @Test func rulesComeFirstAndMatchTypes() throws {
        let check = try self.compile(
            ACLOptions().with {
                $0.rules = [
                    ACLRule(action: .drop, types: ["ANY"]),
                    ACLRule(action: .refuse, net: ["192.0.2.0/28"], types: ["AXFR"]),
                ]
                $0.allow = ["192.0.2.0/24"]
                $0.drop = ["198.51.100.0/24"]
            }
        )
        #expect(try self.decide(check, "192.0.2.1", .any) == .drop)
        #expect(try self.decide(check, "192.0.2.1", .axfr) == .refuse)
        #expect(try self.decide(check, "192.0.2.200", .axfr) == .allow)
        #expect(try self.decide(check, "198.51.100.1") == .drop)
        #expect(try self.decide(check, "203.0.113.1") == .refuse)
    }

    @Test func withoutAllowTheDefaultIsAllow() throws {
        let check = try self.compile(ACLOptions().with { $0.refuse = ["192.0.2.0/24"] })
        #expect(try self.decide(check, "192.0.2.1") == .refuse)
        #expect(try self.decide(check, "198.51.100.1") == .allow)
    }

    @Test func badPrefixNamesTheOption() {
        #expect(
            throws: PluginSetupError(
                option: "allow[1]",
                "'192.0.2.1/24' is not an address prefix like 192.0.2.0/24 or 2001:db8::/32 (host bits must be zero)"
            )
        ) {
            _ = try self.compile(ACLOptions().with { $0.allow = ["127.0.0.0/8", "192.0.2.1/24"] })
        }
        #expect(
            throws: PluginSetupError(option: "rules[0].types[0]", "'BOGUS' is not a record type like A, ANY or TYPE65")
        ) {
            _ = try self.compile(ACLOptions().with { $0.rules = [ACLRule(action: .drop, types: ["BOGUS"])] })
        }
    }
}
