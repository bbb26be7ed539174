// swift-tools-version: 6.1
// An example of a custom Swiftlet server binary: the built-in plugins plus one of your own.
import PackageDescription

let package = Package(
    name: "GreetingServer",
    dependencies: [
        // In your own package: .package(url: "https://github.com/…/swiftlet.git", from: "0.1.0")
        .package(name: "Swiftlet", path: "../.."),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "GreetingServer",
            dependencies: [
                .product(name: "Host", package: "Swiftlet"),
                .product(name: "Plugins", package: "Swiftlet"),
                .product(name: "Pipeline", package: "Swiftlet"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
