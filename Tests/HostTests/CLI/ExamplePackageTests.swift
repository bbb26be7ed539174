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
    func customPluginPackageBuildsAndServes() async throws {
        // Minutes of compiling and waiting: on a GCD thread, never on one of the two cooperative threads the other
        // tests (and the servers they start) need.
        let outcome = try await blocking { try ExamplePackageTests.buildAndServe() }
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.plugins.contains("greeting — answers TXT queries under a zone"))
        #expect(outcome.reply?.answers.map(\.rdata) == [.txt([Array("hi there".utf8)])])
    }

    /// Builds the package, lists its plugins, runs it and asks it a question.
    static func buildAndServe() throws -> (status: Int32, stderr: String, plugins: String, reply: Message?) {
        let package = Binaries.root.appendingPathComponent("Examples/CustomPlugin")
        let scratch = Binaries.root.appendingPathComponent(".build-example").path
        let (status, _, stderr) = try Binaries.run(
            "/usr/bin/env",
            ["swift", "build", "--package-path", package.path, "--scratch-path", scratch],
            timeout: 1100
        )
        guard status == 0 else { return (status, stderr, "", nil) }
        let binary = "\(scratch)/debug/GreetingServer"
        let (_, plugins, _) = try Binaries.run(binary, ["plugins"])

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
        return (status, stderr, plugins, reply)
    }
}
