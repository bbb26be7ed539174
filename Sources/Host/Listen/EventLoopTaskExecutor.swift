// EventLoopTaskExecutor: a task executor on a NIO event loop, where a TCP connection's suspended queries run.

import NIOCore
import Pipeline

/// Runs a suspended TCP query's task on the NIO event loop of its connection, where its upstream sockets are opened
/// too: the upstream write, the answer's arrival, the task's resumption and the reply then happen on one thread,
/// without a hop (an eventfd write or a futex wake, tens of microseconds on a VM) between the task and the sockets.
/// (A UDP worker's suspended queries run on its `Reactor` for the same reason.)
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let loop: any EventLoop
    /// The loop's number in its group: the `Arrival.worker` of the queries read on it.
    let index: Int

    init(loop: any EventLoop, index: Int) {
        self.loop = loop
        self.index = index
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // From the loop's own thread this only queues the job; from another thread it wakes the loop.
        self.loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// One executor per event loop of a group, made once.
final class EventLoopTaskExecutors: Sendable {
    let executors: [EventLoopTaskExecutor]

    init(group: any EventLoopGroup) {
        self.executors = group.makeIterator().enumerated().map { EventLoopTaskExecutor(loop: $1, index: $0) }
    }

    /// The executor of `loop` (a connection's, which is one of the group's; a loop from elsewhere gets one of its
    /// own, never another loop's, where the connection's sockets are not).
    func executor(for loop: any EventLoop) -> EventLoopTaskExecutor {
        self.executors.first(where: { $0.loop === loop }) ?? EventLoopTaskExecutor(loop: loop, index: self.executors.count)
    }
}
