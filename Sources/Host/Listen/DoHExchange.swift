// DoHExchange: what an HTTP request for DNS (RFC 8484) asks, and the HTTP response for a DNS reply: the wire form
// (GET `?dns=`, POST `application/dns-message`) and the JSON form (`?name=&type=`, `application/dns-json`, as Google's
// and Cloudflare's resolvers serve it). No I/O: the listener feeds it requests and sends what it returns.

import Foundation
import NIOHTTP1
import Pipeline

/// One HTTP request's DNS question, or why it has none.
enum DoHRequest: Equatable {
    /// A DNS message in wire form, answered in wire form.
    case wire([UInt8])
    /// A question from `?name=&type=` (its query in wire form), answered in the JSON form.
    case json([UInt8])
    /// Not a DNS request: the HTTP status and a line saying why.
    case rejected(HTTPResponseStatus, String)

    static let messageType = "application/dns-message"
    static let jsonType = "application/dns-json"

    /// Reads a request: `uri` and `method` from its head, `contentType` its Content-Type, `body` its octets (nil
    /// when it had more than a DNS message can have), `path` the configured URI path.
    static func parse(
        method: HTTPMethod,
        uri: String,
        contentType: String?,
        body: [UInt8]?,
        path: String
    ) -> DoHRequest {
        let (requestPath, query) = Self.split(uri)
        guard requestPath == path else { return .rejected(.notFound, "DNS queries are answered at \(path)") }
        switch method {
        case .GET:
            let parameters = Self.parameters(query)
            if let encoded = parameters["dns"] {
                guard let octets = Self.base64URLDecode(encoded) else {
                    return .rejected(.badRequest, "the dns parameter is not base64url (RFC 4648 §5)")
                }
                return Self.checked(octets)
            }
            if let name = parameters["name"] { return Self.jsonQuestion(name: name, parameters: parameters) }
            return .rejected(.badRequest, "a GET request needs ?dns= (RFC 8484 §4.1) or ?name= (the JSON form)")
        case .POST:
            // The media type, without parameters (RFC 9110 §8.3.1), case-insensitively.
            let media = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard media == Self.messageType else {
                return .rejected(
                    .unsupportedMediaType,
                    "a POST request's Content-Type must be \(Self.messageType), not \(contentType ?? "none")"
                )
            }
            guard let body else {
                return .rejected(.payloadTooLarge, "a DNS message has at most \(Message.maximumSize) octets")
            }
            return Self.checked(body)
        default:
            return .rejected(.methodNotAllowed, "DNS over HTTPS is asked with GET or POST")
        }
    }

    /// `octets` when they can be a DNS query: a whole header, QR clear.
    private static func checked(_ octets: [UInt8]) -> DoHRequest {
        guard octets.count >= Header.wireSize, octets[2] & 0x80 == 0 else {
            return .rejected(.badRequest, "the request does not hold a DNS query")
        }
        return .wire(octets)
    }

    /// The JSON form's question: `name`, `type` (a mnemonic or a number, A by default), `do` and `cd` (1 or true).
    private static func jsonQuestion(name: String, parameters: [String: String]) -> DoHRequest {
        guard !name.isEmpty, let domain = try? DomainName(name.hasSuffix(".") ? name : name + ".") else {
            return .rejected(.badRequest, "name is not a domain name: '\(name)'")
        }
        let typeText = parameters["type"] ?? "A"
        guard let type = UInt16(typeText).map(RecordType.init(rawValue:)) ?? RecordType(mnemonic: typeText.uppercased())
        else {
            return .rejected(.badRequest, "type is not a record type: '\(typeText)'")
        }
        func flag(_ key: String) -> Bool { ["1", "true"].contains(parameters[key]?.lowercased() ?? "") }
        var edns = EDNS()
        edns.dnssecOK = flag("do")
        var query = Message.query(domain, type, id: 0, edns: edns)
        query.header.checkingDisabled = flag("cd")
        guard let wire = try? query.encode().bytes else { return .rejected(.badRequest, "the question cannot be encoded") }
        return .json(wire)
    }

    /// The path and the query string of a request target.
    static func split(_ uri: String) -> (path: String, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<mark]), uri[uri.index(after: mark)...])
    }

    /// The query string's parameters, percent-decoded (the first of a repeated one).
    static func parameters(_ query: Substring) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "+", with: " ") : ""
            if parameters[key] == nil { parameters[key] = value.removingPercentEncoding ?? value }
        }
        return parameters
    }

    /// Base64url (RFC 4648 §5); RFC 8484 §4.1 says clients send it without padding, which is accepted too.
    static func base64URLDecode(_ text: String) -> [UInt8]? {
        // Only the URL-safe alphabet: "+" and "/" are standard base64's, not base64url's.
        let alphabet = text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "="):
                return true
            default: return false
            }
        }
        guard alphabet else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.utf8.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map { [UInt8]($0) }
    }

    /// Base64url without padding, as clients send `?dns=`.
    static func base64URLEncode(_ octets: [UInt8]) -> String {
        Data(octets).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The HTTP side of a DNS reply.
enum DoHResponse {
    /// How long HTTP caches may keep `reply` (RFC 8484 §5.1): the smallest TTL of its answers; for a negative answer,
    /// its SOA's negative TTL (RFC 2308 §5); 0 for other replies (errors are not to be kept).
    static func freshness(_ reply: Message) -> UInt32 {
        guard reply.responseCode == .noError || reply.responseCode == .nxDomain else { return 0 }
        if reply.responseCode == .noError, let smallest = reply.answers.map(\.ttl).min() { return smallest }
        for record in reply.authorities {
            if case .soa(let soa) = record.rdata { return min(record.ttl, soa.minimum) }
        }
        return 0
    }

    /// The JSON form of `reply` (the keys Google's and Cloudflare's resolvers use).
    static func json(_ reply: Message) -> [UInt8] {
        struct Question: Encodable {
            var name: String
            var type: UInt16
        }
        struct Answer: Encodable {
            var name: String
            var type: UInt16
            var TTL: UInt32
            var data: String
        }
        struct Body: Encodable {
            var Status: UInt16
            var TC, RD, RA, AD, CD: Bool
            var Question: [Question]
            var Answer: [Answer]?
            var Authority: [Answer]?
            var Additional: [Answer]?
        }
        func records(_ records: [Record]) -> [Answer]? {
            records.isEmpty
                ? nil
                : records.map { Answer(name: $0.name.description, type: $0.type.rawValue, TTL: $0.ttl, data: $0.rdata.presentation) }
        }
        let body = Body(
            Status: reply.responseCode.rawValue,
            TC: reply.header.isTruncated,
            RD: reply.header.recursionDesired,
            RA: reply.header.recursionAvailable,
            AD: reply.header.authenticData,
            CD: reply.header.checkingDisabled,
            Question: reply.questions.map { Question(name: $0.name.description, type: $0.type.rawValue) },
            Answer: records(reply.answers),
            Authority: records(reply.authorities),
            Additional: records(reply.additionals)
        )
        let encoder = JSONEncoder()
        // Keys in a fixed order, so the same answer is always the same octets.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(body)).map { [UInt8]($0) } ?? Array(#"{"Status":2}"#.utf8)
    }
}
