// ServerClock: the time the serving loop stamps queries with and waits on, so tests can drive it by hand.

/// Monotonic time for the serving loop: `now` stamps each query (and the fast path's TTL arithmetic), `sleep`
/// waits out serve-stale's client timeout. Host uses `MonotonicClock`; tests pass a manual clock and move it.
public protocol ServerClock: Sendable {
    /// Monotonic nanoseconds, on the same scale as `Clock.nanoseconds()`.
    func now() -> UInt64
    /// Returns once `duration` has passed on this clock; throws when the task is cancelled first.
    func sleep(for duration: Duration) async throws
}

/// CLOCK_MONOTONIC and the standard library's task sleep.
public struct MonotonicClock: ServerClock {
    public init() {}
    public func now() -> UInt64 { Clock.nanoseconds() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

extension Duration {
    /// The whole nanoseconds of this duration (what `ServerClock.now` counts in), rounded toward zero.
    public var nanoseconds: Int64 {
        self.components.seconds &* 1_000_000_000 &+ self.components.attoseconds / 1_000_000_000
    }
}
