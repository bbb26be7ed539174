// ServerExecutor: the task executor the server's own async work runs on (suspended queries, plugin services).

import Dispatch

/// Runs the server's tasks on a GCD concurrent queue instead of Swift's global cooperative pool (as wide as the
/// machine's cores). Work that a host application, or a plugin, does on the cooperative pool then never starves
/// the server's suspended queries, and the server never starves it (SE-0417 task executor preference).
public final class ServerExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "swiftlet.server", qos: .userInitiated, attributes: .concurrent)

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// The one executor of the process.
    public static let shared = ServerExecutor()
}
