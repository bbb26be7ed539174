// ReactorTests: a UDP worker's reactor runs its timers, its tasks and its sockets' reads on its own thread.

import CSwiftletSocket
import Foundation
import Glibc
import Synchronization
import Testing

@testable import SwiftletIO

/// A reactor turning on a thread of its own until stopped, like a UDP worker's.
final class ReactorThread: @unchecked Sendable {
    let reactor: Reactor
    private let running = Atomic<Bool>(true)
    /// Signalled once by the thread when its loop has ended and the reactor is closed.
    private let done = DispatchSemaphore(value: 0)

    init() throws {
        self.reactor = try Reactor()
        Thread { [self] in
            self.reactor.attachToCurrentThread()
            while self.running.load(ordering: .acquiring) { self.reactor.turn(maxWait: 20) }
            self.reactor.closeResources()
            self.reactor.detachFromCurrentThread()
            self.done.signal()
        }.start()
    }

    /// Runs `body` on the reactor's thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (Reactor) -> T) async -> T {
        await withTaskExecutorPreference(self.reactor) {
            precondition(Reactor.current === self.reactor)
            return body(self.reactor)
        }
    }

    func stop() {
        self.running.store(false, ordering: .releasing)
        self.reactor.wake()
        // Bounded: a reactor that does not stop within 5 s fails the test instead of hanging the suite.
        let stopped = self.done.wait(timeout: .now() + 5) == .success
        #expect(stopped, "the reactor thread did not stop within 5 s")
    }
}

/// A plain UDP socket on 127.0.0.1 with a kernel-chosen port.
struct LoopbackSocket {
    let fd: Int32
    let port: UInt16

    init() {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length)
                return getsockname(fd, $0, &length)
            }
        }
        self.port = UInt16(bigEndian: address.sin_port)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    static func address(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        address.sin_port = port.bigEndian
        return address
    }

    func send(_ bytes: [UInt8], to port: UInt16) {
        var target = LoopbackSocket.address(port: port)
        _ = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(self.fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// Waits (2 s at most) for a datagram; its octets and the sender's port.
    func receive() -> ([UInt8], UInt16)? {
        var buffer = [UInt8](repeating: 0, count: 512)
        var source = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &source) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(self.fd, &buffer, 512, 0, $0, &length) }
        }
        guard count >= 0 else { return nil }
        return (Array(buffer[0..<count]), UInt16(bigEndian: source.sin_port))
    }

    func close() { Glibc.close(self.fd) }
}

/// What a reactor socket reported, in order.
final class Events: @unchecked Sendable {
    private let list = Mutex<[String]>([])
    func add(_ event: String) { self.list.withLock { $0.append(event) } }
    var all: [String] { self.list.withLock { $0 } }
    func wait(for count: Int) -> [String] {
        for _ in 0..<200 where self.all.count < count { usleep(10_000) }
        return self.all
    }
}

@Suite struct ReactorTests {
    @Test func timersFireInDeadlineOrderOnTheReactorThreadAndCancelledOnesNever() async throws {
        let thread = try ReactorThread()
        defer { thread.stop() }
        let events = Events()
        await thread.run { reactor in
            // "z" fires after the cancelled "x" was due: once it has, "x" had its chance and did not fire.
            for (name, delay) in [("c", 30), ("a", 10), ("x", 20), ("b", 20), ("z", 40)] {
                let timer = reactor.schedule(after: Int64(delay) * 1_000_000) {
                    events.add(Reactor.current === reactor ? name : "\(name) elsewhere")
                }
                if name == "x" { reactor.cancel(timer) }
            }
        }
        #expect(events.wait(for: 4) == ["a", "b", "c", "z"])
    }

    @Test func aTaskStaysOnTheReactorAndIsResumedFromAnotherThread() async throws {
        let thread = try ReactorThread()
        defer { thread.stop() }
        let onReactor = await withTaskExecutorPreference(thread.reactor) { () async -> [Bool] in
            var seen = [Reactor.current === thread.reactor]
            // Resumed from a GCD thread: the job goes through the reactor's wake-up, back to its thread.
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.01) { continuation.resume() }
            }
            seen.append(Reactor.current === thread.reactor)
            try? await Task.sleep(for: .milliseconds(5))
            seen.append(Reactor.current === thread.reactor)
            return seen
        }
        #expect(onReactor == [true, true, true])
    }

    /// Random IDs come from kernel bytes read 256 at a time: across many refills they cover the 16-bit space evenly.
    @Test func randomIDsSpreadOverTheWholeRange() async throws {
        let thread = try ReactorThread()
        defer { thread.stop() }
        let values = await thread.run { reactor in (0..<65_536).map { _ in reactor.randomUInt16() } }
        // 65,536 draws from 65,536 values: about 1 - 1/e of them distinct (41,427), and every 4,096-wide bucket hit
        // about 4,096 times.
        #expect((40_000...43_000).contains(Set(values).count))
        var buckets = [Int](repeating: 0, count: 16)
        for value in values { buckets[Int(value >> 12)] += 1 }
        #expect(buckets.allSatisfy { (3_700...4_500).contains($0) })
    }

    @Test func anUnconnectedSocketHandsOnTheServersDatagramsAndCountsOthers() async throws {
        let scene = try SocketScene()
        defer { scene.close() }
        let (server, stranger, thread, events, holder) = (
            scene.server, scene.stranger, scene.thread, scene.events, scene.holder
        )
        await thread.run { reactor in
            let socket = holder.open(reactor, port: server.port, connected: false, name: "server", events: events)
            try? socket.send([1, 2, 3])
        }
        let (query, port) = try #require(server.receive())
        #expect(query == [1, 2, 3])
        stranger.send([9], to: port)
        server.send([4, 5], to: port)
        #expect(events.wait(for: 2) == ["server: foreign", "server: [4, 5]"])
        await thread.run { _ in holder.release() }
    }

    @Test func aConnectedSocketHearsOnlyItsServerAndReportsPortUnreachable() async throws {
        let closed = LoopbackSocket()
        let closedPort = closed.port
        closed.close()
        let scene = try SocketScene()
        defer { scene.close() }
        let (server, stranger, thread, events, holder) = (
            scene.server, scene.stranger, scene.thread, scene.events, scene.holder
        )
        await thread.run { reactor in
            for (port, name) in [(server.port, "server"), (closedPort, "closed")] {
                let socket = holder.open(reactor, port: port, connected: true, name: name, events: events)
                try? socket.send([7])
            }
        }
        let (_, port) = try #require(server.receive())
        // The connected socket never sees the stranger's datagram (the kernel filters it), whichever comes first.
        stranger.send([9], to: port)
        server.send([8], to: port)
        #expect(Set(events.wait(for: 2)) == ["server: [8]", "closed: failed ECONNREFUSED"])
        await thread.run { _ in holder.release() }
    }
}

/// A socket test's cast: a server, a stranger, a reactor on its thread, and what the reactor's sockets report.
struct SocketScene {
    let server = LoopbackSocket()
    let stranger = LoopbackSocket()
    let thread: ReactorThread
    let events = Events()
    let holder = Holder()

    init() throws { self.thread = try ReactorThread() }

    func close() {
        self.thread.stop()
        self.server.close()
        self.stranger.close()
    }
}

/// Keeps a test's sockets alive on the reactor's thread until released there.
final class Holder: @unchecked Sendable {
    private var sockets: [ReactorDatagramSocket] = []
    /// Opens a reactor socket to 127.0.0.1:`port` whose every report goes to `events`, prefixed with `name`.
    func open(_ reactor: Reactor, port: UInt16, connected: Bool, name: String, events: Events) -> ReactorDatagramSocket
    {
        var address = LoopbackSocket.address(port: port)
        let socket = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                try! ReactorDatagramSocket(
                    server: $0,
                    length: socklen_t(MemoryLayout<sockaddr_in>.size),
                    connected: connected,
                    reactor: reactor,
                    received: { events.add("\(name): \(Array($0))") },
                    foreign: { events.add("\(name): foreign") },
                    failed: { events.add("\(name): failed \($0.code == ECONNREFUSED ? "ECONNREFUSED" : "\($0)")") }
                )
            }
        }
        self.sockets.append(socket)
        return socket
    }
    func release() {
        for socket in self.sockets { socket.close() }
        self.sockets.removeAll()
    }
}
