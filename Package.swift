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
    ],
    targets: [
        .target(name: "Pipeline", swiftSettings: strictSettings),
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
    ]
)
