// CoalescingTests: identical questions in flight share one resolution, client queries and NS lookups alike.

import Pipeline
import SwiftletTestSupport
import Testing

@testable import Plugins

@Suite struct CoalescingTests {
    @Test func identicalQuestionsInFlightShareOneResolution() async throws {
        let prefix = "127.53.31"
        let upstreams = ScriptedUpstreams()
        upstreams.serve("\(prefix).1", TestTree.root(prefix))
        // slow.test.'s name server is in dns.test., without glue: an NS-address lookup is needed.
        upstreams.serve("\(prefix).2") { query, _ in
            let name = query.questions[0].name
            var reply = Message(header: Header(flags: 0x8000))
            if name.isSubdomain(of: try! DomainName("dns.test.")) {
                reply.header.isAuthoritative = true
                reply.answers = [rr("ns.dns.test. 3600 A \(prefix).4")]
            } else {
                reply.authorities = [rr("slow.test. 3600 NS ns.dns.test.")]
            }
            return .reply(reply)
        }
        upstreams.serve("\(prefix).4") { query, _ in
            var reply = Message(header: Header(flags: 0x8400))
            reply.answers = [Record(name: query.questions[0].name, ttl: 60, rdata: .a(IPv4Address(192, 0, 2, 31)))]
            return .delay(0.2, reply)
        }
        let resolver = TestTree.resolver(prefix, upstreams: upstreams)
        let question = Question(name: try DomainName("www.slow.test."), type: .a)
        let answers = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<50 {
                group.addTask {
                    await resolver.resolve(clientQuestion: question).answers.map(brief)
                }
            }
            var all: [[String]] = []
            for await answer in group { all.append(answer) }
            return all
        }
        #expect(answers.count == 50)
        #expect(answers.allSatisfy { $0 == ["www.slow.test. a 192.0.2.31"] })
        // One resolution: one priming query, one referral, one NS-address lookup, one query to the slow server.
        #expect(upstreams.queries("\(prefix).4").udp == 1)
        #expect(upstreams.queries("\(prefix).1").udp == 2)
        #expect(upstreams.queries("\(prefix).2").udp == 2)
    }
}
