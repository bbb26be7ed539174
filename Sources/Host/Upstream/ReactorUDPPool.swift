// ReactorUDPPool: one UDP worker's random-port sockets to one upstream, read on the worker's own thread.

import Glibc
import NIOCore
import Pipeline
import SwiftletIO

/// `UpstreamUDPPool` for queries suspended on a UDP worker: the worker's reactor polls these sockets together with its
/// client socket, and the query's task runs on the same thread, so a cache miss is sent, answered and replied to
/// without waking another thread. Each socket has a kernel-random port; a query goes out on a random one with a random
/// ID (RFC 5452 §4), and only a datagram from the upstream's address and port with our ID and question is its answer.
/// Sockets rotate (`PortRotation`): a socket past its queries or age takes no new query and is closed once the
/// queries it carries are answered or timed out; a fresh one on a new random port takes its place.
/// Used only on the reactor's thread.
final class ReactorUDPPool: ReactorResource {
    /// Sockets per upstream and worker.
    static let size = 16

    struct Waiting {
        var continuation: CheckedContinuation<[UInt8], any Error>
        var timer: Reactor.Timer
    }

    /// One socket and the queries waiting for answers on it.
    final class Slot {
        var socket: ReactorDatagramSocket? = nil
        var waiting = PendingReplies<Waiting>()
        var sent = 0
        let opened: UInt64
        var retired = false

        init(opened: UInt64) { self.opened = opened }
    }

    let upstream: SocketAddress
    unowned let reactor: Reactor
    let rotation: PortRotation
    let rejected: @Sendable () -> Void
    private var slots: [Slot?] = Array(repeating: nil, count: ReactorUDPPool.size)
    /// Replaced sockets still carrying queries.
    private var retired: [ObjectIdentifier: Slot] = [:]

    init(
        upstream: SocketAddress,
        reactor: Reactor,
        rotation: PortRotation = PortRotation(),
        rejected: @escaping @Sendable () -> Void
    ) {
        self.upstream = upstream
        self.reactor = reactor
        self.rotation = rotation
        self.rejected = rejected
    }

    /// The socket at `index` for one more query: the current one, or a new one when there is none or it is due.
    private func slot(_ index: Int) throws -> Slot {
        let now = Clock.nanoseconds()
        if let slot = self.slots[index] {
            guard self.rotation.isDue(sent: slot.sent, opened: slot.opened, now: now) else { return slot }
            self.slots[index] = nil
            slot.retired = true
            if slot.waiting.isEmpty { self.closeRetired(slot) } else { self.retired[ObjectIdentifier(slot)] = slot }
        }
        let slot = Slot(opened: now)
        do {
            slot.socket = try self.upstream.withSockAddr { address, length in
                // Not connected: an answer from any other address or port reaches us, to be counted as rejected.
                try ReactorDatagramSocket(
                    server: address,
                    length: socklen_t(length),
                    connected: false,
                    reactor: self.reactor,
                    received: { [unowned self, weak slot] in if let slot { self.received($0, on: slot) } },
                    foreign: self.rejected,
                    failed: { [unowned self, weak slot] in if let slot { self.fail(slot, reason: "\($0)") } }
                )
            }
        } catch {
            throw UpstreamError.connection("\(error)")
        }
        self.slots[index] = slot
        return slot
    }

    /// Sends `packet` on a random socket (under another ID if its own is taken there) and waits at most `timeout` for
    /// the answer; with `exactCase`, only an answer that spells the question as we did (0x20) counts.
    func exchange(
        _ packet: [UInt8],
        question: Question,
        exactCase: Bool = false,
        timeout: TimeAmount
    ) async throws -> [UInt8] {
        let slot = try self.slot(Int(self.reactor.randomUInt16() % UInt16(ReactorUDPPool.size)))
        var packet = packet
        // The timer below needs the ID before the waiter (which holds the timer) is registered.
        guard let id = slot.waiting.freeID(for: &packet, random: { self.reactor.randomUInt16() }) else {
            throw UpstreamError.connection("no free query ID")
        }
        slot.sent += 1
        return try await withCheckedThrowingContinuation { continuation in
            let timer = self.reactor.schedule(after: timeout.nanoseconds) { [unowned self] in
                slot.waiting.remove(id: id)?.continuation.resume(throwing: UpstreamError.timeout)
                self.closeIfDone(slot)
            }
            let waiting = Waiting(continuation: continuation, timer: timer)
            _ = slot.waiting.add(id: id, question: question, exactCase: exactCase, waiting)
            do { try slot.socket?.send(packet) } catch {
                self.reactor.cancel(timer)
                _ = slot.waiting.remove(id: id)
                continuation.resume(throwing: UpstreamError.connection("\(error)"))
            }
        }
    }

    /// A datagram from the upstream arrived on `slot`'s socket.
    private func received(_ datagram: UnsafeRawBufferPointer, on slot: Slot) {
        let bytes = Array(datagram)
        guard let waiting = slot.waiting.take(answeredBy: bytes) else {
            self.rejected()
            return
        }
        self.reactor.cancel(waiting.timer)
        waiting.continuation.resume(returning: bytes)
        self.closeIfDone(slot)
    }

    /// `slot`'s socket reported an error (ICMP port unreachable): what waits on it fails now; the socket stays.
    private func fail(_ slot: Slot, reason: String) {
        for waiting in slot.waiting.removeAll() {
            self.reactor.cancel(waiting.timer)
            waiting.continuation.resume(throwing: UpstreamError.connection(reason))
        }
        self.closeIfDone(slot)
    }

    /// A retired socket is closed once nothing waits on it.
    private func closeIfDone(_ slot: Slot) {
        guard slot.retired, slot.waiting.isEmpty else { return }
        self.retired[ObjectIdentifier(slot)] = nil
        self.closeRetired(slot)
    }

    private func closeRetired(_ slot: Slot) {
        slot.socket?.close()
        slot.socket = nil
    }

    /// The upstream is gone (a reload replaced it) or the worker stops: close the sockets, fail what waits.
    func close() {
        for slot in self.slots.compactMap({ $0 }) + Array(self.retired.values) {
            slot.retired = true
            self.fail(slot, reason: "closed")
            self.closeRetired(slot)
        }
        self.slots = Array(repeating: nil, count: ReactorUDPPool.size)
        self.retired = [:]
    }
}
