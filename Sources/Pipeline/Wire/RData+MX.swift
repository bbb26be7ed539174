// RData+MX: mail exchange (RFC 1035 §3.3.9).

public struct MX: RDataFields {
    public var preference: UInt16
    public var exchange: DomainName

    public init(preference: UInt16, exchange: DomainName) {
        self.preference = preference
        self.exchange = exchange
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.preference = try reader.readUInt16()
        self.exchange = try reader.readName()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt16(self.preference)
        writer.writeName(self.exchange, compress: compress)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.preference = try fields.integer("preference")
        self.exchange = try fields.name("exchange")
    }

    public var presentation: String { "\(self.preference) \(self.exchange)" }
}
