// Zone micro-benchmarks: the authoritative lookup in a 100,000-name zone (a hit, NXDOMAIN, a wildcard and a
// referral), the per-query cost the fast path saves after the first answer.
//
// As in WireBenchmarks, each sample is 1000 operations and the checked-in thresholds are per sample.

import Benchmark
import Pipeline
import Plugins

/// example.org. with h0…h99999 A records, a wildcard under `wild` and a delegation `sub`.
func hundredThousandNameZone() throws -> Zone {
    var records: [Record] = [
        try Record("example.org. 3600 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 3600 1209600 300"),
        try Record("example.org. 3600 IN NS ns1.example.org."),
        try Record("ns1.example.org. 3600 IN A 192.0.2.53"),
        try Record("*.wild.example.org. 3600 IN A 192.0.2.99"),
        try Record("sub.example.org. 3600 IN NS ns.example.net."),
    ]
    records.reserveCapacity(100_005)
    let origin = DomainName("example.org.")
    for index in 0..<100_000 {
        let name = try origin.prepending(label: Array("h\(index)".utf8))
        let address = IPv4Address(198, UInt8(18 + index / 65536), UInt8((index / 256) % 256), UInt8(index % 256))
        records.append(Record(name: name, ttl: 3600, rdata: .a(address)))
    }
    return try Zone(origin: origin, records: records)
}

let benchmarks: @Sendable () -> Void = {
    let scaling: BenchmarkScalingFactor = .kilo
    let wallClockTolerance = BenchmarkThresholds(relative: [.p90: 900.0])
    let mallocTolerance = BenchmarkThresholds(absolute: [.p90: scaling.rawValue - 1])

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: scaling,
        maxDuration: .seconds(2),
        maxIterations: 10_000,
        thresholds: [.wallClock: wallClockTolerance, .mallocCountTotal: mallocTolerance]
    )

    let cases: [(String, String, RecordType)] = [
        ("Zone.lookupHit100k", "h54321.example.org.", .a),
        ("Zone.lookupNXDOMAIN100k", "nope.example.org.", .a),
        ("Zone.lookupWildcard100k", "x.wild.example.org.", .a),
        ("Zone.lookupReferral100k", "www.sub.example.org.", .a),
    ]
    for (title, text, type) in cases {
        Benchmark(title) { benchmark, zone in
            let name = DomainName(stringLiteral: text)
            precondition(!zone.answer(name, type).answers.isEmpty || text.hasPrefix("nope") || text.contains("sub"))
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(zone.answer(identity(name), type))
            }
            benchmark.stopMeasurement()
        } setup: {
            try hundredThousandNameZone()
        }
    }
}
