// PendingRepliesTests: the table of queries awaiting answers on one upstream socket or connection.

import Pipeline
import SwiftletTestSupport
import Testing


@Suite struct PendingRepliesTests {
    static let question = Question(name: name("www.example.org."), type: .a)

    /// A reply to `question` with `id`.
    static func reply(_ id: UInt16, _ text: String = "www.example.org.") throws -> [UInt8] {
        var message = answer("\(text) 300 IN A 192.0.2.1")
        message.header.id = id
        message.questions = [Question(name: name(text), type: .a)]
        return try message.wire
    }

    @Test func aTakenIDGivesWayToAFreshOne() throws {
        var pending = PendingReplies<Int>()
        let added = pending.add(id: 7, question: PendingRepliesTests.question, 1)
        #expect(added)
        #expect(pending.unusedID(preferring: 8, random: { 9 }) == 8)
        // 7 is waiting: the next draw (9) is used instead of failing the query.
        var draws: [UInt16] = [7, 9]
        let fresh = pending.unusedID(preferring: 7, random: { draws.removeFirst() })
        #expect(fresh == 9)
        // Sixteen taken draws in a row: nothing.
        #expect(pending.unusedID(preferring: 7, random: { 7 }) == nil)
        // Registering a query whose ID is taken writes the fresh one into its packet.
        var packet = try query("www.example.org.", .a, id: 7).wire
        let registered = pending.register(&packet, question: PendingRepliesTests.question, 2) { 0x0A0B }
        #expect(registered == 0x0A0B && packet[0] == 0x0A && packet[1] == 0x0B)
        let answered = try pending.take(answeredBy: PendingRepliesTests.reply(0x0A0B))
        #expect(answered == 2)
    }

    @Test func onlyOurIDAndQuestionTakeAWaiter() throws {
        var pending = PendingReplies<Int>()
        let first = pending.add(id: 7, question: PendingRepliesTests.question, 1)
        let second = pending.add(id: 7, question: PendingRepliesTests.question, 2)
        #expect(first && !second)
        let otherID = try pending.take(answeredBy: PendingRepliesTests.reply(8))
        let otherQuestion = try pending.take(answeredBy: PendingRepliesTests.reply(7, "evil.example.net."))
        // The question is compared without regard to case (forward does not randomise it).
        let ours = try pending.take(answeredBy: PendingRepliesTests.reply(7, "WWW.example.ORG."))
        // Taken once: the same answer again finds nothing.
        let again = try pending.take(answeredBy: PendingRepliesTests.reply(7))
        #expect(otherID == nil && otherQuestion == nil && ours == 1 && again == nil)
    }
}
