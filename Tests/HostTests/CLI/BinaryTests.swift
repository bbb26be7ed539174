// BinaryTests: the `swiftlet` binary as a user runs it: check, run, query, dig and kdig, SIGHUP and SIGTERM.

import Foundation
import Pipeline
import SwiftletTestSupport
import Testing

@testable import Host

/// Whether a test that needs an outside tool runs. In CI (`CI` set) and as root, where `scripts/test.sh` installs
/// every tool, it always runs, so a missing tool fails it (`requireTool`) instead of skipping it unseen; elsewhere
/// it runs when the tool is there.
enum Tools {
    static let mustRun = ProcessInfo.processInfo.environment["CI"] != nil || getuid() == 0

    /// The `.enabled(if:)` condition for a test needing `available`.
    static func gate(_ available: Bool) -> Bool { available || Tools.mustRun }

    /// Fails the test, naming the tool, when it is not available.
    static func require(_ available: Bool, _ tool: String) throws {
        try #require(available, "\(tool) is not installed: scripts/test.sh installs it (apt-get)")
    }
}

/// The built binary and tools on PATH.
enum Binaries {
    static let root = fixturesDirectory.deletingLastPathComponent().deletingLastPathComponent()
    static let swiftlet = root.appendingPathComponent(".build/debug/swiftlet").path
    static func tool(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"]
        where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        return nil
    }

    /// `run` on a GCD thread: an async test must not hold one of the cooperative pool's threads while a process runs.
    static func runOffPool(
        _ path: String,
        _ arguments: [String],
        timeout: Double = 20
    ) async throws -> (Int32, String, String) {
        try await blocking { try Binaries.run(path, arguments, timeout: timeout) }
    }

    /// Runs a command to completion (bounded) and returns its exit status and output.
    static func run(_ path: String, _ arguments: [String], timeout: Double = 20) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        // Output goes to files, not pipes: a child that writes more than a pipe holds (64 KiB; a package build
        // after a change does) would block until the timeout, since the pipes are read only after it exits.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-run-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? out.close()
        try? err.close()
        let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        return (process.terminationStatus, stdout, stderr)
    }

    /// A port free on 127.0.0.1 for both UDP and TCP right now.
    static func freePort() -> UInt16 {
        for _ in 0..<50 {
            let port = UInt16.random(in: 20000...60000)
            var (address, length) = SocketAddresses.make(
                ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: port)
            )
            var free = true
            for type in [SOCK_DGRAM, SOCK_STREAM] {
                let fd = socket(AF_INET, Int32(type.rawValue), 0)
                let bound = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
                }
                close(fd)
                if bound != 0 { free = false }
            }
            if free { return port }
        }
        return 0
    }
}

@Suite(.serialized) struct BinaryTests {
    func writeConfig(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func config(port: UInt16, hosts: String) -> String {
        """
        servers:
          - listen: ["127.0.0.1:\(port)"]
            workers: 1
            plugins:
              - hosts: { file: \(hosts), reload_interval: 0 }
        """
    }

    @Test func checkReportsTheExactError() async throws {
        let bad = try self.writeConfig(
            "servers:\n  - listen: [\"127.0.0.1:5399\"]\n    plugins:\n      - hosts: { file: /etc/hosts, tll: 5 }\n"
        )
        defer { try? FileManager.default.removeItem(at: bad) }
        let (status, _, stderr) = try await Binaries.runOffPool(Binaries.swiftlet, ["check", "--config", bad.path])
        #expect(status == 2)
        #expect(
            stderr
                == "\(bad.path):4:36: servers[0].plugins[0].hosts.tll: unknown key 'tll' (valid keys: fallthrough, file, reload_interval, ttl)\n"
        )
        let good = try self.writeConfig(self.config(port: 5399, hosts: "/etc/hosts"))
        defer { try? FileManager.default.removeItem(at: good) }
        let (okStatus, stdout, _) = try await Binaries.runOffPool(Binaries.swiftlet, ["check", "--config", good.path])
        #expect(okStatus == 0)
        #expect(stdout == "\(good.path): OK (1 server block(s))\n")
    }

    /// The first line of `file` containing `text`, waiting for it up to `seconds`; fails the test if it never comes.
    static func waitForLine(containing text: String, in file: URL, seconds: Double = 10) async throws -> String {
        var found = ""
        let seen = await eventually(within: seconds) {
            let contents = String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
            found = contents.split(separator: "\n").first { $0.contains(text) }.map(String.init) ?? ""
            return !found.isEmpty
        }
        if !seen { Issue.record("no line containing '\(text)' in \(file.path) within \(seconds) s") }
        return found
    }

    @Test func versionAndPluginsList() async throws {
        let (status, stdout, _) = try await Binaries.runOffPool(Binaries.swiftlet, ["--version"])
        #expect(status == 0 && stdout == "\(Swiftlet.version)\n")
        let (_, list, _) = try await Binaries.runOffPool(Binaries.swiftlet, ["plugins"])
        for plugin in ["acl", "log", "hosts", "echo"] {
            #expect(list.contains("\n\(plugin) — ") || list.hasPrefix("\(plugin) — "))
        }
    }

    @Test(.enabled(if: Tools.gate(Binaries.tool("dig") != nil && Binaries.tool("kdig") != nil)))
    func servesDigAndKdigThenReloadsOnSIGHUPAndStopsOnSIGTERM() async throws {
        try Tools.require(Binaries.tool("dig") != nil && Binaries.tool("kdig") != nil, "dig and kdig")
        let port = Binaries.freePort()
        let hostsFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-\(UUID().uuidString).hosts"
        )
        try "192.0.2.1 www.example.org\n2001:db8::1 www.example.org\n".write(
            to: hostsFile,
            atomically: true,
            encoding: .utf8
        )
        let configURL = try self.writeConfig(self.config(port: port, hosts: hostsFile.path))
        defer {
            try? FileManager.default.removeItem(at: hostsFile)
            try? FileManager.default.removeItem(at: configURL)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.swiftlet)
        process.arguments = ["run", "--config", configURL.path]
        process.standardOutput = FileHandle.nullDevice
        // Its log goes to a file the test reads, to wait for what it says (a reload's result).
        let logURL = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        defer {
            try? log.close()
            try? FileManager.default.removeItem(at: logURL)
        }
        process.standardError = log
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let client = DNSClient(server: ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: port), timeout: 0.5)
        let ready = await eventually { (try? client.exchange(query("www.example.org.", .a))) != nil }
        #expect(ready)

        let (digStatus, dig, _) = try await Binaries.runOffPool(
            Binaries.tool("dig")!,
            ["@127.0.0.1", "-p", "\(port)", "www.example.org", "A", "+noall", "+answer", "+comments"]
        )
        #expect(digStatus == 0)
        #expect(dig.contains("status: NOERROR"))
        #expect(dig.contains("flags: qr aa rd;"))
        #expect(dig.contains("www.example.org.\t3600\tIN\tA\t192.0.2.1"))
        let (_, digTCP, _) = try await Binaries.runOffPool(
            Binaries.tool("dig")!,
            ["@127.0.0.1", "-p", "\(port)", "www.example.org", "AAAA", "+tcp", "+short"]
        )
        #expect(digTCP == "2001:db8::1\n")
        let (_, kdig, _) = try await Binaries.runOffPool(
            Binaries.tool("kdig")!,
            ["@127.0.0.1", "-p", "\(port)", "www.example.org", "A", "+short"]
        )
        #expect(kdig == "192.0.2.1\n")
        let (_, kdigTCP, _) = try await Binaries.runOffPool(
            Binaries.tool("kdig")!,
            ["@127.0.0.1", "-p", "\(port)", "+tcp", "-x", "192.0.2.1", "+short"]
        )
        #expect(kdigTCP == "www.example.org.\n")
        let (_, ours, _) = try await Binaries.runOffPool(
            Binaries.swiftlet,
            ["query", "@127.0.0.1:\(port)", "www.example.org", "A", "+tcp"]
        )
        #expect(ours.contains("www.example.org.\t3600\tIN\tA\t192.0.2.1"))
        #expect(ours.contains(";; SERVER: 127.0.0.1:\(port)(TCP)"))

        // SIGHUP with a changed configuration: the new answer; with a broken one: the old keeps serving.
        let hostsFile2 = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-\(UUID().uuidString).hosts"
        )
        try "192.0.2.77 www.example.org\n".write(to: hostsFile2, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: hostsFile2) }
        try self.config(port: port, hosts: hostsFile2.path).write(to: configURL, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        var reloaded: [RData] = []
        _ = await eventually(within: 5) {
            reloaded = (try? client.exchange(query("www.example.org.", .a)).answers.map(\.rdata)) ?? []
            return reloaded == [.a(IPv4Address(192, 0, 2, 77))]
        }
        #expect(reloaded == [.a(IPv4Address(192, 0, 2, 77))])
        try "servers: [".write(to: configURL, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        // The server says the reload failed; then the old configuration is still the one answering.
        let failed = try await BinaryTests.waitForLine(containing: "reload failed", in: logURL)
        #expect(failed.contains("the previous configuration keeps serving"))
        #expect(
            try client.exchange(query("www.example.org.", .a)).answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 77))]
        )

        kill(process.processIdentifier, SIGTERM)
        let stopped = Date()
        #expect(await eventually { !process.isRunning })
        #expect(process.terminationStatus == 0)
        // Gone well within the shutdown bound (5 s).
        #expect(Date().timeIntervalSince(stopped) < ShutdownWatchdog.bound)
    }
}
