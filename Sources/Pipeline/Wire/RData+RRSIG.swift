// RData+RRSIG: a signature over an RRset (RFC 4034 §3).

public struct RRSIG: RDataFields {
    public var typeCovered: RecordType
    public var algorithm: UInt8
    public var labels: UInt8
    public var originalTTL: UInt32
    /// Seconds since 1970 modulo 2^32 (RFC 4034 §3.1.5).
    public var expiration: UInt32
    public var inception: UInt32
    public var keyTag: UInt16
    public var signerName: DomainName
    public var signature: [UInt8]

    public init(
        typeCovered: RecordType,
        algorithm: UInt8,
        labels: UInt8,
        originalTTL: UInt32,
        expiration: UInt32,
        inception: UInt32,
        keyTag: UInt16,
        signerName: DomainName,
        signature: [UInt8]
    ) {
        self.typeCovered = typeCovered
        self.algorithm = algorithm
        self.labels = labels
        self.originalTTL = originalTTL
        self.expiration = expiration
        self.inception = inception
        self.keyTag = keyTag
        self.signerName = signerName
        self.signature = signature
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.typeCovered = RecordType(try reader.readUInt16())
        self.algorithm = try reader.readUInt8()
        self.labels = try reader.readUInt8()
        self.originalTTL = try reader.readUInt32()
        self.expiration = try reader.readUInt32()
        self.inception = try reader.readUInt32()
        self.keyTag = try reader.readUInt16()
        self.signerName = try reader.readName()
        self.signature = reader.readRemaining()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt16(self.typeCovered.rawValue)
        writer.writeUInt8(self.algorithm)
        writer.writeUInt8(self.labels)
        writer.writeUInt32(self.originalTTL)
        writer.writeUInt32(self.expiration)
        writer.writeUInt32(self.inception)
        writer.writeUInt16(self.keyTag)
        writer.writeName(self.signerName, compress: false)
        writer.writeBytes(self.signature)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        let typeToken = try fields.next("type covered")
        guard let type = RecordType(mnemonic: typeToken.string) else {
            throw PresentationError(.unknownType(typeToken.string)).at(typeToken)
        }
        self.typeCovered = type
        self.algorithm = try fields.integer("algorithm")
        self.labels = try fields.integer("labels")
        self.originalTTL = try fields.integer("original TTL")
        self.expiration = try fields.signatureTime("expiration")
        self.inception = try fields.signatureTime("inception")
        self.keyTag = try fields.integer("key tag")
        self.signerName = try fields.name("signer name")
        self.signature = try fields.base64Rest("signature")
    }

    public var presentation: String {
        "\(self.typeCovered) \(self.algorithm) \(self.labels) \(self.originalTTL) "
            + "\(SignatureTime.format(self.expiration)) \(SignatureTime.format(self.inception)) \(self.keyTag) "
            + "\(self.signerName) \(TextEncoding.base64(self.signature))"
    }
}

/// RRSIG times as text: `YYYYMMDDHHmmSS` in UTC, or plain seconds (RFC 4034 §3.2).
public enum SignatureTime {
    public static func format(_ seconds: UInt32) -> String {
        let days = Int64(seconds) / 86400
        let rest = Int64(seconds) % 86400
        let (year, month, day) = SignatureTime.civil(fromDays: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)\(two(month))\(two(day))\(two(rest / 3600))\(two(rest / 60 % 60))\(two(rest % 60))"
    }

    public static func parse(_ text: String) -> UInt32? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        if digits.count != 14 { return UInt32(text) }
        func number(_ range: Range<Int>) -> Int64 {
            digits[range].reduce(0) { $0 * 10 + Int64($1 - 0x30) }
        }
        let year = number(0..<4)
        let month = number(4..<6)
        let day = number(6..<8)
        let hour = number(8..<10)
        let minute = number(10..<12)
        let second = number(12..<14)
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        let total = SignatureTime.days(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
        guard total >= 0 else { return nil }
        // Serial number arithmetic (RFC 1982): times past 2106 wrap.
        return UInt32(truncatingIfNeeded: total)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension PresentationFields {
    mutating func signatureTime(_ field: String) throws(PresentationError) -> UInt32 {
        let token = try self.next(field)
        guard let value = SignatureTime.parse(token.string) else {
            throw PresentationError(.badTime(token.string)).at(token)
        }
        return value
    }
}
