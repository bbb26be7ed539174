// RData+NAPTR: naming authority pointer (RFC 3403 §4.1).

public struct NAPTR: RDataFields {
    public var order: UInt16
    public var preference: UInt16
    public var flags: [UInt8]
    public var services: [UInt8]
    public var regexp: [UInt8]
    public var replacement: DomainName

    public init(
        order: UInt16,
        preference: UInt16,
        flags: [UInt8],
        services: [UInt8],
        regexp: [UInt8],
        replacement: DomainName
    ) {
        self.order = order
        self.preference = preference
        self.flags = flags
        self.services = services
        self.regexp = regexp
        self.replacement = replacement
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.order = try reader.readUInt16()
        self.preference = try reader.readUInt16()
        self.flags = try reader.readCharacterString()
        self.services = try reader.readCharacterString()
        self.regexp = try reader.readCharacterString()
        self.replacement = try reader.readName()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt16(self.order)
        writer.writeUInt16(self.preference)
        writer.writeCharacterString(self.flags)
        writer.writeCharacterString(self.services)
        writer.writeCharacterString(self.regexp)
        writer.writeName(self.replacement, compress: false)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.order = try fields.integer("order")
        self.preference = try fields.integer("preference")
        self.flags = try fields.characterString("flags")
        self.services = try fields.characterString("services")
        self.regexp = try fields.characterString("regexp")
        self.replacement = try fields.name("replacement")
    }

    public var presentation: String {
        "\(self.order) \(self.preference) \(RData.quoted(self.flags)) \(RData.quoted(self.services)) "
            + "\(RData.quoted(self.regexp)) \(self.replacement)"
    }
}
