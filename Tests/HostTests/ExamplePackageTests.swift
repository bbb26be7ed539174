// ExamplePackageTests: the custom-plugin example package builds and its binary serves its own plugin.

import Foundation
import Pipeline
import SwiftletTestSupport
import Testing

@testable import Host

@Suite(.serialized) struct ExamplePackageTests {
    /// Building a second package compiles SwiftNIO again (minutes), so it runs when the test command asks for it.
    static let enabled = ProcessInfo.processInfo.environment["SWIFTLET_BUILD_EXAMPLES"] == "1"

    @Test(.enabled(if: ExamplePackageTests.enabled), .timeLimit(.minutes(20)))
    func customPluginPackageBuildsAndServes() throws {
        let package = Binaries.root.appendingPathComponent("Examples/CustomPlugin")
        let scratch = Binaries.root.appendingPathComponent(".build-example").path
        let (status, _, stderr) = try Binaries.run(
            "/usr/bin/env",
            ["swift", "build", "--package-path", package.path, "--scratch-path", scratch],
            timeout: 1100
        )
        #expect(status == 0, "\(stderr)")
        let binary = "\(scratch)/debug/GreetingServer"
        let (_, plugins, _) = try Binaries.run(binary, ["plugins"])
        #expect(plugins.contains("greeting — answers TXT queries under a zone"))

        let port = Binaries.freePort()
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("greeting-\(UUID().uuidString).yaml")
        try """
        servers:
          - listen: ["127.0.0.1:\(port)"]
            workers: 1
            plugins:
              - greeting: { zone: hello.example.org., text: "hi there" }
        """.write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", config.path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate() }
        let client = DNSClient(server: ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: port), timeout: 0.5)
        var reply: Message? = nil
        for _ in 0..<100 where reply == nil {
            reply = try? client.exchange(query("a.hello.example.org.", .txt))
            if reply == nil { usleep(100_000) }
        }
        #expect(reply?.answers.map(\.rdata) == [.txt([Array("hi there".utf8)])])
    }
}
