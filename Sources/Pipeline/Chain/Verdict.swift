// Verdict: what a handler says the chain should do next.

/// The result of one handler's `handle` or `resume`. Exactly one at a time.
public enum Verdict: Sendable, Equatable {
    /// Not mine, or not finished: run the next handler.
    case next
    /// `query.response` is complete: stop the chain, run the finish hooks, send it.
    case answered
    /// Send nothing at all (a guard-like decision inside the chain; counted by the host).
    case drop
    /// The handler needs to wait (an upstream, a file): the chain moves into a task that awaits its `resume`.
    case suspend
}
