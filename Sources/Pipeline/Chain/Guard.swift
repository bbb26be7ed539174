// Guard: a per-client decision taken before the message cache, on the raw request only.

/// A guard's decision about one request.
public enum GuardDecision: Sendable, Equatable {
    /// Go on; with a view id when the guard assigns one (0 otherwise).
    case allow
    /// Go on in this cache view (clients whose answers differ, e.g. filter groups, docs/ARCHITECTURE.md).
    case view(UInt16)
    /// Answer REFUSED without running the chain.
    case refuse
    /// Send nothing.
    case drop
}

/// Runs before the message cache on the parsed header and question and the client's address; never allocates in
/// the common case. `acl`, rate limits and client groups are guards.
public protocol Guard: Sendable {
    /// - Parameters:
    ///   - request: the in-place view of the packet; nil when the packet could not be parsed (the guard may still
    ///     refuse or drop by address).
    ///   - client: the client's address and transport.
    func check(_ request: RequestView?, client: Client) -> GuardDecision
}
