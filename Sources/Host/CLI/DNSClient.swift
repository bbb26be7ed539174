// DNSClient: a small blocking DNS client over UDP and TCP, for `swiftlet query` and the tests.

import Foundation
import Glibc
import Pipeline

/// Why an exchange failed.
public enum DNSClientError: Error, Equatable, CustomStringConvertible {
    case socket(String)
    case timeout
    case closed
    case malformed(WireError)
    /// The query itself cannot be put on the wire.
    case unencodable(EncodingError)

    public var description: String {
        switch self {
        case .socket(let reason): return "socket error: \(reason)"
        case .timeout: return "timed out"
        case .closed: return "connection closed"
        case .malformed(let error): return "malformed reply: \(error)"
        case .unencodable(let error): return "cannot encode the query: \(error)"
        }
    }
}

/// Sends one query and waits for the matching reply (same ID), over UDP or TCP.
public struct DNSClient: Sendable {
    public var server: ListenAddress
    public var timeout: Double
    /// The local address to send from (port 0: any); nil lets the kernel choose. Tests of per-client behaviour send
    /// from 127.0.0.2 and the like.
    public var source: IPAddress?

    public init(server: ListenAddress, timeout: Double = 2, source: IPAddress? = nil) {
        self.server = server
        self.timeout = timeout
        self.source = source
    }

    /// Sends `query` and returns the decoded reply.
    public func exchange(_ query: Message, tcp: Bool = false) throws(DNSClientError) -> Message {
        let packet: [UInt8]
        do { packet = try query.wire } catch { throw .unencodable(error) }
        let bytes = try self.exchangeRaw(packet, tcp: tcp)
        do { return try Message(wire: bytes) } catch { throw .malformed(error) }
    }

    /// Sends raw octets and returns the raw reply (for malformed-packet tests).
    public func exchangeRaw(_ packet: [UInt8], tcp: Bool = false) throws(DNSClientError) -> [UInt8] {
        var (address, length) = SocketAddresses.make(self.server)
        let family = Int32(address.ss_family)
        let fd = socket(family, tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw .socket(String(cString: strerror(errno))) }
        defer { close(fd) }
        var time = timeval(tv_sec: Int(self.timeout), tv_usec: Int((self.timeout - Double(Int(self.timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        if let source = self.source {
            var (local, localLength) = SocketAddresses.make(ListenAddress(address: source, port: 0))
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, localLength) }
            }
            guard bound == 0 else { throw .socket(String(cString: strerror(errno))) }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0 else { throw .socket(String(cString: strerror(errno))) }
        if tcp {
            var framed = [UInt8(packet.count >> 8), UInt8(packet.count & 0xFF)]
            framed += packet
            try DNSClient.sendAll(fd, framed)
            let header = try DNSClient.receiveExactly(fd, 2)
            return try DNSClient.receiveExactly(fd, Int(header[0]) << 8 | Int(header[1]))
        }
        try DNSClient.sendAll(fd, packet)
        var buffer = [UInt8](repeating: 0, count: 65535)
        let deadline = Date().addingTimeInterval(self.timeout)
        while Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                throw errno == EAGAIN || errno == EWOULDBLOCK ? .timeout : .socket(String(cString: strerror(errno)))
            }
            // Only a reply with our ID counts (RFC 5452 §9.1); anything else is ignored.
            if count >= 2, packet.count >= 2, buffer[0] == packet[0], buffer[1] == packet[1] {
                return Array(buffer[0..<count])
            }
        }
        throw .timeout
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(DNSClientError) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else { throw .socket(String(cString: strerror(errno))) }
            sent += count
        }
    }

    static func receiveExactly(_ fd: Int32, _ length: Int) throws(DNSClientError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: length)
        var received = 0
        while received < length {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + received, length - received, 0) }
            if count == 0 { throw .closed }
            if count < 0 {
                throw errno == EAGAIN || errno == EWOULDBLOCK ? .timeout : .socket(String(cString: strerror(errno)))
            }
            received += count
        }
        return buffer
    }
}
