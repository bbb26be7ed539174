// RData+DNSKEY: a zone's public key (RFC 4034 §2).

public struct DNSKEY: RDataFields {
    public var flags: UInt16
    public var `protocol`: UInt8
    public var algorithm: UInt8
    public var publicKey: [UInt8]

    public init(flags: UInt16, protocol: UInt8, algorithm: UInt8, publicKey: [UInt8]) {
        self.flags = flags
        self.protocol = `protocol`
        self.algorithm = algorithm
        self.publicKey = publicKey
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.flags = try reader.readUInt16()
        self.protocol = try reader.readUInt8()
        self.algorithm = try reader.readUInt8()
        self.publicKey = reader.readRemaining()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt16(self.flags)
        writer.writeUInt8(self.protocol)
        writer.writeUInt8(self.algorithm)
        writer.writeBytes(self.publicKey)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.flags = try fields.integer("flags")
        self.protocol = try fields.integer("protocol")
        self.algorithm = try fields.integer("algorithm")
        self.publicKey = try fields.base64Rest("public key")
    }

    public var presentation: String {
        "\(self.flags) \(self.protocol) \(self.algorithm) \(TextEncoding.base64(self.publicKey))"
    }

    /// The key tag (RFC 4034 Appendix B) over this RDATA.
    public var keyTag: UInt16 {
        var writer = WireWriter(capacity: 4 + self.publicKey.count)
        self.encode(to: &writer, compress: false)
        var accumulator: UInt32 = 0
        for (index, byte) in writer.bytes.enumerated() {
            accumulator += index & 1 == 0 ? UInt32(byte) << 8 : UInt32(byte)
        }
        accumulator += (accumulator >> 16) & 0xFFFF
        return UInt16(truncatingIfNeeded: accumulator)
    }
}
