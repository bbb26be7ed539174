// FakeUpstream: a scripted DNS server on 127.0.0.1 (UDP and TCP, one port) for forward and cache tests.

import Foundation
import Glibc
import Pipeline
import Synchronization

/// What the fake upstream does with one query.
public enum FakeAction: Sendable {
    /// Send this message (its ID and question are set from the query).
    case reply(Message)
    /// Send these octets as they are.
    case raw([UInt8])
    /// Send these replies in order (spoofing tests: wrong ones first).
    case sequence([FakeAction])
    /// Wait, then act.
    case delay(Double, Message)
    /// Send nothing.
    case drop
    /// Send this octet string from another socket (a wrong source port).
    case fromOtherPort([UInt8])
    /// Send this octet string from another loopback address with the upstream's own port (a wrong source address).
    case fromOtherAddress([UInt8])
}

/// A per-test upstream on an ephemeral loopback port. `script` decides each answer from the query and the transport;
/// every query is counted. Stops itself in `stop()` (call it in a `defer`).
public final class FakeUpstream: @unchecked Sendable {
    public let port: UInt16
    private let udp: Int32
    private let tcp: Int32
    private let other: Int32
    private let stranger: Int32
    private let script: @Sendable (Message, Transport) -> FakeAction
    private let running = Atomic<Bool>(true)
    private let counts = Mutex<(udp: Int, tcp: Int)>((0, 0))
    private let received = Mutex<[(port: UInt16, id: UInt16, name: DomainName?)]>([])

    /// The source port, ID and question name of every UDP query received, in order.
    public var udpQueries: [(port: UInt16, id: UInt16, name: DomainName?)] { self.received.withLock { $0 } }

    /// The address it listens on (UDP and TCP).
    public let host: String

    /// Listens on `host` (a loopback address) and `port` (0: an ephemeral one, the same for UDP and TCP).
    public init(
        host: String = "127.0.0.1",
        port: UInt16 = 0,
        script: @escaping @Sendable (Message, Transport) -> FakeAction
    ) throws {
        self.host = host
        self.script = script
        guard case .v4(let v4)? = IPAddress(host) else { throw DNSFakeError.bind }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = v4.rawValue.bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // UDP on `port` (an ephemeral one for 0), then TCP on the same number. Another socket of the process (a
        // client's ephemeral port) may hold that number for TCP: with port 0 another is drawn, a few times.
        var sockets: (udp: Int32, tcp: Int32)? = nil
        for _ in 0..<(port == 0 ? 8 : 1) where sockets == nil {
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(udp, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            address.sin_port = port.bigEndian
            let boundUDP = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, length) }
            }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(udp, $0, &length) }
            }
            let boundTCP =
                boundUDP == 0
                ? withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, length) }
                } : -1
            if boundUDP == 0 && boundTCP == 0 {
                sockets = (udp, tcp)
            } else {
                close(udp)
                close(tcp)
            }
        }
        guard let (udp, tcp) = sockets else { throw DNSFakeError.bind }
        self.udp = udp
        self.tcp = tcp
        self.port = UInt16(bigEndian: address.sin_port)
        let other = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.other = other
        let stranger = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.stranger = stranger
        // The other socket (wrong-port answers) on the same address.
        var otherAddress = address
        otherAddress.sin_port = 0
        _ = withUnsafePointer(to: &otherAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(other, $0, length) }
        }
        // The stranger (wrong-address answers): the same port on another loopback address, or any port there.
        var strangerAddress = address
        strangerAddress.sin_addr.s_addr = (v4.rawValue == 0x7F00_0002 ? UInt32(0x7F00_0003) : 0x7F00_0002).bigEndian
        let strangerBound = withUnsafePointer(to: &strangerAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stranger, $0, length) }
        }
        if strangerBound != 0 {
            strangerAddress.sin_port = 0
            _ = withUnsafePointer(to: &strangerAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stranger, $0, length) }
            }
        }
        listen(self.tcp, 64)
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(self.udp, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(self.tcp, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        Thread { [self] in self.serveUDP() }.start()
        Thread { [self] in self.serveTCP() }.start()
    }

    public enum DNSFakeError: Error { case bind }

    /// The source port of the last UDP query (a spoofing test aims its forgeries at it).
    public let lastPeerPort = Atomic<UInt16>(0)

    /// Queries received so far over UDP and over TCP.
    public var queries: (udp: Int, tcp: Int) { self.counts.withLock { $0 } }

    private let accepted = Atomic<Int>(0)
    /// TCP connections accepted so far.
    public var connections: Int { self.accepted.load(ordering: .acquiring) }

    /// The address as `forward`'s `to:` takes it.
    public var address: String { "\(self.host):\(self.port)" }

    /// Stops serving; the sockets close once the serving threads have seen it (their reads time out within 100 ms),
    /// off the caller's thread, so async tests do not block a cooperative thread.
    public func stop() {
        self.running.store(false, ordering: .releasing)
        let (udp, tcp, other, stranger) = (self.udp, self.tcp, self.other, self.stranger)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) {
            close(udp)
            close(tcp)
            close(other)
            close(stranger)
        }
    }

    /// The reply's octets for an action, with the query's ID and question filled in.
    public static func bytes(_ message: Message, for query: Message) -> [UInt8] {
        var reply = message
        reply.header.id = query.header.id
        reply.header.isResponse = true
        if reply.questions.isEmpty { reply.questions = query.questions }
        // A script's message that cannot be encoded goes out as SERVFAIL, which the test then sees.
        return reply.encodeReply().encoded.bytes
    }

    private func serveUDP() {
        var buffer = [UInt8](repeating: 0, count: 65535)
        while self.running.load(ordering: .acquiring) {
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = buffer.withUnsafeMutableBytes { raw in
                withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(self.udp, raw.baseAddress, raw.count, 0, $0, &peerLength)
                    }
                }
            }
            guard count > 0, let query = try? Message(wire: Array(buffer[0..<count])) else { continue }
            self.counts.withLock { $0.udp += 1 }
            if peer.ss_family == sa_family_t(AF_INET) {
                let port = UInt16(bigEndian: withUnsafeBytes(of: &peer) { $0.load(fromByteOffset: 2, as: UInt16.self) })
                self.lastPeerPort.store(port, ordering: .relaxed)
                self.received.withLock { $0.append((port, query.header.id, query.questions.first?.name)) }
            }
            let action = self.script(query, .udp)
            let peerCopy = peer
            let peerLengthCopy = peerLength
            let send: @Sendable ([UInt8], Int32) -> Void = { [udp = self.udp] bytes, fd in
                var target = peerCopy
                _ = bytes.withUnsafeBytes { raw in
                    withUnsafePointer(to: &target) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd == -1 ? udp : fd, raw.baseAddress, raw.count, 0, $0, peerLengthCopy)
                        }
                    }
                }
            }
            self.perform(action, query: query) { bytes, from in
                send(bytes, from == .otherPort ? self.other : from == .otherAddress ? self.stranger : -1)
            }
        }
    }

    /// Which socket an answer leaves from.
    enum Source { case own, otherPort, otherAddress }

    private func perform(_ action: FakeAction, query: Message, send: @escaping @Sendable ([UInt8], Source) -> Void) {
        switch action {
        case .reply(let message): send(FakeUpstream.bytes(message, for: query), .own)
        case .raw(let bytes): send(bytes, .own)
        case .fromOtherPort(let bytes): send(bytes, .otherPort)
        case .fromOtherAddress(let bytes): send(bytes, .otherAddress)
        case .sequence(let actions): for item in actions { self.perform(item, query: query, send: send) }
        case .drop: break
        case .delay(let seconds, let message):
            let bytes = FakeUpstream.bytes(message, for: query)
            // A thread of its own: GCD's global queues are shared with the tests' blocking waits, and a busy suite has
            // held a delayed answer there past the timeout it was meant to beat.
            Thread {
                usleep(UInt32(seconds * 1_000_000))
                send(bytes, .own)
            }.start()
        }
    }

    private func serveTCP() {
        while self.running.load(ordering: .acquiring) {
            let connection = accept(self.tcp, nil, nil)
            guard connection >= 0 else { continue }
            self.accepted.add(1, ordering: .releasing)
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            Thread { [self] in
                defer { close(connection) }
                while self.running.load(ordering: .acquiring) {
                    guard let header = FakeUpstream.read(connection, 2),
                        let packet = FakeUpstream.read(connection, Int(header[0]) << 8 | Int(header[1])),
                        let query = try? Message(wire: packet)
                    else { return }
                    self.counts.withLock { $0.tcp += 1 }
                    self.perform(self.script(query, .tcp), query: query) { bytes, _ in
                        let framed = [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
                        _ = framed.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    }
                }
            }.start()
        }
    }

    static func read(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var received = 0
        while received < count {
            let result = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, count - received, 0) }
            guard result > 0 else { return nil }
            received += result
        }
        return buffer
    }
}

/// A response message for scripts: `answer("www.example.org. 300 IN A 192.0.2.1")`.
public func answer(
    _ records: String...,
    code: ResponseCode = .noError,
    authority: [String] = [],
    truncated: Bool = false
) -> Message {
    var message = Message(header: Header(flags: 0x8180))
    message.answers = records.map { rr($0) }
    message.authorities = authority.map { rr($0) }
    message.responseCode = code
    message.header.isTruncated = truncated
    message.edns = EDNS()
    return message
}
