// HostsHandler: answers A, AAAA and PTR from the current hosts table.

import Pipeline
import Synchronization

/// Answers names in the hosts file: A and AAAA with every address, PTR for their reverse names, NODATA for other
/// types of a known name. Other names go on down the chain (or get NXDOMAIN without `fallthrough`).
/// Answers are authoritative and fast-path cacheable for `ttl` (the file decides them, not the client).
final class HostsHandler: QueryHandler {
    let table: Mutex<HostsTable>
    let ttl: UInt32
    let passesUnknownNames: Bool
    let metrics: HostsMetrics

    init(table: HostsTable, options: HostsOptions, metrics: HostsMetrics) {
        self.metrics = metrics
        self.table = Mutex(table)
        self.ttl = options.ttl
        self.passesUnknownNames = options.passesUnknownNames
    }

    func replace(_ table: HostsTable) { self.table.withLock { $0 = table } }

    func handle(_ query: inout Query) -> Verdict {
        let question = query.question
        guard question.recordClass == .in || question.recordClass == .any else { return .next }
        let name = question.name
        let records: [Record]? = self.table.withLock { table -> [Record]? in
            if let addresses = table.forward[name] {
                switch question.type {
                case .a: return addresses.v4.map { Record(name: name, ttl: self.ttl, rdata: .a($0)) }
                case .aaaa: return addresses.v6.map { Record(name: name, ttl: self.ttl, rdata: .aaaa($0)) }
                case .any:
                    // RFC 8482 §4.1: one RRset over UDP (the addresses of one family); both over TCP.
                    let v4 = addresses.v4.map { Record(name: name, ttl: self.ttl, rdata: .a($0)) }
                    let v6 = addresses.v6.map { Record(name: name, ttl: self.ttl, rdata: .aaaa($0)) }
                    if query.client.transport == .udp { return v4.isEmpty ? v6 : v4 }
                    return v4 + v6
                default: return []
                }
            }
            if let names = table.reverse[name] {
                return question.type == .ptr || question.type == .any ? names.map { Record(name: name, ttl: self.ttl, rdata: .ptr($0)) } : []
            }
            return nil
        }
        guard let records else {
            if self.passesUnknownNames { return .next }
            self.metrics.nxDomain.increment()
            self.answer(&query, code: .nxDomain, records: [])
            return .answered
        }
        if records.isEmpty { self.metrics.noData.increment() } else { self.metrics.answered.increment() }
        self.answer(&query, code: .noError, records: records)
        return .answered
    }

    private func answer(_ query: inout Query, code: ResponseCode, records: [Record]) {
        var response = query.respond(code)
        response.header.isAuthoritative = true
        response.answers = records
        query.response = response
        query.answeredBy = HostsPlugin.name
        query.cacheability = .upTo(seconds: self.ttl)
    }
}
