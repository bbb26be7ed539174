// ReactorUDPPool: one UDP worker's random-port sockets to one upstream, read on the worker's own thread.

import Glibc
import NIOCore
import Pipeline
import SwiftletIO

/// `UpstreamUDPPool` for queries suspended on a UDP worker: the worker's reactor polls these sockets together with its
/// client socket, and the query's task runs on the same thread, so a cache miss is sent, answered and replied to
/// without waking another thread. Each socket has a kernel-random port; a query goes out on a random one with a random
/// ID (RFC 5452 §4), and only a datagram from the upstream's address and port with our ID and question is its answer.
/// Used only on the reactor's thread.
final class ReactorUDPPool: ReactorResource {
    /// Sockets per upstream and worker.
    static let size = 16

    struct Waiting {
        var continuation: CheckedContinuation<[UInt8], any Error>
        var timer: Reactor.Timer
    }

    let upstream: SocketAddress
    unowned let reactor: Reactor
    let rejected: @Sendable () -> Void
    private var sockets: [ReactorDatagramSocket?] = Array(repeating: nil, count: ReactorUDPPool.size)
    private var waiting = Array(repeating: PendingReplies<Waiting>(), count: ReactorUDPPool.size)

    init(upstream: SocketAddress, reactor: Reactor, rejected: @escaping @Sendable () -> Void) {
        self.upstream = upstream
        self.reactor = reactor
        self.rejected = rejected
    }

    private func socket(_ index: Int) throws -> ReactorDatagramSocket {
        if let socket = self.sockets[index] { return socket }
        do {
            let socket = try self.upstream.withSockAddr { address, length in
                // Not connected: an answer from any other address or port reaches us, to be counted as rejected.
                try ReactorDatagramSocket(
                    server: address,
                    length: socklen_t(length),
                    connected: false,
                    reactor: self.reactor,
                    received: { [unowned self] in self.received($0, on: index) },
                    foreign: self.rejected,
                    failed: { [unowned self] in self.fail(index, reason: "\($0)") }
                )
            }
            self.sockets[index] = socket
            return socket
        } catch {
            throw UpstreamError.connection("\(error)")
        }
    }

    /// Sends `packet` on a random socket (under another ID if its own is taken there) and waits at most `timeout` for
    /// the answer.
    func exchange(_ packet: [UInt8], question: Question, timeout: TimeAmount) async throws -> [UInt8] {
        let index = Int(self.reactor.randomUInt16() % UInt16(ReactorUDPPool.size))
        let socket = try self.socket(index)
        var packet = packet
        // The timer below needs the ID before the waiter (which holds the timer) is registered.
        guard let id = self.waiting[index].freeID(for: &packet, random: { self.reactor.randomUInt16() }) else {
            throw UpstreamError.connection("no free query ID")
        }
        return try await withCheckedThrowingContinuation { continuation in
            let timer = self.reactor.schedule(after: timeout.nanoseconds) { [unowned self] in
                self.waiting[index].remove(id: id)?.continuation.resume(throwing: UpstreamError.timeout)
            }
            let waiting = Waiting(continuation: continuation, timer: timer)
            _ = self.waiting[index].add(id: id, question: question, waiting)
            do { try socket.send(packet) } catch {
                self.reactor.cancel(timer)
                _ = self.waiting[index].remove(id: id)
                continuation.resume(throwing: UpstreamError.connection("\(error)"))
            }
        }
    }

    /// A datagram from the upstream arrived on socket `index`.
    private func received(_ datagram: UnsafeRawBufferPointer, on index: Int) {
        let bytes = Array(datagram)
        guard let waiting = self.waiting[index].take(answeredBy: bytes) else {
            self.rejected()
            return
        }
        self.reactor.cancel(waiting.timer)
        waiting.continuation.resume(returning: bytes)
    }

    /// Socket `index` reported an error (ICMP port unreachable): what waits on it fails now; the socket stays.
    private func fail(_ index: Int, reason: String) {
        for waiting in self.waiting[index].removeAll() {
            self.reactor.cancel(waiting.timer)
            waiting.continuation.resume(throwing: UpstreamError.connection(reason))
        }
    }

    /// The upstream is gone (a reload replaced it) or the worker stops: close the sockets, fail what waits.
    func close() {
        for index in self.sockets.indices {
            self.fail(index, reason: "closed")
            self.sockets[index]?.close()
            self.sockets[index] = nil
        }
    }
}
