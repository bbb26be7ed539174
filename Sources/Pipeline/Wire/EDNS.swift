// EDNS: the OPT pseudo-record's fields (RFC 6891 §6.1) and its typed options.

/// What a message's OPT record says: the sender's UDP payload size, the high bits of the RCODE, the EDNS version,
/// the flags (DO, RFC 3225) and the options.
public struct EDNS: Hashable, Sendable {
    /// The largest UDP payload the sender can reassemble (OPT's CLASS field). Values below 512 are treated as 512.
    public var udpPayloadSize: UInt16
    /// The upper 8 bits of the 12-bit RCODE (OPT TTL bits 24–31).
    public var extendedRCode: UInt8
    public var version: UInt8
    /// The 16 flag bits (OPT TTL bits 0–15); DO is the top one.
    public var flags: UInt16
    public var options: [EDNSOption]

    /// The payload size this server advertises and accepts by default (DNS Flag Day 2020: 1232).
    public static let defaultPayloadSize: UInt16 = 1232

    public init(
        udpPayloadSize: UInt16 = EDNS.defaultPayloadSize,
        extendedRCode: UInt8 = 0,
        version: UInt8 = 0,
        flags: UInt16 = 0,
        options: [EDNSOption] = []
    ) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCode = extendedRCode
        self.version = version
        self.flags = flags
        self.options = options
    }

    /// DO: the sender wants DNSSEC records (RFC 3225 §3).
    public var dnssecOK: Bool {
        get { self.flags & 0x8000 != 0 }
        set { self.flags = newValue ? self.flags | 0x8000 : self.flags & ~0x8000 }
    }

    /// The OPT record's TTL field: extended RCODE, version, flags.
    var ttlField: UInt32 { UInt32(self.extendedRCode) << 24 | UInt32(self.version) << 16 | UInt32(self.flags) }

    init(payload: UInt16, ttl: UInt32, options: [EDNSOption]) {
        self.init(
            udpPayloadSize: payload,
            extendedRCode: UInt8(ttl >> 24),
            version: UInt8(truncatingIfNeeded: ttl >> 16),
            flags: UInt16(truncatingIfNeeded: ttl),
            options: options
        )
    }

    /// The first option with this code.
    public func option(_ code: EDNSOption.Code) -> EDNSOption? { self.options.first { $0.code == code } }

    /// Writes the whole OPT record (root owner, type 41).
    func encode(to writer: inout WireWriter) {
        writer.writeUInt8(0)
        writer.writeUInt16(RecordType.opt.rawValue)
        writer.writeUInt16(self.udpPayloadSize)
        writer.writeUInt32(self.ttlField)
        let lengthAt = writer.mark()
        writer.writeUInt16(0)
        for option in self.options { option.encode(to: &writer) }
        writer.setUInt16(UInt16(writer.count - lengthAt - 2), at: lengthAt)
    }

    /// Throws when an option, or the options together, are longer than a 16-bit length can say.
    func checkEncodable() throws(EncodingError) {
        var total = 0
        for option in self.options {
            guard option.dataLength <= Int(UInt16.max) else {
                throw .optionTooLong(code: option.code.rawValue, length: option.dataLength)
            }
            total += 4 + option.dataLength
        }
        guard total <= Int(UInt16.max) else { throw .optionTooLong(code: 0, length: total) }
    }

    /// The encoded size of the OPT record.
    var wireSize: Int { 11 + self.options.reduce(0) { $0 + 4 + $1.dataLength } }
}

/// One EDNS option (RFC 6891 §6.1.2), typed where this server acts on it.
public enum EDNSOption: Hashable, Sendable {
    /// DNS Cookie (RFC 7873 §4): an 8-octet client cookie and an empty or 8–32-octet server cookie.
    case cookie(client: [UInt8], server: [UInt8])
    /// Client Subnet (RFC 7871 §6).
    case clientSubnet(ClientSubnet)
    /// Extended DNS Error (RFC 8914 §2).
    case extendedError(ExtendedError)
    /// Padding of this many octets (RFC 7830); only all-zero padding is typed, other content stays `.unknown`.
    case padding(Int)
    /// NSID (RFC 5001): empty in a query, the server's identifier in a response.
    case nsid([UInt8])
    case unknown(code: Code, data: [UInt8])

    /// An EDNS option code, open to unknown values.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public init(_ rawValue: UInt16) { self.rawValue = rawValue }
        public static let nsid = Code(3)
        public static let clientSubnet = Code(8)
        public static let cookie = Code(10)
        public static let tcpKeepalive = Code(11)
        public static let padding = Code(12)
        public static let extendedError = Code(15)
    }

    public var code: Code {
        switch self {
        case .cookie: return .cookie
        case .clientSubnet: return .clientSubnet
        case .extendedError: return .extendedError
        case .padding: return .padding
        case .nsid: return .nsid
        case .unknown(let code, _): return code
        }
    }

    var dataLength: Int {
        switch self {
        case .cookie(let client, let server): return client.count + server.count
        case .clientSubnet(let subnet): return 4 + subnet.address.count
        case .extendedError(let error): return 2 + error.extraText.utf8.count
        case .padding(let count): return count
        case .nsid(let data): return data.count
        case .unknown(_, let data): return data.count
        }
    }

    func encode(to writer: inout WireWriter) {
        writer.writeUInt16(self.code.rawValue)
        writer.writeUInt16(UInt16(self.dataLength))
        switch self {
        case .cookie(let client, let server):
            writer.writeBytes(client)
            writer.writeBytes(server)
        case .clientSubnet(let subnet):
            writer.writeUInt16(subnet.family)
            writer.writeUInt8(subnet.sourcePrefixLength)
            writer.writeUInt8(subnet.scopePrefixLength)
            writer.writeBytes(subnet.address)
        case .extendedError(let error):
            writer.writeUInt16(error.infoCode.rawValue)
            writer.writeBytes(error.extraText.utf8)
        case .padding(let count): writer.writeBytes(repeatElement(0, count: count))
        case .nsid(let data): writer.writeBytes(data)
        case .unknown(_, let data): writer.writeBytes(data)
        }
    }

    /// Decodes all options in an OPT record's RDATA.
    /// - Throws: `.invalidEDNSOption` when an option overruns the RDATA or breaks its own format's rules.
    static func decodeAll(from reader: inout WireReader) throws(WireError) -> [EDNSOption] {
        var options: [EDNSOption] = []
        while reader.remaining > 0 {
            let start = reader.offset
            guard reader.remaining >= 4 else { throw .invalidEDNSOption(offset: start, code: 0) }
            let code = Code(try reader.readUInt16())
            let length = Int(try reader.readUInt16())
            guard length <= reader.remaining else { throw .invalidEDNSOption(offset: start, code: code.rawValue) }
            let data = try reader.readBytes(length)
            guard let option = EDNSOption(code: code, data: data) else {
                throw .invalidEDNSOption(offset: start, code: code.rawValue)
            }
            options.append(option)
        }
        return options
    }

    /// Types an option's data; nil when a typed option's data is malformed (RFC 7873 §5.2.2, RFC 7871 §7.1.2
    /// both call for FORMERR).
    init?(code: Code, data: [UInt8]) {
        switch code {
        case .cookie:
            guard data.count == 8 || (16...40).contains(data.count) else { return nil }
            self = .cookie(client: Array(data[0..<8]), server: Array(data[8...]))
        case .clientSubnet:
            guard let subnet = ClientSubnet(data: data) else { return nil }
            self = .clientSubnet(subnet)
        case .extendedError:
            guard data.count >= 2 else { return nil }
            let info = ExtendedError.InfoCode(UInt16(data[0]) << 8 | UInt16(data[1]))
            guard let text = String(validating: data[2...], as: UTF8.self) else {
                self = .unknown(code: code, data: data)
                return
            }
            self = .extendedError(ExtendedError(infoCode: info, extraText: text))
        case .padding:
            self = data.allSatisfy({ $0 == 0 }) ? .padding(data.count) : .unknown(code: code, data: data)
        case .nsid:
            self = .nsid(data)
        default:
            self = .unknown(code: code, data: data)
        }
    }
}

/// The Client Subnet option's fields (RFC 7871 §6).
public struct ClientSubnet: Hashable, Sendable {
    /// Address family: 1 IPv4, 2 IPv6.
    public var family: UInt16
    public var sourcePrefixLength: UInt8
    public var scopePrefixLength: UInt8
    /// The address truncated to `sourcePrefixLength` bits: exactly ceil(source/8) octets.
    public var address: [UInt8]

    public init(family: UInt16, sourcePrefixLength: UInt8, scopePrefixLength: UInt8, address: [UInt8]) {
        self.family = family
        self.sourcePrefixLength = sourcePrefixLength
        self.scopePrefixLength = scopePrefixLength
        self.address = address
    }

    init?(data: [UInt8]) {
        guard data.count >= 4 else { return nil }
        let family = UInt16(data[0]) << 8 | UInt16(data[1])
        let source = Int(data[2])
        let scope = Int(data[3])
        let maximum: Int
        switch family {
        case 1: maximum = 32
        case 2: maximum = 128
        default: return nil
        }
        let address = Array(data[4...])
        guard source <= maximum, scope <= maximum, address.count == (source + 7) / 8 else { return nil }
        // Bits past the source prefix must be zero (RFC 7871 §6).
        if source % 8 != 0, let last = address.last, last & (0xFF >> UInt8(source % 8)) != 0 { return nil }
        self.init(family: family, sourcePrefixLength: UInt8(source), scopePrefixLength: UInt8(scope), address: address)
    }
}

/// An Extended DNS Error (RFC 8914 §2).
public struct ExtendedError: Hashable, Sendable {
    public var infoCode: InfoCode
    public var extraText: String

    public init(infoCode: InfoCode, extraText: String = "") {
        self.infoCode = infoCode
        self.extraText = extraText
    }

    /// INFO-CODE (RFC 8914 §4), open to values not listed.
    public struct InfoCode: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public init(_ rawValue: UInt16) { self.rawValue = rawValue }
        public static let other = InfoCode(0)
        public static let staleAnswer = InfoCode(3)
        public static let forgedAnswer = InfoCode(4)
        public static let dnssecBogus = InfoCode(6)
        public static let notReady = InfoCode(14)
        public static let blocked = InfoCode(15)
        public static let censored = InfoCode(16)
        public static let filtered = InfoCode(17)
        public static let prohibited = InfoCode(18)
        public static let staleNXDomainAnswer = InfoCode(19)
        public static let notAuthoritative = InfoCode(20)
        public static let notSupported = InfoCode(21)
        public static let noReachableAuthority = InfoCode(22)
        public static let networkError = InfoCode(23)
        public static let invalidData = InfoCode(24)
    }
}
