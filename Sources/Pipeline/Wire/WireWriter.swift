// WireWriter: builds a DNS message with name compression (RFC 1035 §4.1.4) and rollback for size limits.

/// An append-only message buffer that remembers where names were written so later names can point at them.
///
/// `mark()` and `rollback(to:)` let the encoder undo a whole RRset that did not fit, compression targets included.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// Offsets of label starts already written that a pointer may target (only offsets below 0x4000 fit in 14 bits).
    private var targets: [UInt16] = []

    public init(capacity: Int = 512) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
        // Room for the label starts of a typical answer's names at once, instead of growing from nothing.
        self.targets.reserveCapacity(16)
    }

    @inlinable public var count: Int { self.bytes.count }

    public mutating func writeUInt8(_ value: UInt8) { self.bytes.append(value) }

    public mutating func writeUInt16(_ value: UInt16) {
        self.bytes.append(UInt8(value >> 8))
        self.bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func writeUInt32(_ value: UInt32) {
        self.bytes.append(UInt8(value >> 24))
        self.bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        self.bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        self.bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func writeBytes(_ value: some Sequence<UInt8>) { self.bytes.append(contentsOf: value) }

    /// Writes a <character-string>: a length octet and at most 255 octets (longer input is cut, by contract).
    public mutating func writeCharacterString(_ value: [UInt8]) {
        let count = min(value.count, 255)
        self.bytes.append(UInt8(count))
        self.bytes.append(contentsOf: value[0..<count])
    }

    /// Overwrites two octets at `offset` (section counts, RDLENGTH).
    public mutating func setUInt16(_ value: UInt16, at offset: Int) {
        self.bytes[offset] = UInt8(value >> 8)
        self.bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// Writes a name, compressed against earlier names when `compress` is true.
    ///
    /// The longest already-written suffix (matched without regard to case) becomes a pointer. Every label start this
    /// call writes becomes a target for later names either way, so uncompressed RDATA names can still be pointed at.
    public mutating func writeName(_ name: DomainName, compress: Bool) {
        let wire = name.wire
        // This name's own label starts become targets only once it is complete, so a suffix search never lands in
        // a name still being written.
        let firstNewTarget = self.targets.count
        var index = 0
        while wire[index] != 0 {
            if compress, let target = self.findSuffix(wire, from: index, below: firstNewTarget) {
                self.writeUInt16(0xC000 | target)
                return
            }
            if self.bytes.count < 0x4000 { self.targets.append(UInt16(self.bytes.count)) }
            let length = Int(wire[index])
            self.bytes.append(contentsOf: wire[index...(index + length)])
            index += length + 1
        }
        self.bytes.append(0)
    }

    /// A position to return to with `rollback(to:)`.
    public func mark() -> Int { self.bytes.count }

    /// Drops everything written since `mark`, including compression targets inside it.
    public mutating func rollback(to mark: Int) {
        self.bytes.removeSubrange(mark...)
        while let last = self.targets.last, Int(last) >= mark { self.targets.removeLast() }
    }

    /// The target offset holding the same labels as `wire[from...]`, or nil.
    private func findSuffix(_ wire: [UInt8], from start: Int, below end: Int) -> UInt16? {
        for target in self.targets[..<end] where self.matches(wire, from: start, at: Int(target)) { return target }
        return nil
    }

    /// Whether the (possibly compressed) name written at `offset` spells `wire[start...]`, ignoring case.
    private func matches(_ wire: [UInt8], from start: Int, at offset: Int) -> Bool {
        var position = offset
        var index = start
        var hops = 0
        while true {
            var length = self.bytes[position]
            while length & 0xC0 == 0xC0 {
                hops += 1
                if hops > DomainName.maxPointerHops { return false }
                position = Int(length & 0x3F) << 8 | Int(self.bytes[position + 1])
                length = self.bytes[position]
            }
            guard length == wire[index] else { return false }
            if length == 0 { return true }
            for step in 1...Int(length)
            where DomainName.fold(self.bytes[position + step]) != DomainName.fold(wire[index + step]) {
                return false
            }
            position += Int(length) + 1
            index += Int(length) + 1
        }
    }
}
