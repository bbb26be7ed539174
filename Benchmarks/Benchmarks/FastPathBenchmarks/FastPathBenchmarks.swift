// Fast-path micro-benchmarks: a message-cache hit (the whole per-packet cost of a cached answer besides the socket)
// and one pass of a chain of trivial handlers (the runner's own overhead). Both must stay at 0 mallocs.
//
// As in WireBenchmarks, each sample is 1000 operations and the checked-in thresholds are per sample.

import Benchmark
import Pipeline

/// `www.example.org A` with EDNS, as dig sends it (without the cookie: the cache ignores it either way).
func queryPacket() throws -> [UInt8] {
    var query = Message.query(DomainName("www.example.org."), .a, id: 0x4a5b)
    query.header.authenticData = true
    return try query.wire
}

/// A chain step that only passes the query on.
struct PassHandler: QueryHandler {
    func handle(_ query: inout Query) -> Verdict { .next }
}

/// A chain step that answers with a prepared response.
struct AnswerHandler: QueryHandler {
    let response: Message
    func handle(_ query: inout Query) -> Verdict {
        query.response = self.response
        return .answered
    }
}

let benchmarks: @Sendable () -> Void = {
    let scaling: BenchmarkScalingFactor = .kilo
    let wallClockTolerance = BenchmarkThresholds(relative: [.p90: 900.0])
    let noMallocTolerance = BenchmarkThresholds(absolute: [.p90: 0])

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: scaling,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    Benchmark(
        "MessageCache.hit",
        configuration: .init(thresholds: [.wallClock: wallClockTolerance, .mallocCountTotal: noMallocTolerance])
    ) { benchmark in
        let packet = try queryPacket()
        let request = try Message(wire: packet)
        var response = Message.response(to: request)
        response.header.isAuthoritative = true
        for host in 1...5 { response.answers.append(try Record("www.example.org. 300 IN A 192.0.2.\(host)")) }
        let encoded = try response.encode(maxSize: 1232)
        let cache = MessageCache()
        cache.store(
            request: request, view: 0, response: encoded.bytes, ttlOffsets: encoded.ttlOffsets,
            minimumTTL: encoded.minimumTTL, maxTTL: 3600, now: 0)
        var out = [UInt8](repeating: 0, count: 4096)
        try packet.withUnsafeBytes { raw in
            let view = try RequestView(packet: raw)
            try out.withUnsafeMutableBytes { buffer in
                // Ten seconds after the store, so the TTL patching runs too.
                precondition(cache.answer(packet: raw, request: view, view: 0, now: 10_000_000_000, limit: 1232, into: buffer) == encoded.bytes.count)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    let parsed = try RequestView(packet: identity(raw))
                    blackHole(cache.answer(packet: raw, request: parsed, view: 0, now: 10_000_000_000, limit: 1232, into: buffer))
                }
                benchmark.stopMeasurement()
            }
        }
    }

    Benchmark(
        "Chain.fiveHandlersPass",
        configuration: .init(thresholds: [.wallClock: wallClockTolerance, .mallocCountTotal: noMallocTolerance])
    ) { benchmark in
        let request = try Message(wire: queryPacket())
        let chain = Chain(
            handlers: [PassHandler(), PassHandler(), PassHandler(), PassHandler(), AnswerHandler(response: Message.response(to: request))],
            names: ["a", "b", "c", "d", "e"])
        let template = Query(
            request: request, client: Client(address: .v4(IPv4Address(192, 0, 2, 10)), port: 40000, transport: .udp))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var query = identity(template)
            let stop = chain.run(&query)
            chain.finish(&query, after: stop)
            blackHole(query.response)
        }
        benchmark.stopMeasurement()
    }
}
