// MinimalANY: the RFC 8482 answer to a query of type ANY over UDP, so a plugin that would otherwise gather every
// RRset of a name (from upstreams or its caches) sends one small record instead of an amplifier's payload.

extension Query {
    /// RFC 8482 §4.2 leaves the TTL to the operator, "large enough to suppress frequent subsequent ANY queries";
    /// this is the value large public resolvers use.
    public static let minimalANYTTL: UInt32 = 3789

    /// A query of type ANY that came over UDP: the one RFC 8482 asks to answer minimally (over TCP the client's
    /// address is proven, and a full answer is allowed, §4.4).
    public var isANYOverUDP: Bool { self.question.type == .any && self.client.transport == .udp }

    /// Answers with the synthesized `HINFO "RFC8482" ""` RRset at the question name (RFC 8482 §4.2), cached like any
    /// answer for `minimalANYTTL`.
    public mutating func answerMinimalANY(by plugin: String) {
        var response = self.respond()
        response.answers = [
            Record(
                name: self.question.name,
                ttl: Query.minimalANYTTL,
                rdata: .hinfo(HINFO(cpu: Array("RFC8482".utf8), os: []))
            )
        ]
        self.response = response
        self.answeredBy = plugin
        self.cacheability = .upTo(seconds: Query.minimalANYTTL)
    }
}
