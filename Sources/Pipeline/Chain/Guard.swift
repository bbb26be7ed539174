// Guard: a per-client decision taken before the message cache, on the raw request only; ReplyGuard: one taken on
// every reply, fast path or not, just before it is sent.

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

/// Where and when a request arrived, and what it proved, for guards that keep state per serving thread.
public struct Arrival: Sendable {
    /// Which serving thread took the request: UDP workers are numbered from 0 per listen address, the other
    /// transports pass a number of their own. A guard that keeps counts per thread picks its table by it, so a
    /// thread writes only its own table on the fast path (two threads that share a number share a locked table).
    public var worker: Int
    /// When the request arrived (ServerClock nanoseconds, read once per batch).
    public var now: UInt64
    /// The request carried a server cookie this server made and still accepts (RFC 7873 §5.2.5): the client has
    /// shown it receives our replies at the address it claims, so it is not a spoofed source.
    public var validServerCookie: Bool
    /// `RequestView.nameHash` of the question (0 when the request could not be read): a reply guard that keys on the
    /// question name need not hash the reply's copy of it again.
    public var questionHash: UInt64

    public init(worker: Int = 0, now: UInt64, validServerCookie: Bool = false, questionHash: UInt64 = 0) {
        self.worker = worker
        self.now = now
        self.validServerCookie = validServerCookie
        self.questionHash = questionHash
    }
}

/// Runs before the message cache on the parsed header and question and the client's address; never allocates in
/// the common case. `acl`, `ratelimit`'s per-client limit and filter's client groups are guards.
public protocol Guard: Sendable {
    /// - Parameters:
    ///   - request: the in-place view of the packet; nil when the packet could not be parsed (the guard may still
    ///     refuse or drop by address).
    ///   - client: the client's address and transport.
    ///   - arrival: the serving thread, the time, and whether the client proved its address with a cookie.
    func check(_ request: RequestView?, client: Client, arrival: Arrival) -> GuardDecision
}

/// What becomes of a reply a reply guard saw.
public enum ReplyDecision: Sendable, Equatable {
    /// Send it as it is.
    case send
    /// Send nothing.
    case drop
    /// Send, instead, an empty truncated reply (TC=1, the question only), so a real client retries over TCP while a
    /// spoofed victim gets no more octets than were sent in its name (response rate limiting's slip). A client that
    /// sent a cookie without a valid server cookie gets BADCOOKIE with a fresh one instead (RFC 7873 §5.2.3), which it
    /// can retry with over UDP.
    case slip
}

/// Runs on every reply the serving loop is about to send for a server block, the fast path's included, on the
/// reply's octets (the header and question are always at their start, uncompressed). Response rate limiting is one.
/// Must be cheap and must not block: it runs on the worker thread.
public protocol ReplyGuard: Sendable {
    /// - Parameters:
    ///   - reply: the reply as it would be sent.
    ///   - client: who it goes to.
    ///   - arrival: the serving thread, the time, and whether the client proved its address with a cookie.
    func check(reply: UnsafeRawBufferPointer, client: Client, arrival: Arrival) -> ReplyDecision
}
