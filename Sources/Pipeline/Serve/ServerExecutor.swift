// ServerExecutor: the task executor the server's own async work runs on (suspended queries, plugin services).

import Dispatch
import NIOCore
import Synchronization

/// Runs the server's tasks on a GCD concurrent queue instead of Swift's global cooperative pool (as wide as the
/// machine's cores). Work that a host application, or a plugin, does on the cooperative pool then never starves
/// the server's suspended queries, and the server never starves it (SE-0417 task executor preference).
final class ServerExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "swiftlet.server", qos: .userInitiated, attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// The one executor of the process.
    static let shared = ServerExecutor()
}

/// Runs a suspended TCP query's task on the NIO event loop of its connection, where its upstream sockets are opened
/// too: the upstream write, the answer's arrival, the task's resumption and the reply then happen on one thread,
/// without a hop (an eventfd write or a futex wake, tens of microseconds on a VM) between the task and the sockets.
/// (A UDP worker's suspended queries run on its `Reactor` for the same reason.)
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let loop: any EventLoop

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // From the loop's own thread this only queues the job; from another thread it wakes the loop.
        self.loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// One executor per event loop of a group, handed out in turn.
final class EventLoopTaskExecutors: Sendable {
    let executors: [EventLoopTaskExecutor]
    private let turn = Atomic<Int>(0)

    init(group: any EventLoopGroup) {
        self.executors = group.makeIterator().map { EventLoopTaskExecutor(loop: $0) }
    }

    /// The executor of the loop the caller runs on, else the next in turn.
    func next() -> EventLoopTaskExecutor {
        if let current = self.executors.first(where: { $0.loop.inEventLoop }) { return current }
        return self.executors[self.turn.add(1, ordering: .relaxed).oldValue % self.executors.count]
    }
}
