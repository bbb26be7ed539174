// ShutdownWatchdog: ends the process if a graceful stop does not finish in time.

import CSwiftletSocket
import Foundation
import Synchronization

/// Started when a stop begins (SIGTERM, SIGINT): unless cancelled within `seconds`, it calls `expired` on a thread of
/// its own. The graceful stop waits on timers, event loops and plugin tasks; one that never wakes (a clock that was
/// faked or jumped, a plugin that ignores cancellation) must not keep the process alive, so the watchdog sleeps on the
/// kernel's monotonic clock through the raw system call, which nothing in the process can stretch.
final class ShutdownWatchdog: Sendable {
    private let cancelled = Atomic<Bool>(false)

    /// Seconds suspended queries get to finish after a stop signal.
    static let grace = 3.0
    /// Seconds after a stop signal by which the process is gone, graceful or not.
    static let bound = 5.0

    /// Starts the countdown.
    static func start(seconds: Double, expired: @escaping @Sendable () -> Void) -> ShutdownWatchdog {
        let watchdog = ShutdownWatchdog()
        let thread = Thread {
            _ = swiftlet_sleep_monotonic(UInt64(max(0, seconds) * 1e9))
            if !watchdog.cancelled.load(ordering: .acquiring) { expired() }
        }
        thread.name = "swiftlet-shutdown-watchdog"
        thread.start()
        return watchdog
    }

    /// The stop finished: nothing happens when the time is up.
    func cancel() { self.cancelled.store(true, ordering: .releasing) }
}
