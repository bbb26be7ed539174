// PortRotation: when a pooled upstream socket moves to a new random port; the wildcard addresses sockets bind to.

import NIOCore
import Pipeline

/// When a pooled UDP socket to an upstream is retired and replaced by one on a new kernel-random port: after
/// `maximumQueries` queries or `maximumAge` nanoseconds, whichever comes first. A pool of long-lived sockets gives an
/// off-path attacker who learns their ports (16 of them) only the ID to guess (4 + 16 bits); moving them keeps the
/// port unknown as well, about 15 more bits from the kernel's ephemeral range (RFC 5452 §4, §10).
struct PortRotation: Sendable {
    var maximumQueries = 100
    var maximumAge: UInt64 = 30_000_000_000

    /// Whether a socket opened at `opened` that has sent `sent` queries is due for retirement at `now`.
    func isDue(sent: Int, opened: UInt64, now: UInt64) -> Bool {
        sent >= self.maximumQueries || now &- opened >= self.maximumAge
    }
}

extension SocketAddress {
    /// The wildcard addresses an upstream socket binds to (the kernel picks a random port), made once: binding by
    /// host name ("0.0.0.0") would go through getaddrinfo, and with it getifaddrs, on every bind.
    static let anyIPv4 = try! SocketAddress(ipAddress: "0.0.0.0", port: 0)
    static let anyIPv6 = try! SocketAddress(ipAddress: "::", port: 0)
}
