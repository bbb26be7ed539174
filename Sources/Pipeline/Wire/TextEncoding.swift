// TextEncoding: base16, base32hex and base64 for binary RDATA fields (RFC 4648), without Foundation.

/// The binary-to-text encodings used by presentation forms: base16 (DS, TLSA, NSEC3 salt), base32hex without
/// padding (NSEC3 next hashed owner, RFC 5155 §3.3) and base64 (DNSKEY, RRSIG, SVCB ech).
public enum TextEncoding {
    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let base32HexDigits = Array("0123456789abcdefghijklmnopqrstuv".utf8)
    private static let base64Digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func base16(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(TextEncoding.hexDigits[Int(byte >> 4)])
            out.append(TextEncoding.hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func base16Decode(_ text: some StringProtocol) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = TextEncoding.hexValue(digits[index]), let low = TextEncoding.hexValue(digits[index + 1])
            else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    public static func base32Hex(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt64 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt64(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(TextEncoding.base32HexDigits[Int((buffer >> UInt64(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(TextEncoding.base32HexDigits[Int((buffer << UInt64(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func base32HexDecode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt64 = 0
        var bits = 0
        for digit in text.utf8 {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "v"): value = digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "V"): value = digit - UInt8(ascii: "A") + 10
            default: return nil
            }
            buffer = buffer << 5 | UInt64(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt64(bits)))
            }
        }
        // Leftover bits must be zero padding, and no more than a partial octet (RFC 4648 §6, §3.5 canonical).
        guard bits < 5, buffer & ((1 << UInt64(bits)) - 1) == 0 else { return nil }
        return out
    }

    public static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(TextEncoding.base64Digits[Int((value >> UInt32(shift)) & 63)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            var value = UInt32(bytes[index]) << 16
            if rest == 2 { value |= UInt32(bytes[index + 1]) << 8 }
            out.append(TextEncoding.base64Digits[Int((value >> 18) & 63)])
            out.append(TextEncoding.base64Digits[Int((value >> 12) & 63)])
            out.append(rest == 2 ? TextEncoding.base64Digits[Int((value >> 6) & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func base64Decode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var count = 0
        var padding = 0
        for digit in text.utf8 {
            let value: UInt32
            switch digit {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(digit - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(digit - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(digit - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                value = 0
            default: return nil
            }
            if padding > 0 && digit != UInt8(ascii: "=") { return nil }
            buffer = buffer << 6 | value
            count += 1
            if count == 4 {
                out.append(UInt8(truncatingIfNeeded: buffer >> 16))
                if padding < 2 { out.append(UInt8(truncatingIfNeeded: buffer >> 8)) }
                if padding < 1 { out.append(UInt8(truncatingIfNeeded: buffer)) }
                buffer = 0
                count = 0
            }
        }
        guard count == 0, padding <= 2 else { return nil }
        return out
    }
}
