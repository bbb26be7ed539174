// RData: the typed RDATA of a resource record, with an opaque case so unknown types round-trip (RFC 3597).

/// The fields of one typed RDATA, readable and writable in wire and presentation form.
public protocol RDataFields: Hashable, Sendable {
    /// Decodes from a reader limited to RDLENGTH; the caller checks that every octet was consumed.
    init(wire reader: inout WireReader) throws(WireError)
    /// Encodes; `compress` is true only for the RFC 1035 types whose names may be compressed (RFC 3597 §4).
    func encode(to writer: inout WireWriter, compress: Bool)
    /// Parses the RDATA fields of a presentation-form record.
    init(presentation fields: inout PresentationFields) throws(PresentationError)
    /// The RDATA fields in presentation form.
    var presentation: String { get }
}

/// The RDATA of a record: a typed case per supported type and `.unknown` for every other.
public enum RData: Hashable, Sendable {
    case a(IPv4Address)
    case ns(DomainName)
    case cname(DomainName)
    case soa(SOA)
    case ptr(DomainName)
    case hinfo(HINFO)
    case mx(MX)
    /// One or more <character-string>s (RFC 1035 §3.3.14).
    case txt([[UInt8]])
    case aaaa(IPv6Address)
    case srv(SRV)
    case naptr(NAPTR)
    case dname(DomainName)
    /// OPT's options (RFC 6891 §6.1.2); a message's OPT record is surfaced as `Message.edns` instead.
    case opt([EDNSOption])
    case ds(DS)
    case rrsig(RRSIG)
    case nsec(NSEC)
    case dnskey(DNSKEY)
    case nsec3(NSEC3)
    case nsec3param(NSEC3PARAM)
    case tlsa(TLSA)
    case svcb(SVCB)
    case https(SVCB)
    case caa(CAA)
    /// Any other type, kept as opaque octets (RFC 3597 §3).
    case unknown(RecordType, [UInt8])

    /// The record type this RDATA belongs to.
    public var type: RecordType {
        switch self {
        case .a: return .a
        case .ns: return .ns
        case .cname: return .cname
        case .soa: return .soa
        case .ptr: return .ptr
        case .hinfo: return .hinfo
        case .mx: return .mx
        case .txt: return .txt
        case .aaaa: return .aaaa
        case .srv: return .srv
        case .naptr: return .naptr
        case .dname: return .dname
        case .opt: return .opt
        case .ds: return .ds
        case .rrsig: return .rrsig
        case .nsec: return .nsec
        case .dnskey: return .dnskey
        case .nsec3: return .nsec3
        case .nsec3param: return .nsec3param
        case .tlsa: return .tlsa
        case .svcb: return .svcb
        case .https: return .https
        case .caa: return .caa
        case .unknown(let type, _): return type
        }
    }

    /// The target name this RDATA points at, for the types whose answers pull in more data (CNAME, DNAME) or
    /// additional-section processing (NS, MX, SRV; RFC 1035 §3.3, RFC 2782).
    public var targetName: DomainName? {
        switch self {
        case .ns(let name), .cname(let name), .ptr(let name), .dname(let name): return name
        case .mx(let mx): return mx.exchange
        case .srv(let srv): return srv.target
        case .svcb(let svcb), .https(let svcb): return svcb.target
        default: return nil
        }
    }

    /// An address as A or AAAA data.
    public init(address: IPAddress) {
        switch address {
        case .v4(let v4): self = .a(v4)
        case .v6(let v6): self = .aaaa(v6)
        }
    }

    /// The address of A or AAAA data; nil for other types.
    public var address: IPAddress? {
        switch self {
        case .a(let v4): return .v4(v4)
        case .aaaa(let v6): return .v6(v6)
        default: return nil
        }
    }

    // MARK: Wire

    /// Decodes the RDATA of `type` from a reader limited to its RDLENGTH, which must be consumed exactly.
    /// - Throws: any `WireError` of the fields, or `.rdataLengthMismatch`.
    public static func decode(type: RecordType, from reader: inout WireReader) throws(WireError) -> RData {
        let start = reader.offset
        let rdlength = reader.remaining
        let rdata: RData
        switch type {
        case .a:
            rdata = .a(IPv4Address(rawValue: try reader.readUInt32()))
        case .aaaa:
            let bytes = try reader.readBytes(16)
            rdata = .aaaa(IPv6Address(octets: bytes))
        case .ns: rdata = .ns(try reader.readName())
        case .cname: rdata = .cname(try reader.readName())
        case .ptr: rdata = .ptr(try reader.readName())
        case .dname: rdata = .dname(try reader.readName())
        case .soa: rdata = .soa(try SOA(wire: &reader))
        case .hinfo: rdata = .hinfo(try HINFO(wire: &reader))
        case .mx: rdata = .mx(try MX(wire: &reader))
        case .txt:
            guard reader.remaining > 0 else { throw .invalidRData(offset: start, type: type, reason: .emptyTXT) }
            var strings: [[UInt8]] = []
            while reader.remaining > 0 { strings.append(try reader.readCharacterString()) }
            rdata = .txt(strings)
        case .srv: rdata = .srv(try SRV(wire: &reader))
        case .naptr: rdata = .naptr(try NAPTR(wire: &reader))
        case .opt: rdata = .opt(try EDNSOption.decodeAll(from: &reader))
        case .ds: rdata = .ds(try DS(wire: &reader))
        case .rrsig: rdata = .rrsig(try RRSIG(wire: &reader))
        case .nsec: rdata = .nsec(try NSEC(wire: &reader))
        case .dnskey: rdata = .dnskey(try DNSKEY(wire: &reader))
        case .nsec3: rdata = .nsec3(try NSEC3(wire: &reader))
        case .nsec3param: rdata = .nsec3param(try NSEC3PARAM(wire: &reader))
        case .tlsa: rdata = .tlsa(try TLSA(wire: &reader))
        case .svcb: rdata = .svcb(try SVCB(wire: &reader))
        case .https: rdata = .https(try SVCB(wire: &reader))
        case .caa: rdata = .caa(try CAA(wire: &reader))
        default: rdata = .unknown(type, reader.readRemaining())
        }
        guard reader.remaining == 0 else {
            throw .rdataLengthMismatch(
                offset: start,
                type: type,
                rdlength: rdlength,
                consumed: rdlength - reader.remaining
            )
        }
        return rdata
    }

    /// Encodes the RDATA (without RDLENGTH). Names are compressed only in NS, CNAME, SOA, PTR and MX, the RFC 1035
    /// types (RFC 3597 §4), and only when `compress` is true.
    public func encode(to writer: inout WireWriter, compress: Bool = true) {
        switch self {
        case .a(let address): writer.writeUInt32(address.rawValue)
        case .aaaa(let address): writer.writeBytes(address.octets)
        case .ns(let name), .cname(let name), .ptr(let name): writer.writeName(name, compress: compress)
        case .dname(let name): writer.writeName(name, compress: false)
        case .soa(let soa): soa.encode(to: &writer, compress: compress)
        case .hinfo(let hinfo): hinfo.encode(to: &writer, compress: false)
        case .mx(let mx): mx.encode(to: &writer, compress: compress)
        case .txt(let strings): for string in strings { writer.writeCharacterString(string) }
        case .srv(let srv): srv.encode(to: &writer, compress: false)
        case .naptr(let naptr): naptr.encode(to: &writer, compress: false)
        case .opt(let options): for option in options { option.encode(to: &writer) }
        case .ds(let ds): ds.encode(to: &writer, compress: false)
        case .rrsig(let rrsig): rrsig.encode(to: &writer, compress: false)
        case .nsec(let nsec): nsec.encode(to: &writer, compress: false)
        case .dnskey(let dnskey): dnskey.encode(to: &writer, compress: false)
        case .nsec3(let nsec3): nsec3.encode(to: &writer, compress: false)
        case .nsec3param(let param): param.encode(to: &writer, compress: false)
        case .tlsa(let tlsa): tlsa.encode(to: &writer, compress: false)
        case .svcb(let svcb), .https(let svcb): svcb.encode(to: &writer, compress: false)
        case .caa(let caa): caa.encode(to: &writer, compress: false)
        case .unknown(_, let bytes): writer.writeBytes(bytes)
        }
    }

    /// The uncompressed wire form of the RDATA alone (for RFC 3597 printing and DNSSEC canonical form).
    public var wireBytes: [UInt8] {
        var writer = WireWriter(capacity: 64)
        self.encode(to: &writer, compress: false)
        return writer.bytes
    }

    // MARK: Presentation

    /// Parses the RDATA fields of `type` from presentation tokens, including the generic `\# length hex` form for
    /// any type (RFC 3597 §5).
    /// - Throws: `PresentationError` naming the field and its position.
    public init(type: RecordType, fields: inout PresentationFields) throws(PresentationError) {
        if !fields.isAtEnd, !fields.tokens[fields.index].isQuoted, fields.tokens[fields.index].text == Array("\\#".utf8)
        {
            self = try RData.parseGeneric(type: type, fields: &fields)
            return
        }
        switch type {
        case .a:
            let token = try fields.next("IPv4 address")
            guard let address = IPv4Address(token.string) else {
                throw PresentationError(.badIPv4Address(token.string)).at(token)
            }
            self = .a(address)
        case .aaaa:
            let token = try fields.next("IPv6 address")
            guard let address = IPv6Address(token.string) else {
                throw PresentationError(.badIPv6Address(token.string)).at(token)
            }
            self = .aaaa(address)
        case .ns: self = .ns(try fields.name("name server"))
        case .cname: self = .cname(try fields.name("canonical name"))
        case .ptr: self = .ptr(try fields.name("pointer name"))
        case .dname: self = .dname(try fields.name("target name"))
        case .soa: self = .soa(try SOA(presentation: &fields))
        case .hinfo: self = .hinfo(try HINFO(presentation: &fields))
        case .mx: self = .mx(try MX(presentation: &fields))
        case .txt:
            var strings: [[UInt8]] = [try fields.characterString("text")]
            while !fields.isAtEnd { strings.append(try fields.characterString("text")) }
            self = .txt(strings)
        case .srv: self = .srv(try SRV(presentation: &fields))
        case .naptr: self = .naptr(try NAPTR(presentation: &fields))
        case .ds: self = .ds(try DS(presentation: &fields))
        case .rrsig: self = .rrsig(try RRSIG(presentation: &fields))
        case .nsec: self = .nsec(try NSEC(presentation: &fields))
        case .dnskey: self = .dnskey(try DNSKEY(presentation: &fields))
        case .nsec3: self = .nsec3(try NSEC3(presentation: &fields))
        case .nsec3param: self = .nsec3param(try NSEC3PARAM(presentation: &fields))
        case .tlsa: self = .tlsa(try TLSA(presentation: &fields))
        case .svcb: self = .svcb(try SVCB(presentation: &fields))
        case .https: self = .https(try SVCB(presentation: &fields))
        case .caa: self = .caa(try CAA(presentation: &fields))
        default:
            let token = try fields.next("\\# generic RDATA")
            throw PresentationError(.invalidValue(field: "\(type) RDATA (use \\# form)", text: token.string)).at(token)
        }
        try fields.finish()
    }

    /// `\# <length> <hex>…` (RFC 3597 §5); for a known type the octets are decoded as that type.
    private static func parseGeneric(
        type: RecordType,
        fields: inout PresentationFields
    ) throws(PresentationError)
        -> RData
    {
        _ = try fields.next("\\#")
        let length: Int = try fields.integer("RDATA length")
        var hex = ""
        var first: PresentationToken? = nil
        if !fields.isAtEnd { (hex, first) = try fields.joinedRest("hex data") }
        guard let bytes = TextEncoding.base16Decode(hex) else {
            throw first.map { PresentationError(.badHex).at($0) } ?? PresentationError(.badHex)
        }
        guard bytes.count == length else {
            let error = PresentationError(.genericLengthMismatch(declared: length, actual: bytes.count))
            throw first.map { error.at($0) } ?? error
        }
        switch type {
        case .a, .ns, .cname, .soa, .ptr, .hinfo, .mx, .txt, .aaaa, .srv, .naptr, .dname, .ds, .rrsig, .nsec,
            .dnskey, .nsec3, .nsec3param, .tlsa, .svcb, .https, .caa:
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(WireError) -> RData in
                    var reader = WireReader(message: raw)
                    return try RData.decode(type: type, from: &reader)
                }
            }
            switch result {
            case .success(let rdata): return rdata
            case .failure(let error):
                let problem = PresentationError(.invalidValue(field: "\(type) RDATA", text: error.description))
                throw first.map { problem.at($0) } ?? problem
            }
        default:
            return .unknown(type, bytes)
        }
    }

    /// The RDATA fields in presentation form; unknown types in the `\# length hex` form (RFC 3597 §5).
    public var presentation: String {
        switch self {
        case .a(let address): return address.description
        case .aaaa(let address): return address.description
        case .ns(let name), .cname(let name), .ptr(let name), .dname(let name): return name.description
        case .soa(let soa): return soa.presentation
        case .hinfo(let hinfo): return hinfo.presentation
        case .mx(let mx): return mx.presentation
        case .txt(let strings): return strings.map(RData.quoted).joined(separator: " ")
        case .srv(let srv): return srv.presentation
        case .naptr(let naptr): return naptr.presentation
        case .ds(let ds): return ds.presentation
        case .rrsig(let rrsig): return rrsig.presentation
        case .nsec(let nsec): return nsec.presentation
        case .dnskey(let dnskey): return dnskey.presentation
        case .nsec3(let nsec3): return nsec3.presentation
        case .nsec3param(let param): return param.presentation
        case .tlsa(let tlsa): return tlsa.presentation
        case .svcb(let svcb), .https(let svcb): return svcb.presentation
        case .caa(let caa): return caa.presentation
        case .opt, .unknown: return RData.generic(self.wireBytes)
        }
    }

    /// `\# length hex`.
    static func generic(_ bytes: [UInt8]) -> String {
        bytes.isEmpty ? "\\# 0" : "\\# \(bytes.count) \(TextEncoding.base16(bytes))"
    }

    /// A <character-string> in double quotes, with `"` and `\` escaped and non-printable octets as `\DDD`.
    public static func quoted(_ bytes: [UInt8]) -> String {
        var text = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                text.append("\\")
                text.append(Character(Unicode.Scalar(byte)))
            case 0x20...0x7E:
                text.append(Character(Unicode.Scalar(byte)))
            default:
                let digits = String(byte)
                text.append("\\" + String(repeating: "0", count: 3 - digits.count) + digits)
            }
        }
        return text + "\""
    }
}
