// RecursiveHandler: the chain step that resolves what reaches it, iteratively from the root.

import Pipeline
import Synchronization

/// Resolves every question that reaches it (put `forward` before it for the names that go elsewhere). `handle` only
/// decides; the resolution happens in `resume`, off the worker thread. Answers have RA set and AA clear, carry the
/// whole CNAME/DNAME chain, and say why in an Extended DNS Error when they are SERVFAIL.
final class RecursiveHandler: QueryHandler {
    let resolver: Resolver
    /// Client queries in resolution at once (`max_concurrent`).
    let inFlight: InFlightLimit

    init(resolver: Resolver, maxConcurrent: Int) {
        self.resolver = resolver
        self.inFlight = InFlightLimit(maximum: maxConcurrent)
    }

    func handle(_ query: inout Query) -> Verdict {
        let type = query.question.type
        guard type != .axfr && type != .ixfr && query.request.header.opcode == .query,
            query.question.recordClass == .in
        else {
            // Zone transfers and other opcodes are for authoritative servers; other classes (CH, HS) are not
            // delegated from the root, and asking the root about them would only get it marked lame.
            return RecursiveHandler.refuse(&query)
        }
        // ANY over UDP is what reflection attacks ask: RFC 8482's small answer, without a resolution.
        if query.isANYOverUDP {
            query.answerMinimalANY(by: RecursivePlugin.name)
            return .answered
        }
        return .suspend
    }

    func resume(_ query: inout Query) async -> Verdict {
        let metrics = self.resolver.metrics
        metrics.requests.increment()
        let request = query.request
        guard self.inFlight.enter() else {
            metrics.shed.increment()
            query.logNote = "recursive: max_concurrent reached"
            return RecursiveHandler.refuse(&query)
        }
        defer { self.inFlight.leave() }
        let resolution = await self.resolver.resolve(clientQuestion: query.question, on: query.executor)
        query.response = RecursiveHandler.response(to: request, resolution)
        query.answeredBy = RecursivePlugin.name
        if let error = resolution.error {
            metrics.failures.increment()
            query.logNote = "recursive: \(error.extraText)"
            query.cacheability = .never
        } else {
            let ttls = (resolution.answers + resolution.authorities).map(\.ttl)
            query.cacheability = .upTo(seconds: ttls.min() ?? 0)
        }
        return .answered
    }

    /// REFUSED, with RA set.
    static func refuse(_ query: inout Query) -> Verdict {
        query.response = Message.response(to: query.request, responseCode: .refused)
        query.response?.header.recursionAvailable = true
        query.answeredBy = RecursivePlugin.name
        return .answered
    }

    /// The client's answer: its ID, question (letter case included), RD and CD; RA set, AA clear.
    static func response(to request: Message, _ resolution: Resolution) -> Message {
        var response = Message.response(to: request, responseCode: resolution.responseCode)
        response.header.recursionAvailable = true
        response.answers = resolution.answers
        response.authorities = resolution.authorities
        if let error = resolution.error, response.edns != nil {
            response.edns!.options = [.extendedError(error)]
        }
        return response
    }
}
