// ReplyScrubber: what a server may speak for, kept; everything else dropped before caching.

/// Bailiwick scrubbing (RFC 5452 §6, Unbound's scrubber): a server asked about `name` as a server of `zone` may only
/// tell us about names in `zone`. The answer keeps the RRsets on `name`'s CNAME/DNAME chain; the authority keeps an SOA
/// above the name and NS sets between the zone and the name; the additional section keeps the addresses of those NS
/// names, when they lie in the zone (glue). Everything else is dropped and counted.
///
/// One scrubber serves both sources of outside data: `recursive` scrubs each authoritative server's reply for the zone
/// it asked that server as, and `cache` scrubs a forwarded reply for the zone its `forward` entry serves
/// (`Query.bailiwick`) before any of it is stored, so neither can plant records for names their source does not
/// speak for.
public struct ReplyScrubber: Sendable {
    public let zone: DomainName
    public let name: DomainName
    public let type: RecordType
    public let maximumChain: Int

    public init(zone: DomainName, name: DomainName, type: RecordType, maximumChain: Int) {
        self.zone = zone
        self.name = name
        self.type = type
        self.maximumChain = maximumChain
    }

    public struct Result: Sendable {
        public var message: Message
        /// The names on the chain from `name`, in order (the first is `name`).
        public var chain: [DomainName]
        /// The DNAMEs and CNAMEs (the server's or synthesised) that make the chain, in its order.
        public var aliases: [Record]
        public var dropped: Int
    }

    public func scrub(_ reply: Message) -> Result {
        var message = reply
        var dropped = 0
        // The answer: the chain of names from `name` through DNAMEs (which take precedence over the CNAMEs synthesised
        // from them) and CNAMEs, then the RRsets at its names.
        var chain = [self.name]
        var keptAliases: [Record] = []
        var current = self.name
        links: for _ in 0..<self.maximumChain {
            for dname in reply.answers where dname.type == .dname && self.type != .dname {
                guard case .dname(let target) = dname.rdata, dname.name != current,
                    dname.name.isSubdomain(of: self.zone),
                    let synthesised = try? current.replacingSuffix(dname.name, with: target)
                else { continue }
                if !keptAliases.contains(dname) { keptAliases.append(dname) }
                // The server's own synthesised CNAME if it sent one, else ours (RFC 6672 §3.4).
                let cname =
                    reply.answers.first { $0.type == .cname && $0.name == current }
                    ?? Record(name: current, recordClass: dname.recordClass, ttl: dname.ttl, rdata: .cname(synthesised))
                keptAliases.append(cname)
                current = synthesised
                chain.append(current)
                continue links
            }
            if self.type != .cname,
                let cname = reply.answers.first(where: { $0.type == .cname && $0.name == current }),
                case .cname(let target) = cname.rdata, current.isSubdomain(of: self.zone)
            {
                keptAliases.append(cname)
                current = target
                chain.append(current)
                continue
            }
            break
        }
        message.answers = reply.answers.filter { record in
            if keptAliases.contains(record) { return true }
            guard record.type != .cname && record.type != .dname || record.type == self.type else { return false }
            return record.name.isSubdomain(of: self.zone) && chain.contains(record.name)
                && (record.type == self.type || self.type == .any || record.type == .rrsig)
        }
        for alias in keptAliases where !message.answers.contains(alias) { message.answers.append(alias) }
        dropped +=
            reply.answers.count - message.answers.count + keptAliases.filter { !reply.answers.contains($0) }.count
        // The authority: an SOA for the end of the chain, the zone's own NS set when the server is authoritative for
        // it, a child's NS set only in a referral, DNSSEC proofs. An NS set riding along with an answer never
        // becomes a delegation (Unbound's scrubber: only a referral from the parent, or the zone's own authoritative
        // answer, may set one); an SOA above the name but not above the chain's end would deny a name the server
        // does not speak for.
        let last = current
        let isReferral =
            message.answers.isEmpty && reply.responseCode == .noError && !reply.authorities.contains { $0.type == .soa }
        message.authorities = reply.authorities.filter { record in
            guard record.name.isSubdomain(of: self.zone) else { return false }
            switch record.type {
            case .soa: return last.isSubdomain(of: record.name)
            case .ns:
                guard self.name.isSubdomain(of: record.name) else { return false }
                return record.name == self.zone ? reply.header.isAuthoritative : isReferral
            case .ds, .nsec, .nsec3, .rrsig: return true
            default: return false
            }
        }
        dropped += reply.authorities.count - message.authorities.count
        // The additional section: addresses of the NS names kept, inside the zone (glue).
        var serverNames: Set<DomainName> = []
        for record in message.authorities + message.answers {
            if case .ns(let server) = record.rdata { serverNames.insert(server) }
        }
        message.additionals = reply.additionals.filter { record in
            (record.type == .a || record.type == .aaaa) && record.name.isSubdomain(of: self.zone)
                && serverNames.contains(record.name)
        }
        dropped += reply.additionals.count - message.additionals.count
        return Result(message: message, chain: chain, aliases: keptAliases, dropped: dropped)
    }
}
