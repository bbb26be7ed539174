// HostUpstreams: the host's upstream I/O, handed to plugins as their `UpstreamService`: one client per plugin
// instance, which owns that instance's sockets and connections, and runs each exchange on the executor of the query
// that asks (a UDP worker's reactor, else the event loops).

import NIOCore
import NIOPosix
import NIOSSL
import Pipeline
import SwiftletIO
import Synchronization

/// Makes plugins' upstream clients on the host's event loops.
final class HostUpstreamService: UpstreamService {
    let group: any EventLoopGroup

    init(group: any EventLoopGroup) { self.group = group }

    func client(_ options: UpstreamClientOptions) throws -> any UpstreamExchange {
        // A named trust store is read now, so a bad `tls_ca` fails the configuration, not the first query.
        let tls = try options.trustRoots.map { try UpstreamTLS.context(trustRoots: $0) }
        return HostUpstreamClient(group: self.group, options: options, tls: tls)
    }
}

/// One plugin instance's upstream client: per server, a pool of UDP sockets and a pipelined connection when the
/// options ask for them, made on first use.
final class HostUpstreamClient: UpstreamExchange {
    /// What is kept for one server.
    final class ServerSockets: Sendable {
        let address: SocketAddress
        /// Pooled UDP off the UDP workers (on a worker, the reactor keeps a pool of its own, keyed by this object).
        let datagrams: UpstreamUDPPool?
        /// The reused TCP or TLS connection.
        let connection: UpstreamTCPConnection?

        init(address: SocketAddress, datagrams: UpstreamUDPPool?, connection: UpstreamTCPConnection?) {
            self.address = address
            self.datagrams = datagrams
            self.connection = connection
        }
    }

    let group: any EventLoopGroup
    let options: UpstreamClientOptions
    /// TLS with the options' trust roots; nil until a TLS server is asked when the system's are used.
    private let tls: Mutex<NIOSSLContext?>
    private let servers = Mutex<[UpstreamServer: ServerSockets]>([:])
    /// One HTTP client per DNS-over-HTTPS server (its connections are reused across queries).
    private let httpsClients = Mutex<[UpstreamServer: UpstreamHTTPSClient]>([:])

    init(group: any EventLoopGroup, options: UpstreamClientOptions, tls: NIOSSLContext?) {
        self.group = group
        self.options = options
        self.tls = Mutex(tls)
    }

    func exchange(
        _ packet: [UInt8],
        question: Question,
        exactCase: Bool,
        with server: UpstreamServer,
        timeout: Duration,
        on executor: (any TaskExecutor)?
    ) async throws -> [UInt8] {
        guard let cookies = self.options.cookies else {
            return try await self.send(packet, question: question, exactCase: exactCase, with: server, timeout: timeout, on: executor)
        }
        // RFC 7873 §5.3: BADCOOKIE means "here is my cookie, ask again with it"; a second one over UDP, ask over TCP.
        var target = server
        for attempt in 0..<3 {
            var withCookie = packet
            cookies.prepare(&withCookie, for: server.address)
            let reply = try await self.send(withCookie, question: question, exactCase: exactCase, with: target, timeout: timeout, on: executor)
            switch cookies.check(reply, from: server.address) {
            case .accepted: return reply
            case .retry where attempt < 2:
                if attempt == 1 && target.transport == .udp { target = server.over(.tcp) }
                continue
            case .retry: return reply
            case .forged(let why):
                self.options.rejected()
                throw UpstreamError.connection("discarded \(why)")
            }
        }
        throw UpstreamError.connection("BADCOOKIE every time")
    }

    /// One exchange, the cookie (if any) already in `packet`.
    private func send(
        _ packet: [UInt8],
        question: Question,
        exactCase: Bool,
        with server: UpstreamServer,
        timeout: Duration,
        on executor: (any TaskExecutor)?
    ) async throws -> [UInt8] {
        let reactor = executor as? Reactor
        assert(reactor == nil || Reactor.current === reactor, "a query's exchange runs on the executor it names")
        var packet = packet
        // A fresh random ID per exchange (RFC 5452 §4.3); a pool draws another when this one is in flight there.
        let id = reactor?.randomUInt16() ?? UInt16.random(in: 0...UInt16.max)
        packet.setMessageID(id)
        let timeout = TimeAmount.nanoseconds(timeout.nanoseconds)
        let rejected = self.options.rejected
        switch (server.transport, self.options.datagrams) {
        case (.udp, .pooled):
            let sockets = try self.sockets(for: server)
            if let reactor {
                let pool = reactor.resource(for: sockets) {
                    ReactorUDPPool(upstream: sockets.address, reactor: reactor, rejected: rejected)
                }
                return try await pool.exchange(packet, question: question, exactCase: exactCase, timeout: timeout)
            }
            return try await sockets.datagrams!.exchange(
                packet,
                question: question,
                exactCase: exactCase,
                timeout: timeout
            )
        case (.udp, .perQuery):
            let datagram = ConnectedDatagram(
                packet: packet,
                remote: try Self.socketAddress(server),
                id: id,
                question: question,
                exactCase: exactCase,
                timeout: timeout,
                rejected: rejected
            )
            if let reactor { return try await datagram.exchange(on: reactor) }
            // The loop the query runs on when it is one (a TCP connection's), so nothing hops threads.
            return try await datagram.exchange(on: (executor as? EventLoopTaskExecutor)?.loop ?? self.group.any())
        case (.https(let serverName, let path), _):
            // RFC 8484 §4.1: ID 0, so HTTP caches see equal queries as equal; TLS keeps forgers out, not the ID.
            packet.setMessageID(0)
            var reply = try await self.httpsClient(for: server, serverName: serverName, path: path)
                .exchange(packet, timeout: timeout)
            guard isReply(reply, id: 0, question: question, exactCase: exactCase) else {
                rejected()
                throw UpstreamError.malformed
            }
            reply.setMessageID(id)
            return reply
        case (.tcp, _), (.tls, _):
            if self.options.reusesConnections {
                let connection = try self.sockets(for: server).connection!
                return try await connection.exchange(packet, question: question, timeout: timeout, exactCase: exactCase)
            }
            let connection = try self.connection(to: server, at: try Self.socketAddress(server))
            defer { connection.close() }
            return try await connection.exchange(packet, question: question, timeout: timeout, exactCase: exactCase)
        }
    }

    /// The sockets kept for `server`, made on first use.
    private func sockets(for server: UpstreamServer) throws -> ServerSockets {
        if let known = self.servers.withLock({ $0[server] }) { return known }
        let address = try Self.socketAddress(server)
        let made = ServerSockets(
            address: address,
            datagrams: server.transport == .udp && self.options.datagrams == .pooled
                ? UpstreamUDPPool(upstream: address, group: self.group, rejected: self.options.rejected) : nil,
            connection: server.transport != .udp && self.options.reusesConnections
                ? try self.connection(to: server, at: address) : nil
        )
        return self.servers.withLock { servers in
            if let raced = servers[server] { return raced }
            servers[server] = made
            return made
        }
    }

    /// The HTTP client of a DNS-over-HTTPS `server`, made on first use.
    private func httpsClient(for server: UpstreamServer, serverName: String?, path: String) throws -> UpstreamHTTPSClient {
        try self.httpsClients.withLock { clients in
            if let known = clients[server] { return known }
            let made = try UpstreamHTTPSClient(
                server: server,
                serverName: serverName,
                path: path,
                trustRoots: self.options.trustRoots,
                group: self.group
            )
            clients[server] = made
            return made
        }
    }

    /// A TCP connection to `server`, with TLS when it is a `tls` one (opened on its first exchange).
    private func connection(to server: UpstreamServer, at address: SocketAddress) throws -> UpstreamTCPConnection {
        guard case .tls(let name) = server.transport else {
            return UpstreamTCPConnection(address: address, group: self.group)
        }
        let context = try self.tls.withLock { context in
            if let context { return context }
            let made = try UpstreamTLS.context(trustRoots: nil)
            context = made
            return made
        }
        return UpstreamTCPConnection(address: address, group: self.group, tls: context, serverName: name)
    }

    static func socketAddress(_ server: UpstreamServer) throws -> SocketAddress {
        do { return try SocketAddress(ipAddress: "\(server.address)", port: Int(server.port)) } catch {
            throw UpstreamError.connection("bad address \(server.address)")
        }
    }
}

/// TLS client contexts for upstreams: the server's chain and name verified (RFC 8310 strict privacy), TLS 1.2 or
/// later.
enum UpstreamTLS {
    /// - Parameter verify: false only for `swiftlet query +tls` without a name or CA (dig's and kdig's opportunistic
    ///   mode, RFC 7858 §4.1); every upstream is verified.
    static func context(trustRoots: String?, verify: Bool = true) throws -> NIOSSLContext {
        let configuration = try Self.configuration(trustRoots: trustRoots, verify: verify, alpn: TLSServerContext.dotALPN)
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw UpstreamSetupError("cannot set up TLS: \(error)")
        }
    }

    /// The client TLS configuration: TLS 1.2 or later, offering `alpn`, trusting the PEM certificates in
    /// `trustRoots` (the system's when nil).
    static func configuration(trustRoots: String?, verify: Bool = true, alpn: [String]) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = verify ? .fullVerification : .none
        configuration.applicationProtocols = alpn
        configuration.minimumTLSVersion = .tlsv12
        if let trustRoots {
            guard let certificates = try? NIOSSLCertificate.fromPEMFile(trustRoots), !certificates.isEmpty else {
                throw UpstreamSetupError("cannot read certificates from '\(trustRoots)'")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        return configuration
    }
}
