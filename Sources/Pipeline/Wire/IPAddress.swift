// IPAddress: an IPv4 or IPv6 address, for clients, upstreams and access rules.

/// Either kind of IP address.
public enum IPAddress: Hashable, Sendable {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses `192.0.2.1` or `2001:db8::1` (no brackets, no zone).
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) as the IPv4 address it carries; others unchanged.
    public var unmapped: IPAddress {
        if case .v6(let v6) = self, v6.high == 0, v6.low >> 32 == 0xFFFF {
            return .v4(IPv4Address(rawValue: UInt32(truncatingIfNeeded: v6.low)))
        }
        return self
    }
}

extension IPAddress: CustomStringConvertible {
    public var description: String {
        switch self {
        case .v4(let address): return address.description
        case .v6(let address): return address.description
        }
    }
}

/// An address prefix (`192.0.2.0/24`, `2001:db8::/32`) for access lists and client groups.
public struct IPPrefix: Hashable, Sendable {
    public var address: IPAddress
    public var length: Int

    /// Parses `address/length`, or a bare address as a host prefix. Host bits must be zero.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let maximum: Int
        switch address {
        case .v4: maximum = 32
        case .v6: maximum = 128
        }
        var length = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value) else { return nil }
            length = value
        }
        self.address = address
        self.length = length
        guard self.contains(address) && self.masked(address) == address else { return nil }
    }

    public init(address: IPAddress, length: Int) {
        self.address = address
        self.length = length
    }

    /// Whether `candidate` lies inside the prefix; an IPv4-mapped IPv6 client matches IPv4 prefixes.
    public func contains(_ candidate: IPAddress) -> Bool {
        switch (self.address, candidate.unmapped) {
        case (.v4(let network), .v4(let host)):
            let mask: UInt32 = self.length == 0 ? 0 : ~0 << UInt32(32 - self.length)
            return network.rawValue & mask == host.rawValue & mask
        case (.v6(let network), .v6(let host)):
            let (highMask, lowMask) = IPPrefix.v6Masks(self.length)
            return network.high & highMask == host.high & highMask && network.low & lowMask == host.low & lowMask
        default:
            return false
        }
    }

    private func masked(_ address: IPAddress) -> IPAddress {
        switch address {
        case .v4(let v4):
            let mask: UInt32 = self.length == 0 ? 0 : ~0 << UInt32(32 - self.length)
            return .v4(IPv4Address(rawValue: v4.rawValue & mask))
        case .v6(let v6):
            let (highMask, lowMask) = IPPrefix.v6Masks(self.length)
            return .v6(IPv6Address(high: v6.high & highMask, low: v6.low & lowMask))
        }
    }

    private static func v6Masks(_ length: Int) -> (UInt64, UInt64) {
        let high: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~0 << UInt64(64 - length))
        let low: UInt64 = length <= 64 ? 0 : (length >= 128 ? ~0 : ~0 << UInt64(128 - length))
        return (high, low)
    }
}

extension IPPrefix: CustomStringConvertible {
    public var description: String { "\(self.address)/\(self.length)" }
}
