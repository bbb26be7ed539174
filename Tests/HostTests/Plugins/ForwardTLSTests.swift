// ForwardTLSTests: forward over DNS over TLS to an unbound TLS listener on loopback, with a test CA.

import Foundation
import Pipeline
import Plugins
import SwiftletTestSupport
import Testing

@testable import Host

/// unbound answering `www.example.org. A` over TLS with a certificate for dns.example.test from a throwaway CA.
struct UnboundTLS {
    let process: Process
    let directory: URL
    let port: UInt16

    static let available =
        Binaries.tool("openssl") != nil
        && (Binaries.tool("unbound") != nil || FileManager.default.isExecutableFile(atPath: "/usr/sbin/unbound"))

    static func start() throws -> UnboundTLS {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "swiftlet-dot-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let openssl = Binaries.tool("openssl")!
        func run(_ arguments: [String]) throws {
            let (status, _, stderr) = try Binaries.run(openssl, arguments)
            guard status == 0 else { throw DNSClientError.socket("openssl \(arguments.first ?? ""): \(stderr)") }
        }
        let path = { (name: String) in directory.appendingPathComponent(name).path }
        try run([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days",
            "2", "-subj", "/CN=Swiftlet Test CA",
        ])
        try run([
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", path("server.key"), "-out", path("server.csr"), "-subj",
            "/CN=dns.example.test",
        ])
        try "subjectAltName=DNS:dns.example.test\nbasicConstraints=CA:FALSE\n".write(
            toFile: path("ext.cnf"),
            atomically: true,
            encoding: .utf8
        )
        try run([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-out", path("server.pem"), "-days", "2", "-extfile", path("ext.cnf"),
        ])
        let port = Binaries.freePort()
        try """
        server:
            interface: 127.0.0.1@\(port)
            tls-port: \(port)
            tls-service-key: "\(path("server.key"))"
            tls-service-pem: "\(path("server.pem"))"
            do-daemonize: no
            chroot: ""
            username: ""
            directory: "\(directory.path)"
            pidfile: "\(path("unbound.pid"))"
            use-syslog: no
            verbosity: 0
            access-control: 127.0.0.0/8 allow
            module-config: "iterator"
            local-zone: "example.org." static
            local-data: "www.example.org. 300 IN A 192.0.2.1"
        remote-control:
            control-enable: no
        """.write(toFile: path("unbound.conf"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.tool("unbound") ?? "/usr/sbin/unbound")
        process.arguments = ["-d", "-c", path("unbound.conf")]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when it accepts TCP connections.
        for _ in 0..<100 {
            var (address, length) = SocketAddresses.make(
                ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: port)
            )
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
            }
            close(fd)
            if connected == 0 { return UnboundTLS(process: process, directory: directory, port: port) }
            usleep(100_000)
        }
        process.terminate()
        throw DNSClientError.timeout
    }

    var caFile: String { self.directory.appendingPathComponent("ca.pem").path }

    func stop() {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: self.directory)
    }
}

@Suite(.serialized) struct ForwardTLSTests {
    @Test(.enabled(if: Tools.gate(UnboundTLS.available))) func forwardsOverTLSWithAVerifiedCertificate() async throws {
        try Tools.require(UnboundTLS.available, "unbound")
        // openssl and unbound start off the cooperative pool.
        let upstream = try await blocking { try UnboundTLS.start() }
        defer { upstream.stop() }
        let good =
            "      - forward: { to: [\"tls://127.0.0.1:\(upstream.port)#dns.example.test\"], tls_ca: \(upstream.caFile) }"
        try await withServer(plugins: good) { server in
            let reply = try await server.ask(query("www.example.org.", .a))
            #expect(reply.responseCode == .noError, "\(reply)")
            #expect(reply.answers.map(\.rdata) == [.a(IPv4Address(192, 0, 2, 1))])
            // The connection is reused: a second question goes over the same TLS session.
            #expect(try await server.ask(query("www.example.org.", .aaaa)).responseCode == .noError)
        }
        // A name the certificate does not carry: the handshake fails and the client gets SERVFAIL.
        let wrongName =
            "      - forward: { to: [\"tls://127.0.0.1:\(upstream.port)#other.example.test\"], tls_ca: \(upstream.caFile), timeout: 500ms, deadline: 1s }"
        try await withServer(plugins: wrongName) { server in
            let reply = try await server.ask(query("www.example.org.", .a))
            #expect(reply.responseCode == .servFail)
        }
    }

    @Test func tlsUpstreamsNeedAName() throws {
        let text =
            "servers:\n  - listen: [\"127.0.0.1:0\"]\n    plugins:\n      - forward: { to: [\"tls://192.0.2.1\"] }\n"
        #expect(buildError(text).contains("forward.to[0]: 'tls://192.0.2.1' is not an upstream like"))
    }
}
