// QueryHandler: the contract of one step of a server block's chain.

/// One step of a chain. This is the whole contract between the chain runner and a plugin's handler.
///
/// - `handle` runs on the thread that received the query (a UDP worker, a TCP event loop). It must never block: it
///   either decides now (`.next`, `.answered`, `.drop`) or returns `.suspend` and does its waiting in `resume`.
/// - `resume` is called only after this handler returned `.suspend`, in the query's task, on the executor the
///   transport gave the serving loop (`Responder`): a UDP worker's reactor, a TCP connection's event loop. Its
///   verdict is treated like `handle`'s; `.suspend` from `resume` is taken as `.next`.
/// - `finish` runs after the chain stopped, in reverse order, for every handler whose `handle` ran (the one that
///   answered included), whether the query was answered, dropped or fell off the end. Caches store here, the log
///   writes here, metrics count here. `query.response` is what will be sent (nil when nothing will be).
///
/// A handler must not keep the `Query` beyond these calls, and must copy a message before changing it when the
/// message may be shared (RFC-sized structs are values in Swift, so a plain assignment copies).
public protocol QueryHandler: Sendable {
    func handle(_ query: inout Query) -> Verdict
    func resume(_ query: inout Query) async -> Verdict
    func finish(_ query: inout Query)
}

extension QueryHandler {
    public func resume(_ query: inout Query) async -> Verdict { .next }
    public func finish(_ query: inout Query) {}
}
