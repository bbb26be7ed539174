// QueryCommand: `swiftlet query @127.0.0.1:5353 example.org AAAA +tcp +dnssec`, printing like dig.

import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Pipeline

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Ask a DNS server, dig-style: swiftlet query @127.0.0.1:5353 example.org AAAA +tcp +dnssec",
        discussion:
            "Options: @server[:port] (default 127.0.0.1:5353), a name, a type, a class, +tcp, +tls (DNS over TLS, port 853 by default; the certificate is checked with +tls-ca=FILE and/or +tls-hostname=NAME, else not, as dig and kdig do), +https[=/path] (DNS over HTTPS with POST, port 443 by default, path /dns-query; the certificate as +tls), +https-get[=/path] (with GET), +dnssec, +cd, +norec, +noedns, +bufsize=N, +timeout=S."
    )

    @Argument(parsing: .allUnrecognized, help: "dig-style arguments") var arguments: [String] = []

    /// The parsed arguments.
    struct Request: Equatable {
        var server = ListenAddress(address: .v4(IPv4Address(127, 0, 0, 1)), port: 5353)
        var name = DomainName.root
        var type = RecordType.a
        var recordClass = RecordClass.in
        var tcp = false
        /// DNS over TLS; the certificate verified against `tlsCA` (or the system trust store) for `tlsHostname`
        /// when either is given.
        var tls = false
        var tlsCA: String? = nil
        var tlsHostname: String? = nil
        /// DNS over HTTPS at this path (the certificate as for `tls`), with GET when `httpsGet`.
        var httpsPath: String? = nil
        var httpsGet = false
        var dnssec = false
        var checkingDisabled = false
        var recursion = true
        var edns = true
        var bufferSize: UInt16 = 1232
        var timeout = 2.0
    }

    static func parse(_ arguments: [String]) throws -> Request {
        var request = Request()
        var sawName = false
        var sawPort = false
        for argument in arguments {
            if argument.hasPrefix("@") {
                let text = String(argument.dropFirst())
                if let address = ListenAddress(text) {
                    request.server = address
                    sawPort = true
                } else if let ip = IPAddress(text) {
                    request.server = ListenAddress(address: ip, port: 53)
                } else {
                    throw ValidationError("'\(text)' is not a server address like 127.0.0.1:5353 or [::1]:5353")
                }
            } else if argument.hasPrefix("+") {
                let option = argument.dropFirst().lowercased()
                switch option {
                case "tcp", "vc": request.tcp = true
                case "notcp": request.tcp = false
                case "tls": request.tls = true
                case "https": request.httpsPath = "/dns-query"
                case "https-get":
                    request.httpsPath = "/dns-query"
                    request.httpsGet = true
                case "dnssec": request.dnssec = true
                case "cd", "cdflag": request.checkingDisabled = true
                case "norec", "norecurse": request.recursion = false
                case "noedns": request.edns = false
                default:
                    if option.hasPrefix("bufsize="), let size = UInt16(option.dropFirst(8)) {
                        request.bufferSize = size
                    } else if option.hasPrefix("timeout="), let seconds = Double(option.dropFirst(8)), seconds > 0 {
                        request.timeout = seconds
                    } else if option.hasPrefix("https=") || option.hasPrefix("https-get=") {
                        let path = String(argument.drop { $0 != "=" }.dropFirst())
                        guard path.hasPrefix("/") else { throw ValidationError("'\(argument)': the path starts with /") }
                        request.httpsPath = path
                        request.httpsGet = option.hasPrefix("https-get=")
                    } else if option.hasPrefix("tls-ca=") {
                        request.tls = true
                        request.tlsCA = String(argument.dropFirst(8))
                    } else if option.hasPrefix("tls-hostname=") {
                        request.tls = true
                        request.tlsHostname = String(argument.dropFirst(14))
                    } else {
                        throw ValidationError("unknown option '\(argument)'")
                    }
                }
            } else if sawName, let type = RecordType(mnemonic: argument) {
                request.type = type
            } else if sawName, let recordClass = RecordClass(mnemonic: argument) {
                request.recordClass = recordClass
            } else if !sawName {
                do { request.name = try DomainName(argument) } catch {
                    throw ValidationError("'\(argument)': \(error)")
                }
                sawName = true
            } else {
                throw ValidationError("unexpected argument '\(argument)' (not a type or class)")
            }
        }
        // RFC 7858 §3.1: DNS over TLS listens on 853 unless told otherwise; HTTPS on 443.
        if request.httpsPath != nil {
            // +tls-ca and +tls-hostname set `tls` too; with +https they only say how the certificate is checked.
            request.tls = false
            if !sawPort { request.server.port = 443 }
        } else if request.tls && !sawPort {
            request.server.port = 853
        }
        return request
    }

    func run() async throws {
        let request = try QueryCommand.parse(self.arguments)
        var edns: EDNS? = nil
        if request.edns {
            edns = EDNS(udpPayloadSize: request.bufferSize)
            edns!.dnssecOK = request.dnssec
        }
        var query = Message.query(
            request.name,
            request.type,
            recordClass: request.recordClass,
            id: UInt16.random(in: 0...UInt16.max),
            recursionDesired: request.recursion,
            edns: edns
        )
        query.header.checkingDisabled = request.checkingDisabled
        let client = DNSClient(server: request.server, timeout: request.timeout)
        let started = Date()
        do {
            if request.tls || request.httpsPath != nil {
                let reply = try await request.tls
                    ? QueryCommand.exchangeOverTLS(query, request) : QueryCommand.exchangeOverHTTPS(query, request)
                print(reply.description, terminator: "")
                print("")
                print(";; Query time: \(Int(Date().timeIntervalSince(started) * 1000)) msec")
                let how = request.tls ? "TLS" : request.httpsGet ? "HTTPS-GET" : "HTTPS"
                print(";; SERVER: \(request.server)(\(how))")
                print(";; MSG SIZE  rcvd: \(reply.encodeReply().encoded.bytes.count)")
                return
            }
            var reply = try client.exchange(query, tcp: request.tcp)
            var usedTCP = request.tcp
            if reply.header.isTruncated && !request.tcp {
                print(";; Truncated, retrying in TCP mode.")
                reply = try client.exchange(query, tcp: true)
                usedTCP = true
            }
            let elapsed = Int(Date().timeIntervalSince(started) * 1000)
            print(reply.description, terminator: "")
            print("")
            print(";; Query time: \(elapsed) msec")
            print(";; SERVER: \(request.server)(\(usedTCP ? "TCP" : "UDP"))")
            print(";; MSG SIZE  rcvd: \(reply.encodeReply().encoded.bytes.count)")
        } catch {
            FileHandle.standardError.write(Data(";; communications error to \(request.server): \(error)\n".utf8))
            throw ExitCode(9)
        }
    }

    /// One exchange over DNS over HTTPS, with the client the forward plugin's `https://` upstreams use (ID 0, RFC
    /// 8484 §4.1).
    static func exchangeOverHTTPS(_ query: Message, _ request: Request) async throws -> Message {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var query = query
        query.header.id = 0
        let result: Result<[UInt8], any Error>
        do {
            let client = try UpstreamHTTPSClient(
                server: UpstreamServer(address: request.server.address, port: request.server.port),
                serverName: request.tlsHostname,
                path: request.httpsPath ?? "/dns-query",
                trustRoots: request.tlsCA,
                verify: request.tlsCA != nil || request.tlsHostname != nil,
                group: group
            )
            result = .success(
                try await client.exchange(
                    try query.encode().bytes,
                    timeout: .milliseconds(Int64(request.timeout * 1000)),
                    get: request.httpsGet
                )
            )
            try? await client.client.shutdown()
        } catch {
            result = .failure(error)
        }
        try? await group.shutdownGracefully()
        return try Message(wire: try result.get())
    }

    /// One exchange over DNS over TLS, on the connection the forward plugin's `tls://` upstreams use.
    static func exchangeOverTLS(_ query: Message, _ request: Request) async throws -> Message {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let verify = request.tlsCA != nil || request.tlsHostname != nil
        let context = try UpstreamTLS.context(trustRoots: request.tlsCA, verify: verify)
        let address = try SocketAddress(ipAddress: "\(request.server.address)", port: Int(request.server.port))
        let connection = UpstreamTCPConnection(
            address: address,
            group: group,
            tls: context,
            serverName: request.tlsHostname
        )
        let result: Result<[UInt8], any Error>
        do {
            result = .success(
                try await connection.exchange(
                    try query.encode().bytes,
                    question: query.questions[0],
                    timeout: .milliseconds(Int64(request.timeout * 1000)),
                    exactCase: false
                )
            )
        } catch {
            result = .failure(error)
        }
        connection.close()
        try? await group.shutdownGracefully()
        return try Message(wire: try result.get())
    }
}
