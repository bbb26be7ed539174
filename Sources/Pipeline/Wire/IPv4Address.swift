// IPv4Address: the RDATA of an A record and a client address, in dotted-quad text both ways.

/// An IPv4 address as its 32-bit value in host order (192.0.2.1 is 0xC000_0201).
public struct IPv4Address: RawRepresentable, Hashable, Sendable, Comparable {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    @inlinable public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The four octets in network order.
    @inlinable public var octets: [UInt8] {
        [
            UInt8(self.rawValue >> 24), UInt8(truncatingIfNeeded: self.rawValue >> 16),
            UInt8(truncatingIfNeeded: self.rawValue >> 8), UInt8(truncatingIfNeeded: self.rawValue),
        ]
    }

    /// Parses dotted-quad text (`192.0.2.1`); no leading zeros beyond a single `0`, no shortened forms.
    public init?(_ text: some StringProtocol) {
        var value: UInt32 = 0
        var parts = 0
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part.count == 1 || part.first != "0", let octet = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(octet)
            parts += 1
        }
        guard parts == 4 else { return nil }
        self.rawValue = value
    }

    @inlinable public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension IPv4Address: CustomStringConvertible {
    public var description: String {
        "\(self.rawValue >> 24).\((self.rawValue >> 16) & 0xFF).\((self.rawValue >> 8) & 0xFF).\(self.rawValue & 0xFF)"
    }
}
