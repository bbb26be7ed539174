// ResponseCode: the 12-bit RCODE, 4 bits in the header and 8 more in OPT (RFC 1035 §4.1.1, RFC 6891 §6.1.3).

/// A response code. The low 4 bits travel in the header; the high 8 bits in the OPT record's extended-RCODE
/// field, so values above 15 need EDNS.
public struct ResponseCode: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }
    @inlinable public init(_ rawValue: UInt16) { self.init(rawValue: rawValue) }

    public static let noError = ResponseCode(0)
    public static let formErr = ResponseCode(1)
    public static let servFail = ResponseCode(2)
    public static let nxDomain = ResponseCode(3)
    public static let notImp = ResponseCode(4)
    public static let refused = ResponseCode(5)
    public static let yxDomain = ResponseCode(6)
    public static let yxRRSet = ResponseCode(7)
    public static let nxRRSet = ResponseCode(8)
    public static let notAuth = ResponseCode(9)
    public static let notZone = ResponseCode(10)
    /// BADVERS (RFC 6891 §9): an EDNS version we do not implement.
    public static let badVers = ResponseCode(16)
    /// BADCOOKIE (RFC 7873 §8).
    public static let badCookie = ResponseCode(23)

    /// The part carried in the header.
    @inlinable public var headerBits: UInt8 { UInt8(self.rawValue & 0x0F) }
    /// The part carried in OPT's extended-RCODE field.
    @inlinable public var extendedBits: UInt8 { UInt8(self.rawValue >> 4) }

    private static let names: [UInt16: String] = [
        0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN",
        7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE", 16: "BADVERS", 23: "BADCOOKIE",
    ]

    /// Parses a mnemonic such as `NXDOMAIN` (any letter case) or `RCODE12`.
    public init?(mnemonic: some StringProtocol) {
        let upper = mnemonic.uppercased()
        if let known = ResponseCode.names.first(where: { $0.value == upper }) {
            self.init(known.key)
        } else if upper.hasPrefix("RCODE"), let value = UInt16(upper.dropFirst(5)), value <= 0x0FFF {
            self.init(value)
        } else {
            return nil
        }
    }
}

extension ResponseCode: CustomStringConvertible {
    public var description: String { ResponseCode.names[self.rawValue] ?? "RCODE\(self.rawValue)" }
}
