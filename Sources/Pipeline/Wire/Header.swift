// Header: the fixed 12-octet message header (RFC 1035 §4.1.1) over its raw flags word.

/// The message header: ID and the flags word. Section counts are not stored here; the encoder writes them from the
/// sections and the decoder checks them against the packet.
///
/// ```
///   0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15
/// |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
/// ```
public struct Header: Hashable, Sendable {
    public var id: UInt16
    /// The raw second 16-bit word: QR, Opcode, AA, TC, RD, RA, Z, AD, CD, RCODE.
    public var flags: UInt16

    @inlinable public init(id: UInt16 = 0, flags: UInt16 = 0) {
        self.id = id
        self.flags = flags
    }

    @inlinable func bit(_ mask: UInt16) -> Bool { self.flags & mask != 0 }
    @inlinable mutating func set(_ mask: UInt16, _ on: Bool) {
        if on { self.flags |= mask } else { self.flags &= ~mask }
    }

    /// QR: this is a response.
    @inlinable public var isResponse: Bool {
        get { self.bit(0x8000) }
        set { self.set(0x8000, newValue) }
    }
    @inlinable public var opcode: Opcode {
        get { Opcode(UInt8((self.flags >> 11) & 0x0F)) }
        set { self.flags = (self.flags & ~0x7800) | (UInt16(newValue.rawValue) << 11) }
    }
    /// AA: authoritative answer.
    @inlinable public var isAuthoritative: Bool {
        get { self.bit(0x0400) }
        set { self.set(0x0400, newValue) }
    }
    /// TC: truncated.
    @inlinable public var isTruncated: Bool {
        get { self.bit(0x0200) }
        set { self.set(0x0200, newValue) }
    }
    /// RD: recursion desired.
    @inlinable public var recursionDesired: Bool {
        get { self.bit(0x0100) }
        set { self.set(0x0100, newValue) }
    }
    /// RA: recursion available.
    @inlinable public var recursionAvailable: Bool {
        get { self.bit(0x0080) }
        set { self.set(0x0080, newValue) }
    }
    /// Z: reserved, must be zero (RFC 1035 §4.1.1).
    @inlinable public var z: Bool {
        get { self.bit(0x0040) }
        set { self.set(0x0040, newValue) }
    }
    /// AD: authentic data (RFC 4035 §3.2.3, RFC 6840 §5.7).
    @inlinable public var authenticData: Bool {
        get { self.bit(0x0020) }
        set { self.set(0x0020, newValue) }
    }
    /// CD: checking disabled (RFC 4035 §3.2.2).
    @inlinable public var checkingDisabled: Bool {
        get { self.bit(0x0010) }
        set { self.set(0x0010, newValue) }
    }
    /// The low 4 bits of the RCODE; `Message.responseCode` combines them with OPT's extended bits.
    @inlinable public var rcodeLow: UInt8 {
        get { UInt8(self.flags & 0x000F) }
        set { self.flags = (self.flags & ~0x000F) | UInt16(newValue & 0x0F) }
    }

    /// The flags set, in dig's words and order (`qr aa tc rd ra ad cd`).
    public var flagNames: [String] {
        var names: [String] = []
        if self.isResponse { names.append("qr") }
        if self.isAuthoritative { names.append("aa") }
        if self.isTruncated { names.append("tc") }
        if self.recursionDesired { names.append("rd") }
        if self.recursionAvailable { names.append("ra") }
        if self.z { names.append("z") }
        if self.authenticData { names.append("ad") }
        if self.checkingDisabled { names.append("cd") }
        return names
    }

    /// The header's size on the wire.
    public static let wireSize = 12
}
