// Chain: a server block's handlers as a flat array and the loop that runs them.

/// A compiled chain: handlers in the configuration's order, run by a plain loop (docs/ARCHITECTURE.md).
public struct Chain: Sendable {
    public let handlers: [any QueryHandler]
    /// The plugin name of each handler, for logs and metrics.
    public let names: [String]

    public init(handlers: [any QueryHandler], names: [String]) {
        precondition(handlers.count == names.count, "one name per handler")
        self.handlers = handlers
        self.names = names
    }

    /// Where a synchronous run stopped.
    public struct Stop: Sendable, Equatable {
        public var verdict: Verdict
        /// The index of the handler that gave the verdict; `handlers.count - 1` when every handler said `.next`.
        public var index: Int

        public init(verdict: Verdict, index: Int) {
            self.verdict = verdict
            self.index = index
        }
    }

    /// Runs `handle` from `start` until a handler answers, drops or suspends, or the chain ends (`.next` at the
    /// last index). Never suspends itself.
    public func run(_ query: inout Query, from start: Int = 0) -> Stop {
        var index = start
        while index < self.handlers.count {
            let verdict = self.handlers[index].handle(&query)
            if verdict != .next { return Stop(verdict: verdict, index: index) }
            index += 1
        }
        return Stop(verdict: .next, index: self.handlers.count - 1)
    }

    /// Continues a suspended chain: awaits the handler at `stop.index`, then runs on until the chain stops without
    /// suspending. Returns the final stop.
    public func resume(_ query: inout Query, from stop: Stop) async -> Stop {
        var current = stop
        while current.verdict == .suspend {
            var verdict = await self.handlers[current.index].resume(&query)
            if verdict == .suspend { verdict = .next }
            if verdict != .next { return Stop(verdict: verdict, index: current.index) }
            if current.index + 1 >= self.handlers.count { return Stop(verdict: .next, index: current.index) }
            current = self.run(&query, from: current.index + 1)
        }
        return current
    }

    /// Runs `finish` in reverse over the handlers that ran, from `stop.index` down to `lowest` (0: all of them).
    public func finish(_ query: inout Query, after stop: Stop, downTo lowest: Int = 0) {
        var index = stop.index
        while index >= lowest {
            self.handlers[index].finish(&query)
            index -= 1
        }
    }
}
