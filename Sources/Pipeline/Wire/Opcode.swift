// Opcode: the 4-bit OPCODE of the header (RFC 1035 §4.1.1, RFC 6895 §2.2).

/// A message OPCODE. Values 0...15; unknown ones round-trip and are answered with NOTIMP by the server.
public struct Opcode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
    @inlinable public init(_ rawValue: UInt8) { self.init(rawValue: rawValue) }

    public static let query = Opcode(0)
    public static let iquery = Opcode(1)
    public static let status = Opcode(2)
    public static let notify = Opcode(4)
    public static let update = Opcode(5)
    public static let dso = Opcode(6)
}

extension Opcode: CustomStringConvertible {
    public var description: String {
        switch self.rawValue {
        case 0: return "QUERY"
        case 1: return "IQUERY"
        case 2: return "STATUS"
        case 4: return "NOTIFY"
        case 5: return "UPDATE"
        case 6: return "DSO"
        default: return "OPCODE\(self.rawValue)"
        }
    }
}
