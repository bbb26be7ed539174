// ChainTests: the runner's loop, suspension and the reverse finish order.

import Pipeline
import SwiftletTestSupport
import Testing

@Suite struct ChainTests {
    func chain(_ handlers: [StubHandler]) -> Chain { Chain(handlers: handlers, names: handlers.map(\.name)) }

    @Test func nextMovesOnAndAnsweredStops() {
        let journal = Journal()
        let chain = self.chain([
            StubHandler("a", .next, journal: journal), StubHandler("b", .answered, journal: journal),
            StubHandler("c", .answered, journal: journal),
        ])
        var query = Query(request: SwiftletTestSupport.query("example.org.", .a), client: testClient)
        let stop = chain.run(&query)
        #expect(stop == Chain.Stop(verdict: .answered, index: 1))
        chain.finish(&query, after: stop)
        #expect(journal.all == ["handle a", "handle b", "finish b", "finish a"])
        #expect(query.answeredBy == "b")
    }

    @Test func fallingOffTheEndFinishesEveryHandler() {
        let journal = Journal()
        let chain = self.chain([StubHandler("a", .next, journal: journal), StubHandler("b", .next, journal: journal)])
        var query = Query(request: SwiftletTestSupport.query("example.org.", .a), client: testClient)
        let stop = chain.run(&query)
        #expect(stop == Chain.Stop(verdict: .next, index: 1))
        chain.finish(&query, after: stop)
        #expect(journal.all == ["handle a", "handle b", "finish b", "finish a"])
        #expect(query.response == nil)
    }

    @Test func dropStopsWithoutResponse() {
        let journal = Journal()
        let chain = self.chain([
            StubHandler("a", .drop, journal: journal), StubHandler("b", .answered, journal: journal),
        ])
        var query = Query(request: SwiftletTestSupport.query("example.org.", .a), client: testClient)
        #expect(chain.run(&query) == Chain.Stop(verdict: .drop, index: 0))
        #expect(journal.all == ["handle a"])
    }

    @Test func suspendedHandlerResumesAndTheChainContinuesAfterIt() async {
        let journal = Journal()
        let chain = self.chain([
            StubHandler("a", .next, journal: journal), StubHandler("b", .suspend, resume: .next, journal: journal),
            StubHandler("c", .answered, journal: journal),
        ])
        var query = Query(request: SwiftletTestSupport.query("example.org.", .a), client: testClient)
        let stop = chain.run(&query)
        #expect(stop == Chain.Stop(verdict: .suspend, index: 1))
        let final = await chain.resume(&query, from: stop)
        #expect(final == Chain.Stop(verdict: .answered, index: 2))
        chain.finish(&query, after: final)
        #expect(journal.all == ["handle a", "handle b", "resume b", "handle c", "finish c", "finish b", "finish a"])
    }

    @Test func resumeCanAnswer() async {
        let journal = Journal()
        let chain = self.chain([
            StubHandler("a", .suspend, resume: .answered, journal: journal),
            StubHandler("b", .answered, journal: journal),
        ])
        var query = Query(request: SwiftletTestSupport.query("example.org.", .a), client: testClient)
        let final = await chain.resume(&query, from: chain.run(&query))
        #expect(final == Chain.Stop(verdict: .answered, index: 0))
        #expect(query.answeredBy == "a")
        #expect(journal.all == ["handle a", "resume a"])
    }

    @Test func builderRejectsAnImpossibleOrder() throws {
        var builder = ChainBuilder()
        builder.begin(plugin: "cache")
        builder.require(.before, "forward")
        builder.add(StubHandler("cache", .next, journal: Journal()))
        builder.begin(plugin: "forward")
        builder.add(StubHandler("forward", .next, journal: Journal()))
        #expect(try builder.build().names == ["cache", "forward"])

        var wrong = ChainBuilder()
        wrong.begin(plugin: "forward")
        wrong.begin(plugin: "cache")
        wrong.require(.before, "forward")
        #expect(throws: ChainBuildError.order(plugin: "cache", mustBe: .before, other: "forward")) { try wrong.build() }
    }
}
