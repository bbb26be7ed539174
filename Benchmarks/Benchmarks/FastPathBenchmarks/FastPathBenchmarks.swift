// Fast-path micro-benchmarks: a message-cache hit (the whole per-packet cost of a cached answer besides the socket),
// the serving loop's whole hit with a DNS cookie and both of `ratelimit`'s limits on, and one pass of a chain of
// trivial handlers (the runner's own overhead). All must stay at 0 mallocs.
//
// As in WireBenchmarks, each sample is 1000 operations and the checked-in thresholds are per sample.

import Benchmark
import Pipeline
import Plugins

/// `www.example.org A` with EDNS, as dig sends it (without the cookie: the cache ignores it either way).
func queryPacket() throws -> [UInt8] {
    var query = Message.query(DomainName("www.example.org."), .a, id: 0x4a5b)
    query.header.authenticData = true
    return try query.wire
}

/// A chain step that answers with a prepared response the message cache may keep.
struct CacheableAnswerHandler: QueryHandler {
    let records: [Record]
    func handle(_ query: inout Query) -> Verdict {
        var response = query.respond()
        response.answers = self.records
        query.response = response
        query.cacheability = .upTo(seconds: 300)
        return .answered
    }
}

/// Where a suspended query's reply would go; a hit never asks for it.
struct NoSink: ReplySink {
    func send(_ replies: [[UInt8]]) {}
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
        "Responder.hitWithCookieAndRateLimit",
        configuration: .init(thresholds: [.wallClock: wallClockTolerance, .mallocCountTotal: noMallocTolerance])
    ) { benchmark in
        // A block as the host builds it: ratelimit's guard and reply guard (limits far above this loop's rate, nobody
        // exempt, so every query is counted and every reply checked), an answer, and DNS cookies.
        var builder = ChainBuilder()
        builder.begin(plugin: RateLimitPlugin.name)
        var options = RateLimitOptions()
        options.client.qps = 1_000_000_000
        options.client.burst = 1_000_000
        options.responses.rate = 1_000_000_000
        options.exempt = []
        try RateLimitPlugin.setup(
            options,
            context: PluginContext(logger: Logger(label: "bench"), metricsPrefix: "bench_ratelimit"),
            into: &builder
        )
        builder.begin(plugin: "answer")
        builder.add(CacheableAnswerHandler(records: (1...5).map { try! Record("www.example.org. 300 IN A 192.0.2.\($0)") }))
        let block = ServerBlock(
            index: 0, zones: [.root], guards: builder.guards, chain: try builder.build(), observers: [],
            maxUDPSize: 1232, maxInFlight: 100, replyGuards: builder.replyGuards,
            cookies: ServerCookies(secret: Array(repeating: 7, count: 16)))
        let responder = Responder(cache: MessageCache(), table: BlockTable(blocks: [block]), transport: .udp)
        var query = Message.query(DomainName("www.example.org."), .a, id: 0x4a5b)
        query.edns!.options = [.cookie(client: [1, 2, 3, 4, 5, 6, 7, 8], server: [])]
        let packet = try query.wire
        let client = Client(address: .v4(IPv4Address(192, 0, 2, 10)), port: 40000, transport: .udp)
        let table = responder.snapshot()
        var out = [UInt8](repeating: 0, count: 4096)
        packet.withUnsafeBytes { raw in
            out.withUnsafeMutableBytes { buffer in
                var tally = FrontDoorTally()
                // The first answer comes from the chain and fills the message cache; the rest are hits.
                for _ in 0..<2 {
                    _ = responder.process(
                        packet: raw, client: client, reply: buffer, table: table, now: 1_000_000_000, tally: &tally,
                        executor: ServerExecutor.shared) { NoSink() }
                }
                // A microsecond a query: far under the limits, so every query passes both.
                var now: UInt64 = 2_000_000_000
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    now &+= 1_000
                    blackHole(
                        responder.process(
                            packet: identity(raw), client: client, reply: buffer, table: table, now: now,
                            tally: &tally, executor: ServerExecutor.shared) { NoSink() })
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
