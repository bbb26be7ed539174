// FastPathObserver: lets a plugin see queries the message cache answered without entering the chain.

/// Told about every answer the fast path sends for a server block, after it is sent. Used by the query log, so
/// cache hits are logged like any other answer. Must be cheap and must not block: it runs on the worker thread.
public protocol FastPathObserver: Sendable {
    /// - Parameters:
    ///   - request: the query's in-place view (valid only during the call, with `packet`).
    ///   - packet: the query's octets.
    ///   - reply: the octets that were sent.
    ///   - client: who asked.
    ///   - receivedAt: when the query arrived (host monotonic nanoseconds), and `now` when the reply left.
    func observe(
        request: RequestView,
        packet: UnsafeRawBufferPointer,
        reply: UnsafeRawBufferPointer,
        client: Client,
        receivedAt: UInt64,
        now: UInt64
    )
}
