// UpstreamReply: whether a datagram or TCP message is the answer to a query we sent.

import NIOCore
import Pipeline

/// Checks that `reply` answers our query: a response, our ID, and the same question (RFC 5452 §9.1), letter for letter
/// when `exactCase` (0x20: the case we randomised must come back). The source address and port are checked by the
/// transport (UDP: the envelope's remote address; TCP: the connection).
func isReply(_ reply: [UInt8], id: UInt16, question: Question, exactCase: Bool = false) -> Bool {
    guard reply.count >= Header.wireSize, reply[2] & 0x80 != 0,
        UInt16(reply[0]) << 8 | UInt16(reply[1]) == id
    else { return false }
    return reply.withUnsafeBytes { bytes in
        guard let view = try? RequestView(packet: bytes), view.questionCount == 1, view.type == question.type,
            view.recordClass == question.recordClass, view.nameLength == question.name.wire.count
        else { return false }
        let wire = question.name.wire
        if exactCase {
            for index in 0..<view.nameLength where bytes[view.nameOffset + index] != wire[index] { return false }
            return true
        }
        for index in 0..<view.nameLength
        where DomainName.fold(bytes[view.nameOffset + index]) != DomainName.fold(wire[index]) {
            return false
        }
        return true
    }
}

/// A query sent upstream and waiting for its answer (on a pooled UDP socket or a TCP connection).
struct PendingQuery {
    var question: Question
    var exactCase = false
    var promise: EventLoopPromise<[UInt8]>
}

extension SocketAddress {
    /// The wildcard addresses an upstream socket binds to (the kernel picks a random port), made once: binding by
    /// host name ("0.0.0.0") would go through getaddrinfo, and with it getifaddrs, on every bind.
    static let anyIPv4 = try! SocketAddress(ipAddress: "0.0.0.0", port: 0)
    static let anyIPv6 = try! SocketAddress(ipAddress: "::", port: 0)
}
