// Zone+Lookup: the authoritative answer to one question (RFC 1034 §4.3.2, RFC 2308, RFC 4592, RFC 6672, RFC 8482).

import Pipeline

/// The sections and flags of an authoritative answer.
public struct ZoneAnswer: Sendable, Equatable {
    public var responseCode: ResponseCode = .noError
    /// AA: false only for referrals (RFC 1034 §4.3.2 step 3b).
    public var authoritative = true
    public var answers: [Record] = []
    public var authorities: [Record] = []
    public var additionals: [Record] = []
}

extension Zone {
    /// CNAME and DNAME links followed inside the zone for one question, at most (loops end earlier: a name seen
    /// twice stops the chase).
    static let maximumChainLength = 16

    /// Answers `qname`/`qtype`, which must be at or below the origin.
    ///
    /// - Referral at a zone cut (AA clear, NS in authority, glue in additional, DS from the parent side).
    /// - CNAME followed within the zone; DNAME substituted with a synthesised CNAME (RFC 6672 §3.1).
    /// - Wildcards per RFC 4592: the source of synthesis is `*.` + the closest encloser; an existing name, empty
    ///   non-terminals included, blocks it.
    /// - NXDOMAIN and NODATA carry the SOA with TTL min(SOA TTL, MINIMUM) (RFC 2308 §3).
    /// - ANY over UDP gets one synthesised HINFO "RFC8482" (RFC 8482 §4.2); over TCP every RRset.
    /// - With DO, the RRSIGs covering each RRset given go with it.
    public func answer(
        _ qname: DomainName,
        _ qtype: RecordType,
        dnssecOK: Bool = false,
        tcp: Bool = false
    ) -> ZoneAnswer {
        var result = ZoneAnswer()
        var name = qname
        var seen: Set<DomainName> = []
        for _ in 0..<Zone.maximumChainLength {
            // Names compare and hash without regard to case, so the client's spelling is looked up as it is.
            guard name.isSubdomain(of: self.origin), seen.insert(name).inserted else { return result }
            switch self.step(name: name, qtype: qtype, dnssecOK: dnssecOK, tcp: tcp, into: &result) {
            case .done: return result
            case .follow(let target): name = target
            }
        }
        return result
    }

    private enum Step {
        case done
        case follow(DomainName)
    }

    private func step(
        name: DomainName,
        qtype: RecordType,
        dnssecOK: Bool,
        tcp: Bool,
        into result: inout ZoneAnswer
    ) -> Step {
        // Walk from the apex down: a cut or a DNAME above the name decides before the name itself.
        let ancestors = self.ancestors(of: name)
        for ancestor in ancestors.reversed() {
            guard let node = self.nodes[ancestor] else { continue }
            if ancestor != self.origin, let ns = node.rrsets[.ns] {
                self.refer(at: ancestor, ns: ns, dnssecOK: dnssecOK, into: &result)
                return .done
            }
            if let dname = node.rrsets[.dname]?.first, case .dname(let target) = dname.rdata {
                self.add([dname], at: node, dnssecOK: dnssecOK, to: &result.answers)
                // The owner's labels below the DNAME's owner, moved under the target.
                let keep = name.labels.count - ancestor.labelCount
                guard let substituted = try? DomainName(labels: Array(name.labels.prefix(keep))).appending(target)
                else {
                    result.responseCode = .yxDomain
                    return .done
                }
                result.answers.append(Record(name: name, ttl: dname.ttl, rdata: .cname(substituted)))
                return .follow(substituted)
            }
        }
        if let node = self.nodes[name] {
            if name != self.origin, let ns = node.rrsets[.ns], qtype != .ds {
                self.refer(at: name, ns: ns, dnssecOK: dnssecOK, into: &result)
                return .done
            }
            return self.answer(from: node, owner: name, qtype: qtype, dnssecOK: dnssecOK, tcp: tcp, into: &result)
        }
        // RFC 4592 §3.3.1: the closest encloser is the longest existing ancestor; its wildcard child, if any, answers.
        if let encloser = ancestors.first(where: { self.nodes[$0] != nil }),
            let wildcardName = try? encloser.prepending(label: [UInt8(ascii: "*")]),
            let wildcard = self.nodes[wildcardName]
        {
            return self.answer(from: wildcard, owner: name, qtype: qtype, dnssecOK: dnssecOK, tcp: tcp, into: &result)
        }
        // RFC 6604 §3: the RCODE speaks of the last name in the chain.
        result.responseCode = .nxDomain
        result.authorities = [self.negativeSOA]
        return .done
    }

    /// Proper ancestors of `key` down to and including the origin, nearest first.
    private func ancestors(of key: DomainName) -> [DomainName] {
        var result: [DomainName] = []
        var current = key.parent
        while let name = current, name.isSubdomain(of: self.origin) {
            result.append(name)
            if name == self.origin { break }
            current = name.parent
        }
        return result
    }

    private func answer(
        from node: Node,
        owner: DomainName,
        qtype: RecordType,
        dnssecOK: Bool,
        tcp: Bool,
        into result: inout ZoneAnswer
    ) -> Step {
        if let cname = node.rrsets[.cname]?.first, qtype != .cname, qtype != .any, case .cname(let target) = cname.rdata
        {
            self.add([cname], at: node, owner: owner, dnssecOK: dnssecOK, to: &result.answers)
            return .follow(target)
        }
        if qtype == .any {
            if !tcp {
                let hinfo = HINFO(cpu: Array("RFC8482".utf8), os: [])
                result.answers.append(Record(name: owner, ttl: self.negativeSOA.ttl, rdata: .hinfo(hinfo)))
                return .done
            }
            for type in node.rrsets.keys.sorted() {
                self.add(node.rrsets[type]!, at: node, owner: owner, dnssecOK: dnssecOK, to: &result.answers)
            }
            if result.answers.isEmpty { result.authorities = [self.negativeSOA] }
            return .done
        }
        guard let rrset = node.rrsets[qtype] else {
            // NODATA (RFC 2308 §2.2), also for empty non-terminals (RFC 4592 §2.2.2).
            result.authorities = [self.negativeSOA]
            return .done
        }
        self.add(rrset, at: node, owner: owner, dnssecOK: dnssecOK, to: &result.answers)
        self.addAdditional(for: rrset, dnssecOK: dnssecOK, into: &result)
        return .done
    }

    /// A referral to the child zone at `cut` (RFC 1034 §4.3.2 step 3b): NS in authority, DS (or nothing) from our
    /// side of the cut with DO, and addresses for name servers inside the cut as glue.
    private func refer(at cut: DomainName, ns: [Record], dnssecOK: Bool, into result: inout ZoneAnswer) {
        if result.answers.isEmpty { result.authoritative = false }
        result.authorities += ns
        if dnssecOK, let node = self.nodes[cut], let ds = node.rrsets[.ds] {
            self.add(ds, at: node, dnssecOK: true, to: &result.authorities)
        }
        for record in ns {
            guard case .ns(let target) = record.rdata, target.isSubdomain(of: cut) else { continue }
            if let node = self.nodes[target] {
                result.additionals += node.rrsets[.a] ?? []
                result.additionals += node.rrsets[.aaaa] ?? []
            }
        }
    }

    /// RFC 1035 §3.3 additional-section processing: addresses of NS, MX and SRV targets inside the zone.
    private func addAdditional(for rrset: [Record], dnssecOK: Bool, into result: inout ZoneAnswer) {
        guard [RecordType.ns, .mx, .srv].contains(rrset.first?.type ?? .a) else { return }
        for record in rrset {
            // `nodes` holds only names inside the zone.
            guard let target = record.rdata.targetName, let node = self.nodes[target]
            else { continue }
            for type in [RecordType.a, .aaaa] {
                guard let addresses = node.rrsets[type], !result.additionals.contains(addresses[0]) else { continue }
                self.add(addresses, at: node, dnssecOK: dnssecOK, to: &result.additionals)
            }
        }
    }

    /// Appends an RRset (renamed to `owner` when synthesised from a wildcard or asked with another spelling) and,
    /// with DO, its covering RRSIGs.
    private func add(
        _ rrset: [Record],
        at node: Node,
        owner: DomainName? = nil,
        dnssecOK: Bool,
        to section: inout [Record]
    ) {
        for var record in rrset {
            if let owner { record.name = owner }
            section.append(record)
        }
        guard dnssecOK, let type = rrset.first?.type, let signatures = node.signatures[type] else { return }
        for var signature in signatures {
            if let owner { signature.name = owner }
            section.append(signature)
        }
    }
}
