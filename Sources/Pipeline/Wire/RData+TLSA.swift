// RData+TLSA: a TLS certificate association (RFC 6698 §2).

public struct TLSA: RDataFields {
    public var usage: UInt8
    public var selector: UInt8
    public var matchingType: UInt8
    public var certificateAssociationData: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, certificateAssociationData: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.certificateAssociationData = certificateAssociationData
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.usage = try reader.readUInt8()
        self.selector = try reader.readUInt8()
        self.matchingType = try reader.readUInt8()
        self.certificateAssociationData = reader.readRemaining()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt8(self.usage)
        writer.writeUInt8(self.selector)
        writer.writeUInt8(self.matchingType)
        writer.writeBytes(self.certificateAssociationData)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.usage = try fields.integer("usage")
        self.selector = try fields.integer("selector")
        self.matchingType = try fields.integer("matching type")
        self.certificateAssociationData = try fields.hexRest("certificate association data")
    }

    public var presentation: String {
        "\(self.usage) \(self.selector) \(self.matchingType) "
            + TextEncoding.base16(self.certificateAssociationData).uppercased()
    }
}
