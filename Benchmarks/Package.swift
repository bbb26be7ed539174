// swift-tools-version: 6.1
// Swiftlet benchmarks: a separate package so the main package never depends on package-benchmark.
// Run from this directory: `swift package benchmark` (or ../bench/benchmarks-check.sh for the threshold gate).
import PackageDescription

let package = Package(
    name: "SwiftletBenchmarks",
    dependencies: [
        // Named explicitly so the product reference below does not depend on the checkout's directory name.
        .package(name: "Swiftlet", path: ".."),
        // ordo-one/benchmark (formerly package-benchmark; the old identifier now prints a deprecation warning).
        // MallocInterposer (the default on Swift 6.3+) gives the malloc counters without jemalloc.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ZoneBenchmarks",
            dependencies: [
                .product(name: "Pipeline", package: "Swiftlet"),
                .product(name: "Plugins", package: "Swiftlet"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ZoneBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        .executableTarget(
            name: "FilterBenchmarks",
            dependencies: [
                .product(name: "Pipeline", package: "Swiftlet"),
                .product(name: "FilterRuleEngine", package: "Swiftlet"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/FilterBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        .executableTarget(
            name: "FastPathBenchmarks",
            dependencies: [
                .product(name: "Pipeline", package: "Swiftlet"),
                .product(name: "Plugins", package: "Swiftlet"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/FastPathBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
        .executableTarget(
            name: "WireBenchmarks",
            dependencies: [
                .product(name: "Pipeline", package: "Swiftlet"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/WireBenchmarks",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark"),
            ]
        ),
    ]
)
