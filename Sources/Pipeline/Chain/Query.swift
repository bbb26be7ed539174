// Query: everything one query carries through the chain, as a value (no allocation beyond the decoded message).

/// How the query reached us.
public enum Transport: String, Sendable {
    case udp, tcp
    /// DNS over TLS (RFC 7858): TCP framing inside TLS.
    case tls
    /// DNS over HTTPS (RFC 8484): one message per HTTP request and response, over HTTP/2 or HTTP/1.1.
    case https

    /// A connection (TCP, TLS, HTTPS): the client's address is proven by the handshake, and replies may be up to
    /// 65,535 octets.
    public var isStream: Bool { self != .udp }

    /// Several messages may answer one query (a zone transfer, RFC 5936 §2.2): TCP and TLS framing carry them; an
    /// HTTP response carries exactly one DNS message (RFC 8484 §4.2.1).
    public var carriesSeveralMessages: Bool { self == .tcp || self == .tls }

    /// Encrypted: replies are padded when the query was (RFC 7830, RFC 8467).
    public var isEncrypted: Bool { self == .tls || self == .https }
}

/// Who asked, and through what.
public struct Client: Sendable {
    public var address: IPAddress
    public var port: UInt16
    public var transport: Transport
    /// The cache view chosen by the guards: clients whose answers may differ get different views
    /// (docs/ARCHITECTURE.md).
    public var view: UInt16

    public init(address: IPAddress, port: UInt16, transport: Transport, view: UInt16 = 0) {
        self.address = address
        self.port = port
        self.transport = transport
        self.view = view
    }
}

/// Whether and for how long the response may be stored in the fast-path message cache.
public enum Cacheability: Sendable, Equatable {
    /// Never stored (answers that depend on the client beyond its view, or on time).
    case never
    /// Stored for at most this many seconds, and never longer than its smallest record TTL.
    case upTo(seconds: UInt32)
}

/// One query on its way through the chain: the request, the client, the response being built, and typed metadata.
public struct Query: Sendable {
    /// The decoded request. Its question is the one the chain answers.
    public var request: Message
    public var client: Client
    /// The response being built; nil until a handler starts one.
    public var response: Message?
    /// Messages sent after `response` on the same TCP connection (a zone transfer's further parts, RFC 5936 §2.2);
    /// ignored over UDP.
    public var additionalResponses: [Message] = []
    /// Set by the handler that produces the response; the host fills the message cache from it in the finish phase.
    public var cacheability: Cacheability = .never
    /// The name of the plugin that answered, for logs and metrics.
    public var answeredBy: String?
    /// Set by a handler that relays a response from a server outside this process which speaks only for one zone
    /// (`forward`: the zone of its entry that matched). Whatever stores the response keeps only what that zone's
    /// servers may say (`ReplyScrubber`), and never their delegations or glue: a forwarder must not be able to plant
    /// records for names it does not serve. Nil for answers made here (zone, hosts, filter) or already scrubbed.
    public var bailiwick: DomainName?
    /// Free text a handler adds for the query log (e.g. the rule that matched).
    public var logNote: String?
    /// Set by a handler that answered from stored data which should be refreshed (cache prefetch): after replying,
    /// the host runs the handlers after it again in the background, sends nothing, and runs `finish` back down to
    /// that handler so it can store the fresh answer.
    public var refreshInBackground = false
    /// True for such a background refresh; handlers may skip work that only matters to a waiting client.
    public var isRefresh = false
    /// An answer to send if the chain suspends and has not answered after `after` (serve-stale's client timeout,
    /// RFC 8767 §5). The chain still completes, so its later handlers' `finish` steps can store the fresh answer.
    public var lateFallback: (response: Message, after: Duration)?
    /// Work a `finish` step leaves until the reply has gone out (storing what the reply does not depend on, such as
    /// the answer's RRsets): the host runs it, in order, right after sending, so a cache miss's reply does not wait
    /// for the caches to be filled.
    public var afterReply: [@Sendable () -> Void] = []
    /// The size of the query as received, in octets (for logs; 0 when not received from the network).
    public var requestSize = 0
    /// When the query was received, in nanoseconds of the host's monotonic clock.
    public var receivedAt: UInt64
    /// The largest response the transport allows for this client (UDP: its EDNS size capped by the server's).
    public var maxResponseSize: Int
    /// The executor this query's task runs on once a handler suspended (set by the serving loop: a UDP worker's
    /// reactor, a TCP connection's event loop; nil before, and for background refreshes). Handlers hand it to the
    /// upstream service, which then keeps the exchange on that thread.
    public var executor: (any TaskExecutor)?

    public init(request: Message, client: Client, receivedAt: UInt64 = 0, maxResponseSize: Int = 512) {
        self.request = request
        self.client = client
        self.receivedAt = receivedAt
        self.maxResponseSize = maxResponseSize
    }

    /// The first question (every query the chain sees has one).
    public var question: Question { self.request.questions[0] }

    /// Starts (or returns) a response to the request with `responseCode`.
    public mutating func respond(_ responseCode: ResponseCode = .noError) -> Message {
        if self.response == nil { self.response = Message.response(to: self.request, responseCode: responseCode) }
        return self.response!
    }
}
