// RecordType: the 16-bit TYPE field of a resource record (RFC 1035 §3.2.2), open to values we do not know.

/// A resource record TYPE (or QTYPE).
///
/// An open set: any 16-bit value is representable and round-trips; the known values have static members and
/// mnemonics. Unknown values print and parse as `TYPE12345` (RFC 3597 §5).
public struct RecordType: RawRepresentable, Hashable, Comparable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RecordType(1)
    public static let ns = RecordType(2)
    public static let cname = RecordType(5)
    public static let soa = RecordType(6)
    public static let ptr = RecordType(12)
    public static let hinfo = RecordType(13)
    public static let mx = RecordType(15)
    public static let txt = RecordType(16)
    public static let aaaa = RecordType(28)
    public static let srv = RecordType(33)
    public static let naptr = RecordType(35)
    public static let dname = RecordType(39)
    public static let opt = RecordType(41)
    public static let ds = RecordType(43)
    public static let rrsig = RecordType(46)
    public static let nsec = RecordType(47)
    public static let dnskey = RecordType(48)
    public static let nsec3 = RecordType(50)
    public static let nsec3param = RecordType(51)
    public static let tlsa = RecordType(52)
    public static let svcb = RecordType(64)
    public static let https = RecordType(65)
    public static let tsig = RecordType(250)
    public static let ixfr = RecordType(251)
    public static let axfr = RecordType(252)
    public static let any = RecordType(255)
    public static let caa = RecordType(257)

    /// Mnemonics of the types this codec knows, in one table so name and number cannot drift apart.
    static let mnemonics: [(RecordType, String)] = [
        (.a, "A"), (.ns, "NS"), (.cname, "CNAME"), (.soa, "SOA"), (.ptr, "PTR"), (.hinfo, "HINFO"), (.mx, "MX"),
        (.txt, "TXT"), (.aaaa, "AAAA"), (.srv, "SRV"), (.naptr, "NAPTR"), (.dname, "DNAME"), (.opt, "OPT"),
        (.ds, "DS"), (.rrsig, "RRSIG"), (.nsec, "NSEC"), (.dnskey, "DNSKEY"), (.nsec3, "NSEC3"),
        (.nsec3param, "NSEC3PARAM"), (.tlsa, "TLSA"), (.svcb, "SVCB"), (.https, "HTTPS"), (.tsig, "TSIG"),
        (.ixfr, "IXFR"), (.axfr, "AXFR"), (.any, "ANY"), (.caa, "CAA"),
        (RecordType(99), "SPF"), (RecordType(44), "SSHFP"), (RecordType(59), "CDS"), (RecordType(60), "CDNSKEY"),
        (RecordType(61), "OPENPGPKEY"), (RecordType(62), "CSYNC"), (RecordType(63), "ZONEMD"),
        (RecordType(17), "RP"), (RecordType(18), "AFSDB"), (RecordType(29), "LOC"), (RecordType(37), "CERT"),
        (RecordType(256), "URI"), (RecordType(249), "TKEY"), (RecordType(108), "EUI48"), (RecordType(109), "EUI64"),
    ]
    private static let byName: [String: RecordType] = Dictionary(
        uniqueKeysWithValues: mnemonics.map { ($0.1, $0.0) }
    )
    private static let byValue: [UInt16: String] = Dictionary(
        uniqueKeysWithValues: mnemonics.map { ($0.0.rawValue, $0.1) }
    )

    /// Parses a mnemonic (any letter case) or the generic `TYPEnnn` form; nil for anything else.
    public init?(mnemonic: some StringProtocol) {
        let upper = mnemonic.uppercased()
        if let known = RecordType.byName[upper] {
            self = known
        } else if upper.hasPrefix("TYPE"), let value = UInt16(upper.dropFirst(4)) {
            self.init(value)
        } else {
            return nil
        }
    }

    /// The mnemonic if known, otherwise nil.
    public var mnemonic: String? { RecordType.byValue[self.rawValue] }

    /// QTYPE-only values (RFC 1035 §3.2.3, RFC 6895 §3.1): meta and query types that are never stored as data.
    public var isMetaType: Bool { self.rawValue == 41 || (self.rawValue >= 128 && self.rawValue <= 255) }

    @inlinable public static func < (lhs: RecordType, rhs: RecordType) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension RecordType: CustomStringConvertible {
    public var description: String { self.mnemonic ?? "TYPE\(self.rawValue)" }
}
