// Reactor: a UDP worker thread's own event loop: its sockets, its timers, and the tasks of the queries it suspended.

import CSwiftletSocket
import Glibc
import Synchronization

/// The event loop of one UDP worker thread. The worker's client socket, the upstream sockets plugins open while a
/// query of this worker is suspended, and the timers of their exchanges are all polled by one `epoll_wait` on the
/// worker's thread, and the query's task runs there too (the reactor is its task executor). A cache miss then never
/// leaves the thread that received it: no hand-off to another thread and no second thread to wake when the upstream
/// answers, which on a VM costs tens of microseconds a wake-up (docs/ARCHITECTURE.md).
///
/// Everything but `enqueue` from another thread and `wake` is called on the reactor's thread only.
public final class Reactor: TaskExecutor, @unchecked Sendable {
    private let epoll: Int32
    /// Written when another thread queues a job (a coalesced follower resumed by a query of another worker).
    private let wakeup: Int32
    private var handlers: [Int32: () -> Void] = [:]
    private var jobs: [UnownedJob] = []
    private let remoteJobs = Mutex<[UnownedJob]>([])
    private var timers = TimerHeap()
    /// Readable when the earliest timer may be due. Armed only when a timer earlier than the armed time is scheduled,
    /// and left armed when timers are cancelled (it then fires once for nothing): each exchange's timeout costs no
    /// system call, and the wait itself has no timeout. A wait with a timeout arms a kernel timer on every call, which
    /// on a VM is a trap to the hypervisor and back, about 4 µs of each cache miss.
    private let timerFD: Int32
    /// The time `timerFD` is armed for; nil when it is not armed (or has fired).
    private var armedDeadline: UInt64? = nil
    private var resources: [ObjectIdentifier: (owner: Weak, resource: any ReactorResource)] = [:]
    /// Where the reactor's sockets read a datagram into before handing it on (one datagram at a time, on one thread).
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)

    /// Why a reactor or one of its sockets could not be made.
    public struct Failure: Error, CustomStringConvertible {
        /// The system call that failed, and its errno.
        public var call: String
        public var code: Int32
        public var description: String { "\(self.call): \(String(cString: strerror(self.code)))" }
        init(_ call: String, code: Int32 = errno) {
            self.call = call
            self.code = code
        }
    }

    public init() throws {
        self.epoll = swiftlet_epoll_create()
        guard self.epoll >= 0 else { throw Failure("epoll_create1") }
        self.wakeup = swiftlet_eventfd_create()
        guard self.wakeup >= 0 else {
            close(self.epoll)
            throw Failure("eventfd")
        }
        _ = swiftlet_epoll_watch(self.epoll, self.wakeup)
        self.timerFD = swiftlet_timerfd_create()
        guard self.timerFD >= 0 else {
            close(self.wakeup)
            close(self.epoll)
            throw Failure("timerfd_create")
        }
        _ = swiftlet_epoll_watch(self.epoll, self.timerFD)
    }

    deinit {
        close(self.timerFD)
        close(self.wakeup)
        close(self.epoll)
        self.scratch.deallocate()
    }

    // MARK: the thread

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The reactor whose thread is calling, if any.
    public static var current: Reactor? {
        guard let pointer = pthread_getspecific(Reactor.key) else { return nil }
        return Unmanaged<Reactor>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// Makes the calling thread this reactor's (the worker does this once, before its first `turn`).
    public func attachToCurrentThread() {
        pthread_setspecific(Reactor.key, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Undoes `attachToCurrentThread` (the worker's last act).
    public func detachFromCurrentThread() {
        pthread_setspecific(Reactor.key, nil)
    }

    /// Read through the calling thread's own key, so no thread reads state another one writes.
    private var isCurrent: Bool { Reactor.current === self }

    /// Wakes the thread from its wait (to notice a stop sooner).
    public func wake() { swiftlet_eventfd_signal(self.wakeup) }

    // MARK: the task executor

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if self.isCurrent {
            self.jobs.append(job)
        } else {
            self.remoteJobs.withLock { $0.append(job) }
            swiftlet_eventfd_signal(self.wakeup)
        }
    }

    // MARK: sockets and timers

    /// Calls `readable` on this thread whenever `fd` has input (level-triggered: until it is read).
    public func watch(_ fd: Int32, readable: @escaping () -> Void) throws {
        guard swiftlet_epoll_watch(self.epoll, fd) == 0 else { throw Failure("epoll_ctl") }
        self.handlers[fd] = readable
    }

    /// Stops watching `fd` (before it is closed).
    public func unwatch(_ fd: Int32) {
        guard self.handlers.removeValue(forKey: fd) != nil else { return }
        _ = swiftlet_epoll_unwatch(self.epoll, fd)
    }

    /// Calls `fire` on this thread once `nanoseconds` have passed, unless the returned timer is cancelled first.
    public func schedule(after nanoseconds: Int64, _ fire: @escaping () -> Void) -> Timer {
        let deadline = Self.now() &+ UInt64(max(0, nanoseconds))
        let timer = self.timers.insert(deadline: deadline, fire)
        if deadline < self.armedDeadline ?? .max { self.arm(deadline) }
        return timer
    }

    private func arm(_ deadline: UInt64) {
        // Armed or not, the timers stay in the heap: a failed arm (never seen: only EINVAL, for a bad value) would
        // leave them to the next arming.
        if swiftlet_timerfd_arm(self.timerFD, deadline) == 0 { self.armedDeadline = deadline }
    }

    public func cancel(_ timer: Timer) { self.timers.cancel(timer) }

    /// A timer's handle.
    public struct Timer: Hashable, Sendable {
        let id: UInt64
    }

    /// The resource `owner` keeps on this reactor (an upstream's sockets), made by `make` on first use. When the owner
    /// is gone (a reload replaced it), its resource is closed the next time a resource is made.
    public func resource<R: ReactorResource>(for owner: AnyObject, make: () throws -> R) rethrows -> R {
        if let entry = self.resources[ObjectIdentifier(owner)], entry.owner.object === owner,
            let resource = entry.resource as? R
        {
            return resource
        }
        for (key, entry) in self.resources where entry.owner.object == nil {
            entry.resource.close()
            self.resources.removeValue(forKey: key)
        }
        let resource = try make()
        self.resources[ObjectIdentifier(owner)] = (Weak(owner), resource)
        return resource
    }

    /// Closes every resource (their waiting exchanges fail) and runs the jobs that queues: the worker's last turn.
    public func closeResources() {
        let resources = self.resources
        self.resources.removeAll()
        for entry in resources.values { entry.resource.close() }
        self.runJobs()
    }

    final class Weak {
        weak var object: AnyObject?
        init(_ object: AnyObject) { self.object = object }
    }

    // MARK: randomness

    /// Bytes from the kernel's CSPRNG (getrandom), read 256 at a time: query IDs and socket choices need
    /// unpredictable values (RFC 5452), and a system call each was two per cache miss.
    private var randomBytes = [UInt8](repeating: 0, count: 256)
    private var randomUsed = 256

    /// A uniformly random 16-bit value from the kernel's CSPRNG; on the reactor's thread only.
    public func randomUInt16() -> UInt16 {
        if self.randomUsed + 2 > self.randomBytes.count {
            var filled = 0
            self.randomBytes.withUnsafeMutableBytes { buffer in
                while filled < buffer.count {
                    let count = swiftlet_getrandom(buffer.baseAddress! + filled, buffer.count - filled)
                    if count > 0 { filled += count } else if errno != EINTR { break }
                }
            }
            if filled < self.randomBytes.count {
                // No kernel randomness (never on Linux ≥ 3.17): the standard library's generator instead.
                for index in self.randomBytes.indices { self.randomBytes[index] = UInt8.random(in: 0...255) }
            }
            self.randomUsed = 0
        }
        defer { self.randomUsed += 2 }
        return UInt16(self.randomBytes[self.randomUsed]) << 8 | UInt16(self.randomBytes[self.randomUsed + 1])
    }

    // MARK: the loop

    /// One turn of the loop: waits at most `maxWait` milliseconds (-1: until something happens; not at all when jobs
    /// are queued) for input or a timer, calls the handlers of what is readable, fires the timers that are due, then
    /// runs the queued jobs.
    public func turn(maxWait: Int32) {
        var ready = InlineArray<64, Int32>(repeating: -1)
        let wait = self.jobs.isEmpty ? maxWait : 0
        let count = withUnsafeMutablePointer(to: &ready) {
            $0.withMemoryRebound(to: Int32.self, capacity: 64) { swiftlet_epoll_wait(self.epoll, $0, 64, wait) }
        }
        for index in 0..<max(0, Int(count)) {
            let fd = ready[index]
            if fd == self.wakeup {
                swiftlet_eventfd_drain(self.wakeup)
                self.jobs += self.remoteJobs.withLock { jobs in
                    defer { jobs.removeAll(keepingCapacity: true) }
                    return jobs
                }
            } else if fd == self.timerFD {
                swiftlet_timerfd_drain(self.timerFD)
                self.armedDeadline = nil
                for action in self.timers.takeDue(now: Self.now()) { action() }
                if let next = self.timers.nextDeadline, next < self.armedDeadline ?? .max { self.arm(next) }
            } else if let handler = self.handlers[fd] {
                handler()
            }
        }
        self.runJobs()
    }

    /// Runs queued jobs, including those they queue, up to a bound so input is polled again in between.
    private func runJobs() {
        var budget = 1024
        while !self.jobs.isEmpty && budget > 0 {
            let batch = self.jobs
            self.jobs.removeAll(keepingCapacity: true)
            for job in batch { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
            budget -= batch.count
        }
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}

/// Something a plugin keeps per reactor (sockets), closed when its owner is gone or the reactor ends.
public protocol ReactorResource: AnyObject {
    func close()
}

/// Timers by deadline: a binary min-heap, with cancelled timers skipped when they reach the top.
struct TimerHeap {
    private var heap: [(deadline: UInt64, id: UInt64)] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 0

    var nextDeadline: UInt64? {
        mutating get {
            while let top = self.heap.first, self.actions[top.id] == nil { self.pop() }
            return self.heap.first?.deadline
        }
    }

    mutating func insert(deadline: UInt64, _ action: @escaping () -> Void) -> Reactor.Timer {
        self.nextID &+= 1
        self.actions[self.nextID] = action
        self.heap.append((deadline, self.nextID))
        var child = self.heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.heap[child].deadline < self.heap[parent].deadline else { break }
            self.heap.swapAt(child, parent)
            child = parent
        }
        return Reactor.Timer(id: self.nextID)
    }

    mutating func cancel(_ timer: Reactor.Timer) {
        self.actions.removeValue(forKey: timer.id)
        if self.actions.isEmpty { self.heap.removeAll(keepingCapacity: true) }
    }

    /// Removes the timers due at `now` and returns their actions, earliest first (called after, since an action
    /// may schedule or cancel timers).
    mutating func takeDue(now: UInt64) -> [() -> Void] {
        var due: [() -> Void] = []
        while let top = self.heap.first, top.deadline <= now {
            self.pop()
            if let action = self.actions.removeValue(forKey: top.id) { due.append(action) }
        }
        return due
    }

    private mutating func pop() {
        let last = self.heap.removeLast()
        guard !self.heap.isEmpty else { return }
        self.heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < self.heap.count else { break }
            var smallest = left
            if left + 1 < self.heap.count && self.heap[left + 1].deadline < self.heap[left].deadline {
                smallest = left + 1
            }
            guard self.heap[smallest].deadline < self.heap[parent].deadline else { break }
            self.heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
