// TypeBitmap: the window-block type bitmaps of NSEC and NSEC3 (RFC 4034 §4.1.2, RFC 5155 §3.2.1).

/// A set of record types as NSEC/NSEC3 carry it. Kept sorted and unique.
public struct TypeBitmap: Hashable, Sendable {
    public private(set) var types: [RecordType]

    public init(_ types: some Sequence<RecordType>) { self.types = Array(Set(types)).sorted() }

    public func contains(_ type: RecordType) -> Bool { self.types.contains(type) }

    /// Reads window blocks to the end of the reader: window numbers strictly ascending, 1 to 32 octets each.
    init(wire reader: inout WireReader, type: RecordType) throws(WireError) {
        var types: [RecordType] = []
        var lastWindow = -1
        while reader.remaining > 0 {
            let start = reader.offset
            let window = Int(try reader.readUInt8())
            let length = Int(try reader.readUInt8())
            guard window > lastWindow, (1...32).contains(length) else {
                throw .invalidRData(offset: start, type: type, reason: .typeBitmap)
            }
            lastWindow = window
            let bitmap = try reader.readBytes(length)
            for (index, byte) in bitmap.enumerated() where byte != 0 {
                for bit in 0..<8 where byte & (0x80 >> UInt8(bit)) != 0 {
                    types.append(RecordType(UInt16(window << 8 | index << 3 | bit)))
                }
            }
        }
        self.types = types
    }

    func encode(to writer: inout WireWriter) {
        var index = 0
        while index < self.types.count {
            let window = self.types[index].rawValue >> 8
            var bitmap = [UInt8](repeating: 0, count: 32)
            var used = 0
            while index < self.types.count && self.types[index].rawValue >> 8 == window {
                let low = Int(self.types[index].rawValue & 0xFF)
                bitmap[low >> 3] |= 0x80 >> UInt8(low & 7)
                used = max(used, (low >> 3) + 1)
                index += 1
            }
            writer.writeUInt8(UInt8(window))
            writer.writeUInt8(UInt8(used))
            writer.writeBytes(bitmap[0..<used])
        }
    }

    /// Parses the remaining tokens as type mnemonics.
    init(presentation fields: inout PresentationFields) throws(PresentationError) {
        var types: [RecordType] = []
        for token in fields.rest() {
            guard let type = RecordType(mnemonic: token.string) else {
                throw PresentationError(.unknownType(token.string)).at(token)
            }
            types.append(type)
        }
        self.init(types)
    }

    public var presentation: String { self.types.map(\.description).joined(separator: " ") }
}
