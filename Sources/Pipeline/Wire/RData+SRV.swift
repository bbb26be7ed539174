// RData+SRV: service location (RFC 2782). The target is never compressed (RFC 3597 §4).

public struct SRV: RDataFields {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: DomainName

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: DomainName) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.priority = try reader.readUInt16()
        self.weight = try reader.readUInt16()
        self.port = try reader.readUInt16()
        self.target = try reader.readName()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt16(self.priority)
        writer.writeUInt16(self.weight)
        writer.writeUInt16(self.port)
        writer.writeName(self.target, compress: false)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.priority = try fields.integer("priority")
        self.weight = try fields.integer("weight")
        self.port = try fields.integer("port")
        self.target = try fields.name("target")
    }

    public var presentation: String { "\(self.priority) \(self.weight) \(self.port) \(self.target)" }
}
