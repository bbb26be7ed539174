// Filter micro-benchmarks: 1,000,000 generated rules of a realistic mix (90% hosts-file and plain names, 10% `||`
// suffix and `*.` wildcard rules, plus 1,000 regular expressions): the lookup for an exact hit, a suffix hit, a
// regex hit and a miss (the common case), and the load of the whole set.
//
// Each lookup sample is 1000 operations; the checked-in thresholds are per sample. The load benchmark also prints
// the compiled set's bytes per rule.

import Benchmark
import FilterRuleEngine
import Pipeline

/// The generated lists: deterministic, about 25 MB of text.
func generatedLists() -> [(name: String, text: [UInt8])] {
    var hosts: [UInt8] = []
    var plain: [UInt8] = []
    var adblock: [UInt8] = []
    hosts.reserveCapacity(16 << 20)
    let words = ["ads", "track", "metrics", "pixel", "stat", "beacon", "cdn", "tag", "count", "sync"]
    for index in 0..<900_000 {
        let name = "\(words[index % 10])\(index).\(words[(index / 10) % 10])-site\(index % 5000).com"
        if index % 2 == 0 {
            hosts += Array("0.0.0.0 \(name)\n".utf8)
        } else {
            plain += Array("\(name)\n".utf8)
        }
    }
    for index in 0..<99_000 {
        let name = "\(words[index % 10])-net\(index).org"
        adblock += Array((index % 3 == 0 ? "*.\(name)\n" : "||\(name)^\n").utf8)
    }
    for index in 0..<1_000 {
        let rule: String
        switch index % 4 {
        case 0: rule = "/^ad[0-9]*\\.regex\(index)\\.net$/"
        case 1: rule = "/^(www\\.)?trk[a-z]{2}\\.rx\(index)\\.io$/"
        case 2: rule = "/^pixel-[0-9]+\\.r\(index)\\.example$/"
        default: rule = "/^[a-z]+\\.telemetry\(index)\\.info$/"
        }
        adblock += Array("\(rule)\n".utf8)
    }
    return [("hosts", hosts), ("domains", plain), ("adblock", adblock)]
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

    let bytesPerRule = BenchmarkMetric.custom("compiled bytes per rule", useScalingFactor: false)
    let ruleCount = BenchmarkMetric.custom("rules", polarity: .prefersLarger, useScalingFactor: false)
    let client = IPAddress("192.168.1.20")!
    let cases: [(String, String, Bool?)] = [
        ("Filter.exactHit1M", "track54321.metrics-site4321.com.", true),
        ("Filter.suffixHit1M", "a.b.ads-net12340.org.", true),
        ("Filter.regexHit1M", "trkab.rx1.io.", true),
        ("Filter.miss1M", "www.unlisted-example.com.", nil),
    ]
    for (title, text, expected) in cases {
        Benchmark(title) { benchmark, rules in
            let name = DomainName(stringLiteral: text)
            precondition(rules.isBlocked(name, client: client) == expected, "\(title): wrong decision")
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(rules.isBlocked(identity(name), client: client))
            }
            benchmark.stopMeasurement()
        } setup: {
            FilterRules(lists: generatedLists())
        }
    }

    // One load of the 1M rules per iteration, with the compiled set's bytes per rule (gated at 64) and the peak
    // resident memory of the process during the load.
    Benchmark(
        "Filter.load1M",
        configuration: .init(
            metrics: [.wallClock, .peakMemoryResident, bytesPerRule, ruleCount],
            timeUnits: .milliseconds,
            warmupIterations: 0,
            scalingFactor: .one,
            maxDuration: .seconds(10),
            maxIterations: 3,
            thresholds: [
                // The gate: compiled bytes per rule at most one over the checked-in value (the issue asks ≤ 64), every
                // rule compiled, no catastrophic slowdown.
                bytesPerRule: BenchmarkThresholds(absolute: [.p90: 1]),
                ruleCount: BenchmarkThresholds(absolute: [.p90: 0]),
                .wallClock: wallClockTolerance,
                .peakMemoryResident: BenchmarkThresholds(relative: [.p90: 50.0]),
            ]
        )
    ) { benchmark, lists in
        benchmark.startMeasurement()
        let rules = FilterRules(lists: lists)
        benchmark.stopMeasurement()
        benchmark.measurement(bytesPerRule, rules.memoryBytes / max(1, rules.ruleCount))
        benchmark.measurement(ruleCount, rules.ruleCount)
        blackHole(rules)
    } setup: {
        generatedLists()
    }
}
