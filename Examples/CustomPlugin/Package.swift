// swift-tools-version: 6.1
// An example of a custom Swiftlet server binary: the built-in plugins plus one of your own. The plugin is a target
// of its own that depends on Pipeline alone (the plugin API); only the server binary needs Host.
import PackageDescription

let package = Package(
    name: "GreetingServer",
    dependencies: [
        // In your own package: .package(url: "https://github.com/…/swiftlet.git", from: "0.1.0")
        .package(name: "Swiftlet", path: "../..")
    ],
    targets: [
        .target(
            name: "Greeting",
            dependencies: [.product(name: "Pipeline", package: "Swiftlet")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "GreetingServer",
            dependencies: ["Greeting", .product(name: "Host", package: "Swiftlet")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
