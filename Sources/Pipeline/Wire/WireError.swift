// WireError: why a byte string is not a DNS message, and where.

/// A decoding failure of the DNS wire format (RFC 1035 §4).
///
/// Every case names the offset in the message where the problem was found, so a log line or a test can point at the
/// exact byte. Decoding never traps: any input yields a value or one of these.
public enum WireError: Error, Equatable, Hashable, Sendable {
    /// A field needed `needed` octets at `offset` but only `available` remained.
    case truncated(offset: Int, needed: Int, available: Int)
    /// A label's length octet is over 63 (RFC 1035 §2.3.4); the retired 01 and 10 label types (RFC 6891 §5) land here.
    case labelTooLong(offset: Int, length: Int)
    /// A name's uncompressed wire form exceeds 255 octets (RFC 1035 §2.3.4).
    case nameTooLong(offset: Int)
    /// A compression pointer at `offset` points at or after the start of the name it continues.
    case pointerNotBackward(offset: Int, target: Int)
    /// A name followed more compression pointers than any legal name could need.
    case tooManyPointers(offset: Int)
    /// A compressed name where the format forbids one (a question parsed in place, or an RDATA name of a type that
    /// must not be compressed, when decoding strictly).
    case compressionNotAllowed(offset: Int)
    /// A section count promises more records than the remaining octets could hold.
    case countBeyondPacket(section: MessageSection, count: Int, offset: Int)
    /// Typed RDATA at `offset` did not consume exactly RDLENGTH octets.
    case rdataLengthMismatch(offset: Int, type: RecordType, rdlength: Int, consumed: Int)
    /// RDATA content is invalid for its type (e.g. SVCB keys out of order, an empty character-string set).
    case invalidRData(offset: Int, type: RecordType, reason: RDataProblem)
    /// An OPT record outside the additional section, not owned by the root, or a second OPT (RFC 6891 §6.1.1).
    case badOPTPlacement(offset: Int)
    /// Octets remain after the last record the header announced.
    case trailingBytes(offset: Int, count: Int)
    /// An EDNS option overruns the OPT RDATA or is malformed for its code.
    case invalidEDNSOption(offset: Int, code: UInt16)

    /// The offset at which the problem was found.
    public var offset: Int {
        switch self {
        case .truncated(let offset, _, _), .labelTooLong(let offset, _), .nameTooLong(let offset),
            .pointerNotBackward(let offset, _), .tooManyPointers(let offset),
            .compressionNotAllowed(let offset), .countBeyondPacket(_, _, let offset),
            .rdataLengthMismatch(let offset, _, _, _), .invalidRData(let offset, _, _), .badOPTPlacement(let offset),
            .trailingBytes(let offset, _), .invalidEDNSOption(let offset, _):
            return offset
        }
    }
}

/// What was wrong inside otherwise well-framed RDATA.
public enum RDataProblem: Equatable, Hashable, Sendable {
    case emptyTXT
    case svcParamKeysNotAscending
    case svcParamValue(key: UInt16)
    case typeBitmap
    case caaTag
    case hashLength
}

/// The four record sections of a message, plus the question (RFC 1035 §4.1).
public enum MessageSection: String, Equatable, Hashable, Sendable {
    case question, answer, authority, additional
}

extension WireError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .truncated(let offset, let needed, let available):
            return "truncated at offset \(offset): needed \(needed) octets, \(available) left"
        case .labelTooLong(let offset, let length):
            return "label of \(length) octets at offset \(offset) (at most 63)"
        case .nameTooLong(let offset): return "name longer than 255 octets at offset \(offset)"
        case .pointerNotBackward(let offset, let target):
            return "compression pointer at offset \(offset) to \(target) does not point backwards"
        case .tooManyPointers(let offset): return "too many compression pointers in the name at offset \(offset)"
        case .compressionNotAllowed(let offset): return "compressed name not allowed at offset \(offset)"
        case .countBeyondPacket(let section, let count, let offset):
            return "\(section) count \(count) exceeds the packet at offset \(offset)"
        case .rdataLengthMismatch(let offset, let type, let rdlength, let consumed):
            return "\(type) RDATA at offset \(offset): RDLENGTH \(rdlength) but \(consumed) octets parsed"
        case .invalidRData(let offset, let type, let reason):
            return "invalid \(type) RDATA at offset \(offset): \(reason)"
        case .badOPTPlacement(let offset): return "misplaced or repeated OPT record at offset \(offset)"
        case .trailingBytes(let offset, let count): return "\(count) trailing octets at offset \(offset)"
        case .invalidEDNSOption(let offset, let code): return "malformed EDNS option \(code) at offset \(offset)"
        }
    }
}
