// ZoneHandler: answers questions at or below its zones, and AXFR over TCP for allowed clients.

import Pipeline
import Synchronization

/// A loaded zone with who may transfer it.
struct ServedZone: Sendable {
    var zone: Zone
    var transferTo: [IPPrefix]
}

/// Answers authoritatively for the most specific zone that contains the question; other names go to the next handler
/// (so zones can sit in front of a forwarder). Answers are fast-path cacheable: they are the same for every client
/// until a reload.
final class ZoneHandler: QueryHandler {
    /// Served zones, longest origin first, replaced whole on reload.
    let zones: Mutex<[ServedZone]>
    let metrics: ZoneMetrics

    init(zones: [ServedZone], metrics: ZoneMetrics) {
        self.metrics = metrics
        self.zones = Mutex(ZoneHandler.sorted(zones))
    }

    static func sorted(_ zones: [ServedZone]) -> [ServedZone] {
        zones.sorted { $0.zone.origin.wire.count > $1.zone.origin.wire.count }
    }

    /// Replaces one zone (same origin) after a reload.
    func replace(_ zone: Zone) {
        self.zones.withLock { zones in
            if let index = zones.firstIndex(where: { $0.zone.origin == zone.origin }) { zones[index].zone = zone }
        }
    }

    func handle(_ query: inout Query) -> Verdict {
        let question = query.question
        guard question.recordClass == .in || question.recordClass == .any else { return .next }
        let name = question.name
        guard let served = self.zones.withLock({ zones in zones.first { name.isSubdomain(of: $0.zone.origin) } }) else {
            return .next
        }
        if question.type == .axfr || question.type == .ixfr {
            return self.transfer(served, &query)
        }
        let answer = served.zone.answer(
            name,
            question.type,
            dnssecOK: query.request.edns?.dnssecOK ?? false,
            tcp: query.client.transport.isStream
        )
        var response = query.respond(answer.responseCode)
        response.header.isAuthoritative = answer.authoritative
        response.answers = answer.answers
        response.authorities = answer.authorities
        response.additionals = answer.additionals
        query.response = response
        query.answeredBy = ZonePlugin.name
        // RFC 8482 answers to ANY differ by transport; everything else is the same for every client.
        query.cacheability = question.type == .any ? .never : .upTo(seconds: MessageCache.maximumTTL)
        if !answer.authoritative {
            self.metrics.referrals.increment()
        } else if answer.answers.isEmpty {
            self.metrics.negative.increment()
        } else {
            self.metrics.answered.increment()
        }
        return .answered
    }

    /// AXFR (RFC 5936): over TCP or TLS (a transfer takes several messages, which one HTTP response cannot carry) to
    /// allowed clients, the SOA, every record, the SOA again, in as many messages as
    /// it takes; REFUSED otherwise. IXFR is answered with a full transfer (RFC 1995 §4 allows it).
    private func transfer(_ served: ServedZone, _ query: inout Query) -> Verdict {
        let allowed =
            query.client.transport.carriesSeveralMessages && query.question.name == served.zone.origin
            && served.transferTo.contains { $0.contains(query.client.address) }
        guard allowed else {
            self.metrics.refusedTransfers.increment()
            query.response = Message.response(to: query.request, responseCode: .refused)
            query.answeredBy = ZonePlugin.name
            return .answered
        }
        let zone = served.zone
        let body = [zone.soa] + zone.records.filter { $0.type != .soa } + [zone.soa]
        var messages: [Message] = []
        var current = Message.response(to: query.request)
        current.header.isAuthoritative = true
        var size = 0
        for record in body {
            // Keep each message well inside 65535 octets; 16 KiB pieces are what BIND and Knot send.
            let estimate = record.name.wire.count + 10 + record.rdata.wireBytes.count
            if size + estimate > 16_000 && !current.answers.isEmpty {
                messages.append(current)
                current.answers = []
                current.questions = []
                current.edns = nil
                size = 0
            }
            current.answers.append(record)
            size += estimate
        }
        messages.append(current)
        query.response = messages[0]
        query.additionalResponses = Array(messages.dropFirst())
        query.answeredBy = ZonePlugin.name
        self.metrics.transfers.increment()
        return .answered
    }
}
