// ShutdownWatchdogTests: the stop bound fires on the kernel's clock unless the stop finished first.

import Foundation
import SwiftletTestSupport
import Testing

@testable import Host

@Suite struct ShutdownWatchdogTests {
    @Test func itFiresOnceTheTimeIsUpUnlessCancelled() async throws {
        let fired = Atomic_Bool(false)
        let cancelledFired = Atomic_Bool(false)
        let sentinel = Atomic_Bool(false)
        let started = Date()
        _ = ShutdownWatchdog.start(seconds: 0.1) { fired.value = true }
        let cancelled = ShutdownWatchdog.start(seconds: 0.1) { cancelledFired.value = true }
        cancelled.cancel()
        // Fires after the other two were due: once it has, they had their chance.
        _ = ShutdownWatchdog.start(seconds: 0.3) { sentinel.value = true }
        #expect(await eventually { sentinel.value })
        #expect(fired.value && !cancelledFired.value)
        #expect(Date().timeIntervalSince(started) >= 0.3)
    }
}
