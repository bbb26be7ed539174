// RData+CAA: certification authority authorization (RFC 8659 §4.1).

public struct CAA: RDataFields {
    public var flags: UInt8
    /// The property tag, 1 to 15 ASCII letters and digits (`issue`, `issuewild`, `iodef`).
    public var tag: [UInt8]
    public var value: [UInt8]

    public init(flags: UInt8, tag: [UInt8], value: [UInt8]) {
        self.flags = flags
        self.tag = tag
        self.value = value
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        let start = reader.offset
        self.flags = try reader.readUInt8()
        self.tag = try reader.readCharacterString()
        guard CAA.isValidTag(self.tag) else { throw .invalidRData(offset: start, type: .caa, reason: .caaTag) }
        self.value = reader.readRemaining()
    }

    /// 1 to 15 ASCII letters and digits (RFC 8659 §4.1), so the tag prints as one plain word.
    static func isValidTag(_ tag: [UInt8]) -> Bool {
        (1...15).contains(tag.count)
            && tag.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt8(self.flags)
        writer.writeCharacterString(self.tag)
        writer.writeBytes(self.value)
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.flags = try fields.integer("flags")
        let tagToken = try fields.next("tag")
        let tag = Array(tagToken.string.utf8)
        guard CAA.isValidTag(tag) else {
            throw PresentationError(.invalidValue(field: "CAA tag", text: tagToken.string)).at(tagToken)
        }
        self.tag = tag
        let valueToken = try fields.next("value")
        self.value = try valueToken.unescaped()
    }

    public var presentation: String {
        "\(self.flags) \(String(decoding: self.tag, as: UTF8.self)) \(RData.quoted(self.value))"
    }
}
