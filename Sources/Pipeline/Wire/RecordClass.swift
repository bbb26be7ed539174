// RecordClass: the 16-bit CLASS field (RFC 1035 §3.2.4), open to values we do not know.

/// A resource record CLASS (or QCLASS). Unknown values print and parse as `CLASS12345` (RFC 3597 §5).
public struct RecordClass: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let `in` = RecordClass(1)
    public static let ch = RecordClass(3)
    public static let hs = RecordClass(4)
    /// QCLASS NONE (RFC 2136 §2.4).
    public static let none = RecordClass(254)
    /// QCLASS ANY (RFC 1035 §3.2.5).
    public static let any = RecordClass(255)

    private static let mnemonics: [(RecordClass, String)] = [
        (.in, "IN"), (.ch, "CH"), (.hs, "HS"), (.none, "NONE"), (.any, "ANY"),
    ]

    /// Parses `IN`, `CH`, `HS`, `NONE`, `ANY` (any letter case) or `CLASSnnn`; nil for anything else.
    public init?(mnemonic: some StringProtocol) {
        let upper = mnemonic.uppercased()
        if let known = RecordClass.mnemonics.first(where: { $0.1 == upper }) {
            self = known.0
        } else if upper.hasPrefix("CLASS"), let value = UInt16(upper.dropFirst(5)) {
            self.init(value)
        } else {
            return nil
        }
    }
}

extension RecordClass: CustomStringConvertible {
    public var description: String {
        RecordClass.mnemonics.first(where: { $0.0 == self })?.1 ?? "CLASS\(self.rawValue)"
    }
}
