// UDPWorker: a dedicated thread per worker, with its own SO_REUSEPORT socket read in batches (recvmmsg/sendmmsg) and
// its own reactor, where the queries it suspends run.

import CSwiftletSocket
import Foundation
import Glibc
import Logging
import Pipeline
import SwiftletIO
import Synchronization

/// Sends a late (suspended) reply with sendto on the worker's socket.
struct UDPReplySink: ReplySink {
    let fd: Int32
    let address: sockaddr_storage
    let length: socklen_t

    func send(_ replies: [[UInt8]]) {
        var address = self.address
        for reply in replies {
            _ = reply.withUnsafeBytes { bytes in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(self.fd, bytes.baseAddress, bytes.count, 0, $0, self.length)
                    }
                }
            }
        }
    }
}

/// Why a UDP socket could not be opened.
struct ListenError: Error, CustomStringConvertible {
    var address: ListenAddress
    var transport: String
    var reason: String
    var description: String { "cannot listen on \(self.address) (\(self.transport)): \(self.reason)" }
}

/// One UDP worker: its socket, its thread, its buffers (allocated once: docs/ARCHITECTURE.md), and its reactor: the
/// client socket is polled together with the upstream sockets of the queries it suspended, whose tasks run on this
/// thread.
final class UDPWorker: @unchecked Sendable {
    static let batchSize: UInt32 = 64
    /// Received packets larger than this are truncated by the kernel and then rejected as malformed.
    static let bufferSize = 4096

    let fd: Int32
    /// This worker's number among its listen address's (`Arrival.worker`).
    let index: Int
    let responder: Responder
    let reactor: Reactor
    let running = Atomic<Bool>(true)
    private var thread: Thread?
    private let finished = Mutex<Bool>(false)

    /// Opens the socket (SO_REUSEPORT, so every worker of the address has its own).
    init(address: ListenAddress, index: Int, responder: Responder) throws {
        var (storage, length) = SocketAddresses.make(address)
        let fd = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                swiftlet_udp_socket($0, length, 4 << 20)
            }
        }
        guard fd >= 0 else {
            throw ListenError(address: address, transport: "udp", reason: String(cString: strerror(errno)))
        }
        do { self.reactor = try Reactor() } catch {
            close(fd)
            throw ListenError(address: address, transport: "udp", reason: "\(error)")
        }
        self.fd = fd
        self.index = index
        self.responder = responder
    }

    /// A port on `address`'s IP that no socket holds, for a listener configured with port 0 (tests): the workers' own
    /// SO_REUSEPORT sockets, asking for port 0, could be given one that another server's workers hold and share it.
    static func freePort(on address: ListenAddress) throws -> UInt16 {
        var (storage, length) = SocketAddresses.make(address)
        let port = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { swiftlet_free_udp_port($0, length) }
        }
        guard port > 0 else {
            throw ListenError(address: address, transport: "udp", reason: String(cString: strerror(errno)))
        }
        return UInt16(port)
    }

    /// The port the socket is bound to.
    var boundPort: UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(self.fd, $0, &length) }
        }
        return withUnsafePointer(to: &storage) { SocketAddresses.parse($0).1 }
    }

    func start(name: String) {
        let thread = Thread { [self] in self.loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    /// Asks the loop to stop, and wakes it.
    func stop() {
        self.running.store(false, ordering: .releasing)
        self.reactor.wake()
    }

    /// Waits (bounded) for the loop to end, then closes the socket.
    func join(timeout: Double = 2) {
        let deadline = Date().addingTimeInterval(timeout)
        while !self.finished.withLock({ $0 }) && Date() < deadline { usleep(10_000) }
        close(self.fd)
    }

    private func loop() {
        guard let batch = swiftlet_batch_create(UDPWorker.batchSize, UDPWorker.bufferSize) else {
            self.responder.logger.critical("UDP worker could not allocate its buffers")
            self.finished.withLock { $0 = true }
            return
        }
        self.reactor.attachToCurrentThread()
        defer {
            self.reactor.unwatch(self.fd)
            self.reactor.closeResources()
            self.reactor.detachFromCurrentThread()
            swiftlet_batch_destroy(batch)
            self.finished.withLock { $0 = true }
        }
        // The generation first: a reload between the two reads then shows up as a change at the next batch.
        var generation = self.responder.generation
        var table = self.responder.snapshot()
        do {
            try self.reactor.watch(self.fd) {
                self.receive(batch, generation: &generation, table: &table)
            }
        } catch {
            self.responder.logger.critical("UDP worker could not poll its socket: \(error)")
            return
        }
        while self.running.load(ordering: .acquiring) { self.reactor.turn(maxWait: -1) }
    }

    /// Reads one batch of queries, answers what can be answered at once, and sends those replies in one batch.
    private func receive(_ batch: OpaquePointer, generation: inout Int, table: inout BlockTable) {
        let received = swiftlet_batch_receive(self.fd, batch)
        if received <= 0 { return }
        // Once per batch: the time, and the block table if a reload replaced it.
        let now = self.responder.clock.now()
        if self.responder.generation != generation {
            generation = self.responder.generation
            table = self.responder.snapshot()
        }
        var tally = FrontDoorTally()
        var replies: UInt32 = 0
        for index in 0..<UInt32(received) {
            let packet = UnsafeRawBufferPointer(
                start: swiftlet_batch_buffer(batch, index),
                count: swiftlet_batch_length(batch, index)
            )
            let addressPointer = swiftlet_batch_address(batch, index)!
            let (address, port) = SocketAddresses.parse(addressPointer)
            let client = Client(address: address, port: port, transport: .udp)
            let reply = UnsafeMutableRawBufferPointer(
                start: swiftlet_batch_reply_buffer(batch, replies),
                count: UDPWorker.bufferSize
            )
            let outcome = self.responder.process(
                packet: packet,
                client: client,
                reply: reply,
                table: table,
                now: now,
                tally: &tally,
                worker: self.index,
                executor: self.reactor
            ) {
                UDPReplySink(
                    fd: self.fd,
                    address: addressPointer.pointee,
                    length: swiftlet_batch_address_length(batch, index)
                )
            }
            if case .reply(let length) = outcome {
                swiftlet_batch_set_reply(batch, replies, index, length)
                replies += 1
            }
        }
        tally.flush(into: self.responder.metrics)
        if replies > 0 { _ = swiftlet_batch_send(self.fd, batch, replies) }
    }
}
