// ReactorDatagramSocket: a UDP socket for talking to one server, read by a reactor on its thread.

import CSwiftletSocket
import Glibc

/// A non-blocking UDP socket on a kernel-chosen random port for talking to one server, watched by a reactor: every
/// datagram from the server is handed to `received`, every datagram from anywhere else to `foreign` (a forgery, to
/// count), and a socket error to `failed`, on the reactor's thread. A connected socket has the kernel drop foreign
/// datagrams before they are read (and report ICMP port unreachable); an unconnected one sees them and counts them.
public final class ReactorDatagramSocket {
    public let fd: Int32
    private unowned let reactor: Reactor
    private let server: UnsafeMutablePointer<sockaddr_storage>
    private let serverLength: socklen_t
    private let connected: Bool
    private var isOpen = true

    /// Opens the socket and starts watching it; call on the reactor's thread.
    public init(
        server: UnsafePointer<sockaddr>,
        length: socklen_t,
        connected: Bool,
        reactor: Reactor,
        received: @escaping (UnsafeRawBufferPointer) -> Void,
        foreign: @escaping () -> Void,
        failed: @escaping (Reactor.Failure) -> Void
    ) throws {
        let fd = swiftlet_udp_server_socket(server, length, connected ? 1 : 0)
        guard fd >= 0 else { throw Reactor.Failure("socket") }
        let copy = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: 1)
        copy.initialize(to: sockaddr_storage())
        UnsafeMutableRawPointer(copy).copyMemory(from: server, byteCount: Int(length))
        self.fd = fd
        self.reactor = reactor
        self.server = copy
        self.serverLength = length
        self.connected = connected
        let scratch = reactor.scratch
        do {
            // One datagram per readiness: the watch is level-triggered, so a second one queued behind it is reported
            // again, and the common case (one answer) costs no extra read that finds nothing.
            try reactor.watch(fd) {
                var fromServer: Int32 = 0
                let count = copy.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    swiftlet_udp_receive(fd, scratch.baseAddress, scratch.count, $0, &fromServer)
                }
                if count >= 0 {
                    if fromServer != 0 {
                        received(UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
                    } else {
                        foreign()
                    }
                    return
                }
                let error = errno
                if error == EAGAIN || error == EWOULDBLOCK || error == EINTR { return }
                // Reading the error consumed it; what is queued behind it is read at the next readiness.
                failed(Reactor.Failure("recv", code: error))
            }
        } catch {
            Glibc.close(fd)
            copy.deallocate()
            throw error
        }
    }

    /// Sends `packet` to the server.
    public func send(_ packet: [UInt8]) throws(Reactor.Failure) {
        let sent = packet.withUnsafeBytes { bytes in
            if self.connected { return Glibc.send(self.fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT)) }
            return self.server.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(self.fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, self.serverLength)
            }
        }
        guard sent == packet.count else { throw Reactor.Failure("send") }
    }

    /// Stops watching and closes the socket; call on the reactor's thread.
    public func close() {
        guard self.isOpen else { return }
        self.isOpen = false
        self.reactor.unwatch(self.fd)
        Glibc.close(self.fd)
    }

    deinit {
        if self.isOpen { Glibc.close(self.fd) }
        self.server.deallocate()
    }
}
