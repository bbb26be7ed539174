// InFlightLimit: a bound on work in flight, taken and given back without a lock.

import Synchronization

/// A bound on work in flight (a block's suspended queries, a plugin's upstream resolutions): `enter` takes a place
/// when one is free, `leave` gives it back. Past the bound the caller sheds (REFUSED, counted) rather than queue
/// without limit (docs/ARCHITECTURE.md).
public final class InFlightLimit: Sendable {
    public let maximum: Int
    private let count = Atomic<Int>(0)

    public init(maximum: Int) { self.maximum = maximum }

    /// Takes a place; false, and nothing taken, when all `maximum` are in use.
    public func enter() -> Bool {
        guard self.count.add(1, ordering: .relaxed).newValue <= self.maximum else {
            self.count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Places taken now (a server draining on stop waits for 0).
    public var current: Int { self.count.load(ordering: .relaxed) }

    /// Gives back a place taken by `enter`.
    public func leave() { self.count.subtract(1, ordering: .relaxed) }
}
