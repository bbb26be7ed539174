// RData+DS: delegation signer (RFC 4034 §5).

public struct DS: RDataFields {
    public var keyTag: UInt16
    public var algorithm: UInt8
    public var digestType: UInt8
    public var digest: [UInt8]

    public init(keyTag: UInt16, algorithm: UInt8, digestType: UInt8, digest: [UInt8]) {
        self.keyTag = keyTag
        self.algorithm = algorithm
        self.digestType = digestType
        self.digest = digest
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.keyTag = try reader.readUInt16()
        self.algorithm = try reader.readUInt8()
        self.digestType = try reader.readUInt8()
        self.digest = reader.readRemaining()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt16(self.keyTag)
        writer.writeUInt8(self.algorithm)
        writer.writeUInt8(self.digestType)
        writer.writeBytes(self.digest)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.keyTag = try fields.integer("key tag")
        self.algorithm = try fields.integer("algorithm")
        self.digestType = try fields.integer("digest type")
        self.digest = try fields.hexRest("digest")
    }

    public var presentation: String {
        "\(self.keyTag) \(self.algorithm) \(self.digestType) \(TextEncoding.base16(self.digest).uppercased())"
    }
}

extension PresentationFields {
    /// The remaining tokens as one hex string (it may be split by blanks). No tokens is empty data, which the wire
    /// form allows and prints as nothing (BIND reads these fields the same way).
    public mutating func hexRest(_ field: String) throws(PresentationError) -> [UInt8] {
        if self.isAtEnd { return [] }
        let (text, first) = try self.joinedRest(field)
        guard let bytes = TextEncoding.base16Decode(text) else { throw PresentationError(.badHex).at(first) }
        return bytes
    }

    /// The remaining tokens as one base64 string (it may be split by blanks); no tokens is empty data, as above.
    public mutating func base64Rest(_ field: String) throws(PresentationError) -> [UInt8] {
        if self.isAtEnd { return [] }
        let (text, first) = try self.joinedRest(field)
        guard let bytes = TextEncoding.base64Decode(text) else { throw PresentationError(.badBase64).at(first) }
        return bytes
    }
}
