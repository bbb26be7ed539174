// IPv6Address: the RDATA of an AAAA record and a client address, in RFC 4291/5952 text both ways.

/// An IPv6 address as two 64-bit halves in host order.
public struct IPv6Address: Hashable, Sendable, Comparable {
    public var high: UInt64
    public var low: UInt64

    @inlinable public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From 16 octets in network order.
    public init(octets: some Collection<UInt8>) {
        precondition(octets.count == 16, "an IPv6 address has 16 octets")
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in octets.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// The 16 octets in network order.
    public var octets: [UInt8] {
        var result = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            let shift = UInt64(56 - 8 * index)
            result[index] = UInt8(truncatingIfNeeded: self.high >> shift)
            result[index + 8] = UInt8(truncatingIfNeeded: self.low >> shift)
        }
        return result
    }

    /// The eight 16-bit groups.
    var groups: [UInt16] {
        var result = [UInt16](repeating: 0, count: 8)
        for index in 0..<4 {
            let shift = UInt64(48 - 16 * index)
            result[index] = UInt16(truncatingIfNeeded: self.high >> shift)
            result[index + 4] = UInt16(truncatingIfNeeded: self.low >> shift)
        }
        return result
    }

    /// Parses RFC 4291 §2.2 text: hex groups, one `::`, and an optional dotted-quad tail.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard !text.isEmpty, text.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        let halves: [String]
        if let range = text.firstRange(of: "::") {
            halves = [String(text[..<range.lowerBound]), String(text[range.upperBound...])]
            guard !halves[1].contains("::") else { return nil }
        } else {
            halves = [text]
        }
        func parse(_ part: String, into groups: inout [UInt16], allowIPv4Tail: Bool) -> Bool {
            guard !part.isEmpty else { return true }
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, allowIPv4Tail, piece.contains(".") {
                    guard let v4 = IPv4Address(piece) else { return false }
                    groups.append(UInt16(v4.rawValue >> 16))
                    groups.append(UInt16(v4.rawValue & 0xFFFF))
                    continue
                }
                guard (1...4).contains(piece.count), let group = UInt16(piece, radix: 16) else { return false }
                groups.append(group)
            }
            return true
        }
        if halves.count == 1 {
            guard parse(halves[0], into: &head, allowIPv4Tail: true), head.count == 8 else { return nil }
        } else {
            guard parse(halves[0], into: &head, allowIPv4Tail: false),
                parse(halves[1], into: &tail, allowIPv4Tail: true), head.count + tail.count <= 7
            else { return nil }
            head += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, group) in head.enumerated() {
            if index < 4 { high = high << 16 | UInt64(group) } else { low = low << 16 | UInt64(group) }
        }
        self.init(high: high, low: low)
    }

    @inlinable public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

extension IPv6Address: CustomStringConvertible {
    /// RFC 5952 §4: lower-case hex, no leading zeros, the longest run (two or more) of zero groups as `::`, and the
    /// IPv4-mapped form `::ffff:a.b.c.d`.
    public var description: String {
        let groups = self.groups
        if self.high == 0, self.low >> 32 == 0xFFFF {
            return "::ffff:" + IPv4Address(rawValue: UInt32(truncatingIfNeeded: self.low)).description
        }
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            if groups[index] == 0 {
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
