// Zone: one authoritative zone's data, checked at load, and the RFC 1034 §4.3.2 lookup over it.

import Pipeline

/// Why a zone's content is not servable (RFC 1035 §5.2, RFC 2181 §10.1, §10.3).
public struct ZoneCheckError: Error, Equatable, Sendable, CustomStringConvertible {
    public var origin: DomainName
    public var message: String
    public var description: String { "zone \(self.origin): \(self.message)" }
}

/// An immutable, loaded zone: its nodes (every owner name and every empty non-terminal), their RRsets, and the zone
/// cuts below the apex. Built once off the serving path and replaced whole on reload.
public struct Zone: Sendable {
    /// The RRsets at one owner name; empty for an empty non-terminal.
    struct Node: Sendable {
        var rrsets: [RecordType: [Record]] = [:]
        /// RRSIGs at this name, by the type they cover (RFC 4034 §3).
        var signatures: [RecordType: [Record]] = [:]
    }

    public let origin: DomainName
    public let soa: Record
    let nodes: [DomainName: Node]
    /// Records in file order, for AXFR.
    public let records: [Record]

    /// The SOA's serial (RFC 1035 §3.3.13).
    public var serial: UInt32 {
        if case .soa(let soa) = self.soa.rdata { return soa.serial }
        return 0
    }

    /// Builds and checks a zone.
    /// - Throws: `ZoneCheckError` when there is not exactly one SOA at the apex, no NS at the apex, data outside the
    ///   zone, a CNAME beside other data, or an in-bailiwick name server without an address.
    public init(origin: DomainName, records: [Record]) throws(ZoneCheckError) {
        let origin = origin.lowercased()
        var nodes: [DomainName: Node] = [:]
        var soa: Record? = nil
        for record in records {
            let owner = record.name.lowercased()
            guard owner.isSubdomain(of: origin) else {
                throw ZoneCheckError(origin: origin, message: "\(record.name) \(record.type) is outside the zone")
            }
            if record.type == .soa {
                guard owner == origin else {
                    throw ZoneCheckError(origin: origin, message: "SOA at \(record.name), not at the apex")
                }
                guard soa == nil else { throw ZoneCheckError(origin: origin, message: "more than one SOA record") }
                soa = record
            }
            var node = nodes[owner] ?? Node()
            if case .rrsig(let signature) = record.rdata {
                node.signatures[signature.typeCovered, default: []].append(record)
            } else if !(node.rrsets[record.type]?.contains(where: { $0.rdata == record.rdata }) ?? false) {
                node.rrsets[record.type, default: []].append(record)
            }
            nodes[owner] = node
            // Empty non-terminals exist too (RFC 4592 §2.2.2): every name between the owner and the apex.
            var ancestor = owner.parent
            while let name = ancestor, name.isSubdomain(of: origin), nodes[name] == nil {
                nodes[name] = Node()
                ancestor = name.parent
            }
        }
        guard let soa else { throw ZoneCheckError(origin: origin, message: "no SOA record at the apex") }
        guard nodes[origin]?.rrsets[.ns]?.isEmpty == false else {
            throw ZoneCheckError(origin: origin, message: "no NS records at the apex")
        }
        for (name, node) in nodes where node.rrsets[.cname] != nil {
            let others = node.rrsets.keys.filter { $0 != .cname && $0 != .nsec && $0 != .rrsig }
            guard others.isEmpty else {
                throw ZoneCheckError(
                    origin: origin,
                    message:
                        "CNAME at \(name) beside other data (\(others.map(\.description).sorted().joined(separator: ", ")))"
                )
            }
        }
        self.origin = origin
        self.soa = soa
        self.nodes = nodes
        self.records = records
        // Glue: every name server inside the zone needs an address (RFC 1034 §4.2.1), at the apex and at cuts.
        for (name, node) in nodes {
            for ns in node.rrsets[.ns] ?? [] {
                guard case .ns(let target) = ns.rdata, target.isSubdomain(of: origin) else { continue }
                let targetNode = nodes[target]
                if targetNode?.rrsets[.a] == nil && targetNode?.rrsets[.aaaa] == nil {
                    throw ZoneCheckError(
                        origin: origin,
                        message: "name server \(target) of \(name) has no A or AAAA (glue) in the zone"
                    )
                }
            }
        }
    }

    /// The negative-caching SOA: its TTL is the smaller of the SOA's TTL and MINIMUM (RFC 2308 §3, §5).
    var negativeSOA: Record {
        var record = self.soa
        if case .soa(let soa) = record.rdata { record.ttl = min(record.ttl, soa.minimum) }
        return record
    }
}
