// WireReader: bounds-checked reading of a DNS message that never consumes part of a field.

/// A cursor over a received message.
///
/// Every read checks its bounds first and throws `WireError.truncated` without moving when too few octets remain
/// (NIO's `read*` rule): a failed read never consumes part of a field. `limit` narrows reads to one RDATA, while
/// compression pointers may still reach anywhere earlier in the whole message.
///
/// The reader borrows the message's storage; it must not outlive the `withUnsafeBytes` call that made it.
public struct WireReader {
    /// The whole message (pointer targets are resolved against it).
    public let message: UnsafeRawBufferPointer
    /// The next octet to read.
    public private(set) var offset: Int
    /// One past the last octet this reader may consume.
    public let limit: Int

    public init(message: UnsafeRawBufferPointer, offset: Int = 0, limit: Int? = nil) {
        self.message = message
        self.offset = offset
        self.limit = limit ?? message.count
    }

    /// Octets left before `limit`.
    public var remaining: Int { self.limit - self.offset }

    func require(_ count: Int) throws(WireError) {
        if count > self.limit - self.offset {
            throw .truncated(offset: self.offset, needed: count, available: self.limit - self.offset)
        }
    }

    public mutating func readUInt8() throws(WireError) -> UInt8 {
        try self.require(1)
        defer { self.offset += 1 }
        return self.message[self.offset]
    }

    public mutating func readUInt16() throws(WireError) -> UInt16 {
        try self.require(2)
        defer { self.offset += 2 }
        return UInt16(self.message[self.offset]) << 8 | UInt16(self.message[self.offset + 1])
    }

    public mutating func readUInt32() throws(WireError) -> UInt32 {
        try self.require(4)
        defer { self.offset += 4 }
        var value: UInt32 = 0
        for index in 0..<4 { value = value << 8 | UInt32(self.message[self.offset + index]) }
        return value
    }

    /// Reads `count` octets as a new array.
    public mutating func readBytes(_ count: Int) throws(WireError) -> [UInt8] {
        try self.require(count)
        defer { self.offset += count }
        return Array(self.message[self.offset..<(self.offset + count)])
    }

    /// Reads everything up to `limit`.
    public mutating func readRemaining() -> [UInt8] {
        defer { self.offset = self.limit }
        return Array(self.message[self.offset..<self.limit])
    }

    /// Reads a <character-string> (RFC 1035 §3.3): a length octet and that many octets.
    public mutating func readCharacterString() throws(WireError) -> [UInt8] {
        try self.require(1)
        let length = Int(self.message[self.offset])
        try self.require(1 + length)
        defer { self.offset += 1 + length }
        return Array(self.message[(self.offset + 1)..<(self.offset + 1 + length)])
    }

    /// Moves past `count` octets.
    public mutating func skip(_ count: Int) throws(WireError) {
        try self.require(count)
        self.offset += count
    }

    /// A reader over the next `length` octets, for RDATA; this reader moves past them.
    public mutating func subReader(length: Int) throws(WireError) -> WireReader {
        try self.require(length)
        defer { self.offset += length }
        return WireReader(message: self.message, offset: self.offset, limit: self.offset + length)
    }

    /// Reads a possibly compressed domain name (RFC 1035 §4.1.4).
    ///
    /// Each pointer must point before the start of the run of labels it continues, so no name can loop, and at most
    /// `DomainName.maxPointerHops` pointers are followed. The expanded name is held to 255 octets.
    /// - Throws: `.truncated`, `.labelTooLong`, `.nameTooLong`, `.pointerNotBackward`,
    ///   `.tooManyPointers`, and `.compressionNotAllowed` when `allowCompression` is false.
    public mutating func readName(allowCompression: Bool = true) throws(WireError) -> DomainName {
        var wire: [UInt8] = []
        wire.reserveCapacity(32)
        var position = self.offset
        var runStart = self.offset
        var bound = self.limit
        var hops = 0
        var resumeAt: Int? = nil
        while true {
            guard position < bound else { throw .truncated(offset: position, needed: 1, available: 0) }
            let length = self.message[position]
            switch length & 0xC0 {
            case 0x00:
                let count = Int(length)
                guard position + 1 + count <= bound else {
                    throw .truncated(offset: position, needed: 1 + count, available: bound - position)
                }
                // Room for this label and the root label that must still follow it.
                guard wire.count + 1 + count + (count == 0 ? 0 : 1) <= DomainName.maxWireLength else {
                    throw .nameTooLong(offset: position)
                }
                wire.append(length)
                if count == 0 {
                    self.offset = resumeAt ?? (position + 1)
                    return DomainName(uncheckedWire: wire)
                }
                wire.append(contentsOf: self.message[(position + 1)..<(position + 1 + count)])
                position += 1 + count
            case 0xC0:
                guard allowCompression else { throw .compressionNotAllowed(offset: position) }
                guard position + 2 <= bound else {
                    throw .truncated(offset: position, needed: 2, available: bound - position)
                }
                let target = Int(length & 0x3F) << 8 | Int(self.message[position + 1])
                guard target < runStart else { throw .pointerNotBackward(offset: position, target: target) }
                hops += 1
                guard hops <= DomainName.maxPointerHops else { throw .tooManyPointers(offset: position) }
                if resumeAt == nil { resumeAt = position + 2 }
                position = target
                runStart = target
                // Pointer targets lie anywhere earlier in the message, not only inside this reader's limit.
                bound = self.message.count
            default:
                // 01 and 10 label types (RFC 6891 §5 retired extended labels): a length octet over 63.
                throw .labelTooLong(offset: position, length: Int(length))
            }
        }
    }
}
