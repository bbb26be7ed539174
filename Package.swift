// swift-tools-version: 6.1
// Swiftlet: a DNS server framework. Pipeline (wire codec, chain, caches) <- Plugins <- Host (the `swiftlet` binary).
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Swiftlet",
    products: [
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Plugins", targets: ["Plugins"]),
        .library(name: "FilterRuleEngine", targets: ["FilterRuleEngine"]),
        .library(name: "Host", targets: ["Host"]),
        .library(name: "SwiftletIO", targets: ["SwiftletIO"]),
        .executable(name: "swiftlet", targets: ["SwiftletMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // DNS wire codec, the chain and plugin API, the caches and the serving loop: no sockets, no config format.
        // swift-log and swift-metrics are API-only packages (the host picks the backends).
        .target(
            name: "Pipeline",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // The filter plugin's rules engine: adblock/hosts rule parsing, the name table, pattern automata. Pure code,
        // no I/O (lists, fetching and the handler are the plugin's), tested and benchmarked on its own.
        .target(name: "FilterRuleEngine", dependencies: ["Pipeline"], swiftSettings: strictSettings),
        // Built-in plugins, one folder each, and the Registry that lists them.
        .target(
            name: "Plugins",
            dependencies: [
                "Pipeline", "FilterRuleEngine", "CSwiftletPrefetch",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                // URL block lists (filter): a real HTTP client with timeouts, redirects and TLS, on the host's event
                // loops (upstream DNS goes through the host's UpstreamService, not NIO here).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["ACL/README.md", "Cache/README.md", "Echo/README.md", "Filter/README.md", "Forward/README.md", "Hosts/README.md",
                      "Log/README.md", "RateLimit/README.md", "Recursive/README.md", "Zone/README.md"],
            swiftSettings: strictSettings
        ),
        // Glibc's recvmmsg/sendmmsg/mmsghdr and epoll_event, which Swift's Glibc module does not expose.
        .target(name: "CSwiftletSocket"),
        // A cache prefetch hint (__builtin_prefetch), for ratelimit's table lookups.
        .target(name: "CSwiftletPrefetch"),
        // A UDP worker's own event loop (epoll, timers, task executor), where its suspended queries run and their
        // upstream sockets are read (docs/ARCHITECTURE.md).
        .target(name: "SwiftletIO", dependencies: ["CSwiftletSocket"], swiftSettings: strictSettings),
        // Config, listeners, admin HTTP and CLI; `Swiftlet.main(plugins:)` for custom server binaries.
        .target(
            name: "Host",
            dependencies: [
                "Pipeline", "Plugins", "CSwiftletSocket", "SwiftletIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // DNS over HTTPS (RFC 8484): HTTP/2 listeners, and HTTP/2 or HTTP/1.1 upstreams and `query +https`.
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "SwiftletMain", dependencies: ["Host"], path: "Sources/swiftlet", swiftSettings: strictSettings),
        .target(
            name: "SwiftletTestSupport",
            dependencies: ["Pipeline"],
            path: "Tests/SwiftletTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipeline", "SwiftletTestSupport"],
            path: "Tests/PipelineTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SwiftletIOTests",
            dependencies: ["SwiftletIO", "CSwiftletSocket"],
            path: "Tests/SwiftletIOTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FilterRuleEngineTests",
            dependencies: ["FilterRuleEngine", "Pipeline", "SwiftletTestSupport"],
            path: "Tests/FilterRuleEngineTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PluginsTests",
            dependencies: ["Pipeline", "Plugins", "SwiftletTestSupport"],
            path: "Tests/PluginsTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HostTests",
            dependencies: [
                "Host", "Pipeline", "Plugins", "SwiftletIO", "SwiftletTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/HostTests",
            swiftSettings: strictSettings
        ),
    ]
)
