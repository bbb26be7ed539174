// RData+NSEC3 and NSEC3PARAM: hashed authenticated denial of existence (RFC 5155 §3, §4).

public struct NSEC3: RDataFields {
    public var hashAlgorithm: UInt8
    public var flags: UInt8
    public var iterations: UInt16
    public var salt: [UInt8]
    public var nextHashedOwnerName: [UInt8]
    public var types: TypeBitmap

    public init(
        hashAlgorithm: UInt8,
        flags: UInt8,
        iterations: UInt16,
        salt: [UInt8],
        nextHashedOwnerName: [UInt8],
        types: TypeBitmap
    ) {
        self.hashAlgorithm = hashAlgorithm
        self.flags = flags
        self.iterations = iterations
        self.salt = salt
        self.nextHashedOwnerName = nextHashedOwnerName
        self.types = types
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.hashAlgorithm = try reader.readUInt8()
        self.flags = try reader.readUInt8()
        self.iterations = try reader.readUInt16()
        self.salt = try reader.readCharacterString()
        let start = reader.offset
        self.nextHashedOwnerName = try reader.readCharacterString()
        guard !self.nextHashedOwnerName.isEmpty else {
            throw .invalidRData(offset: start, type: .nsec3, reason: .hashLength)
        }
        self.types = try TypeBitmap(wire: &reader, type: .nsec3)
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt8(self.hashAlgorithm)
        writer.writeUInt8(self.flags)
        writer.writeUInt16(self.iterations)
        writer.writeCharacterString(self.salt)
        writer.writeCharacterString(self.nextHashedOwnerName)
        self.types.encode(to: &writer)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.hashAlgorithm = try fields.integer("hash algorithm")
        self.flags = try fields.integer("flags")
        self.iterations = try fields.integer("iterations")
        self.salt = try fields.salt()
        let token = try fields.next("next hashed owner name")
        guard let hash = TextEncoding.base32HexDecode(token.string), !hash.isEmpty, hash.count <= 255 else {
            throw PresentationError(.badBase32Hex).at(token)
        }
        self.nextHashedOwnerName = hash
        self.types = try TypeBitmap(presentation: &fields)
    }

    public var presentation: String {
        var text = "\(self.hashAlgorithm) \(self.flags) \(self.iterations) \(NSEC3PARAM.saltText(self.salt)) "
        text += TextEncoding.base32Hex(self.nextHashedOwnerName).uppercased()
        if !self.types.types.isEmpty { text += " " + self.types.presentation }
        return text
    }
}

public struct NSEC3PARAM: RDataFields {
    public var hashAlgorithm: UInt8
    public var flags: UInt8
    public var iterations: UInt16
    public var salt: [UInt8]

    public init(hashAlgorithm: UInt8, flags: UInt8, iterations: UInt16, salt: [UInt8]) {
        self.hashAlgorithm = hashAlgorithm
        self.flags = flags
        self.iterations = iterations
        self.salt = salt
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.hashAlgorithm = try reader.readUInt8()
        self.flags = try reader.readUInt8()
        self.iterations = try reader.readUInt16()
        self.salt = try reader.readCharacterString()
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt8(self.hashAlgorithm)
        writer.writeUInt8(self.flags)
        writer.writeUInt16(self.iterations)
        writer.writeCharacterString(self.salt)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.hashAlgorithm = try fields.integer("hash algorithm")
        self.flags = try fields.integer("flags")
        self.iterations = try fields.integer("iterations")
        self.salt = try fields.salt()
    }

    public var presentation: String {
        "\(self.hashAlgorithm) \(self.flags) \(self.iterations) \(NSEC3PARAM.saltText(self.salt))"
    }

    /// `-` for an empty salt, hex otherwise (RFC 5155 §3.3).
    static func saltText(_ salt: [UInt8]) -> String { salt.isEmpty ? "-" : TextEncoding.base16(salt).uppercased() }
}

extension PresentationFields {
    mutating func salt() throws(PresentationError) -> [UInt8] {
        let token = try self.next("salt")
        if token.text == [UInt8(ascii: "-")] { return [] }
        guard let salt = TextEncoding.base16Decode(token.string), salt.count <= 255 else {
            throw PresentationError(.badHex).at(token)
        }
        return salt
    }
}
