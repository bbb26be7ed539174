// RData+HINFO: host information (RFC 1035 §3.3.2); also the RFC 8482 §4.2 answer to ANY.

public struct HINFO: RDataFields {
    public var cpu: [UInt8]
    public var os: [UInt8]

    public init(cpu: [UInt8], os: [UInt8]) {
        self.cpu = cpu
        self.os = os
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.cpu = try reader.readCharacterString()
        self.os = try reader.readCharacterString()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeCharacterString(self.cpu)
        writer.writeCharacterString(self.os)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.cpu = try fields.characterString("CPU")
        self.os = try fields.characterString("OS")
    }

    public var presentation: String { "\(RData.quoted(self.cpu)) \(RData.quoted(self.os))" }
}
