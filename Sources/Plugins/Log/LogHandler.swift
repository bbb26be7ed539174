// LogHandler: writes one line per query in the finish phase, and per fast-path answer as an observer.

import Pipeline

/// Logs every query of its server block: chain answers in `finish` (so the line sees the final response), cache
/// hits through the fast-path observer hook.
struct LogHandler: QueryHandler, FastPathObserver {
    let format: LogFormat
    let sink: LogSink
    let metrics: LogMetrics

    func handle(_ query: inout Query) -> Verdict { .next }

    func finish(_ query: inout Query) {
        let question = query.question
        let response = query.response
        // The response is encoded by the host after every finish step; its size here is that encoding's.
        let entry = LogEntry(
            remote: query.client.address.description,
            port: query.client.port,
            transport: query.client.transport.rawValue,
            id: query.request.header.id,
            name: question.name.description,
            type: question.type.description,
            recordClass: question.recordClass.description,
            requestSize: query.requestSize,
            dnssecOK: query.request.edns?.dnssecOK ?? false,
            bufferSize: Int(query.request.edns?.udpPayloadSize ?? 512),
            rcode: response.map { $0.responseCode.description } ?? "-",
            responseFlags: response.map { $0.header.flagNames.joined(separator: ",") } ?? "-",
            responseSize: response.map { $0.encodeReply(maxSize: query.maxResponseSize).encoded.bytes.count } ?? 0,
            durationSeconds: Double(Clock.nanoseconds() &- query.receivedAt) / 1e9,
            answeredBy: query.answeredBy ?? "-",
            note: query.logNote ?? "-"
        )
        self.sink.write(self.format.render(entry))
        self.metrics.lines.increment()
    }

    func observe(
        request: RequestView,
        packet: UnsafeRawBufferPointer,
        reply: UnsafeRawBufferPointer,
        client: Client,
        receivedAt: UInt64,
        now: UInt64
    ) {
        let nameBytes = Array(packet[request.nameOffset..<(request.nameOffset + request.nameLength)])
        let name = (try? DomainName(wire: nameBytes))?.description ?? "?"
        let flags = reply.count >= 4 ? UInt16(reply[2]) << 8 | UInt16(reply[3]) : 0
        let rcode = ResponseCode(flags & 0x0F)
        let entry = LogEntry(
            remote: client.address.description,
            port: client.port,
            transport: client.transport.rawValue,
            id: request.id,
            name: name,
            type: request.type.description,
            recordClass: request.recordClass.description,
            requestSize: packet.count,
            dnssecOK: request.dnssecOK,
            bufferSize: request.hasEDNS ? Int(request.udpPayloadSize) : 512,
            rcode: rcode.description,
            responseFlags: Header(flags: flags).flagNames.joined(separator: ","),
            responseSize: reply.count,
            durationSeconds: Double(now &- receivedAt) / 1e9,
            answeredBy: "cache",
            note: "-"
        )
        self.sink.write(self.format.render(entry))
        self.metrics.lines.increment()
    }
}
