// RData+SVCB: service binding, the RDATA of SVCB and HTTPS (RFC 9460 §2).

/// An SvcParamKey (RFC 9460 §14.3.2), open to unknown values (`key65000`).
public struct SVCParamKey: RawRepresentable, Hashable, Comparable, Sendable {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let mandatory = SVCParamKey(0)
    public static let alpn = SVCParamKey(1)
    public static let noDefaultALPN = SVCParamKey(2)
    public static let port = SVCParamKey(3)
    public static let ipv4hint = SVCParamKey(4)
    public static let ech = SVCParamKey(5)
    public static let ipv6hint = SVCParamKey(6)
    public static let dohpath = SVCParamKey(7)
    public static let ohttp = SVCParamKey(8)

    static let names: [(SVCParamKey, String)] = [
        (.mandatory, "mandatory"), (.alpn, "alpn"), (.noDefaultALPN, "no-default-alpn"), (.port, "port"),
        (.ipv4hint, "ipv4hint"), (.ech, "ech"), (.ipv6hint, "ipv6hint"), (.dohpath, "dohpath"), (.ohttp, "ohttp"),
    ]

    public init?(name: some StringProtocol) {
        let lower = name.lowercased()
        if let known = SVCParamKey.names.first(where: { $0.1 == lower }) {
            self = known.0
        } else if lower.hasPrefix("key"), let value = UInt16(lower.dropFirst(3)) {
            self.init(value)
        } else {
            return nil
        }
    }

    public static func < (lhs: SVCParamKey, rhs: SVCParamKey) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension SVCParamKey: CustomStringConvertible {
    public var description: String {
        SVCParamKey.names.first(where: { $0.0 == self })?.1 ?? "key\(self.rawValue)"
    }
}

/// One SvcParam: a key and its wire-format value.
public struct SVCParameter: Hashable, Sendable {
    public var key: SVCParamKey
    public var value: [UInt8]
    public init(key: SVCParamKey, value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

public struct SVCB: RDataFields {
    /// 0 is AliasMode; anything else is ServiceMode's priority.
    public var priority: UInt16
    public var target: DomainName
    /// Sorted by key, each key once (RFC 9460 §2.2).
    public var parameters: [SVCParameter]

    public init(priority: UInt16, target: DomainName, parameters: [SVCParameter]) {
        self.priority = priority
        self.target = target
        self.parameters = parameters.sorted { $0.key < $1.key }
    }

    public init(wire reader: inout WireReader) throws(WireError) {
        self.priority = try reader.readUInt16()
        self.target = try reader.readName(allowCompression: false)
        var parameters: [SVCParameter] = []
        while reader.remaining > 0 {
            let keyOffset = reader.offset
            let key = SVCParamKey(try reader.readUInt16())
            let length = Int(try reader.readUInt16())
            let value = try reader.readBytes(length)
            if let last = parameters.last, last.key >= key {
                throw .invalidRData(offset: keyOffset, type: .svcb, reason: .svcParamKeysNotAscending)
            }
            guard SVCB.isWellFormed(key: key, value: value) else {
                throw .invalidRData(offset: keyOffset, type: .svcb, reason: .svcParamValue(key: key.rawValue))
            }
            parameters.append(SVCParameter(key: key, value: value))
        }
        self.parameters = parameters
    }

    /// The value shapes of RFC 9460 §7 for the keys it defines.
    static func isWellFormed(key: SVCParamKey, value: [UInt8]) -> Bool {
        switch key {
        case .mandatory:
            // Keys in strictly increasing order (RFC 9460 §8), as the presentation form is written back.
            guard !value.isEmpty, value.count % 2 == 0 else { return false }
            let keys = stride(from: 0, to: value.count, by: 2).map { UInt16(value[$0]) << 8 | UInt16(value[$0 + 1]) }
            return zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }
        case .alpn:
            guard !value.isEmpty else { return false }
            var index = 0
            while index < value.count {
                let length = Int(value[index])
                guard length > 0, index + 1 + length <= value.count else { return false }
                index += 1 + length
            }
            return true
        case .noDefaultALPN: return value.isEmpty
        case .port: return value.count == 2
        case .ipv4hint: return !value.isEmpty && value.count % 4 == 0
        case .ipv6hint: return !value.isEmpty && value.count % 16 == 0
        default: return true
        }
    }

    public func encode(to writer: inout WireWriter, compress: Bool) {
        writer.writeUInt16(self.priority)
        writer.writeName(self.target, compress: false)
        for parameter in self.parameters {
            writer.writeUInt16(parameter.key.rawValue)
            // A value over 65,535 octets makes the RDATA too long as well: the encoder rejects the record.
            writer.writeUInt16(UInt16(truncatingIfNeeded: parameter.value.count))
            writer.writeBytes(parameter.value)
        }
    }

    public init(presentation fields: inout PresentationFields) throws(PresentationError) {
        self.priority = try fields.integer("priority")
        self.target = try fields.name("target name")
        var parameters: [SVCParameter] = []
        var tokens = fields.rest()
        while let token = tokens.popFirst() {
            var text = token.text
            var valueToken: PresentationToken? = nil
            let equals = text.firstIndex(of: UInt8(ascii: "="))
            let keyText = String(decoding: equals.map { text[..<$0] } ?? text[...], as: UTF8.self)
            guard let key = SVCParamKey(name: keyText) else {
                throw PresentationError(.invalidValue(field: "SvcParamKey", text: keyText)).at(token)
            }
            if let equals {
                text = Array(text[(equals + 1)...])
                if text.isEmpty, let quoted = tokens.first, quoted.isQuoted {
                    valueToken = tokens.popFirst()
                } else {
                    valueToken = PresentationToken(
                        text: text,
                        isQuoted: token.isQuoted,
                        line: token.line,
                        column: token.column
                    )
                }
            }
            guard !parameters.contains(where: { $0.key == key }) else {
                throw PresentationError(.invalidValue(field: "SvcParamKey (repeated)", text: keyText)).at(token)
            }
            let value: [UInt8]
            do { value = try SVCB.parseValue(key: key, token: valueToken) } catch { throw error.at(token) }
            parameters.append(SVCParameter(key: key, value: value))
        }
        self.parameters = parameters.sorted { $0.key < $1.key }
    }

    /// Parses one SvcParamValue into its wire form (RFC 9460 §7, Appendix A for value-lists).
    static func parseValue(key: SVCParamKey, token: PresentationToken?) throws(PresentationError) -> [UInt8] {
        let raw = try token?.unescaped() ?? []
        let text = String(decoding: raw, as: UTF8.self)
        func invalid() -> PresentationError { PresentationError(.invalidValue(field: "\(key) value", text: text)) }
        switch key {
        case .mandatory:
            var out: [UInt8] = []
            var keys: [UInt16] = []
            for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let key = SVCParamKey(name: name) else { throw invalid() }
                keys.append(key.rawValue)
            }
            keys.sort()
            for key in keys { out += [UInt8(key >> 8), UInt8(key & 0xFF)] }
            guard !out.isEmpty, zip(keys, keys.dropFirst()).allSatisfy({ $0 < $1 }) else { throw invalid() }
            return out
        case .alpn:
            var out: [UInt8] = []
            for id in try SVCB.splitValueList(token?.text ?? []) {
                guard !id.isEmpty, id.count <= 255 else { throw invalid() }
                out.append(UInt8(id.count))
                out += id
            }
            guard !out.isEmpty else { throw invalid() }
            return out
        case .noDefaultALPN:
            guard token == nil || raw.isEmpty else { throw invalid() }
            return []
        case .port:
            guard let port = UInt16(text) else { throw invalid() }
            return [UInt8(port >> 8), UInt8(port & 0xFF)]
        case .ipv4hint:
            var out: [UInt8] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let address = IPv4Address(part) else { throw invalid() }
                out += address.octets
            }
            return out
        case .ipv6hint:
            var out: [UInt8] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let address = IPv6Address(part) else { throw invalid() }
                out += address.octets
            }
            return out
        case .ech:
            guard let bytes = TextEncoding.base64Decode(text) else { throw PresentationError(.badBase64) }
            return bytes
        default:
            return raw
        }
    }

    /// Splits a comma-separated value-list; `\,` keeps a comma inside an item and `\\` a backslash (RFC 9460 App. A.1).
    static func splitValueList(_ text: [UInt8]) throws(PresentationError) -> [[UInt8]] {
        var items: [[UInt8]] = [[]]
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == UInt8(ascii: "\\") {
                let (value, width) = try PresentationToken.escape(text, at: index)
                items[items.count - 1].append(value)
                index += width
            } else if byte == UInt8(ascii: ",") {
                items.append([])
                index += 1
            } else {
                items[items.count - 1].append(byte)
                index += 1
            }
        }
        return items
    }

    public var presentation: String {
        var text = "\(self.priority) \(self.target)"
        for parameter in self.parameters {
            text += " " + SVCB.presentation(of: parameter)
        }
        return text
    }

    static func presentation(of parameter: SVCParameter) -> String {
        let value = parameter.value
        let key = parameter.key
        guard SVCB.isWellFormed(key: key, value: value) else {
            return "key\(key.rawValue)=" + RData.quoted(value)
        }
        switch key {
        case .mandatory:
            let keys = stride(from: 0, to: value.count, by: 2).map {
                SVCParamKey(UInt16(value[$0]) << 8 | UInt16(value[$0 + 1])).description
            }
            return "mandatory=" + keys.joined(separator: ",")
        case .alpn:
            var ids: [String] = []
            var index = 0
            while index < value.count {
                let length = Int(value[index])
                var id = ""
                for byte in value[(index + 1)..<(index + 1 + length)] {
                    switch byte {
                    // A comma or backslash inside an ALPN id is escaped so the value-list splits where it should.
                    case UInt8(ascii: ","): id += "\\,"
                    case UInt8(ascii: "\\"): id += "\\\\"
                    case UInt8(ascii: "\""): id += "\\\""
                    case 0x21...0x7E: id.append(Character(Unicode.Scalar(byte)))
                    default:
                        let digits = String(byte)
                        id += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
                    }
                }
                ids.append(id)
                index += 1 + length
            }
            return "alpn=\"" + ids.joined(separator: ",") + "\""
        case .noDefaultALPN: return "no-default-alpn"
        case .port: return "port=\(UInt16(value[0]) << 8 | UInt16(value[1]))"
        case .ipv4hint:
            let addresses = stride(from: 0, to: value.count, by: 4).map {
                IPv4Address(value[$0], value[$0 + 1], value[$0 + 2], value[$0 + 3]).description
            }
            return "ipv4hint=" + addresses.joined(separator: ",")
        case .ipv6hint:
            let addresses = stride(from: 0, to: value.count, by: 16).map {
                IPv6Address(octets: value[$0..<($0 + 16)]).description
            }
            return "ipv6hint=" + addresses.joined(separator: ",")
        case .ech: return "ech=" + TextEncoding.base64(value)
        default:
            return value.isEmpty ? key.description : key.description + "=" + RData.quoted(value)
        }
    }
}
