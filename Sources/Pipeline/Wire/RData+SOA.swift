// RData+SOA: start of a zone of authority (RFC 1035 §3.3.13).

/// SOA RDATA. `minimum` is the negative-caching TTL (RFC 2308 §4).
public struct SOA: RDataFields {
    public var mname: DomainName
    public var rname: DomainName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32

    public init(
        mname: DomainName,
        rname: DomainName,
        serial: UInt32,
        refresh: UInt32,
        retry: UInt32,
        expire: UInt32,
        minimum: UInt32
    ) {
        self.mname = mname
        self.rname = rname
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.mname = try reader.readName()
        self.rname = try reader.readName()
        self.serial = try reader.readUInt32()
        self.refresh = try reader.readUInt32()
        self.retry = try reader.readUInt32()
        self.expire = try reader.readUInt32()
        self.minimum = try reader.readUInt32()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeName(self.mname, compress: compress)
        writer.writeName(self.rname, compress: compress)
        for value in [self.serial, self.refresh, self.retry, self.expire, self.minimum] { writer.writeUInt32(value) }
    }

    /// The four timers accept TTL units (`1h30m`), as BIND and Knot do.
    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.mname = try fields.name("primary name server")
        self.rname = try fields.name("responsible mailbox")
        self.serial = try fields.integer("serial")
        self.refresh = try fields.ttl("refresh")
        self.retry = try fields.ttl("retry")
        self.expire = try fields.ttl("expire")
        self.minimum = try fields.ttl("minimum")
    }

    public var presentation: String {
        "\(self.mname) \(self.rname) \(self.serial) \(self.refresh) \(self.retry) \(self.expire) \(self.minimum)"
    }
}

extension PresentationFields {
    /// A TTL in seconds or with units `w d h m s` (`1h30m`, RFC 2308 §4 era BIND syntax).
    public mutating func ttl(_ field: String) throws(PresentationError) -> UInt32 {
        let token = try self.next(field)
        guard !token.isQuoted, let value = TTLText.parse(token.string) else {
            throw PresentationError(.badNumber(field: field, text: token.string)).at(token)
        }
        return value
    }
}

/// TTL text: plain seconds or unit-suffixed parts.
public enum TTLText {
    /// Parses `3600`, `1h`, `1h30m`, `2w1d` (letters in any case); nil when malformed or over 2^32-1.
    public static func parse(_ text: String) -> UInt32? {
        if let plain = UInt32(text) { return plain }
        var total: UInt64 = 0
        var current: UInt64 = 0
        var sawDigit = false
        for character in text.lowercased() {
            if let digit = character.wholeNumberValue, character.isASCII {
                current = current * 10 + UInt64(digit)
                sawDigit = true
                guard current <= UInt64(UInt32.max) else { return nil }
                continue
            }
            guard sawDigit else { return nil }
            let unit: UInt64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            case "w": unit = 604800
            default: return nil
            }
            total += current * unit
            current = 0
            sawDigit = false
            guard total <= UInt64(UInt32.max) else { return nil }
        }
        guard !sawDigit else { return nil }
        return UInt32(total)
    }
}
