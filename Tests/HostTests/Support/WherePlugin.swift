// WherePlugin: a test plugin that says where its suspended query ran: on the UDP worker's own thread, or elsewhere.

import Pipeline
import Plugins
import SwiftletIO
import Synchronization

/// `- where: {}`: suspends, waits on a timer, and answers TXT "worker" when the whole resumption ran on the thread of
/// the UDP worker that received the query (its reactor), else TXT "elsewhere".
enum WherePlugin: Plugin {
    struct Options: Decodable, Sendable {}
    static let name = "where"
    static let summary = "test: says which thread a suspended query ran on"
    static let optionsHelp: [OptionHelp] = []

    static func setup(_ options: Options, context: PluginContext, into builder: inout ChainBuilder) throws {
        builder.add(WhereHandler())
    }
}

final class WhereHandler: QueryHandler {
    /// The worker thread's reactor seen in `handle`, by query ID.
    let seen = Mutex<[UInt16: ObjectIdentifier]>([:])

    func handle(_ query: inout Query) -> Verdict {
        if let reactor = Reactor.current {
            self.seen.withLock { $0[query.request.header.id] = ObjectIdentifier(reactor) }
        }
        return .suspend
    }

    func resume(_ query: inout Query) async -> Verdict {
        let worker = self.seen.withLock { $0.removeValue(forKey: query.request.header.id) }
        let before = Reactor.current.map(ObjectIdentifier.init)
        try? await Task.sleep(for: .milliseconds(5))
        let after = Reactor.current.map(ObjectIdentifier.init)
        let text = worker != nil && before == worker && after == worker ? "worker" : "elsewhere"
        var response = query.respond()
        response.answers = [Record(name: query.question.name, ttl: 0, rdata: .txt([Array(text.utf8)]))]
        query.response = response
        return .answered
    }
}
